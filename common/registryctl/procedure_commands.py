"""``registryctl`` commands of the procedure: apply, accept, review, announce, object, resolve, renew;
and the reads: show, list, due, confirmation, verify, nodes."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from common.codes import CODE_LENGTH
from common.gen.registry.v1 import national_service_pb2 as ns
from common.gen.registry.v1 import registration_pb2 as r
from common.gen.registry.v1 import registration_service_pb2 as rs
from common.registryctl import render
from common.registryctl.cli import (
    MAX_REGISTRATIONS_PAGE,
    OBJECT_TYPES,
    DefectOption,
    EtagOption,
    FileArg,
    NameArg,
    ObjectTypeChoice,
    ReasonOption,
    RegionOption,
    RequestIdOption,
    StateChoice,
    app,
    content_file,
    defect_args,
    emit,
    evidence_arg,
    options_of,
    parent_name,
    request_id_or_new,
    send_write,
    session_for,
    to_dict,
    usage_error,
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
    parent = parent_name(region, "apply")
    content = content_file(file)
    registration = r.Registration(object_type=OBJECT_TYPES[object_type], content=content)
    request = rs.CreateRegistrationRequest(
        parent=parent, registration=registration, request_id=request_id_or_new(request_id)
    )
    send_write(ctx, "CreateRegistration", request, "Applied")


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
        name=name, content=content_file(file), etag=etag, request_id=request_id_or_new(request_id)
    )
    send_write(ctx, "ResubmitApplication", request, "Resubmitted")


def _submit(
    ctx: typer.Context,
    name: str,
    kind: r.RegistrationType,
    content: r.RegistrationContent | None,
    reason: str,
    etag: str,
    request_id: str | None,
    title: str,
) -> None:
    request = rs.SubmitApplicationRequest(
        name=name, type=kind, reason=reason, etag=etag, request_id=request_id_or_new(request_id)
    )
    if content is not None:
        request.content.CopyFrom(content)
    send_write(ctx, "SubmitApplication", request, title)


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
    _submit(ctx, name, r.CHANGE, content_file(file), reason, etag, request_id, "Change applied for")


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
    _submit(ctx, name, r.CORRECTION, content_file(file), reason, etag, request_id, "Correction applied for")


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
        name=name, reason=reason, etag=etag, request_id=request_id_or_new(request_id)
    )
    send_write(ctx, "WithdrawApplication", request, "Withdrawn")


# --- the registry's side: accept, return, refuse, approve, request correction, reject, announce --------


def _plain(command: str, method: str, request_type: type[Any], title: str, summary: str) -> None:
    """A transition that takes only the registration: approve, announce, renew."""

    def run(
        ctx: typer.Context, name: NameArg, etag: EtagOption = "", request_id: RequestIdOption = None
    ) -> None:
        request = request_type(name=name, etag=etag, request_id=request_id_or_new(request_id))
        send_write(ctx, method, request, title)

    app.command(command, help=summary)(run)


def _with_reason(command: str, method: str, request_type: type[Any], title: str, summary: str) -> None:
    """A decision with its reason: refuse, reject."""

    def run(
        ctx: typer.Context,
        name: NameArg,
        reason: ReasonOption,
        etag: EtagOption = "",
        request_id: RequestIdOption = None,
    ) -> None:
        request = request_type(name=name, reason=reason, etag=etag, request_id=request_id_or_new(request_id))
        send_write(ctx, method, request, title)

    app.command(command, help=summary)(run)


def _with_defects(command: str, method: str, request_type: type[Any], title: str, summary: str) -> None:
    """Back to the subject with every defect at once: return, request-correction."""

    def run(
        ctx: typer.Context,
        name: NameArg,
        defect: DefectOption,
        etag: EtagOption = "",
        request_id: RequestIdOption = None,
    ) -> None:
        defects = defect_args(defect)
        request = request_type(
            name=name, defects=defects, etag=etag, request_id=request_id_or_new(request_id)
        )
        send_write(ctx, method, request, title)

    app.command(command, help=summary)(run)


@app.command(
    help="Accept a submitted application (受理); formal review starts. The first acceptance asks the"
    " national node for possible duplicates (the same subject with a similar data name, the same data"
    " name under a related subject); with any, it is refused (POSSIBLE_DUPLICATES) and `show` lists"
    " them: accept again with --acknowledge-duplicates to proceed."
)
def accept(
    ctx: typer.Context,
    name: NameArg,
    acknowledge_duplicates: Annotated[
        bool,
        typer.Option(
            "--acknowledge-duplicates",
            help="Accept although the application has possible duplicates (see `show`): you looked at them.",
        ),
    ] = False,
    etag: EtagOption = "",
    request_id: RequestIdOption = None,
) -> None:
    """Accept a submitted application; with --acknowledge-duplicates, despite possible duplicates."""
    request = rs.AcceptApplicationRequest(
        name=name,
        etag=etag,
        request_id=request_id_or_new(request_id),
        acknowledge_duplicates=acknowledge_duplicates,
    )
    send_write(ctx, "AcceptApplication", request, "Accepted")


_with_defects(
    "return",
    "ReturnApplication",
    rs.ReturnApplicationRequest,
    "Returned",
    "Return a submitted application with a one-time notice (一次性告知) of every defect.",
)
_with_reason(
    "refuse",
    "RefuseApplication",
    rs.RefuseApplicationRequest,
    "Refused",
    "Refuse a submitted application (不予受理), with the reason.",
)
_plain(
    "approve",
    "ApproveApplication",
    rs.ApproveApplicationRequest,
    "Approved",
    "Pass the formal review (审查) of an application under review.",
)
_with_defects(
    "request-correction",
    "RequestCorrection",
    rs.RequestCorrectionRequest,
    "Correction requested",
    "Send an application under review back for correction, listing what to correct.",
)
_with_reason(
    "reject",
    "RejectApplication",
    rs.RejectApplicationRequest,
    "Rejected",
    "Reject an application under review, with the reason.",
)
_plain(
    "announce",
    "AnnounceApplication",
    rs.AnnounceApplicationRequest,
    "Announced",
    "Start the public announcement (登记公示) of an approved application.",
)
_plain(
    "renew",
    "RenewRegistration",
    rs.RenewRegistrationRequest,
    "Renewed",
    "Renew an active (or recently expired) registration; the code stays the same.",
)


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
    objection = r.Objection(
        objector=objector, reason=reason, evidence=[evidence_arg(e) for e in evidence or []]
    )
    request = rs.CreateObjectionRequest(
        parent=name, objection=objection, request_id=request_id_or_new(request_id)
    )
    send_write(ctx, "CreateObjection", request, "Objection filed", view=render.objection_panel)


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
        usage_error("give exactly one of --dismiss, --uphold-terminate, --uphold-return")
    request = rs.ResolveObjectionRequest(
        name=objection, outcome=chosen[0], resolution=resolution, request_id=request_id_or_new(request_id)
    )
    send_write(ctx, "ResolveObjection", request, "Objection resolved")


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
    options = options_of(ctx)
    value = name_or_code.strip()
    with session_for(options) as session:
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
        document: dict[str, Any] = {"registration": to_dict(registration)}
        if history:
            document["history"] = [to_dict(entry) for entry in entries]
        if confirmation is not None:
            document["confirmation"] = to_dict(confirmation)
        typer.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    console = options.console
    console.print(render.registration_panel(registration, with_application=False))
    console.print(render.content_panel(registration.content))
    if registration.HasField("current_application"):
        application = registration.current_application
        console.print(render.application_panel(application))
        if application.possible_duplicates:
            console.print(render.duplicates_table(application.possible_duplicates))
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
    parent = parent_name(region, "list")
    options = options_of(ctx)
    request = rs.ListRegistrationsRequest(
        parent=parent,
        state=state.upper() if state else None,
        object_type=OBJECT_TYPES[object_type] if object_type else None,
        subject_uscc=subject,
        query=query,
        page_token=page_token,
    )
    collected: list[r.Registration] = []
    seen: set[str] = set()
    token = ""
    with session_for(options) as session:
        while True:
            wanted = MAX_REGISTRATIONS_PAGE if all_pages else limit - len(collected)
            request.page_size = min(wanted, MAX_REGISTRATIONS_PAGE)
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
    emit(options, result, lambda: render.registrations_table(collected, caption=caption))


@app.command()
def due(
    ctx: typer.Context,
    region: RegionOption = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only what is overdue.")] = False,
) -> None:
    """List what is due by when: the registry's steps (acceptance, review, objections, expiries), and
    the data demands and share requests its subjects owe an answer; overdue first. An applicant sees
    the items of its own subjects."""
    parent = parent_name(region, "due")
    options = options_of(ctx)
    with session_for(options) as session:
        items = session.pages(
            "ListDueItems", rs.ListDueItemsRequest(parent=parent, overdue_only=overdue), "items"
        )
    emit(options, rs.ListDueItemsResponse(items=items), lambda: render.due_table(items))


@app.command()
def confirmation(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(metavar="CODE", help="The 19-character unified registration code.")],
) -> None:
    """Show the registration result confirmation (登记结果确认单) of a code."""
    options = options_of(ctx)
    with session_for(options) as session:
        response = session.call("GetConfirmation", rs.GetConfirmationRequest(code=code.strip()))
    emit(options, response, lambda: render.confirmation_panel(response))


@app.command()
def verify(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(metavar="CODE", help="The string to check.")],
) -> None:
    """Ask the national node whether a code is well formed and assigned, and to what."""
    options = options_of(ctx)
    with session_for(options, national=True) as session:
        response = session.call("VerifyCode", ns.VerifyCodeRequest(code=code))
    emit(options, response, lambda: render.verify_panel(response, code))


@app.command()
def nodes(ctx: typer.Context) -> None:
    """List the node directory: which regions run their own node, and where."""
    options = options_of(ctx)
    with session_for(options, national=True) as session:
        entries = session.pages("ListNodes", ns.ListNodesRequest(page_size=100), "nodes")
    emit(options, ns.ListNodesResponse(nodes=entries), lambda: render.nodes_table(entries))


@app.command("rules")
def rules(
    ctx: typer.Context,
    region: RegionOption = None,
    national: Annotated[
        bool, typer.Option("--national-node", help="Ask the national node (--national) instead of --node.")
    ] = False,
) -> None:
    """The business rules a node applies (public): its time limits, the provincial variants it applies,
    its working-day calendar."""
    options = options_of(ctx)
    name = parent_name("100000" if national and not region else region, "rules") + "/businessRules"
    with session_for(options, national=national, service="registration") as session:
        found = session.call("GetBusinessRules", rs.GetBusinessRulesRequest(name=name))
    emit(options, found, lambda: render.business_rules(found))
