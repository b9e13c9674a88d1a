"""The national log: every code assignment and ledger change, appended in the same transaction.

What is appended, and how an entry is encoded, is documented in ``proto/registry/v1/log_service.proto``;
the hashing and proofs are :mod:`common.transparency`.

Appending. Whoever writes to the ledger or assigns a code calls :meth:`TransparencyLog.add` in its
transaction; the entries are appended when that transaction commits (a ``before_commit`` hook of its
session), so a rolled-back change leaves nothing in the log and a committed one is always in it. The
append takes its indexes from a counter row locked until the commit, in commit order and without gaps
(:func:`common.sync.sequences.take_numbers`), reads the O(log n) stored subtree hashes it needs in
one query, and inserts the entries and the subtree hashes they complete. It is the last thing a
transaction does, so the counter is held only for the moment of the commit.

Checkpoints. A thread of the node (:meth:`TransparencyLog.start`) signs a checkpoint when the log has
grown: at once after an append in this process (but not more often than every ``min_interval``
seconds, so that a stream of appends is not slowed by a write transaction between each two), and every
``interval`` seconds for appends by other processes on the same database. Signing is deterministic
(Ed25519), so two processes signing the same size write the same note.

Serving. Proofs are computed from the stored hashes and checked before they are served: an entry whose
stored bytes do not match its hashes is DATA_LOSS, never a proof that fails in a verifier's hands.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any

from sqlalchemy import and_, event, or_
from sqlmodel import Session, col, func, select

from common.clock import Clock
from common.db import Database, insert_for
from common.errors import DataLoss, FailedPrecondition, InvalidArgument, InvalidValue, NotFound
from common.sync.sequences import current, take_numbers
from common.transparency import (
    Checkpoint,
    CosignatureError,
    CosignatureVerifier,
    NoteError,
    Proof,
    ProofError,
    Signer,
    Verifier,
    consistency_proof,
    inclusion_proof,
    node_hash,
    root_hash,
    subtrees_completed_by_batch,
    verify_cosignature,
    verify_inclusion,
)
from common.transparency.entry import (
    CODE_ASSIGNMENT,
    ENTRY_VERSION,
    ORIGIN,
    REGISTRATION,
    WITNESS_KEY_PREFIX,
    canonical,
)
from common.transparency.note import append_signatures, parse_signature_line, sign_note
from national_node.models import CheckpointRow, CosignatureRow, LogEntryRow, LogHashRow

__all__ = [
    "COUNTER",
    "Pending",
    "TransparencyLog",
    "WitnessKeys",
    "entry_time",
    "registration_entry",
    "registration_entry_bytes",
]

logger = logging.getLogger(__name__)

#: The counter (``sequence_counters``) of the log's size.
COUNTER = "log"
_PENDING = "national_log_pending"
#: Subtree hashes are stored from this level up; below it they are folded from the leaf hashes (at
#: most 8 for a level-3 subtree) when a proof needs them. A batch of 500 entries then stores about 31
#: hashes instead of 500, and a proof reads at most 8 + 4 + 2 + 1 leaf hashes more.
STORED_LEVEL = 4
_HASHES = LogHashRow.__table__  # type: ignore[attr-defined]
#: How many of the newest checkpoints an inclusion proof chooses among (the most cosigned wins).
_CHOICE = 16


def _fold(hashes: list[bytes]) -> bytes:
    """The root of a perfect subtree from its leaf hashes (a power of two of them)."""
    while len(hashes) > 1:
        hashes = [node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
    return hashes[0]


def entry_time(at: datetime) -> str:
    """An entry's ``time``: RFC 3339, UTC, microseconds (``2026-12-01T10:00:00.123456Z``)."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")[:26] + "Z"


@dataclass(frozen=True, slots=True)
class Pending:
    """An entry waiting for its transaction's commit; ``on_index`` is told the index it gets (the
    ledger keeps it on its row, which is written in the same flush)."""

    data: bytes
    on_index: Callable[[int], None] | None = None


