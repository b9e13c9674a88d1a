"""Gapless sequences and the provincial change log.

The trap: ids taken at insert become visible at commit, so with concurrent writers a reader polling
``id > last`` can pass over an id whose transaction commits later, and never see it. Here a number is
taken with ``INSERT ... ON CONFLICT DO UPDATE SET last = last + 1 RETURNING last`` in the transaction
that writes the entry. The counter row stays locked until that transaction ends, so the next writer
waits for it: numbers are handed out in commit order, a rolled-back transaction gives its number back,
and every number a reader can see has all smaller numbers visible before it. A reader polling
``sequence > last`` therefore never skips. (SQLite serialises writers anyway.)
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import func, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from common.clock import Clock
from common.gen.registry.v1 import registration_pb2 as r
from common.registration.models import RegistrationRow
from common.sync.models import ChangeRow, CounterRow
from common.sync.records import export_record, record_digest

__all__ = ["ChangeLog", "take_number"]

logger = logging.getLogger(__name__)

LOG = "changes"


def _insert(session: Session):  # noqa: ANN202 - the dialect's INSERT, which has ON CONFLICT
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def take_number(session: Session, name: str) -> int:
    """The next number of sequence ``name``; the caller's transaction holds the counter until it ends."""
    statement = _insert(session)(CounterRow).values(name=name, last=1)
    statement = statement.on_conflict_do_update(index_elements=["name"], set_={"last": CounterRow.last + 1})
    return session.execute(statement.returning(CounterRow.last)).scalar_one()


class ChangeLog:
    """The provincial node's log of every change to its registrations, written in the change's
    transaction (the hook the procedure calls), read by the sync daemon."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def record(self, session: Session, reg: RegistrationRow) -> r.Registration:
        record = export_record(session, reg)
        reg.digest = record_digest(record)
        session.add(reg)
        session.add(
            ChangeRow(
                sequence=take_number(session, LOG),
                uid=reg.uid,
                revision=reg.revision,
                record=record.SerializeToString(deterministic=True),
                committed_at=self.clock.now(),
            )
        )
        return record.registration

    @staticmethod
    def read(session: Session, *, after: int, limit: int) -> list[ChangeRow]:
        return list(
            session.exec(
                select(ChangeRow).where(ChangeRow.sequence > after).order_by(ChangeRow.sequence).limit(limit)
            )
        )

    @staticmethod
    def head(session: Session) -> tuple[int, datetime | None]:
        row = session.exec(select(ChangeRow).order_by(ChangeRow.sequence.desc()).limit(1)).first()  # type: ignore[union-attr]
        return (row.sequence, row.committed_at) if row else (0, None)

    @staticmethod
    def fast_forward(session: Session, to: int) -> None:
        """Never hand out a number at or below ``to`` again (after a restore from an old backup, the
        national node has acknowledged numbers this database no longer has)."""
        session.execute(_insert(session)(CounterRow).values(name=LOG, last=0).on_conflict_do_nothing())
        session.execute(
            update(CounterRow).where(CounterRow.name == LOG, CounterRow.last < to).values(last=to)
        )

    @staticmethod
    def count(session: Session) -> int:
        return session.exec(select(func.count()).select_from(ChangeRow)).one()
