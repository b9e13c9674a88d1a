"""Reading the procedure's tables: lookups, lists, history, what is due, and what the duties pick up.

Every function takes a ``Session`` and returns rows or domain values; nothing here writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, func
from sqlmodel import Session, and_, col, or_, select

from common import names
from common.calendar import WorkingCalendar
from common.errors import NotFound
from common.registration.domain import DueItem, DueKind
from common.registration.models import ApplicationRow, HistoryRow, ObjectionRow, RegistrationRow
from common.registration.states import (
    AWAITING_REGISTRY,
    OBJECTION_WINDOW,
    ApplicationState,
    ObjectionState,
    RegistrationState,
)

__all__ = [
    "RegistrationFilter",
    "announcements_to_close",
    "awaiting_code",
    "by_code",
    "current_application",
    "due_items",
    "expiry_due",
    "history_page",
    "list_registrations",
    "load",
    "pending_objections",
    "reminder_candidates",
]


def load(session: Session, node: str, local_id: str, *, for_update: bool = False) -> RegistrationRow:
    """A registration of ``node`` by local id; NOT_FOUND if there is none."""
    statement = select(RegistrationRow).where(RegistrationRow.id == local_id, RegistrationRow.node == node)
    if for_update:
        statement = statement.with_for_update()
    row = session.exec(statement).first()
    if row is None:
        name = names.registration_name(node, local_id)
        raise NotFound("REGISTRATION_NOT_FOUND", f"{name} does not exist", metadata={"name": name})
    return row


def by_code(session: Session, code: str) -> RegistrationRow:
    row = session.exec(select(RegistrationRow).where(RegistrationRow.code == code)).first()
    if row is None:
        raise NotFound(
            "REGISTRATION_NOT_FOUND", f"no registration here has code {code}", metadata={"code": code}
        )
    return row


def current_application(session: Session, reg: RegistrationRow) -> ApplicationRow | None:
    if reg.current_application is None:
        return None
    return session.get(ApplicationRow, (reg.id, reg.current_application))


def pending_objections(session: Session, reg: RegistrationRow, app: ApplicationRow) -> int:
    """How many objections to ``app`` are still to be resolved."""
    return session.exec(
        select(func.count()).where(
            ObjectionRow.registration_id == reg.id,
            ObjectionRow.application_id == app.id,
            ObjectionRow.state == ObjectionState.PENDING,
        )
    ).one()


# -- lists --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RegistrationFilter:
    """ListRegistrations' filters; they combine with AND."""

    state: str = ""
    object_type: int = 0
    subject_uscc: str = ""
    words: tuple[str, ...] = ()
    #: Only these subjects' registrations (what an applicant may see); None for every subject.
    subjects: frozenset[str] | None = None


