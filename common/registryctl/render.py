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

from common.gen.registry.v1 import code_pb2, correction_pb2, node_pb2, sync_pb2
from common.gen.registry.v1 import national_service_pb2 as ns
from common.gen.registry.v1 import provincial_service_pb2 as ps
from common.gen.registry.v1 import registration_pb2 as r
from common.gen.registry.v1 import registration_service_pb2 as rs
from common.gen.registry.v1 import sync_service_pb2 as ss

__all__ = [
    "orphaned_codes_table",
    "CHINA_STANDARD_TIME",
    "agreement_report",
    "application_panel",
    "confirmation_panel",
    "content_panel",
    "due_table",
    "duplicates_table",
    "enum_name",
    "format_date",
    "format_duration",
    "format_time",
    "history_table",
    "ledger_panel",
    "node_sync_panel",
    "nodes_table",
    "objection_panel",
    "onboard_text",
    "registration_panel",
    "registrations_table",
    "sync_states_table",
    "transfer_panel",
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
            *_deadlines(application),
            ("decision reason", application.decision_reason),
            ("defects", "\n".join(f"{d.field}: {d.description}" for d in application.defects)),
        ]
        pending = sum(1 for o in application.objections if o.state == r.Objection.PENDING)
        if application.objections:
            rows.append(("objections", f"{len(application.objections)} ({pending} pending)"))
        rows.append(("duplicate check", _duplicate_check(application)))
    rows.append(("etag", Text(registration.etag, style="dim")))
    return Panel(_fields(rows), title=title, title_align="left", expand=False)


def _deadlines(application: r.Application) -> list[tuple[str, str | Text]]:
    """The application's dates, each with its own provisional mark."""
    announcement = _span(
        format_date(application.announcement_start),
        format_date(application.announcement_end, provisional=application.announcement_end_provisional),
    )
    return [
        (
            "acceptance due",
            format_date(application.acceptance_due, provisional=application.acceptance_due_provisional),
        ),
        ("review due", format_date(application.review_due, provisional=application.review_due_provisional)),
        ("announcement", announcement),
        ("initial registration due", _initial_registration_due(application)),
    ]


def _initial_registration_due(application: r.Application) -> Text:
    """When the subject's initial registration under authorised operation was due, and if it was late."""
    due = format_date(
        application.initial_registration_due, provisional=application.initial_registration_due_provisional
    )
    text = Text(due)
    if due and application.initial_registration_late:
        text.append(" (missed: first submitted after it)", style="bold red")
    return text


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
        *_access_rows(content.access_terms),
    ]
    return Panel(_fields(rows), title=title, title_align="left", expand=False)


def _access_rows(terms: r.AccessTerms) -> list[tuple[str, str | Text]]:
    """How the data is obtained: the attributes with their texts, channels, contact, licence, fees."""

    def attribute(enum: EnumTypeWrapper, value: int, *texts: str) -> str:
        name = enum_name(enum, value) if value else ""
        return "\n".join(x for x in (name, *texts) if x)

    contact = terms.contact
    return [
        (
            "sharing 共享属性",
            attribute(
                r.AccessTerms.SharingAttribute,
                terms.sharing_attribute,
                terms.sharing_conditions,
                terms.not_shared_basis,
            ),
        ),
        (
            "open 开放属性",
            attribute(
                r.AccessTerms.OpenAttribute,
                terms.open_attribute,
                terms.open_conditions,
                terms.not_open_reason,
            ),
        ),
        (
            "channels 获取渠道",
            "\n".join(
                "• "
                + " ".join(x for x in (enum_name(r.AccessChannel.Kind, c.kind), c.uri, c.description) if x)
                for c in terms.channels
            ),
        ),
        ("contact 联系方式", " / ".join(x for x in (contact.department, contact.phone, contact.email) if x)),
        ("license 使用许可", terms.license),
        ("fees 收费标准", "\n".join(f"• {f.name}: {f.price_cny} 元/{f.unit}" for f in terms.fees)),
    ]


