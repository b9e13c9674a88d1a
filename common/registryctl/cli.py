"""``registryctl``: the operators' command line for the registry.

Provincial operators and national coordinators take a registration through every step of the
procedure from a shell: apply, accept or return, review, announce, object and resolve, then change,
correct, renew and deregister; and look registrations, deadlines, confirmations and codes up. The
``sync`` commands watch and repair interconnection with the national node (sync health, proof of
agreement, onboarding, transfers); ``ledger`` shows the national ledger's record of a code.

Every command is one or a few calls of the contract (``registry.v1.RegistrationService`` and, for
``sync status --node-status`` and ``sync check``, ``registry.v1.ProvincialService`` on ``--node``;
``registry.v1.NationalService`` and ``registry.v1.SyncService`` on ``--national``), each with a
deadline (``--timeout``), over TLS verified against the federation's CA (``--ca``), with the
operator's bearer token (``--token``): the node records who acted from the verified token. Every
write sends a fresh ``request_id``; ``--request-id`` repeats one, so a write whose answer was lost can
be retried by hand without doing it twice. The registry checks the content; errors print its reason and
every field at fault.

Exit status: 0 done, 1 the registry (or the network) said no, 2 a usage or application-file error,
3 ``sync check`` found that the node and the national ledger differ (and did not repair it).
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, NoReturn

import grpc
import typer
from google.protobuf import json_format
from google.protobuf.message import Message
from rich.console import Console, RenderableType

from common import regions
from common.gen.registry.v1 import registration_pb2 as r
from common.registryctl import render
from common.registryctl.client import CallFailed, Session
from common.registryctl.files import ApplicationFileError, load_application
from common.security.identity import NATIONAL_SERVER_NAME

__all__ = [
    "EXIT_DIFFERS",
    "MAX_REGISTRATIONS_PAGE",
    "OBJECT_TYPES",
    "ObjectTypeChoice",
    "Options",
    "StateChoice",
    "app",
    "content_file",
    "defect_args",
    "emit",
    "evidence_arg",
    "node_name_arg",
    "options_of",
    "parent_name",
    "request_id_or_new",
    "send_write",
    "session_for",
    "sync_app",
    "to_dict",
    "to_json",
    "usage_error",
]

DEFAULT_NODE = "127.0.0.1:50061"
DEFAULT_NATIONAL = "127.0.0.1:50051"
#: The exit status of ``sync check`` when the node and the national ledger differ.
EXIT_DIFFERS = 3
# The largest page each List method accepts.
MAX_REGISTRATIONS_PAGE = 500

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


OBJECT_TYPES: dict[ObjectTypeChoice, r.ObjectType] = {
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
class Options:
    """The global options, shared by every command through the typer context."""

    node: str
    national: str
    token: str | None
    json: bool
    timeout: float
    console: Console
    ca: Path | None = None
    cert: Path | None = None
    key: Path | None = None
    plaintext: bool = False

    def metadata(self) -> tuple[tuple[str, str | bytes], ...]:
        """The request metadata: the bearer token, when there is one."""
        if self.token is None:
            return ()
        token = self.token.strip()
        if not token or not token.isascii() or any(c.isspace() for c in token):
            usage_error("--token (REGISTRY_TOKEN): not a bearer token")
        return (("authorization", f"Bearer {token}"),)

    def credentials(self) -> grpc.ChannelCredentials | None:
        """Mutual TLS with the federation's CA and the client certificate; None with --plaintext."""
        if self.plaintext:
            return None
        if self.ca is None or not self.ca.is_file():
            usage_error(f"--ca {self.ca}: the federation's CA certificate is needed to check the node")
        for flag, path in (("--cert (REGISTRY_CERT)", self.cert), ("--key (REGISTRY_KEY)", self.key)):
            if path is None or not path.is_file():
                usage_error(f"{flag} {path}: every connection is mutual TLS; a client certificate is needed")
        assert self.cert is not None and self.key is not None
        return grpc.ssl_channel_credentials(
            self.ca.read_bytes(), private_key=self.key.read_bytes(), certificate_chain=self.cert.read_bytes()
        )


