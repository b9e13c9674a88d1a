"""``registryctl``: the operators' command line for the registry.

Provincial operators and national coordinators take a registration through every step of the
procedure from a shell: apply, accept or return, review, announce, object and resolve, then change,
correct, renew and deregister; and look registrations, deadlines, confirmations and codes up. The
``sync`` commands watch and repair interconnection with the national node (sync health, proof of
agreement, onboarding, transfers); ``ledger`` shows the national ledger's record of a code.

Every command is one or a few calls of the contract (``registry.v1.RegistrationService`` and, for
``sync status --node-status`` and ``sync check``, ``registry.v1.ProvincialService`` on ``--node``;
``registry.v1.NationalService`` and ``registry.v1.SyncService`` on ``--national``), each with a
deadline (``--timeout``) and the operator's name in the ``registry-actor`` request metadata. Every
write sends a fresh ``request_id``; ``--request-id`` repeats one, so a write whose answer was lost can
be retried by hand without doing it twice. The registry checks the content; errors print its reason and
every field at fault.

Exit status: 0 done, 1 the registry (or the network) said no, 2 a usage or application-file error,
3 ``sync check`` found that the node and the national ledger differ (and did not repair it).
"""

from __future__ import annotations

import enum
import getpass
import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from google.protobuf import json_format
from google.protobuf.message import Message
from rich.console import Console, RenderableType

from common import operator_render as render
from common import regions
from common.gen.registry.v1 import national_service_pb2 as ns
from common.gen.registry.v1 import provincial_service_pb2 as ps
from common.gen.registry.v1 import registration_pb2 as r
from common.gen.registry.v1 import registration_service_pb2 as rs
from common.gen.registry.v1 import sync_service_pb2 as ss
from common.operator_client import ACTOR_METADATA_KEY, CallFailed, Session
from common.operator_files import ApplicationFileError, load_application

__all__ = ["EXIT_DIFFERS", "app", "main", "sync_app"]

DEFAULT_NODE = "127.0.0.1:50061"
DEFAULT_NATIONAL = "127.0.0.1:50051"
CODE_LENGTH = 19
#: The exit status of ``sync check`` when the node and the national ledger differ.
EXIT_DIFFERS = 3
# The largest page each List method accepts.
_MAX_REGISTRATIONS_PAGE = 500

