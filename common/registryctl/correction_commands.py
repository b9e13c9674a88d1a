"""``registryctl corrections ...``: the national coordinators' corrections of the ledger (--national)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Group
from rich.text import Text

from common.gen.registry.v1 import correction_pb2
from common.gen.registry.v1 import national_service_pb2 as ns
from common.registryctl import render
from common.registryctl.cli import (
    RequestIdOption,
    app,
    emit,
    evidence_arg,
    options_of,
    request_id_or_new,
    session_for,
)

__all__ = ["corrections_app"]

corrections_app = typer.Typer(
    name="corrections",
    help="Corrections of the national ledger (--national): filed by coordinators, made by the managing node.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(corrections_app, name="corrections")


def _shown(correction: correction_pb2.LedgerCorrection) -> Group:
    state = render.enum_name(correction_pb2.LedgerCorrection.State, correction.state)
    lines = [
        Text(f"{correction.name}  {state}", style="bold"),
        Text(
            f"registration {correction.registration} ({correction.code}),"
            f" managed by {correction.managing_node}"
        ),
        Text(f"filed by {correction.requested_by} at {render.format_time(correction.file_time)}"),
        Text(f"problem: {correction.problem}"),
        *(Text(f"evidence: {d.title} <{d.uri}> sha256 {d.sha256}") for d in correction.evidence),
    ]
    if correction.application_id:
        lines.append(Text(f"application {correction.application_id} at the managing node:"))
    return Group(*lines, *([render.history_table(correction.history)] if correction.history else []))


@corrections_app.command("file")
def file(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="The registration's unified registration code.")],
    problem: Annotated[str, typer.Option("--problem", help="What is wrong.")],
    evidence: Annotated[
        list[str], typer.Option("--evidence", metavar="TITLE,URI,SHA256", help="A document (repeatable).")
    ],
    request_id: RequestIdOption = None,
) -> None:
    """File a correction request: the managing node opens a correction application with it."""
    options = options_of(ctx)
    request = ns.FileLedgerCorrectionRequest(
        code=code.strip(),
        problem=problem,
        evidence=[evidence_arg(e) for e in evidence],
        request_id=request_id_or_new(request_id),
    )
    with session_for(options, national=True) as session:
        found = session.call("FileLedgerCorrection", request, request_id=request.request_id)
    emit(options, found, lambda: _shown(found))


@corrections_app.command("show")
def show(ctx: typer.Context, name: Annotated[str, typer.Argument(help="ledgerCorrections/{id}")]) -> None:
    """A correction request: where it stands, and its steps at the managing node."""
    options = options_of(ctx)
    full = name if name.startswith("ledgerCorrections/") else f"ledgerCorrections/{name}"
    with session_for(options, national=True) as session:
        found = session.call("GetLedgerCorrection", ns.GetLedgerCorrectionRequest(name=full))
    emit(options, found, lambda: _shown(found))


@corrections_app.command("list")
def list_(
    ctx: typer.Context,
    node: Annotated[
        str, typer.Option("--node", metavar="REGION", help="Only this node's registrations.")
    ] = "",
) -> None:
    """Correction requests, newest first."""
    options = options_of(ctx)
    request = ns.ListLedgerCorrectionsRequest(page_size=500, node=f"nodes/{node}" if node else "")
    with session_for(options, national=True) as session:
        found = session.pages("ListLedgerCorrections", request, "ledger_corrections")

    emit(
        options,
        ns.ListLedgerCorrectionsResponse(ledger_corrections=found),
        lambda: render.corrections_table(found),
    )