def list_registrations(
    session: Session,
    node: str,
    where: RegistrationFilter,
    *,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[RegistrationRow]:
    """Newest first; ``after`` is the (created_at, id) of the last row of the previous page."""
    statement = select(RegistrationRow).where(RegistrationRow.node == node)
    if where.state:
        statement = statement.where(RegistrationRow.state == where.state)
    if where.object_type:
        statement = statement.where(RegistrationRow.object_type == where.object_type)
    if where.subject_uscc:
        statement = statement.where(RegistrationRow.subject_uscc == where.subject_uscc)
    if where.subjects is not None:
        statement = statement.where(col(RegistrationRow.subject_uscc).in_(sorted(where.subjects)))
    for word in where.words:
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        statement = statement.where(col(RegistrationRow.data_name).like(f"%{escaped}%", escape="\\"))
    if after is not None:
        created_at, last_id = after
        statement = statement.where(
            or_(
                col(RegistrationRow.created_at) < created_at,
                and_(col(RegistrationRow.created_at) == created_at, col(RegistrationRow.id) < last_id),
            )
        )
    statement = statement.order_by(col(RegistrationRow.created_at).desc(), col(RegistrationRow.id).desc())
    return list(session.exec(statement.limit(limit)))


def history_page(session: Session, reg: RegistrationRow, *, after: int, limit: int) -> list[HistoryRow]:
    """History entries after sequence ``after``, oldest first."""
    return list(
        session.exec(
            select(HistoryRow)
            .where(HistoryRow.registration_id == reg.id, col(HistoryRow.sequence) > after)
            .order_by(col(HistoryRow.sequence))
            .limit(limit)
        )
    )


# -- what is due --------------------------------------------------------------------------------


def _scan_bound(today: date, working_days: int) -> date:
    # N working days never span more than 2N + 30 calendar days (the longest holiday runs are eight
    # days), so this bounds a scan to the registrations whose expiry may be within N working days.
    return today + timedelta(days=2 * working_days + 30)


def due_items(
    session: Session,
    node: str,
    *,
    today: date,
    calendar: WorkingCalendar,
    reminder_days: int,
    overdue_only: bool,
) -> list[DueItem]:
    """Everything the registry owes, overdue first, then by date."""
    items: list[DueItem] = []

    def add(reg: RegistrationRow, kind: DueKind, due: date | None, provisional: bool) -> None:
        overdue = due is not None and due < today
        if overdue_only and not overdue:
            return
        items.append(
            DueItem(
                registration=names.registration_name(reg.node, reg.id),
                kind=kind,
                due=due,
                overdue=overdue,
                provisional=provisional,
                data_name=reg.data_name,
            )
        )

    live = session.exec(
        select(RegistrationRow, ApplicationRow)
        .join(
            ApplicationRow,
            (col(RegistrationRow.id) == col(ApplicationRow.registration_id))
            & (col(RegistrationRow.current_application) == col(ApplicationRow.id)),
        )
        .where(RegistrationRow.node == node, col(ApplicationRow.state).in_(sorted(AWAITING_REGISTRY)))
    ).all()
    for reg, app in live:
        if app.state == ApplicationState.SUBMITTED:
            add(reg, DueKind.ACCEPTANCE, app.acceptance_due, app.deadlines_provisional)
        elif app.state == ApplicationState.UNDER_REVIEW:
            add(reg, DueKind.REVIEW, app.review_due, app.deadlines_provisional)
        elif app.state == ApplicationState.APPROVED:
            add(reg, DueKind.ANNOUNCEMENT, None, False)
        else:
            add(reg, DueKind.CODING, app.announcement_end, app.deadlines_provisional)
    objections = session.exec(
        select(RegistrationRow, ObjectionRow)
        .join(ObjectionRow, col(RegistrationRow.id) == col(ObjectionRow.registration_id))
        .join(
            ApplicationRow,
            (col(ApplicationRow.registration_id) == col(ObjectionRow.registration_id))
            & (col(ApplicationRow.id) == col(ObjectionRow.application_id))
            & col(ApplicationRow.state).in_(sorted(OBJECTION_WINDOW)),
        )
        .where(
            RegistrationRow.node == node,
            ObjectionRow.state == ObjectionState.PENDING,
            col(RegistrationRow.current_application) == col(ObjectionRow.application_id),
        )
    ).all()
    for reg, objection in objections:
        add(reg, DueKind.OBJECTION, objection.resolve_by, objection.resolve_by_provisional)
    expiring = session.exec(
        select(RegistrationRow).where(
            RegistrationRow.node == node,
            RegistrationRow.state == RegistrationState.ACTIVE,
            col(RegistrationRow.valid_until) <= _scan_bound(today, reminder_days),
        )
    ).all()
    for reg in expiring:
        assert reg.valid_until is not None
        left = calendar.working_days_between(today, reg.valid_until)
        if left.days <= reminder_days:
            add(reg, DueKind.EXPIRY, reg.valid_until, left.provisional)
    items.sort(key=DueItem.sort_key)
    return items


# -- what the node's duties pick up -------------------------------------------------------------


def _current_join() -> ColumnElement[bool]:
    return (col(RegistrationRow.id) == col(ApplicationRow.registration_id)) & (
        col(RegistrationRow.current_application) == col(ApplicationRow.id)
    )


def announcements_to_close(session: Session, node: str, today: date) -> Sequence[str]:
    """Registrations whose announcement's last day is over."""
    return session.exec(
        select(ApplicationRow.registration_id)
        .join(RegistrationRow, _current_join())
        .where(
            RegistrationRow.node == node,
            ApplicationRow.state == ApplicationState.ANNOUNCED,
            col(ApplicationRow.announcement_end) < today,
        )
    ).all()


def awaiting_code(session: Session, node: str) -> list[RegistrationRow]:
    """Registrations waiting for their code, the longest-waiting first."""
    return list(
        session.exec(
            select(RegistrationRow)
            .join(ApplicationRow, _current_join())
            .where(RegistrationRow.node == node, ApplicationRow.state == ApplicationState.AWAITING_CODE)
            .order_by(col(ApplicationRow.updated_at), col(RegistrationRow.id))
        )
    )


def expiry_due(session: Session, node: str, today: date) -> Sequence[str]:
    return session.exec(
        select(RegistrationRow.id).where(
            RegistrationRow.node == node,
            RegistrationRow.state == RegistrationState.ACTIVE,
            col(RegistrationRow.valid_until) < today,
        )
    ).all()


def reminder_candidates(session: Session, node: str, today: date, working_days: int) -> Sequence[str]:
    return session.exec(
        select(RegistrationRow.id).where(
            RegistrationRow.node == node,
            RegistrationRow.state == RegistrationState.ACTIVE,
            col(RegistrationRow.valid_until) >= today,
            col(RegistrationRow.valid_until) <= _scan_bound(today, working_days),
            or_(
                col(RegistrationRow.reminded_for).is_(None),
                col(RegistrationRow.reminded_for) != col(RegistrationRow.valid_until),
            ),
        )
    ).all()
