"""The national log's storage: its tables, behind the one interface the other parts use.

As Trillian keeps its log storage behind an interface, the appender, the checkpoint signer, the
witnesses' cosignatures and the proof server write no SQL of their own: they call :class:`LogStorage`,
each method inside a transaction its caller holds (the appender's is the ledger's own transaction, so
the log and the ledger commit together). The tables are
:class:`~national_node.models.LogEntryRow` (an entry's index, bytes and leaf hash),
:class:`~national_node.models.LogHashRow` (the hash of every complete subtree from
:data:`STORED_LEVEL` up), :class:`~national_node.models.CheckpointRow` and
:class:`~national_node.models.CosignatureRow`. The log's size is a gapless counter
(:func:`common.sync.sequences.take_numbers`), and a ledger row points at its revision's entry.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import and_, or_
from sqlmodel import Session, col, func, select

from common.db import Database, insert_for
from common.errors import DataLoss
from common.sync.sequences import current
from common.transparency import node_hash
from national_node.driver import Driver
from national_node.models import CheckpointRow, CosignatureRow, LedgerRow, LogEntryRow, LogHashRow

__all__ = ["COUNTER", "STORED_LEVEL", "HashReader", "LogStorage"]

#: The counter (``sequence_counters``) of the log's size.
COUNTER = "log"
#: Subtree hashes are stored from this level up; below it they are folded from the leaf hashes (at
#: most 8 for a level-3 subtree) when a proof needs them. A batch of 500 entries then stores about 31
#: hashes instead of 500, and a proof reads at most 8 + 4 + 2 + 1 leaf hashes more.
STORED_LEVEL = 4

#: Subtree hashes by (level, index), as :mod:`common.transparency.merkle` asks for them.
HashReader = Callable[[Collection[tuple[int, int]]], Mapping[tuple[int, int], bytes]]


def _fold(hashes: list[bytes]) -> bytes:
    """The root of a perfect subtree from its leaf hashes (a power of two of them)."""
    while len(hashes) > 1:
        hashes = [node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
    return hashes[0]


class LogStorage:
    """The national log's tables in the node's database (SQLite or PostgreSQL)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Session]:
        """A transaction of its own, for a part of the log that is not inside the ledger's."""
        with self.db.transaction(write=write) as session:
            yield session

    # -- entries and subtree hashes ---------------------------------------------------------------

    @staticmethod
    def size(session: Session) -> int:
        return current(session, COUNTER)

    @staticmethod
    def take_indexes(session: Session, count: int) -> int:
        """The first of ``count`` new indexes, from a counter locked until the transaction ends: indexes
        are taken in commit order and without gaps (:func:`common.sync.sequences.take_numbers`, sent
        through the driver: it is in every transaction that writes the ledger or assigns a code)."""
        if count < 1:
            raise ValueError(f"take at least one index, not {count}")
        driver = Driver(session)
        ((last,),) = driver.rows(
            f"INSERT INTO sequence_counters (name, last) VALUES ({driver.marks(2)}) ON CONFLICT (name)"
            " DO UPDATE SET last = sequence_counters.last + excluded.last RETURNING last",
            (COUNTER, count),
        )
        return int(last) - count

    @staticmethod
    def insert_entries(
        session: Session, start: int, entries: Sequence[bytes], leaves: Sequence[bytes]
    ) -> None:
        """Entries ``start``, ``start + 1``, ... with their leaf hashes."""
        # The driver's executemany: a batch of 500 changes appends 500 entries, and going through
        # SQLAlchemy's per-row parameter processing would cost a third of the log's share of the batch.
        driver = Driver(session)
        driver.many(
            f'INSERT INTO log_entries ("index", entry, hash) VALUES ({driver.marks(3)})',
            [(start + i, data, leaf) for i, (data, leaf) in enumerate(zip(entries, leaves, strict=True))],
        )

    @staticmethod
    def insert_hashes(session: Session, hashes: Iterable[tuple[int, int, bytes]]) -> None:
        """The hashes of completed subtrees, ``(level, index, hash)``, of the levels that are stored."""
        stored = [(level, index, h) for level, index, h in hashes if level >= STORED_LEVEL]
        if stored:
            driver = Driver(session)
            driver.many(f'INSERT INTO log_hashes (level, "index", hash) VALUES ({driver.marks(3)})', stored)

    @staticmethod
    def reader(session: Session) -> HashReader:
        """Subtree hashes by (level, index): level 0 from the entries, levels 1 to STORED_LEVEL - 1
        folded from the leaf hashes under them (at most 2**(STORED_LEVEL - 1) each), the rest stored.
        A subtree the storage lacks is DATA_LOSS."""

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

    @staticmethod
    def entry(session: Session, index: int) -> LogEntryRow | None:
        return session.get(LogEntryRow, index)

    @staticmethod
    def entries(session: Session, start: int, limit: int) -> list[LogEntryRow]:
        """Up to ``limit`` entries from ``start`` on, in order."""
        return list(
            session.exec(
                select(LogEntryRow)
                .where(col(LogEntryRow.index) >= start)
                .order_by(col(LogEntryRow.index))
                .limit(limit)
            )
        )

    @staticmethod
    def all_entries(session: Session) -> Iterator[LogEntryRow]:
        return iter(session.exec(select(LogEntryRow).order_by(col(LogEntryRow.index))))

    # -- the ledger's pointers at its entries -------------------------------------------------------

    @staticmethod
    def ledger_row(session: Session, code: str) -> LedgerRow | None:
        """The ledger's row of a code: its revision and the index of that revision's entry."""
        return session.exec(select(LedgerRow).where(LedgerRow.code == code)).first()

    @staticmethod
    def unlinked_ledger_rows(session: Session) -> list[LedgerRow]:
        """Ledger rows that do not point at their entry yet (kept by an earlier version)."""
        return list(session.exec(select(LedgerRow).where(col(LedgerRow.log_index).is_(None))))

    # -- checkpoints and cosignatures ---------------------------------------------------------------

    @staticmethod
    def newest_checkpoint(session: Session) -> CheckpointRow | None:
        return session.exec(select(CheckpointRow).order_by(col(CheckpointRow.size).desc()).limit(1)).first()

    @staticmethod
    def checkpoint(session: Session, size: int) -> CheckpointRow | None:
        return session.get(CheckpointRow, size)

    @staticmethod
    def checkpoints_containing(session: Session, index: int, limit: int) -> list[CheckpointRow]:
        """The newest ``limit`` checkpoints whose tree holds entry ``index``, newest first."""
        return list(
            session.exec(
                select(CheckpointRow)
                .where(col(CheckpointRow.size) > index)
                .order_by(col(CheckpointRow.size).desc())
                .limit(limit)
            )
        )

    @staticmethod
    def insert_checkpoint(session: Session, row: CheckpointRow) -> None:
        """Keep a signed checkpoint; one of that size kept already stays (signing is deterministic, so
        two processes signing the same size wrote the same note)."""
        statement = insert_for(session)(CheckpointRow).values(
            size=row.size, root=row.root, note=row.note, created_at=row.created_at
        )
        session.execute(statement.on_conflict_do_nothing(index_elements=["size"]))

    @staticmethod
    def cosignatures(session: Session, size: int) -> list[CosignatureRow]:
        """The cosignatures of the checkpoint of ``size``, by witness."""
        return list(
            session.exec(
                select(CosignatureRow)
                .where(CosignatureRow.size == size)
                .order_by(col(CosignatureRow.witness))
            )
        )

    @staticmethod
    def cosignature_counts(session: Session, sizes: Collection[int]) -> dict[int, int]:
        """How many cosignatures each checkpoint of ``sizes`` has (those with none are left out)."""
        return dict(
            session.exec(
                select(CosignatureRow.size, func.count())
                .where(col(CosignatureRow.size).in_(list(sizes)))
                .group_by(col(CosignatureRow.size))
            ).all()
        )

    @staticmethod
    def insert_cosignature(
        session: Session, *, size: int, witness: str, line: str, timestamp: int, at: datetime
    ) -> None:
        """Keep a witness's cosignature; adding it again changes nothing."""
        statement = insert_for(session)(CosignatureRow).values(
            size=size, witness=witness, line=line, timestamp=timestamp, created_at=at
        )
        session.execute(statement.on_conflict_do_nothing(index_elements=["size", "witness"]))

    @staticmethod
    def witnesses_of_newest(session: Session, count: int) -> set[str]:
        """The witnesses that cosigned any of the newest ``count`` checkpoints: those keeping up."""
        newest = select(CheckpointRow.size).order_by(col(CheckpointRow.size).desc()).limit(count).subquery()
        return set(
            session.exec(
                select(CosignatureRow.witness)
                .distinct()
                .where(col(CosignatureRow.size).in_(select(newest.c.size)))
            )
        )

    @staticmethod
    def newest_cosignature(session: Session, witness: str) -> CosignatureRow | None:
        return session.exec(
            select(CosignatureRow)
            .where(CosignatureRow.witness == witness)
            .order_by(col(CosignatureRow.size).desc())
            .limit(1)
        ).first()
