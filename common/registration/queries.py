"""Reading the procedure's tables: lookups, lists, history, what is due, and what the duties pick up.

Every function takes a ``Session`` and returns rows or domain values; nothing here writes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, func
from sqlmodel import Session, and_, col, or_, select

from common import names
from common.calendar import WorkingCalendar
from common.errors import FailedPrecondition, NotFound
from common.registration.domain import DueItem, DueKind
from common.registration.models import (
    ApplicationRow,
    DemandNoticeRow,
    DisclosureNoticeRow,
    HistoryRow,
    ObjectionRow,
    RegistrationRow,
    ShareNoticeRow,
)
from common.registration.states import (
    AWAITING_REGISTRY,
    AWAITING_SUBJECT,
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
    "changeable",
    "current_application",
    "due_items",
    "expiry_due",
    "history_page",
    "list_registrations",
    "load",
    "managed_here",
    "pending_objections",
    "reminder_candidates",
]


def load(session: Session, node: str, local_id: str, *, for_update: bool = False) -> RegistrationRow:
    """A registration ``node`` manages, by local id: NOT_FOUND if there is none, NOT_MANAGED_HERE if
    it was handed over to another node (what this node keeps of it is no longer current).

    ``for_update``: loaded to be changed, under its lock; TRANSFER_PENDING if this node released it to
    a transfer (see :func:`changeable`)."""
    statement = select(RegistrationRow).where(RegistrationRow.id == local_id)
    if for_update:
        statement = statement.with_for_update()
    row = session.exec(statement).first()
    name = names.registration_name(node, local_id)
    if row is None:
        raise NotFound("REGISTRATION_NOT_FOUND", f"{name} does not exist", metadata={"name": name})
    row = managed_here(row, node, asked=name)
    return changeable(row) if for_update else row


def by_code(session: Session, node: str, code: str) -> RegistrationRow:
    """The registration with ``code``, if ``node`` manages it (see :func:`load`)."""
    row = session.exec(select(RegistrationRow).where(RegistrationRow.code == code)).first()
    if row is None:
        raise NotFound(
            "REGISTRATION_NOT_FOUND", f"no registration here has code {code}", metadata={"code": code}
        )
    return managed_here(row, node, asked=code)


def managed_here(row: RegistrationRow, node: str, *, asked: str) -> RegistrationRow:
    """``row`` if ``node`` manages it. A registration handed over to another node (a transfer, an
    onboarding) is answered with where it is managed now (FAILED_PRECONDITION ``NOT_MANAGED_HERE``):
    this node's copy stopped following it at the handover, so it is never presented as current."""
    if row.node == node:
        return row
    now = names.registration_name(row.node, row.id)
    raise FailedPrecondition(
        "NOT_MANAGED_HERE",
        f"{asked} is managed by nodes/{row.node} now, as {now}; ask that node",
        metadata={"node": names.node_name(row.node), "name": now, **({"code": row.code} if row.code else {})},
    )


def changeable(row: RegistrationRow) -> RegistrationRow:
    """``row`` if its node may change it. Once the node has released it to a transfer (in the
    transaction that put the release in its change log), every change is refused (FAILED_PRECONDITION
    ``TRANSFER_PENDING``, naming the receiving node): a change accepted after the release would reach
    the national ledger after the transfer completed, and be lost."""
    if row.transfer_id is None or row.transfer_to is None:
        return row
    there = names.registration_name(row.transfer_to, row.id)
    raise FailedPrecondition(
        "TRANSFER_PENDING",
        f"{names.registration_name(row.node, row.id)} is being transferred to nodes/{row.transfer_to}"
        f" (transfer {row.transfer_id}) and takes no change here; apply to nodes/{row.transfer_to}, as"
        f" {there}, once the transfer has completed",
        metadata={"node": names.node_name(row.transfer_to), "name": there, "transfer": row.transfer_id},
    )


