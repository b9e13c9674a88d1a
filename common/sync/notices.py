"""What the national node tells a node of its registrations beyond the registrations themselves: the
data demands that match them and the share requests made for them (``DownwardChange`` kinds ``DEMAND``
and ``SHARE_REQUEST``; the national node's own registry is told in the same transaction as the step).

Each notice is the demand or the share request as it stands after a step, so the node keeps one row
per demand and registration, and per share request, replaced by a newer notice and never by an older
one (``update_time``): a notice that arrives twice, or late, changes nothing. From these rows the
node's due items follow (:func:`common.registration.queries.due_items`), timed by the node's own
limits (:class:`common.settings.TimeLimits`) on its own working-day calendar:

* a demand is due for the subject's answer ``demand_answer_days`` working days after it was posted,
  or on its deadline if that is sooner;
* a share request's reply is due on the day the national node says (1 working day for unconditionally
  shared data, 10 for conditionally shared, as extended), or after ``share_reply_days`` from the day
  it reached this state if the node asks for less; its delivery likewise with ``share_delivery_days``.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime

from sqlmodel import Session

from common import names
from common.calendar import WorkingCalendar
from common.clock import CHINA
from common.gen.registry.v1 import demand_pb2 as d
from common.gen.registry.v1 import disclosure_pb2 as ds
from common.gen.registry.v1 import share_pb2 as sh
from common.registration.content import from_date
from common.registration.models import DemandNoticeRow, DisclosureNoticeRow, ShareNoticeRow
from common.settings import TimeLimits

__all__ = ["note_demand", "note_disclosure", "note_share_request"]

logger = logging.getLogger(__name__)


def _time(message: d.Demand | sh.ShareRequest, field: str) -> datetime:
    moment: datetime = getattr(message, field).ToDatetime(tzinfo=UTC)
    return moment


def _day(moment: datetime) -> date:
    return moment.astimezone(CHINA).date()


def note_demand(
    session: Session, node: str, demand: d.Demand, *, calendar: WorkingCalendar, limits: TimeLimits
) -> int:
    """Keep ``demand``'s matches among ``node``'s registrations; how many rows changed."""
    demand_id = demand.name.removeprefix("demands/")
    updated = _time(demand, "update_time")
    deadline = from_date(demand.deadline)
    if deadline is None:
        logger.warning("demand %s came without a deadline; passed over", demand.name)
        return 0
    due = calendar.add_working_days(_day(_time(demand, "create_time")), limits.demand_answer_days)
    answer_due, provisional = (deadline, False) if deadline < due.date else (due.date, due.provisional)
    answered = {answer.registration for answer in demand.answers}
    state = d.Demand.State.Name(demand.state)
    changed = 0
    for match in demand.matches:
        parsed = names.parse_registration(match.registration)
        if parsed.node != node:
            continue
        row = session.get(DemandNoticeRow, (demand_id, parsed.id))
        if row is not None and row.updated_at > updated:
            continue  # a newer notice came first
        # Replaces the row of an older notice (merge: by its key).
        session.merge(
            DemandNoticeRow(
                demand_id=demand_id,
                registration_id=parsed.id,
                title=demand.title,
                organisation_name=demand.organisation.name,
                organisation_uscc=demand.organisation.uscc,
                state=state,
                deadline=deadline,
                answered=match.registration in answered,
                answer_due=answer_due,
                answer_due_provisional=provisional,
                updated_at=updated,
            )
        )
        changed += 1
    return changed


def note_share_request(
    session: Session,
    node: str,
    request: sh.ShareRequest,
    *,
    calendar: WorkingCalendar,
    limits: TimeLimits,
) -> bool:
    """Keep ``request`` if it is for one of ``node``'s registrations; whether its row changed."""
    parsed = names.parse_registration(request.registration)
    if parsed.node != node:
        return False
    share_id = request.name.removeprefix("shareRequests/")
    updated = _time(request, "update_time")
    row = session.get(ShareNoticeRow, share_id)
    if row is not None and row.updated_at > updated:
        return False  # a newer notice came first
    state = sh.ShareRequest.State.Name(request.state)
    due, provisional = None, False
    if state == "SUBMITTED" and request.HasField("reply_due"):
        national = from_date(request.reply_due)
        days = limits.share_reply_days if request.conditional else 1
        due, provisional = _sooner(
            calendar, national, request.due_provisional, updated, days, request.extended
        )
    elif state == "AGREED" and request.HasField("delivery_due"):
        national = from_date(request.delivery_due)
        due, provisional = _sooner(
            calendar, national, request.due_provisional, updated, limits.share_delivery_days, False
        )
    if row is not None and row.state == state and state in ("SUBMITTED", "AGREED") and not request.extended:
        due, provisional = row.due, row.due_provisional  # the same step's notice again: its clock runs on
    session.merge(
        ShareNoticeRow(
            id=share_id,
            registration_id=parsed.id,
            requester_name=request.requester.name,
            requester_uscc=request.requester.uscc,
            state=state,
            due=due,
            due_provisional=provisional,
            updated_at=updated,
        )
    )
    return True


def _sooner(
    calendar: WorkingCalendar,
    national: date | None,
    national_provisional: bool,
    since: datetime,
    days: int,
    extended: bool,
) -> tuple[date | None, bool]:
    """The national node's due day, or the node's own limit counted from ``since`` if that is sooner
    (not once the national node extended the time: the extension is the sharing authority's)."""
    if extended or national is None:
        return national, national_provisional
    own = calendar.add_working_days(_day(since), days)
    if own.date < national:
        return own.date, own.provisional
    return national, national_provisional


def note_disclosure(
    session: Session, disclosure: ds.Disclosure, *, calendar: WorkingCalendar, limits: TimeLimits
) -> bool:
    """Keep an operating entity's disclosure (its latest version; an older one than kept is passed
    over): the products it lists without a code, due ``product_registration_days`` working days after
    it was filed when the node requires every product registered (Hainan), else kept without a date.
    Whether it was kept."""
    row = session.get(DisclosureNoticeRow, disclosure.name)
    if row is not None and row.version >= disclosure.version:
        return False
    filed = disclosure.file_time.ToDatetime(tzinfo=UTC)
    due, provisional = None, False
    if limits.product_registration_days is not None:
        day = calendar.add_working_days(_day(filed), limits.product_registration_days)
        due, provisional = day.date, day.provisional
    unregistered = [p.name for p in disclosure.products if not p.code and p.name]
    session.merge(
        DisclosureNoticeRow(
            name=disclosure.name,
            uscc=disclosure.party.uscc,
            party_name=disclosure.party.name,
            version=disclosure.version,
            unregistered=json.dumps(unregistered, ensure_ascii=False),
            filed_at=filed,
            due=due,
            due_provisional=provisional,
        )
    )
    return True
