"""``registryctl codes ...``: the coding authority's view for coordinators and auditors (--national)."""

from __future__ import annotations

import re
from typing import Annotated

import typer
from google.protobuf import duration_pb2

from common.gen.registry.v1 import national_service_pb2 as ns
from common.registryctl import render
from common.registryctl.cli import app, emit, options_of, session_for, usage_error

__all__ = ["codes_app"]

codes_app = typer.Typer(
    name="codes",
    help="The coding authority (--national): codes whose registration never reached the national ledger.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(codes_app, name="codes")

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _seconds(text: str) -> int:
    """``90s``, ``30m``, ``2h``, ``7d`` or plain seconds."""
    match = re.fullmatch(r"\s*(\d{1,9})\s*([smhd]?)\s*", text)
    if match is None:
        usage_error(f"--grace {text!r}: a duration such as 90s, 30m, 2h or 7d")
    return int(match.group(1)) * _UNITS[match.group(2) or "s"]


@codes_app.command("orphaned")
def orphaned(
    ctx: typer.Context,
    grace: Annotated[
        str,
        typer.Option(
            "--grace",
            metavar="DURATION",
            help="Only codes assigned at least this long ago: 90s, 30m, 2h, 7d.",
        ),
    ] = "1h",
) -> None:
    """List the codes assigned whose registration the national ledger does not hold as coded: the node
    that asked never sent it up coded (its link is down, or it lost the code). Each comes with what the
    ledger holds of its registration."""
    options = options_of(ctx)
    request = ns.ListOrphanedCodesRequest(page_size=500, grace=duration_pb2.Duration(seconds=_seconds(grace)))
    with session_for(options, national=True) as session:
        found = session.pages("ListOrphanedCodes", request, "orphaned_codes")
    emit(
        options,
        ns.ListOrphanedCodesResponse(orphaned_codes=found),
        lambda: render.orphaned_codes_table(found, grace=grace.strip()),
    )


@codes_app.command("leases")
def leases(
    ctx: typer.Context,
    node: Annotated[
        str,
        typer.Option("--node", metavar="REGION", help="Only this node's leases (a node must name itself)."),
    ] = "",
) -> None:
    """List code leases, newest first: the serials each node may code from while the national node is
    unreachable, how many it used, and whether the lease is open, revoked or settled."""
    options = options_of(ctx)
    request = ns.ListCodeLeasesRequest(page_size=500, node=f"nodes/{node}" if node else "")
    with session_for(options, national=True) as session:
        found = session.pages("ListCodeLeases", request, "code_leases")
    emit(options, ns.ListCodeLeasesResponse(code_leases=found), lambda: render.code_leases_table(found))


@codes_app.command("revoke-lease")
def revoke_lease(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="LEASE", help="codeLeases/{issuer}-{type}-{year}-{serial}")],
    reason: Annotated[str, typer.Option("--reason", help="Why (entered in the log).")],
) -> None:
    """Revoke a code lease (coordinators): no code from it in a change the node committed after its
    last report reaches the log; once the node has sent up the rest, its unused serials are recorded
    never used."""
    options = options_of(ctx)
    lease_name = name if name.startswith("codeLeases/") else f"codeLeases/{name}"
    with session_for(options, national=True) as session:
        lease = session.call(
            "RevokeCodeLease",
            ns.RevokeCodeLeaseRequest(name=lease_name, reason=reason),
            request_id=lease_name,
        )
    emit(options, lease, lambda: render.code_leases_table([lease]))