def _changeable_here(node: str) -> ColumnElement[bool]:
    """The registrations ``node`` manages and may change (none released to a transfer)."""
    return and_(col(RegistrationRow.node) == node, col(RegistrationRow.transfer_id).is_(None))


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
    subjects: frozenset[str] | None = None,
    products_registered: bool = False,
) -> list[DueItem]:
    """Everything the registry owes (and the subject, under the rule for authorised operation, and
    for the data demands and share requests that concern its registrations), overdue first, then by
    date; not what this node released to a transfer (the receiving node owes it). ``subjects``: only
    the registrations of these subjects (an applicant's), None for all. ``products_registered``: the
    node requires every product made from authorised data registered (Hainan): the products operating
    entities disclosed without a code are due until a product of that name is registered here."""
    items: list[DueItem] = []

    def add(
        reg: RegistrationRow, kind: DueKind, due: date | None, provisional: bool, concerns: str = ""
    ) -> None:
        overdue = due is not None and due < today
        if overdue_only and not overdue:
            return
        if subjects is not None and reg.subject_uscc not in subjects:
            return
        items.append(
            DueItem(
                registration=names.registration_name(reg.node, reg.id),
                kind=kind,
                due=due,
                overdue=overdue,
                provisional=provisional,
                data_name=reg.data_name,
                concerns=concerns,
            )
        )

    live = session.exec(
        select(RegistrationRow, ApplicationRow)
        .join(
            ApplicationRow,
            (col(RegistrationRow.id) == col(ApplicationRow.registration_id))
            & (col(RegistrationRow.current_application) == col(ApplicationRow.id)),
        )
        .where(_changeable_here(node), col(ApplicationRow.state).in_(sorted(AWAITING_REGISTRY)))
    ).all()
    for reg, app in live:
        if app.state == ApplicationState.SUBMITTED:
            add(reg, DueKind.ACCEPTANCE, app.acceptance_due, app.acceptance_due_provisional)
        elif app.state == ApplicationState.UNDER_REVIEW:
            add(reg, DueKind.REVIEW, app.review_due, app.review_due_provisional)
        elif app.state == ApplicationState.APPROVED:
            add(reg, DueKind.ANNOUNCEMENT, None, False)
        else:
            add(reg, DueKind.CODING, app.announcement_end, app.announcement_end_provisional)
    # The subject's initial registration under authorised operation (a node setting), while its
    # application is back with the subject.
    owed_by_subject = session.exec(
        select(RegistrationRow, ApplicationRow)
        .join(ApplicationRow, _current_join())
        .where(
            _changeable_here(node),
            col(ApplicationRow.state).in_(sorted(AWAITING_SUBJECT)),
            col(ApplicationRow.initial_registration_due).is_not(None),
        )
    ).all()
    for reg, app in owed_by_subject:
        add(
            reg,
            DueKind.INITIAL_REGISTRATION,
            app.initial_registration_due,
            app.initial_registration_due_provisional,
        )
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
            _changeable_here(node),
            ObjectionRow.state == ObjectionState.PENDING,
            col(RegistrationRow.current_application) == col(ObjectionRow.application_id),
        )
    ).all()
    for reg, objection in objections:
        add(reg, DueKind.OBJECTION, objection.resolve_by, objection.resolve_by_provisional)
    expiring = session.exec(
        select(RegistrationRow).where(
            _changeable_here(node),
            RegistrationRow.state == RegistrationState.ACTIVE,
            col(RegistrationRow.valid_until) <= _scan_bound(today, reminder_days),
        )
    ).all()
    for reg in expiring:
        assert reg.valid_until is not None
        left = calendar.working_days_between(today, reg.valid_until)
        if left.days <= reminder_days:
            add(reg, DueKind.EXPIRY, reg.valid_until, left.provisional)
    # Data demands matching the node's registrations that their subject has not answered, while the
    # demand takes answers (common.sync.notices).
    demands = session.exec(
        select(RegistrationRow, DemandNoticeRow)
        .join(DemandNoticeRow, col(RegistrationRow.id) == col(DemandNoticeRow.registration_id))
        .where(
            _changeable_here(node),
            col(DemandNoticeRow.answered).is_(False),
            col(DemandNoticeRow.state).in_(("OPEN", "ANSWERED", "MATCHED")),
            col(DemandNoticeRow.deadline) >= today,
        )
    ).all()
    for reg, demand in demands:
        add(
            reg,
            DueKind.DEMAND,
            demand.answer_due,
            demand.answer_due_provisional,
            f"demands/{demand.demand_id}",
        )
    # Share requests waiting for the subject's reply or delivery.
    shares = session.exec(
        select(RegistrationRow, ShareNoticeRow)
        .join(ShareNoticeRow, col(RegistrationRow.id) == col(ShareNoticeRow.registration_id))
        .where(_changeable_here(node), col(ShareNoticeRow.state).in_(("SUBMITTED", "AGREED")))
    ).all()
    for reg, share in shares:
        kind = DueKind.SHARE_REPLY if share.state == "SUBMITTED" else DueKind.SHARE_DELIVERY
        add(reg, kind, share.due, share.due_provisional, f"shareRequests/{share.id}")
    if products_registered:
        items.extend(_unregistered_products(session, node, today, overdue_only, subjects))
    items.sort(key=DueItem.sort_key)
    return items


