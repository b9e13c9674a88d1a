"""Tables and panels for ``registryctl``: registry messages as people read them.

Dates print as YYYY-MM-DD, with "(provisional)" when the registry computed them without a published
working-day schedule; times print in China Standard Time; enum values print without their prefixes.
Values from the registry are rendered as plain text, never as rich markup.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence

from google.protobuf import timestamp_pb2
from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper
from google.type import date_pb2
from rich import box
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from common.gen.registry.v1 import code_pb2, node_pb2
from common.gen.registry.v1 import national_service_pb2 as ns
from common.gen.registry.v1 import registration_pb2 as r
from common.gen.registry.v1 import registration_service_pb2 as rs

__all__ = [
    "CHINA_STANDARD_TIME",
    "application_panel",
    "confirmation_panel",
    "content_panel",
    "due_table",
    "enum_name",
    "format_date",
    "format_time",
    "history_table",
    "nodes_table",
    "objection_panel",
    "registration_panel",
    "registrations_table",
    "verify_panel",
]

#: The registry's dates and years are those of China Standard Time (no daylight saving).
CHINA_STANDARD_TIME = datetime.timezone(datetime.timedelta(hours=8), "CST")

_NONE = "—"


def enum_name(enum: EnumTypeWrapper, value: int) -> str:
    """An enum value's name without the enum's prefix (``CODE_DEFECT_CHECK_MISMATCH`` → ``CHECK_MISMATCH``);
    an unset value prints as a dash, a value unknown to this version of the contract as its number."""
    if value == 0:
        return _NONE
    try:
        name = enum.Name(value)
    except ValueError:
        return str(value)
    unspecified = enum.DESCRIPTOR.values_by_number[0].name
    prefix = unspecified.removesuffix("UNSPECIFIED")
    if prefix and name.startswith(prefix):
        return name[len(prefix) :]
    return name


def format_date(date: date_pb2.Date, *, provisional: bool = False) -> str:
    """``YYYY-MM-DD``, "" when unset, with " (provisional)" when the registry says so."""
    if date.year == 0:
        return ""
    text = f"{date.year:04d}-{date.month:02d}-{date.day:02d}"
    return f"{text} (provisional)" if provisional else text


def format_time(timestamp: timestamp_pb2.Timestamp) -> str:
    """``YYYY-MM-DD HH:MM:SS`` in China Standard Time, "" when unset."""
    if timestamp.seconds == 0 and timestamp.nanos == 0:
        return ""
    moment = timestamp.ToDatetime(tzinfo=CHINA_STANDARD_TIME)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _span(start: str, end: str) -> str:
    if not start and not end:
        return ""
    return f"{start or '?'} – {end or '?'}"


def _fields(rows: Iterable[tuple[str, str | Text]]) -> Table:
    """A two-column grid of labels and values; rows with an empty value are left out."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in rows:
        if isinstance(value, Text) and value.plain or isinstance(value, str) and value:
            grid.add_row(label, value if isinstance(value, Text) else Text(value))
    return grid


def _table(title: str | None, columns: Sequence[str]) -> Table:
    # Every column may fold: a narrow terminal wraps long names rather than dropping columns.
    table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", title_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def _state(text: str) -> Text:
    styles = {
        "ACTIVE": "green",
        "COMPLETED": "green",
        "DISMISSED": "green",
        "PENDING": "yellow",
        "EXPIRED": "red",
        "DEREGISTERED": "dim",
        "CLOSED": "dim",
        "NOT_ACCEPTED": "red",
        "REJECTED": "red",
        "TERMINATED": "red",
        "WITHDRAWN": "dim",
        "UPHELD": "red",
    }
    return Text(text, style=styles.get(text, ""))


def _subject(subject: r.Subject) -> str:
    if not subject.name and not subject.uscc:
        return ""
    text = f"{subject.name} ({subject.uscc})" if subject.uscc else subject.name
    if subject.central:
        text += ", central body"
    return text


def _document(document: r.Document) -> Text:
    if not document.title and not document.uri and not document.sha256:
        return Text("")
    text = Text(document.title or "(untitled)")
    if document.uri:
        text.append(f"\n{document.uri}", style="cyan")
    if document.sha256:
        text.append(f"\nsha256 {document.sha256}", style="dim")
    return text