def usage_error(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


@contextmanager
def session_for(options: Options, *, national: bool = False, service: str | None = None) -> Iterator[Session]:
    """A channel to ``--node`` (or ``--national``) for one command; a failed call prints and exits 1.

    ``service`` names the service called (see :data:`common.registryctl.client.SERVICES`); by default
    RegistrationService on ``--node`` and NationalService on ``--national``.
    """
    metadata = options.metadata()
    if national:
        address, flag = options.national, "--national (REGISTRY_NATIONAL)"
    else:
        address, flag = options.node, "--node (REGISTRY_NODE)"
    try:
        with Session(
            address,
            flag=flag,
            timeout=options.timeout,
            metadata=metadata,
            national=national,
            service=service,
            credentials=options.credentials(),
            server_name=NATIONAL_SERVER_NAME if national else None,
        ) as session:
            yield session
    except CallFailed as failure:
        typer.echo(str(failure), err=True)
        raise typer.Exit(1) from None


def options_of(ctx: typer.Context) -> Options:
    options = ctx.find_root().obj
    assert isinstance(options, Options)
    return options


def to_json(message: Message) -> str:
    return json_format.MessageToJson(message, preserving_proto_field_name=True, ensure_ascii=False)


def to_dict(message: Message) -> dict[str, Any]:
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def emit(options: Options, message: Message, view: Callable[[], RenderableType]) -> None:
    """Print a response: JSON with ``--json``, else its rich view."""
    if options.json:
        typer.echo(to_json(message))
    else:
        options.console.print(view())


def request_id_or_new(value: str | None) -> str:
    return value or str(uuid.uuid4())


def parent_name(region: str | None, command: str) -> str:
    if not region:
        usage_error(f"{command} needs the node's region: --region 320000 (or set REGISTRY_REGION)")
    if not regions.is_region(region):
        usage_error(f"--region {region!r}: not a GB/T 2260 province-level code (such as 320000) or 100000")
    return f"nodes/{region}"


def node_name_arg(region: str, what: str) -> str:
    """``nodes/{region}`` for a region given on the command line, checked before any call."""
    region = region.strip()
    if not regions.is_region(region):
        usage_error(f"{what} {region!r}: not a GB/T 2260 province-level code (such as 320000) or 100000")
    return f"nodes/{region}"


def content_file(file: Path) -> r.RegistrationContent:
    try:
        return load_application(file)
    except ApplicationFileError as error:
        usage_error(str(error))


def defect_args(values: list[str]) -> list[r.Defect]:
    defects = []
    for value in values:
        field, sep, description = value.partition("=")
        if not sep or not field.strip() or not description.strip():
            usage_error(
                f"--defect {value!r}: expected FIELD=DESCRIPTION, "
                'for example --defect "storage.location=give the data centre"'
            )
        defects.append(r.Defect(field=field.strip(), description=description.strip()))
    if not defects:
        usage_error("give at least one --defect FIELD=DESCRIPTION (every defect at once: 一次性告知)")
    return defects


def evidence_arg(value: str) -> r.Document:
    title, sep, rest = value.partition(",")
    uri, sep2, sha256 = rest.rpartition(",")
    if not sep or not sep2 or not title.strip() or not uri.strip() or not sha256.strip():
        usage_error(f"--evidence {value!r}: expected TITLE,URI,SHA256")
    return r.Document(title=title.strip(), uri=uri.strip(), sha256=sha256.strip())


def send_write(
    ctx: typer.Context,
    method: str,
    request: Message,
    title: str,
    *,
    view: Callable[..., RenderableType] = render.registration_panel,
) -> None:
    """Send one write and print what it returned."""
    options = options_of(ctx)
    request_id = getattr(request, "request_id")  # noqa: B009 - every write request has one
    with session_for(options) as session:
        response = session.call(method, request, request_id=request_id)
    emit(options, response, lambda: view(response, title=title))


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
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="REGISTRY_TOKEN",
            metavar="JWT",
            help="Your bearer token from the identity provider (registryctl login, in development).",
            show_default=False,
        ),
    ] = None,
    ca: Annotated[
        Path,
        typer.Option("--ca", envvar="REGISTRY_CA", metavar="FILE", help="The federation's CA certificate."),
    ] = Path("data/pki/ca.crt"),
    cert: Annotated[
        Path,
        typer.Option(
            "--cert",
            envvar="REGISTRY_CERT",
            metavar="FILE",
            help="The client certificate: the tool's own, or a node's to act as that node.",
        ),
    ] = Path("data/pki/clients/registryctl.crt"),
    key: Annotated[
        Path,
        typer.Option("--key", envvar="REGISTRY_KEY", metavar="FILE", help="That certificate's key."),
    ] = Path("data/pki/clients/registryctl.key"),
    plaintext: Annotated[
        bool, typer.Option("--plaintext", help="No TLS (only for a test server; nodes refuse it).")
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print responses as JSON.")] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", metavar="SECONDS", min=0.1, help="Deadline of each call.")
    ] = 10.0,
) -> None:
    ctx.obj = Options(
        node=node,
        national=national,
        token=token,
        json=json_output,
        timeout=timeout,
        console=Console(highlight=False),
        ca=ca,
        cert=cert,
        key=key,
        plaintext=plaintext,
    )
