"""``registryctl ledger`` and ``registryctl sync ...``: interconnection with the national node."""

from __future__ import annotations

from typing import Annotated

import typer

from common.gen.registry.v1 import provincial_service_pb2 as ps
from common.gen.registry.v1 import sync_service_pb2 as ss
from common.registryctl import render
from common.registryctl.cli import (
    EXIT_DIFFERS,
    RequestIdOption,
    app,
    emit,
    node_name_arg,
    options_of,
    request_id_or_new,
    session_for,
    sync_app,
    to_json,
    usage_error,
)

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
    options = options_of(ctx)
    with session_for(options, national=True, service="sync") as session:
        record = session.call("LookupLedger", ss.LookupLedgerRequest(code=code.strip()))
    if options.json:
        typer.echo(to_json(record))
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
    options = options_of(ctx)
    if node_status:
        if region is not None:
            usage_error("--node-status asks the node at --node about itself: give no REGION")
        with session_for(options, service="provincial") as session:
            status = session.call("GetSyncStatus", ps.GetSyncStatusRequest())
        emit(options, status, lambda: render.node_sync_panel(status))
        return
    node = node_name_arg(region, "REGION") if region is not None else None
    with session_for(options, national=True, service="sync") as session:
        if node is None:
            states = session.pages("ListSyncStates", ss.ListSyncStatesRequest(page_size=100), "states")
            response = ss.ListSyncStatesResponse(states=states)
        else:
            state = session.call("GetSyncState", ss.GetSyncStateRequest(node=node))
            response = ss.ListSyncStatesResponse(states=[state])
    emit(options, response, lambda: render.sync_states_table(response.states))


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
    options = options_of(ctx)
    with session_for(options, service="provincial") as session:
        report = session.call("CheckAgreement", ps.CheckAgreementRequest(repair=repair))
    emit(options, report, lambda: render.agreement_report(report))
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
    node = node_name_arg(region, "REGION")
    address = address.strip()
    if not address:
        usage_error("--address: give where the new node serves, as HOST:PORT")
    options = options_of(ctx)
    with session_for(options, national=True, service="sync") as session:
        response = session.call("OnboardNode", ss.OnboardNodeRequest(node=node, address=address))
    emit(options, response, lambda: render.onboard_text(response, node=node, address=address))


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

    For a subject that moved. The transfer is pending until the receiving node confirms it and the
    managing node has released the registration through its change feed (it takes no change of it from
    then on); sync status counts the transfers each node is yet to release. Retry with the same
    --request-id to see where it stands.
    """
    to_node = node_name_arg(to, "--to")
    options = options_of(ctx)
    request = ss.TransferRegistrationRequest(
        code=code.strip(), to_node=to_node, request_id=request_id_or_new(request_id)
    )
    with session_for(options, national=True, service="sync") as session:
        transfer = session.call("TransferRegistration", request, request_id=request.request_id)
    emit(options, transfer, lambda: render.transfer_panel(transfer))
