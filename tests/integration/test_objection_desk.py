"""The national node's objection desk (NationalService.FileObjection) on SQLite and PostgreSQL: what it
takes, what it refuses, and that a province's objection enters its downward feed exactly once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from common.db import Database
from common.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from common.gen.registry.v1 import national_service_pb2 as ns
from common.gen.registry.v1 import registration_pb2 as r
from common.gen.registry.v1 import registration_service_pb2 as rs
from common.gen.registry.v1 import sync_pb2
from national_node.models import DownwardRow, PublicObjectionRow
from national_node.objections import ObjectionDesk
from national_node.search import SearchIndex
from tests.integration.test_search import record

pytestmark = pytest.mark.integration

END = date(2026, 12, 15)


class Clock:
    def __init__(self, day: date) -> None:
        self.day = day

    def now(self) -> datetime:
        return datetime(self.day.year, self.day.month, self.day.day, 2, tzinfo=UTC)

    def today(self) -> date:
        return self.day


@pytest.fixture
def database(national_database: Database) -> Database:
    return national_database


def announced(db: Database, node: str) -> sync_pb2.RegistrationRecord:
    rec = record("全省医保定点医药机构目录", node=node, state=r.Registration.PENDING)
    app = rec.registration.current_application
    app.id, app.state = "a-1", r.Application.ANNOUNCED
    app.announcement_end.year, app.announcement_end.month, app.announcement_end.day = (
        END.year,
        END.month,
        END.day,
    )
    with db.transaction() as session:
        SearchIndex().put(session, rec, now=datetime.now(UTC))
    return rec


def filing(name: str, request_id: str = "q-1", reason: str = "目录遗漏了部分药店") -> ns.FileObjectionRequest:
    return ns.FileObjectionRequest(
        registration=name,
        objection=r.Objection(objector="李四（lisi@example.cn）", reason=reason),
        request_id=request_id,
    )


def test_an_objection_to_a_provinces_registration_enters_its_feed_once(database: Database) -> None:
    rec = announced(database, "320000")
    own: list[rs.CreateObjectionRequest] = []
    desk = ObjectionDesk(database, Clock(END), own=own.append)  # type: ignore[arg-type]
    first = desk.file(filing(rec.registration.name), actor="anonymous")
    assert first.managing_node == "nodes/320000" and first.application_id == "a-1"
    assert desk.file(filing(rec.registration.name), actor="anonymous") == first  # a retry
    with database.transaction(write=False) as session:
        feed = session.exec(select(DownwardRow)).all()
    assert [(row.node, row.kind) for row in feed] == [("320000", "OBJECTION")]
    forwarded = sync_pb2.ForwardedObjection.FromString(feed[0].objection or b"")
    assert forwarded.registration == rec.registration.name and forwarded.request_id == "q-1"
    assert forwarded.application_id == "a-1" and forwarded.actor == "anonymous"
    assert forwarded.objection.reason == "目录遗漏了部分药店" and not own
    with pytest.raises(AlreadyExists):
        desk.file(filing(rec.registration.name, reason="另一条理由"), actor="anonymous")


def test_an_objection_to_a_registration_the_national_node_manages_is_filed_there(database: Database) -> None:
    rec = announced(database, "100000")
    own: list[rs.CreateObjectionRequest] = []
    desk = ObjectionDesk(database, Clock(END), own=lambda request: own.append(request) or r.Objection())
    desk.file(filing(rec.registration.name), actor="anonymous")
    assert [(o.parent, o.request_id) for o in own] == [(rec.registration.name, "q-1")]
    with database.transaction(write=False) as session:
        assert session.exec(select(DownwardRow)).all() == []
        assert session.get(PublicObjectionRow, "q-1") is not None


def test_what_the_desk_refuses_it_records_nothing_of(database: Database) -> None:
    rec = announced(database, "320000")
    coded = record("南京市医保结算明细数据")
    with database.transaction() as session:
        SearchIndex().put(session, coded, now=datetime.now(UTC))
    desk = ObjectionDesk(database, Clock(END + timedelta(days=1)), own=lambda request: r.Objection())
    with pytest.raises(FailedPrecondition) as closed:
        desk.file(filing(rec.registration.name), actor="anonymous")
    assert closed.value.reason == "ANNOUNCEMENT_CLOSED"
    open_desk = ObjectionDesk(database, Clock(END), own=lambda request: r.Objection())
    with pytest.raises(FailedPrecondition) as not_announced:
        open_desk.file(filing(coded.registration.name), actor="anonymous")
    assert not_announced.value.reason == "NOT_ANNOUNCED"
    with pytest.raises(NotFound):
        open_desk.file(filing("nodes/320000/registrations/r-nowhere"), actor="anonymous")
    with pytest.raises(InvalidArgument) as bad:
        open_desk.file(
            ns.FileObjectionRequest(registration="not a name", objection=r.Objection(reason="x" * 2001)),
            actor="anonymous",
        )
    assert {v.field for v in bad.value.violations} == {
        "registration",
        "objection.objector",
        "objection.reason",
        "request_id",
    }
    with database.transaction(write=False) as session:
        assert session.exec(select(DownwardRow)).all() == []
        assert session.exec(select(PublicObjectionRow)).all() == []
