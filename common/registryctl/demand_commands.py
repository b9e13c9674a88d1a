"""``registryctl demands ...``: data demands on the national node (--national): post one from a file,
follow it, answer it for a subject, close or withdraw it."""

from __future__ import annotations

import datetime
import tomllib
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.text import Text

from common.gen.registry.v1 import demand_pb2 as d
from common.gen.registry.v1 import demand_service_pb2 as ds
from common.registration.content import to_date
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

__all__ = ["demands_app", "load_demand"]

demands_app = typer.Typer(
    name="demands",
    help="Data demands (--national): post one (data users), follow, answer (suppliers), close, withdraw.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(demands_app, name="demands")

NameArg = Annotated[str, typer.Argument(metavar="DEMAND", help="The demand: demands/{id}.")]
NoteOption = Annotated[str, typer.Option("--note", help="Why, in a line (in the history).")]
_TEXTS = ("title", "purpose", "region", "frequency")
_DAYS = ("period_start", "period_end", "deadline")
_STATES = [name for name in d.Demand.State.keys() if name != "STATE_UNSPECIFIED"]  # noqa: SIM118


def load_demand(path: Path) -> d.Demand:
    """A demand from a TOML file: ``title``, ``purpose``, ``deadline`` (a TOML date), optional
    ``region``, ``fields``, ``frequency``, ``period_start``, ``period_end``, and ``[organisation]``
    with ``uscc`` and ``name``. Unknown keys are refused, as are values of the wrong type."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        usage_error(f"{path}: {error.strerror or error}")
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        usage_error(f"{path}: not a valid TOML file: {error}")
    known = {*_TEXTS, *_DAYS, "fields", "organisation"}
    unknown = sorted(set(data) - known)
    if unknown:
        usage_error(f"{path}: unknown keys {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    demand = d.Demand()
    for key in _TEXTS:
        if key in data:
            setattr(demand, key, _typed(path, key, data[key], str))
    for key in _DAYS:
        if key in data:
            day = _typed(path, key, data[key], datetime.date)
            getattr(demand, key).CopyFrom(to_date(day))
    for item in _typed(path, "fields", data.get("fields", []), list):
        demand.fields.append(_typed(path, "fields[]", item, str))
    organisation = _typed(path, "organisation", data.get("organisation", {}), dict)
    extra = sorted(set(organisation) - {"uscc", "name"})
    if extra:
        usage_error(f"{path}: unknown keys organisation.{', organisation.'.join(extra)}")
    demand.organisation.uscc = _typed(path, "organisation.uscc", organisation.get("uscc", ""), str)
    demand.organisation.name = _typed(path, "organisation.name", organisation.get("name", ""), str)
    return demand


def _typed(path: Path, key: str, value: Any, kind: type[Any]) -> Any:
    # A TOML datetime is a date too (a subclass): a day is wanted, not an instant.
    if not isinstance(value, kind) or (kind is datetime.date and isinstance(value, datetime.datetime)):
        wanted = {str: "a string", datetime.date: "a date (2027-03-31)", list: "a list", dict: "a table"}[
            kind
        ]
        usage_error(f"{path}: {key} must be {wanted}, not {value!r}")
    return value


@demands_app.command("post")
def post(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The demand, a TOML file.")],
    request_id: RequestIdOption = None,
) -> None:
    """Post a data demand (role data_user, a token naming the organisation's USCC). The national node
    answers with the registrations of its ledger that match it."""
    options = options_of(ctx)
    request = ds.CreateDemandRequest(demand=load_demand(file), request_id=request_id_or_new(request_id))
    with session_for(options, national=True, service="demand") as session:
        demand = session.call("CreateDemand", request, request_id=request.request_id)
    emit(options, demand, lambda: demand_panel(demand))


@demands_app.command("show")
def show(ctx: typer.Context, name: NameArg) -> None:
    """A demand: what is asked, its matches, the answers and its history."""
    options = options_of(ctx)
    with session_for(options, national=True, service="demand") as session:
        demand = session.call("GetDemand", ds.GetDemandRequest(name=name))
    emit(options, demand, lambda: demand_panel(demand))


@demands_app.command("list")
def list_demands(
    ctx: typer.Context,
    query: Annotated[str, typer.Option("--query", "-q", help="Words of the title or purpose.")] = "",
    region: Annotated[str, typer.Option("--region", help="A province-level region, e.g. 320000.")] = "",
    state: Annotated[str, typer.Option("--state", help=f"One of {', '.join(_STATES)}.")] = "",
    organisation: Annotated[
        str, typer.Option("--organisation", metavar="USCC", help="One organisation's.")
    ] = "",
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="At most this many.")] = 50,
) -> None:
    """Demands, newest first."""
    options = options_of(ctx)
    if state and state.upper() not in _STATES:
        usage_error(f"--state {state!r}: one of {', '.join(_STATES)}")
    request = ds.ListDemandsRequest(
        page_size=min(limit, 100),
        query=query,
        region=region,
        state=d.Demand.State.Value(state.upper()) if state else 0,  # type: ignore[arg-type]
        organisation_uscc=organisation,
    )
    found: list[d.Demand] = []
    with session_for(options, national=True, service="demand") as session:
        while len(found) < limit:
            page = session.call("ListDemands", request)
            found.extend(page.demands)
            if not page.next_page_token:
                break
            request.page_token = page.next_page_token
    found = found[:limit]
    emit(options, ds.ListDemandsResponse(demands=found), lambda: demands_table(found))


@demands_app.command("answer")
def answer(
    ctx: typer.Context,
    name: NameArg,
    registration: Annotated[
        str,
        typer.Option("--registration", help="Your subject's registration: nodes/{node}/registrations/{id}."),
    ],
    can_supply: Annotated[
        bool, typer.Option("--can-supply", help="It holds the data (an active registration).")
    ] = False,
    could_register: Annotated[
        datetime.datetime | None,
        typer.Option("--could-register", formats=["%Y-%m-%d"], help="It could register them by this day."),
    ] = None,
    cannot: Annotated[
        str, typer.Option("--cannot", metavar="REASON", help="It cannot supply them: why.")
    ] = "",
    note: NoteOption = "",
    request_id: RequestIdOption = None,
) -> None:
    """Answer a demand for one of your subject's registrations (role applicant): --can-supply,
    --could-register DATE or --cannot REASON."""
    options = options_of(ctx)
    chosen = [can_supply, could_register is not None, bool(cannot)]
    if sum(chosen) != 1:
        usage_error("say one of --can-supply, --could-register DATE, --cannot REASON")
    given = d.DemandAnswer(registration=registration, reason=cannot or note)
    if can_supply:
        given.kind = d.DemandAnswer.CAN_SUPPLY
    elif could_register is not None:
        given.kind = d.DemandAnswer.COULD_REGISTER
        given.register_by.CopyFrom(to_date(could_register.date()))
    else:
        given.kind = d.DemandAnswer.CANNOT
    request = ds.AnswerDemandRequest(name=name, answer=given, request_id=request_id_or_new(request_id))
    with session_for(options, national=True, service="demand") as session:
        demand = session.call("AnswerDemand", request, request_id=request.request_id)
    emit(options, demand, lambda: demand_panel(demand))


def _end(ctx: typer.Context, method: str, request: ds.CloseDemandRequest | ds.WithdrawDemandRequest) -> None:
    options = options_of(ctx)
    with session_for(options, national=True, service="demand") as session:
        demand = session.call(method, request, request_id=request.request_id)
    emit(options, demand, lambda: demand_panel(demand))


@demands_app.command("close")
def close(
    ctx: typer.Context, name: NameArg, note: NoteOption = "", request_id: RequestIdOption = None
) -> None:
    """Close your organisation's demand: it found what it needed, or no longer needs it."""
    _end(
        ctx,
        "CloseDemand",
        ds.CloseDemandRequest(name=name, note=note, request_id=request_id_or_new(request_id)),
    )


@demands_app.command("withdraw")
def withdraw(
    ctx: typer.Context, name: NameArg, note: NoteOption = "", request_id: RequestIdOption = None
) -> None:
    """Withdraw your organisation's demand."""
    _end(
        ctx,
        "WithdrawDemand",
        ds.WithdrawDemandRequest(name=name, note=note, request_id=request_id_or_new(request_id)),
    )


# --- views ---------------------------------------------------------------------------------------


def _state(demand: d.Demand) -> Text:
    name = render.enum_name(d.Demand.State, demand.state)
    style = {"OPEN": "yellow", "ANSWERED": "yellow", "MATCHED": "green", "CLOSED": "dim", "WITHDRAWN": "dim"}
    return Text(name, style=style.get(name, ""))


def demands_table(demands: list[d.Demand]) -> RenderableType:
    if not demands:
        return Text("no demands")
    table = render._table(
        None, ["demand", "title", "organisation", "region", "deadline", "state", "posted (CST)"]
    )
    for demand in demands:
        table.add_row(
            Text(demand.name),
            Text(demand.title),
            Text(demand.organisation.name),
            Text(demand.region or "全国"),
            Text(render.format_date(demand.deadline)),
            _state(demand),
            Text(render.format_time(demand.create_time)),
        )
    return table


def demand_panel(demand: d.Demand) -> Panel:
    period = ""
    if demand.HasField("period_start") or demand.HasField("period_end"):
        period = f"{render.format_date(demand.period_start)} – {render.format_date(demand.period_end)}"
    parts: list[RenderableType] = [
        render._fields(
            [
                ("title", demand.title),
                ("purpose", demand.purpose),
                ("organisation", f"{demand.organisation.name} ({demand.organisation.uscc})"),
                ("region", demand.region or "全国"),
                ("fields", "、".join(demand.fields)),
                ("period", period),
                ("frequency", demand.frequency),
                ("deadline", render.format_date(demand.deadline)),
                ("state", _state(demand)),
            ]
        )
    ]
    if demand.matches:
        matches = render._table(
            "matching registrations", ["code", "data name", "subject", "registration", ""]
        )
        for m in demand.matches:
            matches.add_row(
                m.code, m.data_name, m.subject_name, m.registration, "" if m.complete else "partial"
            )
        parts.append(matches)
    if demand.answers:
        answers = render._table("answers", ["subject", "answer", "registration", "by", "note", "at (CST)"])
        for a in demand.answers:
            answers.add_row(
                a.subject_name,
                render.enum_name(d.DemandAnswer.Kind, a.kind),
                a.code or a.registration,
                render.format_date(a.register_by) if a.HasField("register_by") else "",
                a.reason,
                render.format_time(a.answer_time),
            )
        parts.append(answers)
    history = render._table("history", ["at (CST)", "action", "party", "for", "who", "note"])
    for e in demand.history:
        history.add_row(
            render.format_time(e.time),
            e.action,
            render.enum_name(d.DemandEvent.Party, e.party),
            e.on_behalf_of,
            e.actor,
            e.note,
        )
    parts.append(history)
    return Panel(Group(*parts), title=demand.name, title_align="left")
