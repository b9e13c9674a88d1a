"""``registryctl disclosures ...``: authorised-operation disclosure on the national node (--national):
file one from a JSON file, read them, and list who has not disclosed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from google.protobuf import json_format
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.text import Text

from common.gen.registry.v1 import disclosure_pb2 as ds
from common.gen.registry.v1 import disclosure_service_pb2 as dss
from common.registryctl import render
from common.registryctl.cli import (
    RequestIdOption,
    app,
    emit,
    options_of,
    request_id_or_new,
    session_for,
    usage_error,
)

__all__ = ["disclosures_app"]

disclosures_app = typer.Typer(
    name="disclosures",
    help="Authorised-operation disclosure (--national): file, list, show; who has not disclosed.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(disclosures_app, name="disclosures")

_ROLES = [name for name in ds.Disclosure.Role.keys() if name != "ROLE_UNSPECIFIED"]  # noqa: SIM118


@disclosures_app.command("file")
def file(
    ctx: typer.Context,
    path: Annotated[
        Path, typer.Argument(metavar="FILE", help="The disclosure as JSON (registry.v1.Disclosure).")
    ],
    request_id: RequestIdOption = None,
) -> None:
    """File a disclosure, or a new version of it (role implementing_body or operating_entity)."""
    options = options_of(ctx)
    try:
        disclosure = json_format.Parse(path.read_text(encoding="utf-8"), ds.Disclosure())
    except OSError as error:
        usage_error(f"{path}: {error.strerror or error}")
    except (json_format.ParseError, UnicodeDecodeError) as error:
        usage_error(f"{path}: not a disclosure in JSON: {error}")
    request = dss.FileDisclosureRequest(disclosure=disclosure, request_id=request_id_or_new(request_id))
    with session_for(options, national=True, service="disclosure") as session:
        filed = session.call("FileDisclosure", request, request_id=request.request_id)
    emit(options, filed, lambda: disclosure_panel(filed))


@disclosures_app.command("show")
def show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="disclosures/{year}/{role}/{uscc}.")],
    version: Annotated[int, typer.Option("--version", min=0, help="A version (default: the latest).")] = 0,
) -> None:
    """A disclosure."""
    options = options_of(ctx)
    with session_for(options, national=True, service="disclosure") as session:
        found = session.call("GetDisclosure", dss.GetDisclosureRequest(name=name, version=version))
    emit(options, found, lambda: disclosure_panel(found))


@disclosures_app.command("list")
def list_disclosures(
    ctx: typer.Context,
    year: Annotated[int, typer.Option("--year", help="Only this year's.")] = 0,
    region: Annotated[str, typer.Option("--region", help="Only this province-level region's.")] = "",
    code: Annotated[str, typer.Option("--code", help="Only those naming this registration code.")] = "",
) -> None:
    """Disclosures in their latest versions."""
    options = options_of(ctx)
    request = dss.ListDisclosuresRequest(page_size=100, year=year, region=region, code=code)
    found: list[ds.Disclosure] = []
    with session_for(options, national=True, service="disclosure") as session:
        while True:
            page = session.call("ListDisclosures", request)
            found.extend(page.disclosures)
            if not page.next_page_token or len(found) >= 1000:
                break
            request.page_token = page.next_page_token
    table = render._table(None, ["disclosure", "party", "version", "filed (CST)", ""])
    for d in found:
        table.add_row(
            Text(d.name),
            Text(d.party.name),
            Text(str(d.version)),
            Text(render.format_time(d.file_time)),
            Text("late" if d.late else "", style="red"),
        )
    emit(options, dss.ListDisclosuresResponse(disclosures=found), lambda: table if found else Text("none"))


@disclosures_app.command("overdue")
def overdue(
    ctx: typer.Context,
    year: Annotated[int, typer.Option("--year", help="The year disclosed.")],
    region: Annotated[str, typer.Option("--region", help="Only this province-level region.")] = "",
) -> None:
    """Who has not disclosed for --year by 31 March of the year after (coordinators, auditors)."""
    options = options_of(ctx)
    with session_for(options, national=True, service="disclosure") as session:
        answer = session.call(
            "ListOverdueDisclosures", dss.ListOverdueDisclosuresRequest(year=year, region=region)
        )

    def view() -> RenderableType:
        if not answer.deadline_passed:
            return Text(f"the deadline for {year} (31 March {year + 1}) has not passed")
        table = render._table(None, ["region", "owes", "party", "why"])
        for item in answer.overdue:
            table.add_row(Text(item.region), Text(item.name), Text(item.party.name), Text(item.reason))
        return table if answer.overdue else Text("nobody: every disclosure is in")

    emit(options, answer, view)


def disclosure_panel(d: ds.Disclosure) -> Panel:
    fields = render._fields(
        [
            ("party", f"{d.party.name} ({d.party.uscc})"),
            ("role", render.enum_name(ds.Disclosure.Role, d.role)),
            ("year", str(d.year)),
            ("version", f"{d.version}" + (" (filed late)" if d.late else "")),
            ("profile", d.profile),
            ("fee cap", d.fee_cap),
            ("resources", ", ".join(d.resources)),
            ("products", ", ".join(p.code for p in d.products)),
            ("log entry", f"{d.log_index} (content SHA-256 {d.content_sha256})"),
        ]
    )
    return Panel(Group(fields), title=d.name, expand=False)
