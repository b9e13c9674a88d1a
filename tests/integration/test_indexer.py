"""The search indexer follows the national log, on SQLite and PostgreSQL: what the ledger committed
becomes findable (and nothing it rolled back), a registration's new state replaces its old one, a
first start indexes the ledger as it stands, a failed round is repeated and two indexers do not both
take a batch; and, as real processes, the national node's indexer child dies with the node (kill -9
included) and comes back when it dies alone."""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import delete

from common.clock import SystemClock
from common.db import Database
from common.gen.registry.v1 import registration_pb2 as r
from common.gen.registry.v1 import sync_pb2
from national_node.duplicates import DuplicateFinder
from national_node.indexer import Indexer
from national_node.ledger import Ledger
from national_node.models import SearchCursorRow, SearchRow
from national_node.search import Search, SearchIndex, SearchQuery
from national_node.tlog import Appender, LogStorage
from tests.factories import make_content, make_uscc
from tests.nodes import NodeProcess, child_pids, wait_until

pytestmark = pytest.mark.integration


def record(
    data_name: str, *, node: str = "320000", revision: int = 1, uid: str = ""
) -> sync_pb2.RegistrationRecord:
    content = make_content(make_uscc(node[:2] + "0106"), data_name=data_name)
    content.subject.region = node
    reg = r.Registration(
        uid=str(uuid.uuid4()),
        name=f"nodes/{node}/registrations/r-{uuid.uuid4().hex[:8]}",
        object_type=r.PUBLIC_DATA_RESOURCE,
        state=r.Registration.ACTIVE,
        content=content,
        managing_node=f"nodes/{node}",
    )
    return sync_pb2.RegistrationRecord(registration=reg, revision=1)


def found(db: Database, word: str) -> list[SearchRow]:
    return Search(db, facet_cache_seconds=0).search(SearchQuery(q=word)).items


def test_what_the_ledger_commits_becomes_findable_and_shows_its_new_state(
    national_database: Database,
) -> None:
    db = national_database
    ledger = Ledger(db, SystemClock(), Appender(LogStorage(db)))
    indexer = Indexer(db)
    rec = record("全省医保定点医药机构目录")
    with pytest.raises(RuntimeError), db.transaction() as session:
        ledger._put(session, rec, "320000")
        raise RuntimeError("the transaction fails after the ledger write")
    assert indexer.run_once() == 0 and found(db, "医保") == []
    with db.transaction() as session:
        ledger._put(session, rec, "320000")
    assert found(db, "医保") == []  # not yet: the ledger's transaction does no indexing
    assert indexer.behind() == 1
    assert indexer.run_once() == 1 and indexer.behind() == 0
    assert [row.data_name for row in found(db, "医保")] == ["全省医保定点医药机构目录"]
    # Deregistered, then managed by another node: the index says so after the next round.
    rec.registration.state, rec.revision = r.Registration.DEREGISTERED, 2
    with db.transaction() as session:
        ledger._put(session, rec, "320000")
    indexer.catch_up()
    assert [row.state for row in found(db, "医保")] == ["DEREGISTERED"]
    rec.registration.managing_node, rec.revision = "nodes/440000", 3
    with db.transaction() as session:
        ledger._put(session, rec, "440000")
    indexer.catch_up()
    assert [(row.node, row.revision) for row in found(db, "医保")] == [("440000", 3)]


def test_a_first_start_indexes_the_ledger_as_it_stands_then_follows_the_log(
    national_database: Database,
) -> None:
    db = national_database
    ledger = Ledger(db, SystemClock(), Appender(LogStorage(db)))
    before = [record(f"交通流量数据{i}") for i in range(25)]
    with db.transaction() as session:
        for rec in before:
            ledger._put(session, rec, "320000")
    indexer = Indexer(db, batch=10)
    assert indexer.cursor() == 25  # the 25 indexed by the backfill, the log followed from its size
    assert len(found(db, "交通")) == 20 and Search(db).search(SearchQuery(q="交通")).total == 25
    assert indexer.run_once() == 0
    with db.transaction() as session:
        ledger._put(session, record("交通事故统计"), "320000")
    assert indexer.catch_up() == 1
    assert Search(db, facet_cache_seconds=0).search(SearchQuery(q="交通")).total == 26
    # An index dropped and rebuilt: the backfill finds every entry again, once.
    with db.transaction() as session:
        session.execute(delete(SearchRow))
        session.execute(delete(SearchCursorRow))
    assert Indexer(db, batch=7).cursor() == 26
    assert Search(db, facet_cache_seconds=0).search(SearchQuery(q="交通")).total == 26
    assert SearchIndex().backfill(db) == 0