def objection_panel(objection: r.Objection, *, title: str = "Objection") -> Panel:
    """One objection: who, why, evidence, where it stands."""
    rows: list[tuple[str, str | Text]] = [
        ("name", objection.name),
        ("state", _state(enum_name(r.Objection.State, objection.state))),
        ("objector", objection.objector),
        ("reason", objection.reason),
        ("resolve by", format_date(objection.resolve_by, provisional=objection.resolve_by_provisional)),
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
    rows: list[tuple[str, str | Text]] = [
        ("id", application.id),
        ("type", enum_name(r.RegistrationType, application.type)),
        ("state", _state(enum_name(r.Application.State, application.state))),
        ("reason", application.reason),
        ("decision reason", application.decision_reason),
        ("submitted", format_time(application.submit_time)),
        ("updated", format_time(application.update_time)),
        *_deadlines(application),
        ("duplicate check", _duplicate_check(application)),
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
                Text(format_date(objection.resolve_by, provisional=objection.resolve_by_provisional)),
                Text(enum_name(r.Objection.Outcome, objection.outcome)),
            )
        parts.append(objections)
    return Panel(Group(*parts), title="Current application", title_align="left", expand=False)


def _duplicate_check(application: r.Application) -> Text:
    """Where the duplicate check of an application stands, in one line ("" before it ran)."""
    found = len(application.possible_duplicates)
    if application.duplicate_check_error:
        return Text(f"not done: {application.duplicate_check_error}", style="yellow")
    if found:
        plural = "" if found == 1 else "s"
        text = Text(f"{found} possible duplicate{plural}", style="bold yellow")
        if application.state == r.Application.SUBMITTED:
            text.append(" (accept with --acknowledge-duplicates after looking at them)", style="")
        return text
    if application.duplicates_checked:
        return Text("no possible duplicates", style="green")
    return Text("")


#: Why a registration was flagged as a possible duplicate, as people read it.
_DUPLICATE_REASONS = {
    r.DuplicateCandidate.SAME_SUBJECT_SIMILAR_NAME: "same subject, similar name",
    r.DuplicateCandidate.RELATED_SUBJECT_SAME_NAME: "related subject, same name",
}


def duplicates_table(candidates: Sequence[r.DuplicateCandidate]) -> Table:
    """The possible duplicates of an application, most similar first."""
    table = _table(
        "Possible duplicates (疑似重复登记)", ["code / registration", "data name / subject", "state", "why"]
    )
    for candidate in candidates:
        reason = candidate.reason
        why = _DUPLICATE_REASONS.get(reason) or enum_name(r.DuplicateCandidate.Reason, reason)
        table.add_row(
            Text("\n".join(x for x in (candidate.code, candidate.registration) if x)),
            Text(f"{candidate.data_name}\n{_subject(candidate.subject)}"),
            _state(candidate.state),
            Text(f"{why} ({candidate.similarity:.2f})"),
        )
    return table


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
        concerns = item.demand or item.share_request  # what a demand or share request item is about
        table.add_row(
            Text(format_date(item.due, provisional=item.provisional)),
            Text(enum_name(rs.DueItem.Kind, item.kind) + (f"\n{concerns}" if concerns else "")),
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


def orphaned_codes_table(orphans: Sequence[ns.OrphanedCode], *, grace: str) -> Table | Text:
    """Codes whose registration never reached the national ledger coded."""
    if not orphans:
        return Text(f"no orphaned codes (assigned more than {grace} ago)")
    table = _table(
        f"{_plural(len(orphans), 'orphaned code')} (assigned more than {grace} ago, not in the ledger)",
        ["code", "registration", "requested by", "assigned (CST)", "in the ledger as"],
    )
    for orphan in orphans:
        assignment = orphan.assignment
        if orphan.in_ledger:
            held = Text(
                f"{enum_name(r.Registration.State, orphan.ledger_state)}"
                f" / {enum_name(r.Application.State, orphan.ledger_application_state)}"
                f", revision {orphan.ledger_revision}"
            )
        else:
            held = Text("not in the ledger", style="yellow")
        table.add_row(
            Text(assignment.code),
            Text(assignment.registration),
            Text(assignment.requested_by),
            Text(format_time(assignment.assign_time)),
            held,
        )
    return table


def business_rules(rules: rs.BusinessRules) -> Group:
    """A node's business rules: time limits, variants, calendar."""
    limits = rules.time_limits
    table = _table(
        f"{rules.display_name} ({rules.name.removesuffix('/businessRules')}): time limits",
        ["step", "working days"],
    )
    for label, value in (
        ("acceptance", limits.acceptance_days),
        ("review", limits.review_days),
        ("announcement", limits.announcement_days),
        ("objection", limits.objection_days),
        ("expiry reminder", limits.expiry_reminder_days),
        ("initial registration after the operation term starts (Fujian)", limits.initial_registration_days),
        ("product registration after its disclosure (Hainan)", limits.product_registration_days),
        ("answer to a data demand", limits.demand_answer_days),
        ("reply to a share request", limits.share_reply_days),
        ("delivery after agreeing", limits.share_delivery_days),
    ):
        table.add_row(Text(label), Text(str(value) if value else "not applied"))
    variants = _table("variants", ["variant", "applied", "what it asks"])
    for variant in rules.variants:
        variants.add_row(
            Text(variant.id), Text("yes" if variant.applied else "no"), Text(variant.description)
        )
    years = ", ".join(f"{y.year} ({y.source})" for y in rules.calendar_years) or "none"
    calendar = f"working-day schedules: {years}; other years on weekends alone (provisional)"
    if rules.calendar_file:
        calendar += f"; file {rules.calendar_file} sha256 {rules.calendar_file_sha256}"
    duties = "separated" if rules.separation_of_duties else "not separated"
    return Group(table, variants, Text(calendar), Text(f"acceptance and review: {duties}"))


def corrections_table(corrections: Sequence[correction_pb2.LedgerCorrection]) -> Table | Text:
    """The coordinators' correction requests."""
    if not corrections:
        return Text("no correction requests")
    table = _table(
        _plural(len(corrections), "correction request"),
        ["request", "code", "node", "state", "filed (CST)", "problem"],
    )
    for c in corrections:
        table.add_row(
            Text(c.name.removeprefix("ledgerCorrections/")),
            Text(c.code),
            Text(c.managing_node),
            Text(enum_name(correction_pb2.LedgerCorrection.State, c.state)),
            Text(format_time(c.file_time)),
            Text(c.problem[:60]),
        )
    return table


def code_leases_table(leases: Sequence[code_pb2.CodeLease]) -> Table | Text:
    """Code leases: whose, which serials, until when, how used."""
    if not leases:
        return Text("no code leases")
    table = _table(
        _plural(len(leases), "code lease"),
        ["lease", "node", "type", "serials", "valid until (CST)", "state", "used", "never used"],
    )
    for lease in leases:
        state = enum_name(code_pb2.CodeLease.State, lease.state)
        table.add_row(
            Text(lease.name.removeprefix("codeLeases/")),
            Text(lease.node),
            Text(enum_name(r.ObjectType, lease.object_type)),
            Text(f"{lease.first_serial}-{lease.last_serial}"),
            Text(format_time(lease.valid_until)),
            Text(state, style="yellow" if state == "REVOKED" else ""),
            Text(str(lease.used_count)),
            Text(str(lease.unused_count) if state == "SETTLED" else ""),
        )
    return table


# --- interconnection: sync health, agreement, onboarding, transfers, the national ledger -------------


def format_duration(seconds: float) -> str:
    """A lag as people read it: ``0 s``, ``4.2 s``, ``3 min 5 s``, ``2 h 10 min``, ``3 d 4 h``."""
    if seconds <= 0:
        return "0 s"
    if seconds < 10:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    for unit, size, smaller, smaller_size in (
        ("d", 86400, "h", 3600),
        ("h", 3600, "min", 60),
        ("min", 60, "s", 1),
    ):
        if whole >= size:
            big, rest = divmod(whole, size)
            rest //= smaller_size
            return f"{big} {unit} {rest} {smaller}" if rest else f"{big} {unit}"
    return f"{whole} s"


def _never(timestamp: timestamp_pb2.Timestamp) -> Text:
    text = format_time(timestamp)
    return Text(text) if text else Text("never", style="dim")


def sync_states_table(states: Sequence[sync_pb2.SyncState]) -> Table | Text:
    """Sync health of each provincial node as the national node sees it: lag in yellow, errors in red."""
    if not states:
        return Text("no provincial node runs its own node", style="dim")
    table = _table(
        None,
        [
            "node",
            "acknowledged",
            "head",
            "lag",
            "lag time",
            "downward\nhead / ack",
            "last contact (CST)",
            "refused",
            "transfers\nto release",
            "log\ncosigned",
            "last error",
        ],
    )
    lagging = failing = silent = releasing = 0
    for state in states:
        lag = state.lag_changes > 0
        down_lag = state.downward_head > state.downward_acknowledged
        never = not state.last_contact_time.seconds and not state.last_contact_time.nanos
        lagging += lag or down_lag
        failing += bool(state.last_error)
        silent += never
        releasing += state.transfers_releasing > 0
        lag_style = "bold yellow" if lag else "green"
        if state.last_error:
            node_style = "bold red"
        elif lag or down_lag or state.refused_changes or never or state.transfers_releasing:
            node_style = "yellow"
        else:
            node_style = "green"
        table.add_row(
            Text(state.node, style=node_style),
            Text(str(state.acknowledged_sequence)),
            Text(str(state.head_sequence)),
            Text(str(state.lag_changes), style=lag_style),
            Text(format_duration(state.lag_seconds), style=lag_style),
            Text(
                f"{state.downward_head} / {state.downward_acknowledged}",
                style="bold yellow" if down_lag else "",
            ),
            _never(state.last_contact_time),
            Text(str(state.refused_changes), style="bold red" if state.refused_changes else ""),
            Text(str(state.transfers_releasing), style="bold yellow" if state.transfers_releasing else ""),
            Text(
                f"{state.witnessed_size:,}" if state.witnessed_size else "-",
                style="" if state.witnessed_size else "dim",
            ),
            Text(state.last_error, style="bold red"),
        )
    summary = _plural(len(states), "node")
    problems = [
        f"{n} {what}"
        for n, what in (
            (lagging, "lagging"),
            (failing, "with an error"),
            (silent, "never heard from"),
            (releasing, "yet to release a transfer"),
        )
        if n
    ]
    table.caption = f"{summary}: {', '.join(problems) if problems else 'all caught up'}"
    return table


def node_sync_panel(status: ps.SyncStatus) -> Panel:
    """A provincial node's own view of its link with the national node."""
    lag = status.lag_changes > 0
    lag_style = "bold yellow" if lag else "green"
    rows: list[tuple[str, str | Text]] = [
        ("node", status.node),
        ("head", str(status.head_sequence)),
        ("acknowledged", str(status.acknowledged_sequence)),
        ("lag", Text(f"{status.lag_changes} ({format_duration(status.lag_seconds)})", style=lag_style)),
        ("downward applied", str(status.downward_applied)),
        ("last contact (CST)", _never(status.last_contact_time)),
        ("last error", Text(status.last_error, style="bold red")),
        (
            "sync daemon",
            "in the node's process" if status.daemon_in_process else "its own process (provincial_node.sync)",
        ),
    ]
    if status.HasField("witness"):
        witness = status.witness
        rows.append(
            ("log verified", f"{witness.verified_size:,} entries" if witness.verified_size else "(not yet)")
        )
        if witness.HasField("alarm"):
            alarm = witness.alarm
            kind = ps.LogAlarm.Kind.Name(alarm.kind)
            rows.append(
                (
                    "LOG ALARM",
                    Text(
                        f"{kind} (from {alarm.source}): {alarm.message}; the downward feed is stopped"
                        " (registryctl log resolve after investigating)",
                        style="bold red",
                    ),
                )
            )
        if witness.last_error:
            rows.append(("log check error", Text(witness.last_error, style="red")))
    return Panel(_fields(rows), title="Sync status (this node)", title_align="left", expand=False)


def _short(digest: str) -> Text:
    return Text(digest[:16], style="dim") if digest else Text("(none)", style="dim")


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else plural or word + 's'}"


def _uids(heading: str, uids: Sequence[str]) -> Text:
    text = Text(f"{heading}: {_plural(len(uids), 'registration')} (uid)", style="bold")
    for uid in uids:
        text.append(f"\n  {uid}", style="")
    return text


def agreement_report(report: ps.AgreementReport) -> RenderableType:
    """What a proof of agreement found: agreement, or the differing ranges and registrations (uids)."""
    compared = f"{_plural(report.ranges_compared, 'range')} compared"
    if report.in_agreement:
        return Text(f"in agreement ({compared})", style="green")
    ranges = len(report.differing_ranges)
    parts: list[RenderableType] = [
        Text(
            f"differs from the national ledger in {_plural(ranges, 'range')} "
            f"(of {report.ranges_compared} compared)",
            style="bold red",
        )
    ]
    table = _table(None, ["range (uid prefix)", "ledger count", "ledger digest"])
    for differing in report.differing_ranges:
        table.add_row(Text(differing.prefix), Text(str(differing.count)), _short(differing.digest))
    parts.append(table)
    if report.ledger_newer:
        parts.append(_uids("the national ledger holds newer (or this node lacks)", report.ledger_newer))
    if report.node_newer:
        parts.append(_uids("this node holds newer (or the ledger lacks)", report.node_newer))
    if report.repaired:
        parts.append(
            Text(
                f"repaired: {len(report.ledger_newer)} taken from the national ledger, "
                f"{len(report.node_newer)} queued to be sent up by the sync daemon",
                style="green",
            )
        )
        parts.append(Text("run `registryctl sync check` again to confirm agreement"))
    else:
        parts.append(Text("to repair: registryctl sync check --repair"))
    return Group(*parts)


def onboard_text(response: ss.OnboardNodeResponse, *, node: str, address: str) -> Text:
    """What onboarding did."""
    return Text(
        f"{node} onboarded at {address}: {_plural(response.handed_over, 'registration')} handed over "
        f"(downward head {response.downward_head})"
    )


def transfer_panel(transfer: ss.Transfer) -> Panel:
    """A transfer of management between nodes."""
    state = enum_name(ss.Transfer.State, transfer.state)
    rows: list[tuple[str, str | Text]] = [
        ("id", transfer.id),
        ("code", transfer.code),
        ("uid", transfer.uid),
        ("from", transfer.from_node),
        ("to", transfer.to_node),
        ("state", _state(state)),
    ]
    for label, field in (
        ("asked", "create_time"),
        ("confirmed", "confirm_time"),
        ("released", "release_time"),
        ("completed", "complete_time"),
    ):
        if transfer.HasField(field):
            rows.append((f"{label} (CST)", format_time(getattr(transfer, field))))
    if transfer.state == ss.Transfer.PENDING and not transfer.HasField("confirm_time"):
        rows.append(("", Text(f"until {transfer.to_node or 'the receiving node'} confirms it", style="dim")))
    elif transfer.state == ss.Transfer.PENDING:
        rows.append(
            (
                "",
                Text(
                    f"until {transfer.from_node or 'the sending node'} releases it through its change feed",
                    style="dim",
                ),
            )
        )
    return Panel(_fields(rows), title="Transfer", title_align="left", expand=False)


def ledger_panel(record: sync_pb2.RegistrationRecord) -> Panel:
    """The national ledger's record of a registration: summary, managing node, revision, history."""
    registration = record.registration
    last = record.history[-1] if record.history else None
    rows: list[tuple[str, str | Text]] = [
        ("name", registration.name),
        ("code", registration.code or "(none yet)"),
        ("uid", registration.uid),
        ("object type", enum_name(r.ObjectType, registration.object_type)),
        ("state", _state(enum_name(r.Registration.State, registration.state))),
        ("version", str(registration.version) if registration.version else ""),
        ("data name", registration.content.data_name),
        ("subject", _subject(registration.content.subject)),
        ("valid", _span(format_date(registration.valid_from), format_date(registration.valid_until))),
        ("managing node", Text(registration.managing_node, style="bold")),
        ("revision", str(record.revision)),
        ("history", _plural(len(record.history), "entry", "entries")),
        ("last change", f"{format_time(last.time)} {last.action} ({last.actor})" if last else ""),
        ("confirmation", "issued" if record.HasField("confirmation") else ""),
    ]
    return Panel(_fields(rows), title="National ledger", title_align="left", expand=False)
