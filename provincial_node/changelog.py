"""The provincial node's change log: every change to its registrations, in commit order, without gaps.

Written in the change's own transaction (the procedure's change hook), read by the sync daemon, which
streams it to the national ledger. Numbers come from :func:`common.sync.sequences.take_number`. The
log also carries a node's release of a registration to a transfer (:meth:`ChangeLog.release`), so
that the release reaches the ledger after every change made before it.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import Column, LargeBinary, func
from sqlmodel import Field, Session, SQLModel, col, select

from common.clock import Clock
from common.db import UTCDateTime
from common.gen.registry.v1 import sync_pb2
from common.registration.models import RegistrationRow
from common.sync import sequences
from common.sync.records import export_record, record_digest

__all__ = ["LOG", "ChangeLog", "ChangeRow", "CursorRow"]

logger = logging.getLogger(__name__)

#: The change log's sequence.
LOG = "changes"


class ChangeRow(SQLModel, table=True):
    """One entry of the change log (upward feed)."""

    __tablename__ = "changes"

    sequence: int = Field(primary_key=True)
    uid: str = Field(max_length=36)
    revision: int
    record: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    committed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    #: Set on the entry that releases the registration to this transfer (``Change.transfer_id``).
    transfer_id: str = Field(default="", max_length=36)


class CursorRow(SQLModel, table=True):
    """A position this node keeps (e.g. the last downward change it applied)."""

    __tablename__ = "sync_cursors"

    name: str = Field(primary_key=True, max_length=32)
    value: int = 0


class ChangeLog:
    """Writes the log (the procedure's change hook) and reads it (the sync daemon)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def record(self, session: Session, reg: RegistrationRow) -> None:
        record = export_record(session, reg)
        reg.digest = record_digest(record)
        session.add(reg)
        session.add(
            ChangeRow(
                sequence=sequences.take_number(session, LOG),
                uid=reg.uid,
                revision=reg.revision,
                record=record.SerializeToString(deterministic=True),
                committed_at=self.clock.now(),
            )
        )

    def release(self, session: Session, record: sync_pb2.RegistrationRecord, transfer_id: str) -> ChangeRow:
        """The entry that releases a registration to a transfer: after every change the node accepted
        before it (the number is taken under the same lock as theirs), and the node changes the
        registration no more."""
        row = ChangeRow(
            sequence=sequences.take_number(session, LOG),
            uid=record.registration.uid,
            revision=record.revision,
            record=record.SerializeToString(deterministic=True),
            committed_at=self.clock.now(),
            transfer_id=transfer_id,
        )
        session.add(row)
        return row

    @staticmethod
    def read(session: Session, *, after: int, limit: int) -> list[ChangeRow]:
        return list(
            session.exec(
                select(ChangeRow)
                .where(col(ChangeRow.sequence) > after)
                .order_by(col(ChangeRow.sequence))
                .limit(limit)
            )
        )

    @staticmethod
    def head(session: Session) -> tuple[int, datetime | None]:
        row = session.exec(select(ChangeRow).order_by(col(ChangeRow.sequence).desc()).limit(1)).first()
        return (row.sequence, row.committed_at) if row else (0, None)

    @staticmethod
    def fast_forward(session: Session, to: int) -> None:
        """Never hand out a number at or below ``to`` again (after a restore from an old backup, the
        national node has acknowledged numbers this database no longer has)."""
        sequences.fast_forward(session, LOG, to)

    @staticmethod
    def count(session: Session) -> int:
        total: int = session.exec(select(func.count()).select_from(ChangeRow)).one()
        return total