def test_a_failed_round_is_repeated_and_two_indexers_never_take_the_same_batch(
    national_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = national_database
    ledger = Ledger(db, SystemClock(), Appender(LogStorage(db)))
    indexer = Indexer(db, batch=5)
    indexer.cursor()
    records = [record(f"气象观测数据{i}") for i in range(40)]
    with db.transaction() as session:
        for rec in records[:10]:
            ledger._put(session, rec, "320000")
    # The write fails (the database went away mid-round): nothing written, the cursor where it was.
    real_write = SearchIndex.write

    def failing(self: SearchIndex, session: object, rows: object) -> None:
        real_write(self, session, rows)  # type: ignore[arg-type]
        raise ConnectionError("the database went away")

    monkeypatch.setattr(SearchIndex, "write", failing)
    with pytest.raises(ConnectionError):
        indexer.run_once()
    monkeypatch.setattr(SearchIndex, "write", real_write)
    assert found(db, "气象") == [] and indexer.behind() == 10
    assert indexer.catch_up() == 10
    # Two indexers (two processes by mistake) while the ledger keeps changing: every registration is
    # indexed, and the cursor ends at the log's size.
    other = Indexer(db, batch=3)
    stop = threading.Event()
    errors: list[BaseException] = []

    def follow(ix: Indexer) -> None:
        try:
            ix.follow(stop, idle_seconds=0.01)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=follow, args=(ix,)) for ix in (indexer, other)]
    for thread in threads:
        thread.start()
    try:
        for rec in records[10:]:
            with db.transaction() as session:
                ledger._put(session, rec, "320000")
        wait_until(lambda: Indexer(db).behind() == 0, timeout=30, message="the indexers caught up")
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
    assert not errors
    total = Search(db, facet_cache_seconds=0).search(SearchQuery(q="气象", page_size=50)).total
    assert total == 40
    # A round repeated late (an indexer that read the ledger before a change) never writes an older
    # revision over a newer one.
    newer = records[0]
    stale = sync_pb2.RegistrationRecord()
    stale.CopyFrom(newer)
    newer.registration.state, newer.revision = r.Registration.DEREGISTERED, 2
    with db.transaction() as session:
        ledger._put(session, newer, "320000")
    indexer.catch_up()
    with db.transaction() as session:
        SearchIndex().write(session, [SearchIndex().row(stale, None, now=datetime.now(UTC))])  # type: ignore[list-item]
    with db.transaction(write=False) as session:
        kept = session.get(SearchRow, newer.registration.uid)
        assert kept is not None and (kept.revision, kept.state) == (2, "DEREGISTERED")


def test_an_indexer_that_another_has_overtaken_starts_from_where_that_one_got(
    national_database: Database,
) -> None:
    db = national_database
    ledger = Ledger(db, SystemClock(), Appender(LogStorage(db)))
    behind, ahead = Indexer(db), Indexer(db)
    assert behind.cursor() == ahead.cursor() == 0
    with db.transaction() as session:
        ledger._put(session, record("南京市气象观测数据"), "320000")
    assert ahead.catch_up() == 1
    with db.transaction() as session:
        ledger._put(session, record("苏州市气象灾害预警"), "320000")
    # Its cursor says 0: its first round finds the other ahead and follows nothing; the next one
    # follows what is new, and nothing is indexed twice or left out.
    assert behind.catch_up() == 1 and behind.behind() == 0
    assert Search(db, facet_cache_seconds=0).search(SearchQuery(q="气象")).total == 2