class WitnessKeys:
    """The witnesses' cosignature verifier keys, one C2SP key text per line of a file (``#`` starts a
    comment); a key's name is ``registry.data.gov.cn/witnesses/{region}``. Read again when the file
    changes, so a province that comes online can witness without a restart of the national node."""

    PREFIX = WITNESS_KEY_PREFIX

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._stamp: int | None = None
        self._keys: dict[str, CosignatureVerifier] = {}
        self._lock = threading.Lock()

    def keys(self) -> dict[str, CosignatureVerifier]:
        """Region -> verifier."""
        if self.path is None:
            return {}
        with self._lock:
            try:
                stamp = self.path.stat().st_mtime_ns
            except OSError:
                return self._keys
            if stamp != self._stamp:
                self._stamp, self._keys = stamp, self._load(self.path)
            return self._keys

    @classmethod
    def _load(cls, path: Path) -> dict[str, CosignatureVerifier]:
        keys: dict[str, CosignatureVerifier] = {}
        for number, raw in enumerate(path.read_text().splitlines(), 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            try:
                verifier = CosignatureVerifier.from_key(line)
            except NoteError as error:
                logger.error("%s line %d: not a cosignature verifier key (%s); ignored", path, number, error)
                continue
            if not verifier.name.startswith(cls.PREFIX):
                logger.error("%s line %d: %s is not a witness key name; ignored", path, number, verifier.name)
                continue
            keys[verifier.name.removeprefix(cls.PREFIX)] = verifier
        return keys


class TransparencyLog:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        signer: Signer,
        *,
        old_keys: Iterable[str] = (),
        witnesses: WitnessKeys | None = None,
        interval: float = 1.0,
        min_interval: float = 0.5,
    ) -> None:
        if signer.name != ORIGIN:
            raise ValueError(f"the log key is named {signer.name!r}; it must be named {ORIGIN!r}")
        self.db, self.clock, self.signer = db, clock, signer
        self.verifiers: list[Verifier] = [signer.verifier(), *(Verifier.from_key(k) for k in old_keys)]
        self.witnesses = witnesses or WitnessKeys(None)
        self.interval, self.min_interval = interval, min_interval
        self._grown = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- appending --------------------------------------------------------------------------------

    def add(self, session: Session, pending: Pending) -> None:
        """Append ``pending`` when ``session``'s transaction commits."""
        queue: list[Pending] | None = session.info.get(_PENDING)
        if queue is None:
            queue = session.info[_PENDING] = []
            event.listen(session, "before_commit", self._before_commit)
            event.listen(session, "after_commit", self._after_commit)
        queue.append(pending)

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
        self.add(session, Pending(data, _set_log_index(row)))

    def _before_commit(self, session: Session) -> None:
        queue: list[Pending] = session.info.pop(_PENDING, [])
        if queue:
            self.append(session, queue)
            session.info["national_log_appended"] = True

    def _after_commit(self, session: Session) -> None:
        if session.info.pop("national_log_appended", False):
            self._grown.set()

    def append(self, session: Session, entries: list[Pending]) -> int:
        """Append ``entries`` in ``session``'s transaction; returns the index of the first."""
        # No autoflush: the ledger rows are flushed once, after this, with their log_index set.
        with session.no_autoflush:
            return self._append(session, entries)

    def _append(self, session: Session, entries: list[Pending]) -> int:
        last = take_numbers(session, COUNTER, len(entries))
        start = last - len(entries)
        hashes = subtrees_completed_by_batch(start, [e.data for e in entries], self._reader(session))
        leaves = {index: h for level, index, h in hashes if level == 0}
        connection = session.connection()
        # The driver's executemany: a batch of 500 changes appends 500 entries, and going through
        # SQLAlchemy's per-row parameter processing would cost a third of the log's share of the batch.
        mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
        connection.exec_driver_sql(
            f'INSERT INTO log_entries ("index", entry, hash) VALUES ({mark}, {mark}, {mark})',
            [(start + i, e.data, leaves[start + i]) for i, e in enumerate(entries)],
        )
        for i, e in enumerate(entries):
            if e.on_index is not None:
                e.on_index(start + i)
        stored = [
            {"level": level, "index": index, "hash": h} for level, index, h in hashes if level >= STORED_LEVEL
        ]
        if stored:
            connection.execute(_HASHES.insert(), stored)
        return start

    @staticmethod
    def _reader(session: Session) -> Callable[[Collection[tuple[int, int]]], Mapping[tuple[int, int], bytes]]:
        """Subtree hashes by (level, index): level 0 from the entries, levels 1 to STORED_LEVEL - 1
        folded from the leaf hashes under them (at most 2**(STORED_LEVEL - 1) each), the rest stored."""

        def read(keys: Collection[tuple[int, int]]) -> Mapping[tuple[int, int], bytes]:
            low = [(level, index) for level, index in keys if level < STORED_LEVEL]
            high = [(level, index) for level, index in keys if level >= STORED_LEVEL]
            leaves: set[int] = set()
            for level, index in low:
                leaves.update(range(index << level, (index + 1) << level))
            leaf_hashes: dict[int, bytes] = {}
            wanted = sorted(leaves)
            for chunk in range(0, len(wanted), 500):
                leaf_rows = session.exec(
                    select(LogEntryRow.index, LogEntryRow.hash).where(
                        col(LogEntryRow.index).in_(wanted[chunk : chunk + 500])
                    )
                ).all()
                leaf_hashes.update({index: bytes(h) for index, h in leaf_rows})
            found: dict[tuple[int, int], bytes] = {}
            for level, index in low:
                first, end = index << level, (index + 1) << level
                if all(i in leaf_hashes for i in range(first, end)):
                    found[(level, index)] = _fold([leaf_hashes[i] for i in range(first, end)])
            # One condition per level (level = L AND index IN (...)), OR-ed: both SQLite and PostgreSQL
            # answer it from the primary key (a row-value IN makes SQLite scan the table).
            by_level: dict[int, list[int]] = {}
            for level, index in high:
                by_level.setdefault(level, []).append(index)
            if by_level:
                condition = or_(
                    *(
                        and_(col(LogHashRow.level) == level, col(LogHashRow.index).in_(indexes))
                        for level, indexes in by_level.items()
                    )
                )
                rows = session.exec(
                    select(LogHashRow.level, LogHashRow.index, LogHashRow.hash).where(condition)
                ).all()
                found.update({(level, index): bytes(h) for level, index, h in rows})
            missing = [k for k in keys if k not in found]
            if missing:
                raise DataLoss(
                    "LOG_HASHES_MISSING",
                    f"the log's stored hashes lack {len(missing)} subtrees, e.g. {missing[0]}",
                )
            return found

        return read

    def backfill(self) -> int:
        """A ledger kept before the log existed: log every code assignment and ledger entry it holds, in
        the order they were made, once (only while the log is empty). Returns the entries appended."""
        from common.gen.registry.v1 import sync_pb2
        from common.sync.records import digests
        from national_node.models import CodeAssignmentRow, LedgerRow

        with self.db.transaction() as session:
            if current(session, COUNTER):
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
        from national_node.models import LedgerRow

        unlinked = {
            (row.uid, row.revision): row
            for row in session.exec(select(LedgerRow).where(col(LedgerRow.log_index).is_(None)))
        }
        if not unlinked:
            return
        for entry in session.exec(select(LogEntryRow).order_by(col(LogEntryRow.index))):
            fields = json.loads(entry.entry)
            if fields.get("kind") != REGISTRATION:
                continue
            row = unlinked.get((fields.get("uid"), fields.get("revision")))
            if row is not None:
                row.log_index = entry.index
                session.add(row)
        logger.warning("linked %d ledger rows to their national log entries", len(unlinked))

    def root(self, size: int) -> bytes:
        """The root hash of the log's first ``size`` entries, from the stored hashes."""
        with self.db.transaction(write=False) as session:
            return root_hash(size, self._reader(session))

    def size(self) -> int:
        with self.db.transaction(write=False) as session:
            return current(session, COUNTER)

    # -- checkpoints ------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="checkpoints", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._grown.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._grown.wait(self.interval)
            self._grown.clear()
            if self._stop.is_set():
                return
            try:
                self.checkpoint()
            except Exception:  # the next round tries again; serving goes on
                logger.exception("signing a checkpoint failed")
                time.sleep(min(self.interval, 1.0))
            # At most one checkpoint per min_interval: under a stream of appends (a province catching
            # up) each would otherwise cost a write transaction of its own between the batches.
            self._stop.wait(self.min_interval)

    def checkpoint(self) -> CheckpointRow | None:
        """Sign a checkpoint of the log as it is now, unless its size has one; returns the newest."""
        with self.db.transaction(write=False) as session:
            size = current(session, COUNTER)
            newest = self._newest(session)
            if size == 0 or (newest is not None and newest.size >= size):
                return newest
            root = root_hash(size, self._reader(session))
        body = Checkpoint(ORIGIN, size, root).body()
        note = sign_note(body, [self.signer])
        row = CheckpointRow(size=size, root=root, note=note, created_at=self.clock.now())
        with self.db.transaction() as session:
            statement = insert_for(session)(CheckpointRow).values(
                size=row.size, root=row.root, note=row.note, created_at=row.created_at
            )
            session.execute(statement.on_conflict_do_nothing(index_elements=["size"]))
        return row

    @staticmethod
    def _newest(session: Session) -> CheckpointRow | None:
        return session.exec(select(CheckpointRow).order_by(col(CheckpointRow.size).desc()).limit(1)).first()

    def get_checkpoint(self, size: int = 0) -> tuple[CheckpointRow, list[CosignatureRow]]:
        with self.db.transaction(write=False) as session:
            row = self._newest(session) if size == 0 else session.get(CheckpointRow, size)
            if row is None:
                raise NotFound(
                    "CHECKPOINT_NOT_FOUND",
                    "no checkpoint has been issued yet"
                    if size == 0
                    else f"no checkpoint of tree size {size} was issued",
                    metadata={"field": "tree_size"},
                )
            return row, self._cosignatures(session, row.size)

    @staticmethod
    def _cosignatures(session: Session, size: int) -> list[CosignatureRow]:
        return list(
            session.exec(
                select(CosignatureRow)
                .where(CosignatureRow.size == size)
                .order_by(col(CosignatureRow.witness))
            )
        )

    @staticmethod
    def cosigned_note(row: CheckpointRow, cosignatures: list[CosignatureRow]) -> str:
        return append_signatures(row.note, [c.line for c in cosignatures]) if cosignatures else row.note

    # -- proofs -----------------------------------------------------------------------------------

    def find_entry(self, *, index: int | None = None, code: str = "", revision: int = 0) -> LogEntryRow:
        """An entry by index, or the entry of a code's registration as the ledger holds it now (which
        must be ``revision`` when given)."""
        from national_node.models import LedgerRow

        with self.db.transaction(write=False) as session:
            if index is None:
                ledger = session.exec(select(LedgerRow).where(LedgerRow.code == code)).first()
                if ledger is None or ledger.log_index is None:
                    raise NotFound(
                        "LOG_ENTRY_NOT_FOUND",
                        f"the national log has no registration entry of {code} (yet)",
                        metadata={"field": "code"},
                    )
                if revision and ledger.revision != revision:
                    raise NotFound(
                        "LOG_ENTRY_NOT_FOUND",
                        f"the national ledger holds revision {ledger.revision} of {code}, not {revision}"
                        " (yet)",
                        metadata={"field": "revision"},
                    )
                index = ledger.log_index
            row = session.get(LogEntryRow, index)
            if row is None:
                raise NotFound(
                    "LOG_ENTRY_NOT_FOUND",
                    f"the log has {current(session, COUNTER)} entries; there is no entry {index}",
                    metadata={"field": "index"},
                )
            return row

    def inclusion(
        self, entry: LogEntryRow, tree_size: int = 0
    ) -> tuple[list[bytes], CheckpointRow, list[CosignatureRow]]:
        """The inclusion path of ``entry`` in the checkpoint of ``tree_size`` (0: the best recent one),
        checked before it is returned."""
        with self.db.transaction(write=False) as session:
            if tree_size:
                checkpoint = session.get(CheckpointRow, tree_size)
                if checkpoint is None:
                    raise NotFound(
                        "CHECKPOINT_NOT_FOUND",
                        f"no checkpoint of tree size {tree_size} was issued",
                        metadata={"field": "tree_size"},
                    )
                if checkpoint.size <= entry.index:
                    raise InvalidArgument.for_field(
                        "tree_size",
                        InvalidValue(
                            "FIELD_OUT_OF_RANGE", f"entry {entry.index} is not in a tree of {tree_size}"
                        ),
                    )
                cosignatures = self._cosignatures(session, checkpoint.size)
            else:
                checkpoint, cosignatures = self._best_checkpoint(session, entry.index)
            path = inclusion_proof(entry.index, checkpoint.size, self._reader(session))
        try:
            verify_inclusion(entry.entry, entry.index, checkpoint.size, path, checkpoint.root)
        except ProofError:
            logger.error("log entry %d does not match the stored hashes: the log is damaged", entry.index)
            raise DataLoss(
                "LOG_DAMAGED",
                f"entry {entry.index} does not match the log's hashes; the national coordinators are told",
            ) from None
        return path, checkpoint, cosignatures

    def _best_checkpoint(self, session: Session, index: int) -> tuple[CheckpointRow, list[CosignatureRow]]:
        recent = list(
            session.exec(
                select(CheckpointRow)
                .where(col(CheckpointRow.size) > index)
                .order_by(col(CheckpointRow.size).desc())
                .limit(_CHOICE)
            )
        )
        if not recent:
            raise FailedPrecondition(
                "NOT_YET_CHECKPOINTED",
                f"entry {index} is in no checkpoint yet; one is issued within seconds",
                metadata={"index": str(index)},
            )
        counts = dict(
            session.exec(
                select(CosignatureRow.size, func.count())
                .where(col(CosignatureRow.size).in_([c.size for c in recent]))
                .group_by(col(CosignatureRow.size))
            ).all()
        )
        best = max(recent, key=lambda c: (counts.get(c.size, 0), c.size))
        return best, self._cosignatures(session, best.size)

    def tlog_proof(
        self,
        entry: LogEntryRow,
        path: list[bytes],
        checkpoint: CheckpointRow,
        cosignatures: list[CosignatureRow],
    ) -> str:
        return Proof(
            extra=entry.entry,
            index=entry.index,
            hashes=tuple(path),
            checkpoint_note=self.cosigned_note(checkpoint, cosignatures),
        ).format()

    def consistency(self, first: int, second: int) -> list[bytes]:
        with self.db.transaction(write=False) as session:
            newest = self._newest(session)
            limit = newest.size if newest is not None else 0
            for field, value in (("first_size", first), ("second_size", second)):
                if not 1 <= value <= limit:
                    raise InvalidArgument.for_field(
                        field,
                        InvalidValue(
                            "FIELD_OUT_OF_RANGE", f"must be from 1 to the newest checkpoint's {limit}"
                        ),
                    )
            if first > second:
                raise InvalidArgument.for_field(
                    "first_size", InvalidValue("FIELD_OUT_OF_RANGE", "must not be larger than second_size")
                )
            return consistency_proof(first, second, self._reader(session))

    def entries(self, start: int, limit: int) -> tuple[list[LogEntryRow], int]:
        with self.db.transaction(write=False) as session:
            size = current(session, COUNTER)
            rows = list(
                session.exec(
                    select(LogEntryRow)
                    .where(col(LogEntryRow.index) >= start)
                    .order_by(col(LogEntryRow.index))
                    .limit(limit)
                )
            )
        return rows, rows[-1].index + 1 if rows else min(start, size)

    def tlog_proof_of(self, code: str, revision: int) -> tuple[str, str]:
        """A confirmation's file (ConfirmationProofs, for the national node's own registrations)."""
        try:
            entry = self.find_entry(code=code, revision=revision)
            path, checkpoint, cosignatures = self.inclusion(entry)
        except (NotFound, FailedPrecondition, DataLoss) as error:
            return "", error.message
        return self.tlog_proof(entry, path, checkpoint, cosignatures), ""

    # -- witnesses --------------------------------------------------------------------------------

    def add_cosignature(
        self, region: str, size: int, line: str
    ) -> tuple[CheckpointRow, list[CosignatureRow]]:
        verifier = self.witnesses.keys().get(region)
        if verifier is None:
            raise FailedPrecondition(
                "WITNESS_UNKNOWN",
                f"the national node has no witness key of nodes/{region}",
                metadata={"node": f"nodes/{region}"},
            )
        text = line if line.endswith("\n") else line + "\n"
        with self.db.transaction(write=False) as session:
            checkpoint = session.get(CheckpointRow, size)
        if checkpoint is None:
            raise InvalidArgument.for_field(
                "tree_size",
                InvalidValue("FIELD_OUT_OF_RANGE", f"no checkpoint of tree size {size} was issued"),
            )
        body = Checkpoint(ORIGIN, checkpoint.size, checkpoint.root).body()  # what the log signed
        try:
            signature = parse_signature_line(text)
            timestamp = verify_cosignature(body, signature, verifier)
        except (NoteError, CosignatureError) as error:
            raise InvalidArgument.for_field(
                "signature", InvalidValue("COSIGNATURE_INVALID", f"does not verify: {error}")
            ) from None
        with self.db.transaction() as session:
            statement = insert_for(session)(CosignatureRow).values(
                size=size, witness=region, line=text, timestamp=timestamp, created_at=self.clock.now()
            )
            session.execute(statement.on_conflict_do_nothing(index_elements=["size", "witness"]))
        return self.get_checkpoint(size)

    def witnessed(self, region: str) -> CosignatureRow | None:
        with self.db.transaction(write=False) as session:
            return session.exec(
                select(CosignatureRow)
                .where(CosignatureRow.witness == region)
                .order_by(col(CosignatureRow.size).desc())
                .limit(1)
            ).first()


