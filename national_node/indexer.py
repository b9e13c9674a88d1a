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
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime

from sqlalchemy.exc import DBAPIError
from sqlmodel import col, select

from common.db import Database, insert_for
from common.gen.registry.v1 import sync_pb2
from common.process import run_process
from common.sync.sequences import current
from national_node.models import LedgerRow, SearchCursorRow
from national_node.search import CURSOR, SearchIndex, index_behind, index_version, log_entries
from national_node.settings import IndexerSettings, NationalSettings
from national_node.tlog import COUNTER

__all__ = ["Indexer", "IndexerChild", "IndexerProcess", "main"]

logger = logging.getLogger(__name__)


class Indexer:
    """One follower of the log; :meth:`run_once` is one round, :meth:`follow` rounds until stopped."""

    def __init__(self, db: Database, *, batch: int = 1000, index: SearchIndex | None = None) -> None:
        self.db, self.batch = db, batch
        self.index = index or SearchIndex()
        self._cursor: int | None = None

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

    def follow(self, stopping: threading.Event, *, idle_seconds: float = 0.2) -> None:
        """Rounds until ``stopping`` is set: ``idle_seconds`` apart once caught up; while behind, each
        followed by a pause as long as it took. A database that fails (restarting, locked) is tried
        again, up to 30 s apart."""
        failures = 0
        while not stopping.is_set():
            started = time.monotonic()
            try:
                followed = self.run_once()
                failures = 0
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


class IndexerProcess:
    """The indexer following in a thread, at its CPU priority: what :func:`common.process.run_process`
    runs (``python -m national_node.indexer``), and what the node's child runs."""

    def __init__(self, database_url: str, config: IndexerSettings) -> None:
        self.config = config
        self.db = Database(database_url, pool_size=2)
        self.indexer = Indexer(self.db, batch=self.config.batch)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._follow, name="indexer", daemon=True)
        self.announcement = "following the national log"

    def _follow(self) -> None:
        self.indexer.follow(self.stopping, idle_seconds=self.config.idle_seconds)

    def start(self) -> None:
        if self.config.nice:
            os.nice(self.config.nice)
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(30)
        self.db.dispose()


class IndexerChild:
    """The indexer as a child process of the national node, started and stopped with it.

    Its settings go to it on its standard input, which it keeps reading: when the node ends, however
    it ends (kill -9 included), the pipe closes and the child stops. A child that dies is started
    again, up to a minute apart."""

    def __init__(self, settings: NationalSettings) -> None:
        self.settings = {
            "database_url": settings.database_url,
            "log_level": settings.log_level,
            "indexer": settings.indexer.model_dump(mode="json"),
        }
        self.stopping = threading.Event()
        self.process: subprocess.Popen[bytes] | None = None
        self.lock = threading.Lock()
        self.watcher = threading.Thread(target=self._watch, name="indexer-child", daemon=True)

    def start(self) -> None:
        self._spawn()
        self.watcher.start()

    def _spawn(self) -> None:
        with self.lock:
            if self.stopping.is_set():
                return
            process = subprocess.Popen(
                [sys.executable, "-m", "national_node.indexer", "--child"], stdin=subprocess.PIPE
            )
            assert process.stdin is not None
            process.stdin.write(json.dumps(self.settings).encode() + b"\n")
            process.stdin.flush()
            self.process = process

    def _watch(self) -> None:
        restarts = 0
        while not self.stopping.is_set():
            process = self.process
            if process is None:
                return
            code = process.wait()
            if self.stopping.is_set():
                return
            restarts += 1
            wait = min(60.0, 2.0**restarts)
            logger.error("the search indexer exited with status %s; starting it again in %.0f s", code, wait)
            if self.stopping.wait(wait):
                return
            self._spawn()

    def stop(self) -> None:
        with self.lock:
            self.stopping.set()
            process = self.process
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()  # the child's signal to stop
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _child() -> int:
    """The child's side of :class:`IndexerChild`: settings from stdin, stop when stdin closes."""
    given = json.loads(sys.stdin.buffer.readline())
    config = IndexerSettings.model_validate(given["indexer"])
    logging.basicConfig(
        level=str(given["log_level"]).upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    process = IndexerProcess(given["database_url"], config)
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
        lambda settings: IndexerProcess(settings.database_url, settings.indexer),
        args,
    )


if __name__ == "__main__":
    sys.exit(main())
