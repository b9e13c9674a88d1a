"""Appending to the national log, in the ledger's own transaction.

Whoever writes to the ledger or assigns a code calls :meth:`Appender.add` in its transaction; the
entries are appended when that transaction commits (a ``before_commit`` hook of its session), so a
rolled-back change leaves nothing in the log and a committed one is always in it. The append takes its
indexes from a counter row locked until the commit, in commit order and without gaps, reads the
O(log n) stored subtree hashes it needs in one query, and inserts the entries and the subtree hashes
they complete (:class:`~national_node.tlog.storage.LogStorage`). It is the last thing a transaction
does, so the counter is held only for the moment of the commit. After the commit, ``on_appended`` is
told (the checkpoint signer signs at once).

The appender remembers the log's right edge as its last commit left it: the hashes of the perfect
subtrees that make up the tree of that size (at most one per level). Entries never change once
committed, so that edge stays true; when the next append starts at that size (no other process
appended in between), it needs no read at all. Otherwise it reads the edge of the size it starts at,
in the one query it needed anyway.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlmodel import Session, select

from common.transparency import subtrees_completed_by_batch
from common.transparency.entry import REGISTRATION
from national_node.models import CodeAssignmentRow, LedgerRow
from national_node.tlog.entries import (
    Pending,
    code_assignment_pending,
    registration_entry,
    registration_entry_bytes,
    registration_pending,
    set_log_index,
)
from national_node.tlog.storage import LogStorage

__all__ = ["Appender"]

logger = logging.getLogger(__name__)

_PENDING = "national_log_pending"
_APPENDED = "national_log_appended"

#: The log's right edge at a size: the hash of each perfect subtree the tree of that size is made of.
Edge = tuple[int, dict[tuple[int, int], bytes]]


def edge_keys(size: int) -> list[tuple[int, int]]:
    """The perfect subtrees (level, index) that a tree of ``size`` leaves is made of, largest first."""
    return [
        (level, (size >> level) - 1) for level in range(size.bit_length() - 1, -1, -1) if size >> level & 1
    ]


class Appender:
    """Appends entries to the log when the transaction that adds them commits."""

    def __init__(self, storage: LogStorage, *, on_appended: Callable[[], None] = lambda: None) -> None:
        self.storage = storage
        self.on_appended = on_appended
        self._edge: Edge = (0, {})  # as the newest commit of this process left it
        self._edge_lock = threading.Lock()

    def add(self, session: Session, pending: Pending) -> None:
        """Append ``pending`` when ``session``'s transaction commits."""
        queue: list[Pending] | None = session.info.get(_PENDING)
        if queue is None:
            queue = session.info[_PENDING] = []
            event.listen(session, "before_commit", self._before_commit)
            event.listen(session, "after_commit", self._after_commit)
        queue.append(pending)

    def flush(self, session: Session) -> None:
        """Append what ``session``'s transaction added so far, now: its entries learn their indexes
        (what is added after is appended at commit, or at the next flush)."""
        queue: list[Pending] | None = session.info.get(_PENDING)
        if queue:
            entries = list(queue)
            queue.clear()
            self.append(session, entries)

    def add_code_assignment(self, session: Session, row: Any) -> None:
        """A code assignment (a ``CodeAssignmentRow``)."""
        self.add(session, code_assignment_pending(row))

    def add_registration(
        self,
        session: Session,
        record: Any,
        record_sha256: str,
        content_sha256: str,
        *,
        at: datetime,
        row: Any,
    ) -> None:
        """A ledger change: the record as the ledger now holds it; ``row``, its ledger row, gets the
        entry's index as its ``log_index``."""
        data = registration_entry_bytes(record, record_sha256, content_sha256, at)
        self.add(session, Pending(data, set_log_index(row)))

    def _before_commit(self, session: Session) -> None:
        queue: list[Pending] = session.info.pop(_PENDING, [])
        if queue:
            self.append(session, queue)

    def _after_commit(self, session: Session) -> None:
        edge: Edge | None = session.info.pop(_APPENDED, None)
        if edge is not None:
            with self._edge_lock:
                if edge[0] > self._edge[0]:
                    self._edge = edge
            self.on_appended()

    def append(self, session: Session, entries: list[Pending]) -> int:
        """Append ``entries`` in ``session``'s transaction; returns the index of the first. The log's
        new right edge is remembered once the transaction commits (through :meth:`add`'s hook)."""
        # No autoflush: the ledger rows are flushed once, after this, with their log_index set.
        with session.no_autoflush:
            return self._append(session, entries)

    def _append(self, session: Session, entries: list[Pending]) -> int:
        storage = self.storage
        start = storage.take_indexes(session, len(entries))
        size, edge = session.info.get(_APPENDED) or self._edge  # this transaction's, if it appended
        if size != start:  # another process appended since (or this one has not yet)
            keys = edge_keys(start)
            edge = dict(storage.reader(session)(keys)) if keys else {}
        data = [e.data for e in entries]
        # Every stored subtree an append needs is on the edge of the size it starts at.
        hashes = subtrees_completed_by_batch(start, data, lambda keys: {k: edge[k] for k in keys})
        completed = {(level, index): h for level, index, h in hashes}
        storage.insert_entries(session, start, data, [completed[(0, start + i)] for i in range(len(entries))])
        for i, e in enumerate(entries):
            if e.on_index is not None:
                e.on_index(start + i)
        storage.insert_hashes(session, hashes)
        end = start + len(entries)
        session.info[_APPENDED] = (end, {key: completed.get(key) or edge[key] for key in edge_keys(end)})
        return start

    def backfill(self) -> int:
        """A ledger kept before the log existed: log every code assignment and ledger entry it holds, in
        the order they were made, once (only while the log is empty). Returns the entries appended."""
        from common.gen.registry.v1 import sync_pb2
        from common.sync.records import digests

        with self.storage.transaction() as session:
            if self.storage.size(session):
                self._link_ledger(session)
                return 0
            events: list[tuple[datetime, int, str, Pending]] = [
                (row.assigned_at, 0, row.code, code_assignment_pending(row))
                for row in session.exec(select(CodeAssignmentRow))
            ]
            for ledger in session.exec(select(LedgerRow)):
                record = sync_pb2.RegistrationRecord.FromString(ledger.record)
                digest, content = digests(record)
                entry = registration_pending(
                    registration_entry(record, digest, content), ledger.updated_at, ledger
                )
                events.append((ledger.updated_at, 1, ledger.uid, entry))
            if not events:
                return 0
            events.sort(key=lambda e: (e[0], e[1], e[2]))
            for start in range(0, len(events), 5000):
                self.append(session, [e[3] for e in events[start : start + 5000]])
        logger.warning(
            "the national log was empty: logged the %d entries of the existing ledger", len(events)
        )
        return len(events)

    def _link_ledger(self, session: Session) -> None:
        """Ledger rows logged before they pointed at their entries (a log kept by an earlier version):
        each learns the index of its revision's entry, read from the entries themselves, once."""
        unlinked = {(row.uid, row.revision): row for row in self.storage.unlinked_ledger_rows(session)}
        if not unlinked:
            return
        for entry in self.storage.all_entries(session):
            fields = json.loads(entry.entry)
            if fields.get("kind") != REGISTRATION:
                continue
            row = unlinked.get((fields.get("uid"), fields.get("revision")))
            if row is not None:
                row.log_index = entry.index
                session.add(row)
        logger.warning("linked %d ledger rows to their national log entries", len(unlinked))
