"""The search indexer: follows the national log and keeps the search index in step with the ledger.

Every change the ledger takes is an entry of the national log (:mod:`national_node.tlog`), numbered
in commit order. The indexer reads the entries after its cursor (``search_cursor``), takes the
ledger's current record of each registration they name, makes its search row (segmenting its text
is most of the work) outside any transaction, and then writes the rows and advances the cursor in one
short transaction. So:

* the ledger's transactions do no indexing: a sync batch costs what it cost before the index existed;
* a registration is findable once the indexer's next round has run (``idle_seconds`` after the
  commit when the machine is idle; further behind during a burst, which it catches up after);
* a crash repeats a batch at most (rows are written by uid, so repeating is harmless), and two
  indexers on one database cannot both advance the cursor from the same place.

It runs as a child process of the national node (``[indexer] embedded = true``, the default), in its
own interpreter so that segmenting never holds the node's GIL, at a lower CPU priority; or on its own::

    python -m national_node.indexer --config deploy/national.toml
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.exc import DBAPIError
from sqlmodel import col, select

from common import logs, regions
from common.db import Database, insert_for
from common.gen.registry.v1 import sync_pb2
from common.leases import Leases
from common.metrics.telemetry import Telemetry
from common.process import run_process
from common.settings import DatabaseSettings
from common.sync.sequences import current
from national_node.indexer_child import IndexerChild
from national_node.models import CheckpointRow, LedgerRow, SearchCursorRow
from national_node.search import CURSOR, SearchIndex, index_behind, index_version, log_entries
from national_node.settings import IndexerSettings, NationalSettings
from national_node.tlog.storage import COUNTER

__all__ = ["INDEXER_CONNECTIONS", "Indexer", "IndexerChild", "IndexerProcess", "main"]

logger = logging.getLogger(__name__)


class Indexer:
    """One follower of the log; :meth:`run_once` is one round, :meth:`follow` rounds until stopped."""

    def __init__(self, db: Database, *, batch: int = 1000, index: SearchIndex | None = None) -> None:
        self.db, self.batch = db, batch
        self.index = index or SearchIndex()
        self._cursor: int | None = None
        #: Told how many entries each round of :meth:`follow` followed (the metrics count them).
        self.on_round: Callable[[int], None] | None = None

    def cursor(self) -> int:
        """The next log index to read. The first time on a database: the ledger is indexed as it is
        (:meth:`SearchIndex.backfill`), and the log is followed from the size it had before that."""
        if self._cursor is not None:
            return self._cursor
        with self.db.transaction(write=False) as session:
            self._cursor = index_version(session)
            size = current(session, COUNTER)
        if self._cursor is not None:
            return self._cursor
        self.index.backfill(self.db)
        with self.db.transaction() as session:
            statement = insert_for(session)(SearchCursorRow).values(
                name=CURSOR, next_index=size, updated_at=datetime.now(UTC)
            )
            session.execute(statement.on_conflict_do_nothing(index_elements=["name"]))
            self._cursor = index_version(session)  # ours, or another indexer's that was first
        assert self._cursor is not None
        return self._cursor

    def behind(self) -> int:
        """Log entries the index has not followed yet."""
        self.cursor()  # the first start indexes the ledger first
        with self.db.transaction(write=False) as session:
            return index_behind(session) or 0

    def run_once(self) -> int:
        """Follow up to ``batch`` log entries; returns how many were followed (0: none new)."""
        start = self.cursor()
        with self.db.transaction(write=False) as session:
            entries = log_entries(session, start, self.batch)
            if not entries:
                return 0
            # The registrations they name, each once, in log order.
            uids = list(dict.fromkeys(e["uid"] for _, e in entries if e.get("kind") == "registration"))
            records: dict[str, bytes] = {}
            for chunk in range(0, len(uids), 500):
                wanted = uids[chunk : chunk + 500]
                found = session.exec(
                    select(LedgerRow.uid, LedgerRow.record).where(col(LedgerRow.uid).in_(wanted))
                )
                records.update((uid, bytes(record)) for uid, record in found)
            known = self.index.known(session, uids)
        now = datetime.now(UTC)
        rows = []
        for uid in uids:
            if uid in records:  # always, unless a ledger row was removed by hand
                row = self.index.row(
                    sync_pb2.RegistrationRecord.FromString(records[uid]), known[uid], now=now
                )
                if row is not None:
                    rows.append(row)
        end = entries[-1][0] + 1
        with self.db.transaction() as session:
            cursor = session.exec(
                select(SearchCursorRow).where(SearchCursorRow.name == CURSOR).with_for_update()
            ).one()
            if cursor.next_index != start:
                # Another indexer followed these entries meanwhile: start again from where it got.
                self._cursor = cursor.next_index
                return 0
            self.index.write(session, rows)
            cursor.next_index, cursor.updated_at = end, now
            session.add(cursor)
        self._cursor = end
        return len(entries)

    def catch_up(self) -> int:
        """Rounds until nothing is new; returns the entries this indexer followed. (A round that
        finds another indexer ahead of it follows nothing, and the next starts from where that got.)"""
        total = 0
        while (followed := self.run_once()) or self.behind():
            total += followed
        return total

    def follow(
        self,
        stopping: threading.Event,
        *,
        idle_seconds: float = 0.2,
        on_duty: Callable[[], bool] = lambda: True,
    ) -> None:
        """Rounds until ``stopping`` is set: ``idle_seconds`` apart once caught up; while behind, each
        followed by a pause as long as it took. A database that fails (restarting, locked) is tried
        again, up to 30 s apart. Rounds run only while ``on_duty()`` (the ``indexer`` lease held)."""
        failures = 0
        while not stopping.is_set():
            if not on_duty():
                self._cursor = None  # another indexer moves it meanwhile
                stopping.wait(max(idle_seconds, 0.5))
                continue
            started = time.monotonic()
            try:
                followed = self.run_once()
                failures = 0
                if self.on_round is not None:
                    self.on_round(followed)
            except Exception as error:
                failures += 1
                wait = min(30.0, 0.5 * 2**failures)
                if isinstance(error, DBAPIError):  # the database restarting, locked, unreachable
                    logger.warning(
                        "indexing failed (%s); trying again in %.1f s", error.__class__.__name__, wait
                    )
                else:
                    logger.exception("indexing failed; trying again in %.1f s", wait)
                self._cursor = None  # read it again: the failed round may have been the other's
                stopping.wait(wait)
                continue
            # At most half of the time working, even while behind: a sync burst keeps the machine
            # (and the rounds grow, so a registration changed several times in one is written once).
            stopping.wait(max(idle_seconds if followed < self.batch else 0.0, time.monotonic() - started))


# -- as a process ------------------------------------------------------------------------------------


#: Connections the indexer holds to the database, at most (part of its host's budget when embedded).
INDEXER_CONNECTIONS = 2


class IndexerProcess:
    """The indexer following in a thread, at its CPU priority: what :func:`common.process.run_process`
    runs (``python -m national_node.indexer``), and what the node's child runs."""

    def __init__(
        self, database_url: str, config: IndexerSettings, database: DatabaseSettings | None = None
    ) -> None:
        self.config = config
        database = database or DatabaseSettings()
        self.db = Database(
            database_url,
            pool_size=INDEXER_CONNECTIONS,
            pool_timeout=database.pool_timeout,
            prepared_statements=database.prepared_statements,
        )
        self.indexer = Indexer(self.db, batch=self.config.batch)
        # One indexer follows the log at a time, however many hosts run one: the holder of the lease.
        self.leases = Leases(self.db, ["indexer"])
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._follow, name="indexer", daemon=True)
        self.announcement = "following the national log"
        self.telemetry = Telemetry.of(config.metrics)
        if self.telemetry is not None:
            self._watch(self.telemetry)

    def _watch(self, telemetry: Telemetry) -> None:
        """``registry_indexer_*``: how far the search index is behind the log, in entries and in
        seconds (since the first checkpoint that holds an entry not indexed yet: 0 when caught up),
        whether this indexer holds the lease, and the entries it followed."""
        telemetry.watch_database(self.db)
        lag_entries = telemetry.gauge(
            "registry_indexer_lag_entries", "National log entries the search index has not followed yet."
        )
        lag_seconds = telemetry.gauge(
            "registry_indexer_lag_seconds",
            "Time since the first checkpoint holding a log entry the index has not followed (0: none).",
        )
        leader = telemetry.gauge(
            "registry_indexer_leader", "1 when this indexer holds the lease and follows the log, else 0."
        )
        followed = telemetry.counter(
            "registry_indexer_entries_followed_total", "National log entries this indexer followed."
        )
        self.indexer.on_round = followed.inc

        def lag() -> None:
            with self.db.transaction(write=False) as session:
                size = current(session, COUNTER)
                version = index_version(session)
                start = 0 if version is None else version
                oldest = session.exec(
                    select(CheckpointRow.created_at)
                    .where(col(CheckpointRow.size) > start)
                    .order_by(col(CheckpointRow.size))
                    .limit(1)
                ).first()
            behind = max(0, size - start)
            lag_entries.set(behind)
            lag_seconds.set(max(0.0, time.time() - oldest.timestamp()) if behind and oldest else 0.0)
            leader.set(1 if self.leases.held("indexer") else 0)

        telemetry.sample("the search index's lag", lag)

    def _follow(self) -> None:
        self.indexer.follow(
            self.stopping, idle_seconds=self.config.idle_seconds, on_duty=lambda: self.leases.held("indexer")
        )

    def start(self) -> None:
        if self.config.nice:
            os.nice(self.config.nice)
        self.leases.start()
        self.thread.start()
        if self.telemetry is not None:
            self.telemetry.start()

    def stop(self) -> None:
        self.stopping.set()
        if self.telemetry is not None:
            self.telemetry.stop()
        self.thread.join(30)
        self.leases.stop()
        self.db.dispose()