def _unregistered_products(
    session: Session, node: str, today: date, overdue_only: bool, subjects: frozenset[str] | None
) -> list[DueItem]:
    """Hainan's full registration: each product an operating entity disclosed without a code, while no
    product or service of that name of the entity is registered (or being registered) here."""
    notices = [
        notice
        for notice in session.exec(
            select(DisclosureNoticeRow).where(col(DisclosureNoticeRow.due).is_not(None))
        ).all()
        if subjects is None or notice.uscc in subjects
    ]
    if not notices:
        return []
    registered = set(
        session.exec(
            select(RegistrationRow.subject_uscc, RegistrationRow.data_name).where(
                RegistrationRow.node == node,
                RegistrationRow.object_type == 2,
                col(RegistrationRow.subject_uscc).in_(sorted({n.uscc for n in notices})),
                col(RegistrationRow.state).in_((RegistrationState.PENDING, RegistrationState.ACTIVE)),
            )
        ).all()
    )
    items = []
    for notice in notices:
        overdue = notice.due is not None and notice.due < today
        if overdue_only and not overdue:
            continue
        for product in json.loads(notice.unregistered):
            if (notice.uscc, product) in registered:
                continue
            items.append(
                DueItem(
                    registration="",
                    kind=DueKind.PRODUCT_REGISTRATION,
                    due=notice.due,
                    overdue=overdue,
                    provisional=notice.due_provisional,
                    data_name=product,
                    concerns=notice.name,
                    subject_uscc=notice.uscc,
                )
            )
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
            _changeable_here(node),
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
            .where(_changeable_here(node), ApplicationRow.state == ApplicationState.AWAITING_CODE)
            .order_by(col(ApplicationRow.updated_at), col(RegistrationRow.id))
        )
    )


def expiry_due(session: Session, node: str, today: date) -> Sequence[str]:
    return session.exec(
        select(RegistrationRow.id).where(
            _changeable_here(node),
            RegistrationRow.state == RegistrationState.ACTIVE,
            col(RegistrationRow.valid_until) < today,
        )
    ).all()


def reminder_candidates(session: Session, node: str, today: date, working_days: int) -> Sequence[str]:
    return session.exec(
        select(RegistrationRow.id).where(
            _changeable_here(node),
            RegistrationRow.state == RegistrationState.ACTIVE,
            col(RegistrationRow.valid_until) >= today,
            col(RegistrationRow.valid_until) <= _scan_bound(today, working_days),
            or_(
                col(RegistrationRow.reminded_for).is_(None),
                col(RegistrationRow.reminded_for) != col(RegistrationRow.valid_until),
            ),
        )
    ).all()
