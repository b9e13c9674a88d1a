"""``registryctl shares ...``: share requests under 《政务数据共享条例》 on the national node
(--national): a department asks for a registration's data, follows and supplements its request and
records its use; the supplying department replies, extends once, and delivers."""

from __future__ import annotations

import datetime
from typing import Annotated, Any

import typer
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.text import Text

from common.gen.registry.v1 import share_pb2 as sh
from common.gen.registry.v1 import share_service_pb2 as ss
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

__all__ = ["shares_app"]

shares_app = typer.Typer(
    name="shares",
    help="Share requests (--national): ask (departments), reply, extend, deliver (suppliers), follow.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(shares_app, name="shares")

NameArg = Annotated[str, typer.Argument(metavar="REQUEST", help="The share request: shareRequests/{id}.")]
_STATES = [name for name in sh.ShareRequest.State.keys() if name != "STATE_UNSPECIFIED"]  # noqa: SIM118
_METHODS = [name for name in sh.ShareRequest.Method.keys() if name != "METHOD_UNSPECIFIED"]  # noqa: SIM118
_USAGE = [name for name in sh.UsageRecord.Kind.keys() if name != "KIND_UNSPECIFIED"]  # noqa: SIM118
_DECISIONS = ("agree", "refuse", "needs-materials")


def _write(ctx: typer.Context, method: str, request: Any) -> None:
    options = options_of(ctx)
    with session_for(options, national=True, service="share") as session:
        shared = session.call(method, request, request_id=request.request_id)
    emit(options, shared, lambda: share_panel(shared))


@shares_app.command("ask")
def ask(
    ctx: typer.Context,
    registration: Annotated[str, typer.Argument(help="The registration: nodes/{node}/registrations/{id}.")],
    uscc: Annotated[str, typer.Option("--uscc", help="Your department's USCC (your token names it).")],
    department: Annotated[str, typer.Option("--department", help="Your department's name.")],
    basis: Annotated[str, typer.Option("--basis", help="The legal basis of the use (使用依据).")],
    scenario: Annotated[str, typer.Option("--scenario", help="The scenario of use (使用场景).")],
    scope: Annotated[str, typer.Option("--scope", help="The scope of use (使用范围).")],
    use_until: Annotated[
        datetime.datetime, typer.Option("--until", formats=["%Y-%m-%d"], help="The last day of use.")
    ],
    method: Annotated[str, typer.Option("--method", help=f"One of {', '.join(_METHODS)}.")] = "API",
    request_id: RequestIdOption = None,
) -> None:
    """Ask for a registration's data under its sharing attribute (role department)."""
    if method.upper() not in _METHODS:
        usage_error(f"--method {method!r}: one of {', '.join(_METHODS)}")
    asked = sh.ShareRequest(
        registration=registration,
        requester=sh.Department(uscc=uscc, name=department),
        basis=basis,
        scenario=scenario,
        scope=scope,
        method=method.upper(),
        use_until=to_date(use_until.date()),
    )
    _write(
        ctx,
        "CreateShareRequest",
        ss.CreateShareRequestRequest(share_request=asked, request_id=request_id_or_new(request_id)),
    )


@shares_app.command("show")
def show(ctx: typer.Context, name: NameArg) -> None:
    """A share request: what was asked, its limits, its history and usage records."""
    options = options_of(ctx)
    with session_for(options, national=True, service="share") as session:
        shared = session.call("GetShareRequest", ss.GetShareRequestRequest(name=name))
    emit(options, shared, lambda: share_panel(shared))


@shares_app.command("list")
def list_requests(
    ctx: typer.Context,
    state: Annotated[str, typer.Option("--state", help=f"One of {', '.join(_STATES)}.")] = "",
    node: Annotated[str, typer.Option("--node", help="Managed by this node: nodes/{region}.")] = "",
    overdue: Annotated[bool, typer.Option("--overdue", help="Only those past a limit.")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="At most this many.")] = 50,
) -> None:
    """Share requests, newest first: yours (a department's, made or received), or all (coordinators)."""
    options = options_of(ctx)
    if state and state.upper() not in _STATES:
        usage_error(f"--state {state!r}: one of {', '.join(_STATES)}")
    request = ss.ListShareRequestsRequest(
        page_size=min(limit, 100),
        state=sh.ShareRequest.State.Value(state.upper()) if state else 0,  # type: ignore[arg-type]
        node=node,
        overdue_only=overdue,
    )
    found: list[sh.ShareRequest] = []
    with session_for(options, national=True, service="share") as session:
        while len(found) < limit:
            page = session.call("ListShareRequests", request)
            found.extend(page.share_requests)
            if not page.next_page_token:
                break
            request.page_token = page.next_page_token
    found = found[:limit]
    emit(options, ss.ListShareRequestsResponse(share_requests=found), lambda: shares_table(found))


@shares_app.command("reply")
def reply(
    ctx: typer.Context,
    name: NameArg,
    decision: Annotated[str, typer.Argument(help="agree, refuse or needs-materials.")],
    note: Annotated[
        str, typer.Option("--note", help="The reasons (refuse) or every material to add (needs-materials).")
    ] = "",
    request_id: RequestIdOption = None,
) -> None:
    """Reply to a request for your subject's data (role applicant)."""
    if decision not in _DECISIONS:
        usage_error(f"{decision!r}: one of {', '.join(_DECISIONS)}")
    value = decision.upper().replace("-", "_")
    _write(
        ctx,
        "ReplyShareRequest",
        ss.ReplyShareRequestRequest(
            name=name, decision=value, note=note, request_id=request_id_or_new(request_id)
        ),
    )