def registration_panel(
    registration: r.Registration, *, title: str = "Registration", with_application: bool = True
) -> Panel:
    """The registration and, unless left out, where its current application stands: what a write prints."""
    application = registration.current_application
    provisional = application.deadlines_provisional
    rows: list[tuple[str, str | Text]] = [
        ("name", registration.name),
        ("code", registration.code or "(none yet)"),
        ("object type", enum_name(r.ObjectType, registration.object_type)),
        ("state", _state(enum_name(r.Registration.State, registration.state))),
        ("version", str(registration.version) if registration.version else ""),
        ("data name", registration.content.data_name),
        ("subject", _subject(registration.content.subject)),
        ("valid", _span(format_date(registration.valid_from), format_date(registration.valid_until))),
        ("managing node", registration.managing_node),
    ]
    if with_application and registration.HasField("current_application"):
        kind = enum_name(r.RegistrationType, application.type)
        state = enum_name(r.Application.State, application.state)
        rows += [
            ("application", Text(f"{application.id} {kind} ").append_text(_state(state))),
            ("acceptance due", format_date(application.acceptance_due, provisional=provisional)),
            ("review due", format_date(application.review_due, provisional=provisional)),
            (
                "announcement",
                _span(
                    format_date(application.announcement_start, provisional=provisional),
                    format_date(application.announcement_end, provisional=provisional),
                ),
            ),
            ("decision reason", application.decision_reason),
            ("defects", "\n".join(f"{d.field}: {d.description}" for d in application.defects)),
        ]
        pending = sum(1 for o in application.objections if o.state == r.Objection.PENDING)
        if application.objections:
            rows.append(("objections", f"{len(application.objections)} ({pending} pending)"))
    rows.append(("etag", Text(registration.etag, style="dim")))
    return Panel(_fields(rows), title=title, title_align="left", expand=False)


def content_panel(content: r.RegistrationContent, *, title: str = "Content") -> Panel:
    """The registered (or applied-for) content, field by field."""
    term = content.operation_term
    rows: list[tuple[str, str | Text]] = [
        ("data name 数据名称", content.data_name),
        ("data type 数据类型", content.data_type),
        ("data format 数据格式", content.data_format),
        ("update frequency 更新频率", content.update_frequency),
        ("subject 登记主体", _subject(content.subject)),
        ("agent 委托代理", _subject(r.Subject(name=content.agent.name, uscc=content.agent.uscc))),
        ("authorization 授权委托书", _document(content.agent.authorization)),
        ("storage 存储", " / ".join(x for x in (content.storage.location, content.storage.method) if x)),
        ("legal source 合法合规来源", content.legal_source),
        ("evidence deposit 存证情况", content.evidence_deposit),
        ("scenarios 应用场景", "\n".join(f"• {s}" for s in content.application_scenarios)),
        ("summary 内容摘要", content.summary),
        ("security assessment 安全风险评估", _document(content.security_assessment)),
        ("description 说明文档", _document(content.description)),
        ("commitment 承诺书", _document(content.commitment)),
        ("operation term 运营期限", _span(format_date(term.start), format_date(term.end))),
    ]
    return Panel(_fields(rows), title=title, title_align="left", expand=False)


def objection_panel(objection: r.Objection, *, title: str = "Objection") -> Panel:
    """One objection: who, why, evidence, where it stands."""
    rows: list[tuple[str, str | Text]] = [
        ("name", objection.name),
        ("state", _state(enum_name(r.Objection.State, objection.state))),
        ("objector", objection.objector),
        ("reason", objection.reason),
        ("resolve by", format_date(objection.resolve_by)),
        ("filed", format_time(objection.create_time)),
        ("outcome", enum_name(r.Objection.Outcome, objection.outcome) if objection.outcome else ""),
        ("resolution", objection.resolution),
        ("resolved", format_time(objection.resolve_time)),
    ]
    for document in objection.evidence:
        rows.append(("evidence", _document(document)))
    return Panel(_fields(rows), title=title, title_align="left", expand=False)


def application_panel(application: r.Application) -> RenderableType:
    """The current application in full: deadlines, defects, objections."""
    provisional = application.deadlines_provisional
    rows: list[tuple[str, str | Text]] = [
        ("id", application.id),
        ("type", enum_name(r.RegistrationType, application.type)),
        ("state", _state(enum_name(r.Application.State, application.state))),
        ("reason", application.reason),
        ("decision reason", application.decision_reason),
        ("submitted", format_time(application.submit_time)),
        ("updated", format_time(application.update_time)),
        ("acceptance due", format_date(application.acceptance_due, provisional=provisional)),
        ("review due", format_date(application.review_due, provisional=provisional)),
        ("announcement from", format_date(application.announcement_start, provisional=provisional)),
        ("announcement until", format_date(application.announcement_end, provisional=provisional)),
    ]
    parts: list[RenderableType] = [_fields(rows)]
    if application.defects:
        defects = _table("Defects (一次性告知)", ["field", "description"])
        for defect in application.defects:
            defects.add_row(Text(defect.field), Text(defect.description))
        parts.append(defects)
    if application.objections:
        objections = _table(
            "Objections (异议)", ["name", "state", "objector", "reason", "resolve by", "outcome"]
        )
        for objection in application.objections:
            objections.add_row(
                Text(objection.name),
                _state(enum_name(r.Objection.State, objection.state)),
                Text(objection.objector),
                Text(objection.reason),
                Text(format_date(objection.resolve_by)),
                Text(enum_name(r.Objection.Outcome, objection.outcome)),
            )
        parts.append(objections)
    return Panel(Group(*parts), title="Current application", title_align="left", expand=False)


