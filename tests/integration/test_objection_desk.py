"""The national node's objection desk (NationalService.FileObjection) on SQLite and PostgreSQL: what it
takes, what it refuses, and that a province's objection enters its downward feed exactly once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from google.type import date_pb2
from sqlmodel import col, select

from common import codes
from common.clock import SystemClock
from common.db import Database, UTCDateTime, migrate
from common.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from common.gen.registry.v1 import national_service_pb2 as ns
from common.gen.registry.v1 import registration_pb2 as r
from common.gen.registry.v1 import registration_service_pb2 as rs
from common.gen.registry.v1 import sync_pb2
from common.gen.registry.v1 import sync_service_pb2 as ss
from common.registration.models import ApplicationRow, RegistrationRow
from national_node.directory import sync_directory
from national_node.ledger import Ledger
from national_node.models import DownwardRow, PublicObjectionRow, SearchRow, WordList
from national_node.objections import ObjectionDesk
from national_node.search import SearchIndex
from national_node.server import MIGRATIONS as NATIONAL_MIGRATIONS
from national_node.settings import ProvincialNodeEntry
from national_node.tlog import Appender, LogStorage
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


def announced(db: Database, node: str, *, provisional: bool = False) -> sync_pb2.RegistrationRecord:
    """An announcement ending on END, in the search index."""
    rec = announced_record(node, provisional=provisional)
    with db.transaction() as session:
        SearchIndex().put(session, rec, now=datetime.now(UTC))
    return rec


def announced_record(node: str = "320000", *, provisional: bool = False) -> sync_pb2.RegistrationRecord:
    """An announcement ending on END; ``provisional``: the province computed END on weekends alone."""
    rec = record("全省医保定点医药机构目录", node=node, state=r.Registration.PENDING)
    app = rec.registration.current_application
    app.id, app.state = "a-1", r.Application.ANNOUNCED
    app.announcement_end.year, app.announcement_end.month, app.announcement_end.day = (
        END.year,
        END.month,
        END.day,
    )
    app.announcement_end_provisional = app.deadlines_provisional = provisional
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
    assert (first.announcement_end, first.announcement_end_provisional) == (_date(END), False)
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


def _date(day: date) -> date_pb2.Date:
    return date_pb2.Date(year=day.year, month=day.month, day=day.day)


def test_an_announcement_end_computed_without_a_schedule_is_marked_provisional(database: Database) -> None:
    rec = announced(database, "320000", provisional=True)
    with database.transaction(write=False) as session:
        row = session.exec(select(SearchRow).where(SearchRow.uid == rec.registration.uid)).one()
    assert (row.announcement_end, row.announcement_end_provisional) == (END, True)  # what the portal reads
    desk = ObjectionDesk(database, Clock(END), own=lambda request: r.Objection())
    first = desk.file(filing(rec.registration.name), actor="anonymous")
    assert (first.announcement_end, first.announcement_end_provisional) == (_date(END), True)
    assert desk.file(filing(rec.registration.name), actor="anonymous") == first  # a retry: the same answer


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


@pytest.mark.parametrize("url", ["sqlite_url", "postgres_url"])
def test_a_database_from_before_keeps_its_provisional_marks_on_each_date(
    request: pytest.FixtureRequest, url: str
) -> None:
    """At revision 0009 an application had one mark for all its dates: upgraded, each date it holds
    takes it, and an announcement in progress is marked in the search index from its ledger record."""
    db = Database(request.getfixturevalue(url))
    config = Config()
    config.set_main_option("script_location", str(NATIONAL_MIGRATIONS))
    now = datetime(2026, 12, 28, 2, tzinfo=UTC)
    registrations = sa.table(
        "registrations",
        *(sa.column(c) for c in ("id", "node", "uid", "object_type", "state", "version", "subject_uscc")),
        *(sa.column(c) for c in ("subject_region", "data_name", "content", "applications", "objections")),
        sa.column("revision"),
        sa.column("created_at", UTCDateTime()),
        sa.column("updated_at", UTCDateTime()),
    )
    applications = sa.table(
        "applications",
        *(sa.column(c) for c in ("registration_id", "id", "type", "state", "content", "reason", "defects")),
        sa.column("decision_reason"),
        sa.column("deadlines_provisional", sa.Boolean()),
        *(sa.column(c, sa.Date()) for c in ("acceptance_due", "review_due", "announcement_end")),
        sa.column("submitted_at", UTCDateTime()),
        sa.column("updated_at", UTCDateTime()),
    )
    ledger = sa.table(
        "ledger",
        *(sa.column(c) for c in ("uid", "node", "name", "state", "revision", "digest", "bucket")),
        sa.column("record", sa.LargeBinary()),
        sa.column("updated_at", UTCDateTime()),
    )
    index_columns = ["uid", "name", "node", "region", "object_type", "state", "application_id"]
    index_columns += ["subject_uscc", "subject_org", "subject_name", "subject_key", "data_name", "name_key"]
    index_columns += [
        "summary",
        "update_frequency",
        "data_format",
        "revision",
        "text_digest",
        "fields_digest",
    ]
    search_index = sa.table(
        "search_index",
        *(sa.column(c) for c in index_columns),
        sa.column("announced", sa.Boolean()),
        sa.column("created_at", UTCDateTime()),
        sa.column("updated_at", UTCDateTime()),
        sa.column("words", WordList()),
    )
    due = {"acceptance_due": date(2026, 12, 3), "review_due": date(2027, 1, 5), "announcement_end": None}
    try:
        with db.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0009")
            for local, state, provisional, dates in [
                ("r-1", "ANNOUNCED", True, due | {"announcement_end": date(2027, 1, 18)}),
                ("r-2", "UNDER_REVIEW", True, due),
                ("r-3", "UNDER_REVIEW", False, due),
            ]:
                text = {"subject_uscc": "x", "subject_region": "110000", "data_name": "数据", "content": "{}"}
                counts = {"object_type": 1, "version": 0, "applications": 1, "objections": 0, "revision": 1}
                connection.execute(
                    registrations.insert().values(
                        id=local,
                        node="100000",
                        uid=local,
                        state="PENDING",
                        created_at=now,
                        updated_at=now,
                        **text,
                        **counts,
                    )
                )
                texts = {"content": "{}", "reason": "", "defects": "[]", "decision_reason": ""}
                connection.execute(
                    applications.insert().values(
                        registration_id=local,
                        id="a-1",
                        type="INITIAL",
                        state=state,
                        submitted_at=now,
                        updated_at=now,
                        deadlines_provisional=provisional,
                        **texts,
                        **dates,
                    )
                )
            for uid, provisional in [("u-1", True), ("u-2", False)]:
                rec = announced_record(provisional=provisional)
                rec.registration.current_application.announcement_end_provisional = False  # not known then
                about = {"node": "320000", "name": uid, "state": "PENDING", "digest": "d", "bucket": "00"}
                connection.execute(
                    ledger.insert().values(
                        uid=uid, revision=1, record=rec.SerializeToString(), updated_at=now, **about
                    )
                )
                values = dict.fromkeys(index_columns, "") | {"uid": uid, "revision": 1}
                connection.execute(
                    search_index.insert().values(
                        **values, announced=True, created_at=now, updated_at=now, words=["数据"]
                    )
                )
        with db.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0014")  # (0015 empties the search index, for the indexer to rebuild)
        with db.transaction(write=False) as session:
            indexed = {row.uid: row.announcement_end_provisional for row in session.exec(select(SearchRow))}
        migrate(db.engine, NATIONAL_MIGRATIONS)
        with db.transaction(write=False) as session:
            marks = {
                app.registration_id: (
                    app.acceptance_due_provisional,
                    app.review_due_provisional,
                    app.announcement_end_provisional,
                    app.initial_registration_due,
                )
                for app in session.exec(select(ApplicationRow))
            }
        assert marks == {
            "r-1": (True, True, True, None),
            "r-2": (True, True, False, None),  # no announcement yet: nothing to mark
            "r-3": (False, False, False, None),
        }
        assert indexed == {"u-1": True, "u-2": False}
    finally:
        db.dispose()


def _feed(db: Database, node: str) -> list[DownwardRow]:
    with db.transaction(write=False) as session:
        return list(
            session.exec(
                select(DownwardRow).where(DownwardRow.node == node).order_by(col(DownwardRow.sequence))
            )
        )


def _forwarded(row: DownwardRow) -> tuple[str, str]:
    forwarded = sync_pb2.ForwardedObjection.FromString(row.objection or b"")
    return forwarded.request_id, forwarded.registration


def test_objections_sent_to_a_province_asked_to_release_the_registration_follow_it_to_the_receiving_node(
    database: Database,
) -> None:
    db = database
    sync_directory(
        db,
        national_address="127.0.0.1:1",
        nodes=[ProvincialNodeEntry(region="320000"), ProvincialNodeEntry(region="440000")],
    )
    ledger = Ledger(db, SystemClock(), Appender(LogStorage(db)))
    desk = ObjectionDesk(db, Clock(END), own=lambda request: r.Objection())
    rec = announced(db, "320000")  # the search index says Jiangsu, and goes on saying so below
    rec.registration.code = codes.generate(1, "320000", 2026, 7)
    with db.transaction() as session:
        ledger._put(session, rec, "320000")
    name = rec.registration.name
    there = name.replace("nodes/320000", "nodes/440000")
    desk.file(filing(name, "before"), actor="anonymous")
    transfer = ledger.transfer(rec.registration.code, "440000", "move-1")
    ledger.confirm("440000", transfer.id)  # Jiangsu is asked to release it
    desk.file(filing(name, "meanwhile"), actor="anonymous")
    jiangsu = _feed(db, "320000")
    assert [row.kind for row in jiangsu] == ["OBJECTION", "TRANSFER_RELEASE", "OBJECTION"]
    # Jiangsu files the first before it releases the registration, and refuses the other (it changes
    # the registration no more); its release completes the transfer, and the other goes along.
    release = sync_pb2.Change(sequence=1, record=rec, transfer_id=transfer.id)
    ack = ledger.apply_batch(sync_pb2.ChangeBatch(node="nodes/320000", changes=[release]))
    assert (ack.acknowledged_sequence, list(ack.refused)) == (1, [])
    desk.file(filing(name, "after"), actor="anonymous")  # by the ledger's name, whatever the index says
    guangdong = _feed(db, "440000")
    assert [row.kind for row in guangdong] == ["TRANSFER_OFFER", "TRANSFER_IN", "OBJECTION", "OBJECTION"]
    assert [_forwarded(row) for row in guangdong[2:]] == [("meanwhile", there), ("after", there)]
    assert [_forwarded(row) for row in _feed(db, "320000") if row.kind == "OBJECTION"] == [
        ("before", name),
        ("meanwhile", name),
    ]


def test_a_transfer_to_the_national_node_waits_for_the_release_and_brings_the_objections_to_its_registry(
    database: Database,
) -> None:
    db = database
    sync_directory(db, national_address="127.0.0.1:1", nodes=[ProvincialNodeEntry(region="320000")])
    ledger = Ledger(db, SystemClock(), Appender(LogStorage(db)))
    filed: list[sync_pb2.ForwardedObjection] = []
    ledger.own_objections = lambda session, forwarded: filed.append(forwarded) or True
    desk = ObjectionDesk(db, Clock(END), own=lambda request: r.Objection())
    rec = announced(db, "320000")
    rec.registration.code = codes.generate(1, "320000", 2026, 8)
    rec.registration.current_application.type = r.CHANGE  # a change of a coded registration
    rec.registration.current_application.content.CopyFrom(rec.registration.content)
    with db.transaction() as session:
        ledger._put(session, rec, "320000")
    transfer = ledger.transfer(rec.registration.code, "100000", "move-2")
    # Taken by the national node at once, but Jiangsu manages it until its release is applied.
    assert transfer.state == ss.Transfer.PENDING and transfer.HasField("confirm_time")
    assert [row.kind for row in _feed(db, "320000")] == ["TRANSFER_RELEASE"]
    desk.file(filing(rec.registration.name, "meanwhile"), actor="anonymous")
    mine = select(RegistrationRow).where(RegistrationRow.uid == rec.registration.uid)
    with db.transaction(write=False) as session:
        assert session.exec(mine).all() == []
    release = sync_pb2.Change(sequence=1, record=rec, transfer_id=transfer.id)
    ack = ledger.apply_batch(sync_pb2.ChangeBatch(node="nodes/320000", changes=[release]))
    assert (ack.acknowledged_sequence, list(ack.refused)) == (1, [])
    there = rec.registration.name.replace("nodes/320000", "nodes/100000")
    assert ledger.lookup(rec.registration.code).registration.name == there
    with db.transaction(write=False) as session:
        assert session.exec(mine).one().node == "100000"
    assert [(f.request_id, f.registration) for f in filed] == [("meanwhile", there)]
    assert [row.kind for row in _feed(db, "320000")] == ["TRANSFER_RELEASE", "OBJECTION", "TRANSFER_OUT"]