@shares_app.command("extend")
def extend(
    ctx: typer.Context,
    name: NameArg,
    days: Annotated[int, typer.Option("--days", help="Working days to add, 1 to 10 (once).")],
    approval: Annotated[str, typer.Option("--approval", help="The sharing authority's approval and why.")],
    request_id: RequestIdOption = None,
) -> None:
    """Extend the reply time of a conditional request, once (with the sharing authority's approval)."""
    _write(
        ctx,
        "ExtendShareRequest",
        ss.ExtendShareRequestRequest(
            name=name, days=days, approval=approval, request_id=request_id_or_new(request_id)
        ),
    )


@shares_app.command("supplement")
def supplement(
    ctx: typer.Context,
    name: NameArg,
    note: Annotated[str, typer.Option("--note", help="What you added.")],
    request_id: RequestIdOption = None,
) -> None:
    """Add the materials the supplier asked for (role department)."""
    _write(
        ctx,
        "SupplementShareRequest",
        ss.SupplementShareRequestRequest(name=name, note=note, request_id=request_id_or_new(request_id)),
    )


@shares_app.command("deliver")
def deliver(
    ctx: typer.Context,
    name: NameArg,
    note: Annotated[str, typer.Option("--note", help="How the data were delivered.")],
    request_id: RequestIdOption = None,
) -> None:
    """Record that you delivered the data of an agreed request (role applicant)."""
    _write(
        ctx,
        "DeliverShareRequest",
        ss.DeliverShareRequestRequest(name=name, note=note, request_id=request_id_or_new(request_id)),
    )


@shares_app.command("record-usage")
def record_usage(
    ctx: typer.Context,
    name: NameArg,
    kind: Annotated[str, typer.Argument(help=f"One of {', '.join(k.lower() for k in _USAGE)}.")],
    note: Annotated[str, typer.Option("--note", help="The record.")],
    request_id: RequestIdOption = None,
) -> None:
    """Keep a usage record of delivered data (role department); kept at least three years."""
    if kind.upper() not in _USAGE:
        usage_error(f"{kind!r}: one of {', '.join(k.lower() for k in _USAGE)}")
    record = sh.UsageRecord(kind=kind.upper(), note=note)
    _write(
        ctx,
        "RecordUsage",
        ss.RecordUsageRequest(name=name, record=record, request_id=request_id_or_new(request_id)),
    )


# --- views ---------------------------------------------------------------------------------------


def _due(shared: sh.ShareRequest) -> str:
    if shared.HasField("reply_due"):
        return "reply by " + render.format_date(shared.reply_due, provisional=shared.due_provisional)
    if shared.HasField("delivery_due"):
        return "deliver by " + render.format_date(shared.delivery_due, provisional=shared.due_provisional)
    return ""


def shares_table(found: list[sh.ShareRequest]) -> RenderableType:
    if not found:
        return Text("no share requests")
    table = render._table(None, ["request", "data name", "requester", "supplier", "state", "due"])
    for shared in found:
        table.add_row(
            Text(shared.name),
            Text(shared.data_name),
            Text(shared.requester.name),
            Text(shared.supplier.name),
            Text(render.enum_name(sh.ShareRequest.State, shared.state)),
            Text(_due(shared)),
        )
    return table


def share_panel(shared: sh.ShareRequest) -> Panel:
    fields = render._fields(
        [
            ("registration", f"{shared.registration} ({shared.code})"),
            ("data name", shared.data_name),
            ("requester", f"{shared.requester.name} ({shared.requester.uscc})"),
            ("supplier", f"{shared.supplier.name} ({shared.supplier.uscc})"),
            ("sharing", "有条件共享" if shared.conditional else "无条件共享"),
            ("conditions", shared.sharing_conditions),
            ("basis", shared.basis),
            ("scenario", shared.scenario),
            ("scope", shared.scope),
            ("method", render.enum_name(sh.ShareRequest.Method, shared.method)),
            ("use until", render.format_date(shared.use_until)),
            ("state", render.enum_name(sh.ShareRequest.State, shared.state)),
            ("due", _due(shared) + (" (extended)" if shared.extended else "")),
        ]
    )
    history = render._table("history", ["time (CST)", "action", "department", "note"])
    for event in shared.history:
        history.add_row(
            Text(render.format_time(event.time)),
            Text(event.action),
            Text(event.on_behalf_of),
            Text(event.note),
        )
    parts: list[RenderableType] = [fields, history]
    if shared.usage_records:
        usage = render._table("usage records", ["time (CST)", "kind", "note", "kept until"])
        for record in shared.usage_records:
            usage.add_row(
                Text(render.format_time(record.record_time)),
                Text(render.enum_name(sh.UsageRecord.Kind, record.kind)),
                Text(record.note),
                Text(render.format_date(record.keep_until)),
            )
        parts.append(usage)
    return Panel(Group(*parts), title=shared.name, expand=False)
