"""What a node keeps of the demands and share requests the national node tells it of
(:mod:`common.sync.notices`): the newest notice wins whatever order they arrive in, and the node's own
shorter limits bring a due day forward but never past the national one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import create_engine
from sqlmodel import Session, SQLModel

from common.calendar import WorkingCalendar
from common.gen.registry.v1 import demand_pb2 as d
from common.gen.registry.v1 import share_pb2 as sh
from common.registration.content import to_date
from common.registration.models import DemandNoticeRow, ShareNoticeRow
from common.settings import TimeLimits
from common.sync.notices import note_demand, note_share_request

CALENDAR = WorkingCalendar()
#: A Monday with no holiday within the next weeks.
MONDAY = date(2026, 11, 2)
ONE = "nodes/320000/registrations/r-1"
OTHER_NODE = "nodes/330000/registrations/r-9"


@pytest.fixture
def session() -> Iterator[Session]:
    engine = create_engine("sqlite://")
    SQLModel.metadata.create_all(engine, tables=[DemandNoticeRow.__table__, ShareNoticeRow.__table__])  # type: ignore[list-item]
    with Session(engine) as session:
        yield session


def _at(day: date, hour: int = 2) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _share(state: int, updated: datetime, **fields: object) -> sh.ShareRequest:
    request = sh.ShareRequest(name="shareRequests/s-1", registration=ONE, state=state, conditional=True)  # type: ignore[arg-type]
    request.requester.uscc, request.requester.name = "11320000MB0000000X", "江苏省医疗保障局"
    request.update_time.FromDatetime(updated)
    for field, value in fields.items():
        if isinstance(value, date):
            getattr(request, field).CopyFrom(to_date(value))
        else:
            setattr(request, field, value)
    return request


def test_a_nodes_shorter_reply_limit_brings_the_due_day_forward_and_an_extension_is_the_nationals(
    session: Session,
) -> None:
    national_due = CALENDAR.add_working_days(MONDAY, 10).date
    submitted = _share(sh.ShareRequest.SUBMITTED, _at(MONDAY), reply_due=national_due)
    note_share_request(session, "320000", submitted, calendar=CALENDAR, limits=TimeLimits(share_reply_days=3))
    row = session.get(ShareNoticeRow, "s-1")
    assert row is not None and row.due == CALENDAR.add_working_days(MONDAY, 3).date < national_due
    # With the regulation's 10 days the node's day is the national one.
    note_share_request(session, "320000", submitted, calendar=CALENDAR, limits=TimeLimits())
    extended_due = CALENDAR.add_working_days(national_due, 10).date
    extended = _share(
        sh.ShareRequest.SUBMITTED, _at(MONDAY + timedelta(days=2)), reply_due=extended_due, extended=True
    )
    note_share_request(session, "320000", extended, calendar=CALENDAR, limits=TimeLimits(share_reply_days=3))
    assert session.get(ShareNoticeRow, "s-1").due == extended_due  # type: ignore[union-attr]


def test_an_older_notice_arriving_late_changes_nothing(session: Session) -> None:
    agreed_on = MONDAY + timedelta(days=3)
    agreed = _share(
        sh.ShareRequest.AGREED, _at(agreed_on), delivery_due=CALENDAR.add_working_days(agreed_on, 20).date
    )
    older = _share(
        sh.ShareRequest.SUBMITTED, _at(MONDAY), reply_due=CALENDAR.add_working_days(MONDAY, 10).date
    )
    limits = TimeLimits(share_delivery_days=5)
    assert note_share_request(session, "320000", agreed, calendar=CALENDAR, limits=limits)
    assert not note_share_request(session, "320000", older, calendar=CALENDAR, limits=limits)
    row = session.get(ShareNoticeRow, "s-1")
    assert row is not None and row.state == "AGREED"
    assert row.due == CALENDAR.add_working_days(agreed_on, 5).date
    # Another node's registration is not kept here.
    assert not note_share_request(
        session, "330000", _share(sh.ShareRequest.SUBMITTED, _at(MONDAY)), calendar=CALENDAR, limits=limits
    )


def test_a_demand_is_due_by_the_nodes_limit_or_its_deadline_and_only_for_this_nodes_matches(
    session: Session,
) -> None:
    demand = d.Demand(name="demands/q-1", title="医保定点机构名单", state=d.Demand.OPEN)
    demand.organisation.uscc, demand.organisation.name = "91110105MA0000000X", "某某健康保险股份有限公司"
    demand.matches.add(registration=ONE)
    demand.matches.add(registration=OTHER_NODE)
    demand.create_time.FromDatetime(_at(MONDAY))
    demand.update_time.FromDatetime(_at(MONDAY))
    demand.deadline.CopyFrom(to_date(MONDAY + timedelta(days=365)))
    assert note_demand(session, "320000", demand, calendar=CALENDAR, limits=TimeLimits()) == 1
    row = session.get(DemandNoticeRow, ("q-1", "r-1"))
    assert row is not None and not row.answered
    assert row.answer_due == CALENDAR.add_working_days(MONDAY, 10).date
    # A deadline sooner than the limit is the due day; an answer for this registration clears it.
    demand.deadline.CopyFrom(to_date(MONDAY + timedelta(days=3)))
    demand.answers.add(registration=ONE)
    demand.update_time.FromDatetime(_at(MONDAY + timedelta(days=1)))
    note_demand(session, "320000", demand, calendar=CALENDAR, limits=TimeLimits())
    row = session.get(DemandNoticeRow, ("q-1", "r-1"))
    assert row is not None and row.answered and row.answer_due == MONDAY + timedelta(days=3)