app = typer.Typer(
    name="registryctl",
    help=(
        "Operate the public data resource registry (公共数据资源登记): take registrations through "
        "application, acceptance, review, announcement and coding, and look them up.\n\n"
        "Global options go before the command: registryctl --json show CODE."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

sync_app = typer.Typer(
    name="sync",
    help=(
        "Interconnection (互联互通) with the national node: sync health, proof of agreement, "
        "onboarding and transfers.\n\n"
        "status, onboard and transfer talk to --national; status --node-status and check to --node."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(sync_app, name="sync")


class ObjectTypeChoice(enum.StrEnum):
    """What is registered."""

    resource = "resource"
    product = "product"
    open = "open"


_OBJECT_TYPES = {
    ObjectTypeChoice.resource: r.PUBLIC_DATA_RESOURCE,
    ObjectTypeChoice.product: r.DATA_PRODUCT_OR_SERVICE,
    ObjectTypeChoice.open: r.OPEN_DATA_RESOURCE,
}


class StateChoice(enum.StrEnum):
    """A registration's lifecycle state."""

    pending = "pending"
    active = "active"
    expired = "expired"
    deregistered = "deregistered"
    closed = "closed"


@dataclass
class _Options:
    """The global options, shared by every command through the typer context."""

    node: str
    national: str
    actor: str | None
    json: bool
    timeout: float
    console: Console

    def metadata(self) -> tuple[tuple[str, str | bytes], ...]:
        """The request metadata; the actor is checked here, when a call is about to be made."""
        actor = self.actor
        if actor is None:
            try:
                actor = getpass.getuser()
            except (OSError, KeyError):
                _usage("cannot tell who you are from the login: give --actor NAME or set REGISTRY_ACTOR")
        if not actor.strip() or not actor.isprintable():
            _usage(f"--actor {actor!r}: must be a printable name")
        if all(" " <= c <= "~" for c in actor):
            return ((ACTOR_METADATA_KEY, actor),)
        # gRPC metadata values are ASCII; a name such as 张三 travels UTF-8 encoded in the -bin variant.
        return ((ACTOR_METADATA_KEY + "-bin", actor.encode()),)


def _usage(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


@contextmanager
def _session(options: _Options, *, national: bool = False, service: str | None = None) -> Iterator[Session]:
    """A channel to ``--node`` (or ``--national``) for one command; a failed call prints and exits 1.

    ``service`` names the service called (see :data:`common.operator_client.SERVICES`); by default
    RegistrationService on ``--node`` and NationalService on ``--national``.
    """
    metadata = options.metadata()
    if national:
        address, flag = options.national, "--national (REGISTRY_NATIONAL)"
    else:
        address, flag = options.node, "--node (REGISTRY_NODE)"
    try:
        with Session(
            address, flag=flag, timeout=options.timeout, metadata=metadata, national=national, service=service
        ) as session:
            yield session
    except CallFailed as failure:
        typer.echo(str(failure), err=True)
        raise typer.Exit(1) from None


def _options(ctx: typer.Context) -> _Options:
    return ctx.find_root().obj


def _to_json(message: Message) -> str:
    return json_format.MessageToJson(message, preserving_proto_field_name=True, ensure_ascii=False)


def _to_dict(message: Message) -> dict[str, Any]:
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def _emit(options: _Options, message: Message, view: Callable[[], RenderableType]) -> None:
    """Print a response: JSON with ``--json``, else its rich view."""
    if options.json:
        typer.echo(_to_json(message))
    else:
        options.console.print(view())


def _request_id(value: str | None) -> str:
    return value or str(uuid.uuid4())


def _parent(region: str | None, command: str) -> str:
    if not region:
        _usage(f"{command} needs the node's region: --region 320000 (or set REGISTRY_REGION)")
    if not regions.is_region(region):
        _usage(f"--region {region!r}: not a GB/T 2260 province-level code (such as 320000) or 100000")
    return f"nodes/{region}"


def _node_name(region: str, what: str) -> str:
    """``nodes/{region}`` for a region given on the command line, checked before any call."""
    region = region.strip()
    if not regions.is_region(region):
        _usage(f"{what} {region!r}: not a GB/T 2260 province-level code (such as 320000) or 100000")
    return f"nodes/{region}"


def _content(file: Path) -> r.RegistrationContent:
    try:
        return load_application(file)
    except ApplicationFileError as error:
        _usage(str(error))


def _defects(values: list[str]) -> list[r.Defect]:
    defects = []
    for value in values:
        field, sep, description = value.partition("=")
        if not sep or not field.strip() or not description.strip():
            _usage(
                f"--defect {value!r}: expected FIELD=DESCRIPTION, "
                'for example --defect "storage.location=give the data centre"'
            )
        defects.append(r.Defect(field=field.strip(), description=description.strip()))
    if not defects:
        _usage("give at least one --defect FIELD=DESCRIPTION (every defect at once: 一次性告知)")
    return defects


def _evidence(value: str) -> r.Document:
    title, sep, rest = value.partition(",")
    uri, sep2, sha256 = rest.rpartition(",")
    if not sep or not sep2 or not title.strip() or not uri.strip() or not sha256.strip():
        _usage(f"--evidence {value!r}: expected TITLE,URI,SHA256")
    return r.Document(title=title.strip(), uri=uri.strip(), sha256=sha256.strip())


def _write(
    ctx: typer.Context,
    method: str,
    request: Message,
    title: str,
    *,
    view: Callable[..., RenderableType] = render.registration_panel,
) -> None:
    """Send one write and print what it returned."""
    options = _options(ctx)
    request_id = getattr(request, "request_id")  # noqa: B009 - every write request has one
    with _session(options) as session:
        response = session.call(method, request, request_id=request_id)
    _emit(options, response, lambda: view(response, title=title))


# Reusable parameter declarations.
NameArg = Annotated[
    str, typer.Argument(metavar="NAME", help="The registration: nodes/{region}/registrations/{id}.")
]
FileArg = Annotated[
    Path,
    typer.Argument(
        metavar="FILE",
        help="Application file (TOML); see deploy/examples/application.toml.",
        show_default=False,
    ),
]
RequestIdOption = Annotated[
    str | None,
    typer.Option(
        "--request-id",
        metavar="ID",
        help="Repeat a write whose answer was lost, with the id it printed (default: a new UUID).",
        show_default=False,
    ),
]
EtagOption = Annotated[
    str,
    typer.Option(
        "--etag", help="Only if the registration still has this etag (else ABORTED).", show_default=False
    ),
]
ReasonOption = Annotated[
    str, typer.Option("--reason", help="Why (recorded in the history).", show_default=False)
]
DefectOption = Annotated[
    list[str],
    typer.Option(
        "--defect",
        metavar="FIELD=DESCRIPTION",
        help="A defect: the field path (e.g. storage.location) and what is needed. Repeat for each.",
        show_default=False,
    ),
]
RegionOption = Annotated[
    str | None,
    typer.Option(
        "--region",
        envvar="REGISTRY_REGION",
        metavar="REGION",
        help="The node's region code, e.g. 320000 (the national node is 100000).",
        show_default=False,
    ),
]


@app.callback()
def _global_options(
    ctx: typer.Context,
    node: Annotated[
        str,
        typer.Option(
            "--node", envvar="REGISTRY_NODE", metavar="HOST:PORT", help="The registration node to talk to."
        ),
    ] = DEFAULT_NODE,
    national: Annotated[
        str,
        typer.Option(
            "--national",
            envvar="REGISTRY_NATIONAL",
            metavar="HOST:PORT",
            help="The national node, for verify, nodes, ledger and sync.",
        ),
    ] = DEFAULT_NATIONAL,
    actor: Annotated[
        str | None,
        typer.Option(
            "--actor",
            envvar="REGISTRY_ACTOR",
            metavar="NAME",
            help="Who is acting, recorded in the history (default: your login name).",
            show_default=False,
        ),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print responses as JSON.")] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", metavar="SECONDS", min=0.1, help="Deadline of each call.")
    ] = 10.0,
) -> None:
    ctx.obj = _Options(
        node=node,
        national=national,
        actor=actor,
        json=json_output,
        timeout=timeout,
        console=Console(highlight=False),
    )


# --- the subject's side: apply, resubmit, change, correct, deregister, withdraw ------------------------


@app.command()
def apply(
    ctx: typer.Context,
    file: FileArg,
    region: RegionOption = None,
    object_type: Annotated[
        ObjectTypeChoice,
        typer.Option("--object-type", help="resource 公共数据资源, product 产品和服务, open 开放数据资源."),
    ] = ObjectTypeChoice.resource,
    request_id: RequestIdOption = None,
) -> None:
    """Apply for an initial registration (首次登记) from an application file."""
    parent = _parent(region, "apply")
    content = _content(file)
    registration = r.Registration(object_type=_OBJECT_TYPES[object_type], content=content)
    request = rs.CreateRegistrationRequest(
        parent=parent, registration=registration, request_id=_request_id(request_id)
    )
    _write(ctx, "CreateRegistration", request, "Applied")


@app.command()
def resubmit(
    ctx: typer.Context,
    name: NameArg,
    file: FileArg,
    etag: EtagOption = "",
    request_id: RequestIdOption = None,
) -> None:
    """Resubmit a returned application, or one sent back for correction, with corrected content."""
    request = rs.ResubmitApplicationRequest(
        name=name, content=_content(file), etag=etag, request_id=_request_id(request_id)
    )
    _write(ctx, "ResubmitApplication", request, "Resubmitted")


def _submit(
    ctx: typer.Context,
    name: str,
    kind: int,
    content: r.RegistrationContent | None,
    reason: str,
    etag: str,
    request_id: str | None,
    title: str,
) -> None:
    request = rs.SubmitApplicationRequest(
        name=name, type=kind, reason=reason, etag=etag, request_id=_request_id(request_id)
    )
    if content is not None:
        request.content.CopyFrom(content)
    _write(ctx, "SubmitApplication", request, title)


@app.command()
def change(
    ctx: typer.Context,
    name: NameArg,
    file: FileArg,
    reason: ReasonOption,
    etag: EtagOption = "",
    request_id: RequestIdOption = None,
) -> None:
    """Apply for a change (变更登记) of an active registration's content."""
    _submit(ctx, name, r.CHANGE, _content(file), reason, etag, request_id, "Change applied for")


@app.command()
def correct(
    ctx: typer.Context,
    name: NameArg,
    file: FileArg,
    reason: ReasonOption,
    etag: EtagOption = "",
    request_id: RequestIdOption = None,
) -> None:
    """Apply for a correction (更正登记) of an active registration's content."""
    _submit(ctx, name, r.CORRECTION, _content(file), reason, etag, request_id, "Correction applied for")


@app.command()
def deregister(
    ctx: typer.Context,
    name: NameArg,
    reason: ReasonOption,
    etag: EtagOption = "",
    request_id: RequestIdOption = None,
) -> None:
    """Apply for deregistration (注销登记); once done, the code is retired for ever."""
    _submit(ctx, name, r.DEREGISTRATION, None, reason, etag, request_id, "Deregistration applied for")


@app.command()
def withdraw(
    ctx: typer.Context,
    name: NameArg,
    reason: Annotated[str, typer.Option("--reason", help="Why.")] = "",
    etag: EtagOption = "",
    request_id: RequestIdOption = None,
) -> None:
    """Withdraw the current application."""
    request = rs.WithdrawApplicationRequest(
        name=name, reason=reason, etag=etag, request_id=_request_id(request_id)
    )
    _write(ctx, "WithdrawApplication", request, "Withdrawn")


# --- the registry's side: accept, return, refuse, approve, request correction, reject, announce --------


@app.command()
def accept(
    ctx: typer.Context, name: NameArg, etag: EtagOption = "", request_id: RequestIdOption = None
) -> None:
    """Accept a submitted application (受理); formal review starts."""
    request = rs.AcceptApplicationRequest(name=name, etag=etag, request_id=_request_id(request_id))
    _write(ctx, "AcceptApplication", request, "Accepted")


@app.command("return")
def return_(
    ctx: typer.Context,
    name: NameArg,
    defect: DefectOption,
    etag: EtagOption = "",
    request_id: RequestIdOption = None,
) -> None:
    """Return a submitted application with a one-time notice (一次性告知) of every defect."""
    request = rs.ReturnApplicationRequest(
        name=name, defects=_defects(defect), etag=etag, request_id=_request_id(request_id)
    )
    _write(ctx, "ReturnApplication", request, "Returned")


@app.command()
def refuse(
    ctx: typer.Context,
    name: NameArg,
    reason: ReasonOption,
    etag: EtagOption = "",
    request_id: RequestIdOption = None,
) -> None:
    """Refuse a submitted application (不予受理), with the reason."""
    request = rs.RefuseApplicationRequest(
        name=name, reason=reason, etag=etag, request_id=_request_id(request_id)
    )
    _write(ctx, "RefuseApplication", request, "Refused")


@app.command()
def approve(
    ctx: typer.Context, name: NameArg, etag: EtagOption = "", request_id: RequestIdOption = None
) -> None:
    """Pass the formal review (审查) of an application under review."""
    request = rs.ApproveApplicationRequest(name=name, etag=etag, request_id=_request_id(request_id))
    _write(ctx, "ApproveApplication", request, "Approved")


@app.command("request-correction")
def request_correction(
    ctx: typer.Context,
    name: NameArg,
    defect: DefectOption,
    etag: EtagOption = "",
    request_id: RequestIdOption = None,
) -> None:
    """Send an application under review back for correction, listing what to correct."""
    request = rs.RequestCorrectionRequest(
        name=name, defects=_defects(defect), etag=etag, request_id=_request_id(request_id)
    )
    _write(ctx, "RequestCorrection", request, "Correction requested")


@app.command()
def reject(
    ctx: typer.Context,
    name: NameArg,
    reason: ReasonOption,
    etag: EtagOption = "",
    request_id: RequestIdOption = None,
) -> None:
    """Reject an application under review, with the reason."""
    request = rs.RejectApplicationRequest(
        name=name, reason=reason, etag=etag, request_id=_request_id(request_id)
    )
    _write(ctx, "RejectApplication", request, "Rejected")


@app.command()
def announce(
    ctx: typer.Context, name: NameArg, etag: EtagOption = "", request_id: RequestIdOption = None
) -> None:
    """Start the public announcement (登记公示) of an approved application."""
    request = rs.AnnounceApplicationRequest(name=name, etag=etag, request_id=_request_id(request_id))
    _write(ctx, "AnnounceApplication", request, "Announced")


# --- objections and renewal ---------------------------------------------------------------------------


@app.command("object")
def object_(
    ctx: typer.Context,
    name: NameArg,
    objector: Annotated[
        str,
        typer.Option("--objector", help="Who objects: a name and a way to reach them.", show_default=False),
    ],
    reason: Annotated[str, typer.Option("--reason", help="Why.", show_default=False)],
    evidence: Annotated[
        list[str] | None,
        typer.Option(
            "--evidence",
            metavar="TITLE,URI,SHA256",
            help="A supporting document by reference and hash. Repeat for each.",
            show_default=False,
        ),
    ] = None,
    request_id: RequestIdOption = None,
) -> None:
    """File an objection (异议) to a registration during its announcement."""
    objection = r.Objection(objector=objector, reason=reason, evidence=[_evidence(e) for e in evidence or []])
    request = rs.CreateObjectionRequest(parent=name, objection=objection, request_id=_request_id(request_id))
    _write(ctx, "CreateObjection", request, "Objection filed", view=render.objection_panel)


@app.command()
def resolve(
    ctx: typer.Context,
    objection: Annotated[
        str,
        typer.Argument(
            metavar="OBJECTION_NAME", help="nodes/{region}/registrations/{id}/objections/{objection}."
        ),
    ],
    resolution: Annotated[
        str, typer.Option("--resolution", help="The registry's reasons.", show_default=False)
    ],
    dismiss: Annotated[
        bool, typer.Option("--dismiss", help="Dismiss it; the registration proceeds.")
    ] = False,
    uphold_terminate: Annotated[
        bool, typer.Option("--uphold-terminate", help="Uphold it and terminate the application.")
    ] = False,
    uphold_return: Annotated[
        bool, typer.Option("--uphold-return", help="Uphold it and return the application for correction.")
    ] = False,
    request_id: RequestIdOption = None,
) -> None:
    """Resolve a pending objection: exactly one of --dismiss, --uphold-terminate, --uphold-return."""
    chosen = [
        outcome
        for flag, outcome in (
            (dismiss, r.Objection.DISMISS),
            (uphold_terminate, r.Objection.UPHOLD_TERMINATE),
            (uphold_return, r.Objection.UPHOLD_RETURN),
        )
        if flag
    ]
    if len(chosen) != 1:
        _usage("give exactly one of --dismiss, --uphold-terminate, --uphold-return")
    request = rs.ResolveObjectionRequest(
        name=objection, outcome=chosen[0], resolution=resolution, request_id=_request_id(request_id)
    )
    _write(ctx, "ResolveObjection", request, "Objection resolved")


@app.command()
def renew(
    ctx: typer.Context, name: NameArg, etag: EtagOption = "", request_id: RequestIdOption = None
) -> None:
    """Renew an active (or recently expired) registration; the code stays the same."""
    request = rs.RenewRegistrationRequest(name=name, etag=etag, request_id=_request_id(request_id))
    _write(ctx, "RenewRegistration", request, "Renewed")


# --- reads --------------------------------------------------------------------------------------------


def _is_code(value: str) -> bool:
    return len(value) == CODE_LENGTH and "/" not in value


@app.command()
def show(
    ctx: typer.Context,
    name_or_code: Annotated[
        str,
        typer.Argument(
            metavar="NAME_OR_CODE", help="A registration name, or its 19-character unified registration code."
        ),
    ],
    history: Annotated[bool, typer.Option("--history/--no-history", help="Include the history.")] = True,
) -> None:
    """Show a registration: its content, current application, history and confirmation."""
    options = _options(ctx)
    value = name_or_code.strip()
    with _session(options) as session:
        if _is_code(value):
            registration = session.call("LookupRegistration", rs.LookupRegistrationRequest(code=value))
        else:
            registration = session.call("GetRegistration", rs.GetRegistrationRequest(name=value))
        entries: list[r.HistoryEntry] = []
        if history:
            entries = session.pages("ListHistory", rs.ListHistoryRequest(parent=registration.name), "entries")
        confirmation = None
        if registration.code:
            confirmation = session.call("GetConfirmation", rs.GetConfirmationRequest(code=registration.code))
    if options.json:
        document: dict[str, Any] = {"registration": _to_dict(registration)}
        if history:
            document["history"] = [_to_dict(entry) for entry in entries]
        if confirmation is not None:
            document["confirmation"] = _to_dict(confirmation)
        typer.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    console = options.console
    console.print(render.registration_panel(registration, with_application=False))
    console.print(render.content_panel(registration.content))
    if registration.HasField("current_application"):
        application = registration.current_application
        console.print(render.application_panel(application))
        if application.HasField("content") and application.content != registration.content:
            console.print(render.content_panel(application.content, title="Content applied for"))
    if history:
        console.print(render.history_table(entries))
    if confirmation is not None:
        console.print(render.confirmation_panel(confirmation))


@app.command("list")
def list_(
    ctx: typer.Context,
    region: RegionOption = None,
    state: Annotated[StateChoice | None, typer.Option("--state", help="Only in this state.")] = None,
    object_type: Annotated[
        ObjectTypeChoice | None, typer.Option("--type", help="Only this object type.")
    ] = None,
    subject: Annotated[
        str, typer.Option("--subject", metavar="USCC", help="Only this subject's.", show_default=False)
    ] = "",
    query: Annotated[
        str,
        typer.Option(
            "--query", metavar="WORDS", help="Only data names containing every word.", show_default=False
        ),
    ] = "",
    limit: Annotated[int, typer.Option("--limit", min=1, metavar="N", help="At most N rows.")] = 50,
    all_pages: Annotated[bool, typer.Option("--all", help="Every matching registration (no limit).")] = False,
    page_token: Annotated[
        str,
        typer.Option(
            "--page-token", metavar="TOKEN", help="Continue a previous listing.", show_default=False
        ),
    ] = "",
) -> None:
    """List registrations on the node, newest first."""
    parent = _parent(region, "list")
    options = _options(ctx)
    request = rs.ListRegistrationsRequest(
        parent=parent,
        state=r.Registration.State.Value(state.upper()) if state else 0,
        object_type=_OBJECT_TYPES[object_type] if object_type else 0,
        subject_uscc=subject,
        query=query,
        page_token=page_token,
    )
    collected: list[r.Registration] = []
    seen: set[str] = set()
    token = ""
    with _session(options) as session:
        while True:
            wanted = _MAX_REGISTRATIONS_PAGE if all_pages else limit - len(collected)
            request.page_size = min(wanted, _MAX_REGISTRATIONS_PAGE)
            response = session.call("ListRegistrations", request)
            collected.extend(response.registrations)
            token = response.next_page_token
            if not token or token in seen or (not all_pages and len(collected) >= limit):
                break
            seen.add(token)
            request.page_token = token
    if not all_pages:
        collected = collected[:limit]
    result = rs.ListRegistrationsResponse(registrations=collected, next_page_token=token)
    caption = f"{len(collected)} registration{'s' if len(collected) != 1 else ''}"
    if token:
        caption += f"; more with --all, or --page-token {token}"
    _emit(options, result, lambda: render.registrations_table(collected, caption=caption))


@app.command()
def due(
    ctx: typer.Context,
    region: RegionOption = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only what is overdue.")] = False,
) -> None:
    """List what the registry must do by when (acceptance, review, objections, expiries); overdue first."""
    parent = _parent(region, "due")
    options = _options(ctx)
    with _session(options) as session:
        items = session.pages(
            "ListDueItems", rs.ListDueItemsRequest(parent=parent, overdue_only=overdue), "items"
        )
    _emit(options, rs.ListDueItemsResponse(items=items), lambda: render.due_table(items))


@app.command()
def confirmation(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(metavar="CODE", help="The 19-character unified registration code.")],
) -> None:
    """Show the registration result confirmation (登记结果确认单) of a code."""
    options = _options(ctx)
    with _session(options) as session:
        response = session.call("GetConfirmation", rs.GetConfirmationRequest(code=code.strip()))
    _emit(options, response, lambda: render.confirmation_panel(response))


@app.command()
def verify(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(metavar="CODE", help="The string to check.")],
) -> None:
    """Ask the national node whether a code is well formed and assigned, and to what."""
    options = _options(ctx)
    with _session(options, national=True) as session:
        response = session.call("VerifyCode", ns.VerifyCodeRequest(code=code))
    _emit(options, response, lambda: render.verify_panel(response, code))


@app.command()
def nodes(ctx: typer.Context) -> None:
    """List the node directory: which regions run their own node, and where."""
    options = _options(ctx)
    with _session(options, national=True) as session:
        entries = session.pages("ListNodes", ns.ListNodesRequest(page_size=100), "nodes")
    _emit(options, ns.ListNodesResponse(nodes=entries), lambda: render.nodes_table(entries))


CodeArg = Annotated[
    str,
    typer.Argument(metavar="CODE", help="The 19-character unified registration code.", show_default=False),
]


@app.command()
def ledger(
    ctx: typer.Context,
    code: CodeArg,
    history: Annotated[
        bool, typer.Option("--history/--no-history", help="Also list the ledger's history entries.")
    ] = False,
) -> None:
    """Show the national ledger's record of a code (--national).

    The registration as the country knows it: its managing node, revision and history.
    """
    options = _options(ctx)
    with _session(options, national=True, service="sync") as session:
        record = session.call("LookupLedger", ss.LookupLedgerRequest(code=code.strip()))
    if options.json:
        typer.echo(_to_json(record))
        return
    console = options.console
    console.print(render.ledger_panel(record))
    console.print(render.content_panel(record.registration.content))
    if history:
        console.print(render.history_table(record.history))
    if record.HasField("confirmation"):
        console.print(render.confirmation_panel(record.confirmation))


# --- interconnection: registryctl sync ... ------------------------------------------------------------


@sync_app.command("status")
def sync_status(
    ctx: typer.Context,
    region: Annotated[
        str | None,
        typer.Argument(
            metavar="REGION",
            help="Only this provincial node, e.g. 320000 (default: every one).",
            show_default=False,
        ),
    ] = None,
    node_status: Annotated[
        bool,
        typer.Option(
            "--node-status",
            help="Ask the provincial node at --node for its own view of its link instead.",
        ),
    ] = False,
) -> None:
    """Sync health of the provincial nodes, as the national node sees it (--national).

    For each node: what the national node has acknowledged, the lag, the downward feed, the last
    contact and the last error. With --node-status, the node at --node's own view instead.
    """
    options = _options(ctx)
    if node_status:
        if region is not None:
            _usage("--node-status asks the node at --node about itself: give no REGION")
        with _session(options, service="provincial") as session:
            status = session.call("GetSyncStatus", ps.GetSyncStatusRequest())
        _emit(options, status, lambda: render.node_sync_panel(status))
        return
    node = _node_name(region, "REGION") if region is not None else None
    with _session(options, national=True, service="sync") as session:
        if node is None:
            response = session.call("ListSyncStates", ss.ListSyncStatesRequest())
        else:
            state = session.call("GetSyncState", ss.GetSyncStateRequest(node=node))
            response = ss.ListSyncStatesResponse(states=[state])
    _emit(options, response, lambda: render.sync_states_table(response.states))


@sync_app.command("check")
def sync_check(
    ctx: typer.Context,
    repair: Annotated[
        bool,
        typer.Option(
            "--repair",
            help=(
                "Also repair: take back what the ledger holds newer, queue what it lacks to be sent up. "
                "The report shows what was found before the repair."
            ),
        ),
    ] = False,
) -> None:
    """Prove that the node at --node agrees with the national ledger; exit 3 if not.

    Compares range digests of the node's registrations with the ledger's and lists the differing ranges
    and registrations (uids). Exits 0 in agreement (or after --repair), 3 when they differ. A large node
    may need a longer --timeout.
    """
    options = _options(ctx)
    with _session(options, service="provincial") as session:
        report = session.call("CheckAgreement", ps.CheckAgreementRequest(repair=repair))
    _emit(options, report, lambda: render.agreement_report(report))
    if not report.in_agreement and not report.repaired:
        raise typer.Exit(EXIT_DIFFERS)


@sync_app.command("onboard")
def sync_onboard(
    ctx: typer.Context,
    region: Annotated[
        str, typer.Argument(metavar="REGION", help="The region starting its own node, e.g. 440000.")
    ],
    address: Annotated[
        str,
        typer.Option("--address", metavar="HOST:PORT", help="Where the new node serves.", show_default=False),
    ],
) -> None:
    """Onboard a region that starts its own node (--national).

    The national node records it in the directory and hands over every registration it made for the
    region by proxy, codes unchanged. Safe to repeat.
    """
    node = _node_name(region, "REGION")
    address = address.strip()
    if not address:
        _usage("--address: give where the new node serves, as HOST:PORT")
    options = _options(ctx)
    with _session(options, national=True, service="sync") as session:
        response = session.call("OnboardNode", ss.OnboardNodeRequest(node=node, address=address))
    _emit(options, response, lambda: render.onboard_text(response, node=node, address=address))


@sync_app.command("transfer")
def sync_transfer(
    ctx: typer.Context,
    code: CodeArg,
    to: Annotated[
        str,
        typer.Option(
            "--to", metavar="REGION", help="The receiving node's region, e.g. 440000.", show_default=False
        ),
    ],
    request_id: RequestIdOption = None,
) -> None:
    """Transfer a registration's management to another node, code unchanged (--national).

    For a subject that moved. The transfer is pending until the receiving node confirms it.
    """
    to_node = _node_name(to, "--to")
    options = _options(ctx)
    request = ss.TransferRegistrationRequest(
        code=code.strip(), to_node=to_node, request_id=_request_id(request_id)
    )
    with _session(options, national=True, service="sync") as session:
        transfer = session.call("TransferRegistration", request, request_id=request.request_id)
    _emit(options, transfer, lambda: render.transfer_panel(transfer))


def main() -> None:
    """The ``registryctl`` console script."""
    try:
        app(prog_name="registryctl")
    except Exception as error:  # a bug in registryctl itself: say so in one line, not a traceback
        typer.echo(f"error: registryctl failed unexpectedly: {type(error).__name__}: {error}", err=True)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