def test_the_duplicate_check_sees_what_the_ledger_has_and_the_index_not_yet(
    national_database: Database,
) -> None:
    db = national_database
    ledger = Ledger(db, SystemClock(), Appender(LogStorage(db)))
    indexer = Indexer(db)
    indexer.cursor()
    first, other = record("南京市公共交通刷卡数据"), record("南京市公共自行车站点信息")
    with db.transaction() as session:
        ledger._put(session, first, "320000")
        ledger._put(session, other, "320000")
    assert indexer.behind() == 2  # in the ledger, not yet in the index
    content = r.RegistrationContent()
    content.CopyFrom(first.registration.content)
    content.data_name = "南京市公交刷卡数据集"
    finder = DuplicateFinder(db)
    assert [c.registration for c in finder.find(content)] == [first.registration.name]
    # Deregistered meanwhile (still unindexed): no longer a candidate, though the index has it ACTIVE.
    indexer.catch_up()
    first.registration.state, first.revision = r.Registration.DEREGISTERED, 2
    with db.transaction() as session:
        ledger._put(session, first, "320000")
    assert indexer.behind() == 1 and finder.find(content) == []
    indexer.catch_up()
    assert finder.find(content) == []


def test_a_remembered_page_is_never_older_than_the_index_and_is_read_once_for_many_askers(
    national_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = national_database
    ledger = Ledger(db, SystemClock(), Appender(LogStorage(db)))
    indexer = Indexer(db)
    indexer.cursor()
    with db.transaction() as session:
        ledger._put(session, record("南京市气象观测数据"), "320000")
    indexer.catch_up()
    search = Search(db)
    reads: list[int] = []
    real = Search._search

    def counted(self: Search, *args: object) -> object:
        reads.append(1)
        time.sleep(0.05)  # a slow read: the other askers arrive while it runs
        return real(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(Search, "_search", counted)
    answers: list[int] = []
    askers = [
        threading.Thread(target=lambda: answers.append(search.search(SearchQuery(q="气象")).total))
        for _ in range(8)
    ]
    for asker in askers:
        asker.start()
    for asker in askers:
        asker.join(10)
    assert answers == [1] * 8 and len(reads) == 1
    assert search.search(SearchQuery(q="气象")).total == 1 and len(reads) == 1  # remembered
    # The ledger changes, and once the index has it the page is read again: a new registration shows.
    with db.transaction() as session:
        ledger._put(session, record("苏州市气象灾害预警"), "320000")
    assert search.search(SearchQuery(q="气象")).total == 1  # the index has not followed yet
    indexer.catch_up()
    page = search.search(SearchQuery(q="气象"))
    assert page.total == 2 and len(reads) == 2
    assert "苏州市气象灾害预警" in [row.data_name for row in page.items]


# -- as processes -------------------------------------------------------------------------------------


def _indexer_child(node: NodeProcess) -> int:
    assert node.process is not None
    for pid in child_pids(node.process.pid):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (FileNotFoundError, ProcessLookupError):  # it exited between the listing and the read
            continue
        if b"national_node.indexer" in cmdline:
            return pid
    return 0


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0]
    except (FileNotFoundError, ProcessLookupError):  # gone, or exiting as it is read
        return False
    return state != "Z"


def _indexed(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT count(*) FROM search_index").fetchone()[0]


@pytest.mark.slow
def test_the_indexer_child_comes_back_when_it_dies_and_dies_with_the_node(tmp_path: Path) -> None:
    database = tmp_path / "national.db"
    node = NodeProcess(
        "national_node",
        env={"REGISTRY_DATABASE_URL": f"sqlite:///{database}", "REGISTRY_INDEXER__IDLE_SECONDS": "0.05"},
        cwd=tmp_path,
    ).start()
    try:
        child = wait_until(lambda: _indexer_child(node), timeout=20, message="the indexer child")
        os.kill(child, signal.SIGKILL)
        again = wait_until(
            lambda: (pid := _indexer_child(node)) and pid != child and pid, timeout=20, message="a new child"
        )
        assert _alive(again) and not _alive(child)
        # Ledger changes written beside the node (as its sync would write them): the child follows them.
        db = Database(f"sqlite:///{database}")
        ledger = Ledger(db, SystemClock(), Appender(LogStorage(db)))
        with db.transaction() as session:
            for i in range(3):
                ledger._put(session, record(f"医保结算明细{i}"), "320000")
        db.dispose()
        wait_until(lambda: _indexed(database) == 3, timeout=30, message="the new child indexed the ledger")
        assert node.process is not None
        node.process.send_signal(signal.SIGKILL)
        node.process.wait(10)
        wait_until(lambda: not _alive(again), timeout=20, message="the child gone with its node")
    finally:
        node.kill()