def code_assignment_pending(row: Any) -> Pending:
    """The entry of a code assignment (a ``CodeAssignmentRow``)."""
    entry = {
        "v": ENTRY_VERSION,
        "kind": CODE_ASSIGNMENT,
        "time": entry_time(row.assigned_at),
        "code": row.code,
        "issuer": row.issuer,
        "object_type": _object_type(row.object_type),
        "year": row.year % 100,
        "serial": row.serial,
        "registration": row.registration,
        "subject_uscc": row.subject_uscc,
        "requested_by": f"nodes/{row.requested_by}",
    }
    return Pending(canonical(entry, checked=False))


def registration_pending(fields: dict[str, Any], at: datetime, row: Any = None) -> Pending:
    """The entry of a ledger change whose registration ``fields`` :func:`registration_entry` made;
    ``row`` (its ``LedgerRow``) records the index the entry gets."""
    full = {"v": ENTRY_VERSION, "kind": REGISTRATION, "time": entry_time(at), **fields}
    return Pending(canonical(full, checked=False), _set_log_index(row) if row is not None else None)


def _set_log_index(row: Any) -> Callable[[int], None]:
    def set_index(index: int) -> None:
        row.log_index = index

    return set_index


def registration_entry(record: Any, record_sha256: str, content_sha256: str) -> dict[str, Any]:
    """The fields of a ``registration`` entry for a ledger record (``sync_pb2.RegistrationRecord``)."""
    from common.gen.registry.v1 import registration_pb2

    reg = record.registration
    content = reg.content
    entry: dict[str, Any] = {
        "uid": reg.uid,
        "registration": reg.name,
        "managing_node": reg.managing_node,
        "revision": record.revision,
        "state": registration_pb2.Registration.State.Name(reg.state),
        "object_type": registration_pb2.ObjectType.Name(reg.object_type),
        "version": reg.version,
        "data_name": content.data_name,
        "subject": {
            "central": content.subject.central,
            "name": content.subject.name,
            "uscc": content.subject.uscc,
        },
        "content_sha256": content_sha256,
        "record_sha256": record_sha256,
    }
    if reg.code:
        entry["code"] = reg.code
    for field in ("valid_from", "valid_until"):
        if reg.HasField(field):
            day = getattr(reg, field)
            entry[field] = f"{day.year:04d}-{day.month:02d}-{day.day:02d}"
    return entry