def history_table(entries: Sequence[r.HistoryEntry]) -> Table:
    """The registration's history, oldest first: who did what when, and the states it left."""
    table = _table("History", ["#", "when (CST) / who", "action", "state after", "reason"])
    for entry in entries:
        state = enum_name(r.Registration.State, entry.registration_state)
        if entry.version:
            state += f" v{entry.version}"
        if entry.application_state:
            application = enum_name(r.Application.State, entry.application_state)
            state += (
                f"\n{entry.application_id} {application}".rstrip()
                if entry.application_id
                else f"\n{application}"
            )
        table.add_row(
            str(entry.sequence),
            Text(f"{format_time(entry.time)[:16]}\n{entry.actor}"),
            Text(entry.action),
            Text(state),
            Text(entry.reason),
        )
    return table


def confirmation_panel(confirmation: r.Confirmation) -> Panel:
    """The registration result confirmation (登记结果确认单)."""
    rows: list[tuple[str, str | Text]] = [
        ("code", Text(confirmation.code, style="bold")),
        ("registration", confirmation.registration),
        ("object type", enum_name(r.ObjectType, confirmation.object_type)),
        ("subject", _subject(confirmation.subject)),
        ("data name", confirmation.data_name),
        ("version", str(confirmation.version) if confirmation.version else ""),
        ("state", _state(enum_name(r.Registration.State, confirmation.state))),
        ("valid", _span(format_date(confirmation.valid_from), format_date(confirmation.valid_until))),
        ("issued", format_time(confirmation.issue_time)),
        ("content sha256", confirmation.content_sha256),
    ]
    return Panel(_fields(rows), title="Confirmation (登记结果确认单)", title_align="left", expand=False)


def registrations_table(registrations: Sequence[r.Registration], *, caption: str | None = None) -> Table:
    """One row per registration."""
    table = _table(None, ["registration / code", "state / type", "application", "data name", "subject"])
    table.caption = caption
    for registration in registrations:
        application = registration.current_application
        current = ""
        if registration.HasField("current_application"):
            current = (
                f"{enum_name(r.RegistrationType, application.type)}\n"
                f"{enum_name(r.Application.State, application.state)}"
            )
        state = _state(enum_name(r.Registration.State, registration.state))
        state.append("\n" + enum_name(r.ObjectType, registration.object_type), style="")
        table.add_row(
            Text("\n".join(x for x in (registration.name, registration.code) if x)),
            state,
            Text(current),
            Text(registration.content.data_name),
            Text(registration.content.subject.name),
        )
    return table


def due_table(items: Sequence[rs.DueItem]) -> Table | Text:
    """What the registry must do by when; overdue rows in red."""
    if not items:
        return Text("nothing due", style="dim")
    table = _table(None, ["due", "kind", "registration", "data name", ""])
    for item in items:
        table.add_row(
            Text(format_date(item.due, provisional=item.provisional)),
            Text(enum_name(rs.DueItem.Kind, item.kind)),
            Text(item.registration),
            Text(item.data_name),
            Text("OVERDUE" if item.overdue else ""),
            style="bold red" if item.overdue else None,
        )
    return table


def verify_panel(response: ns.VerifyCodeResponse, code: str) -> Panel:
    """What the national node says about a code."""
    assignment = response.assignment
    rows: list[tuple[str, str | Text]] = [
        ("code", code),
        (
            "well formed",
            Text("yes", style="green") if response.well_formed else Text("no", style="bold red"),
        ),
        ("defect", enum_name(code_pb2.CodeDefect, response.defect) if response.defect else ""),
        ("message", response.message),
    ]
    if response.well_formed:
        rows.append(
            ("assigned", Text("yes", style="green") if response.assigned else Text("no", style="bold red"))
        )
    if response.HasField("assignment"):
        rows += [
            ("object type", enum_name(r.ObjectType, assignment.object_type)),
            ("issuer", assignment.issuer),
            ("year", str(assignment.year) if assignment.year else ""),
            ("serial", str(assignment.serial) if assignment.serial else ""),
            ("registration", assignment.registration),
            ("subject uscc", assignment.subject_uscc),
            ("requested by", assignment.requested_by),
            ("assigned at", format_time(assignment.assign_time)),
        ]
    return Panel(_fields(rows), title="Code check", title_align="left", expand=False)


def nodes_table(nodes: Sequence[node_pb2.Node]) -> Table:
    """The node directory."""
    table = _table(None, ["region", "name", "mode", "address", "updated (CST)"])
    for node in nodes:
        table.add_row(
            Text(node.region),
            Text(node.display_name),
            Text(enum_name(node_pb2.Node.Mode, node.mode)),
            Text(node.address),
            Text(format_time(node.update_time)),
        )
    return table