def _child() -> int:
    """The child's side of :class:`IndexerChild`: settings from stdin, stop when stdin closes."""
    given = json.loads(sys.stdin.buffer.readline())
    config = IndexerSettings.model_validate(given["indexer"])
    logs.configure(
        str(given["log_level"]), given.get("log_format", "text"), node=regions.NATIONAL, role="indexer"
    )
    database = DatabaseSettings.model_validate(given.get("database", {}))
    process = IndexerProcess(given["database_url"], config, database)
    stopping = process.stopping
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent's Ctrl-C: the parent stops us
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())

    def parent_gone() -> None:
        sys.stdin.buffer.read()  # returns at end of file: the parent closed the pipe or is gone
        stopping.set()
        # A round (or the first start's indexing of a whole ledger) that does not end soon is cut
        # short: it is repeated by the next indexer, as after a crash.
        time.sleep(10)
        logger.warning("the search indexer did not stop within 10 s of its node; exiting now")
        os._exit(0)

    threading.Thread(target=parent_gone, name="parent", daemon=True).start()
    process.start()
    while not stopping.wait(0.5):
        pass
    process.stop()
    logger.info("the search indexer stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["--child"]:
        return _child()
    if "--child" in args:
        argparse.ArgumentParser(prog="national_node.indexer").error("--child takes no other argument")
    return run_process(
        "national_node.indexer",
        "The search indexer: follows the national log and keeps the public search index in step.",
        lambda path: NationalSettings.load(path),
        lambda settings: IndexerProcess(settings.database_url, settings.indexer, settings.database),
        args,
    )


if __name__ == "__main__":
    sys.exit(main())