_STATES: dict[int, str] = {}
_TYPES: dict[int, str] = {}


def registration_entry_bytes(record: Any, record_sha256: str, content_sha256: str, at: datetime) -> bytes:
    """The canonical bytes of the ``registration`` entry of a ledger record: the same bytes as
    ``canonical({"v": 1, "kind": "registration", "time": ..., **registration_entry(...)})`` (a test
    holds them to it), written out directly because the ledger makes one for every change it takes:
    the keys in their sorted order, each string escaped as RFC 8785 (and ``json``) escapes it."""
    from common.gen.registry.v1 import registration_pb2

    reg = record.registration
    content = reg.content
    subject = content.subject
    state = _STATES.get(reg.state) or _STATES.setdefault(
        reg.state, registration_pb2.Registration.State.Name(reg.state)
    )
    object_type = _TYPES.get(reg.object_type) or _TYPES.setdefault(
        reg.object_type, registration_pb2.ObjectType.Name(reg.object_type)
    )
    q = encode_basestring
    parts = ["{"]
    if reg.code:
        parts.append(f'"code":{q(reg.code)},')
    parts.append(
        f'"content_sha256":{q(content_sha256)},"data_name":{q(content.data_name)},"kind":"registration",'
        f'"managing_node":{q(reg.managing_node)},"object_type":"{object_type}",'
        f'"record_sha256":{q(record_sha256)},"registration":{q(reg.name)},"revision":{int(record.revision)},'
        f'"state":"{state}","subject":{{"central":{"true" if subject.central else "false"},'
        f'"name":{q(subject.name)},"uscc":{q(subject.uscc)}}},"time":"{entry_time(at)}",'
        f'"uid":{q(reg.uid)},"v":{ENTRY_VERSION}'
    )
    for field in ("valid_from", "valid_until"):
        if reg.HasField(field):
            day = getattr(reg, field)
            parts.append(f',"{field}":"{day.year:04d}-{day.month:02d}-{day.day:02d}"')
    parts.append(f',"version":{int(reg.version)}}}')
    return "".join(parts).encode("utf-8")


def _object_type(number: int) -> str:
    from common.gen.registry.v1 import registration_pb2

    return registration_pb2.ObjectType.Name(number)
