"""Gapless sequences: the numbers of the provincial change log and of the national downward feeds.

The trap: ids taken at insert become visible at commit, so with concurrent writers a reader polling
``id > last`` can pass over an id whose transaction commits later, and never see it. Here a number is
taken with ``INSERT ... ON CONFLICT DO UPDATE SET last = last + 1 RETURNING last`` in the transaction
that writes the entry. The counter row stays locked until that transaction ends, so the next writer
waits for it: numbers are handed out in commit order, a rolled-back transaction gives its number back,
and every number a reader can see has all smaller numbers visible before it. A reader polling
``sequence > last`` therefore never skips. (SQLite serialises writers anyway.)
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, Session, SQLModel, col

from common.db import insert_for

__all__ = ["CounterRow", "current", "fast_forward", "take_number", "take_numbers"]


class CounterRow(SQLModel, table=True):
    """A gapless sequence: the last number handed out."""

    __tablename__ = "sequence_counters"

    name: str = Field(primary_key=True, max_length=32)
    last: int = 0


def take_number(session: Session, name: str) -> int:
    """The next number of sequence ``name``; the caller's transaction holds the counter until it ends."""
    return take_numbers(session, name, 1)


def take_numbers(session: Session, name: str, count: int) -> int:
    """Take ``count`` (at least 1) consecutive numbers of sequence ``name`` at once; returns the last.
    The caller's transaction holds the counter until it ends."""
    if count < 1:
        raise ValueError(f"take at least one number, not {count}")
    connection = session.connection()
    number: int = connection.execute(
        _take_statement(connection.dialect.name), {"name": name, "count": count}
    ).scalar_one()
    return number


@functools.cache
def _take_statement(dialect: str) -> Any:
    """``INSERT ... ON CONFLICT DO UPDATE SET last = last + count RETURNING last``, built once per
    dialect (it runs in every transaction that writes a log entry)."""
    table = CounterRow.__table__  # type: ignore[attr-defined]
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table).values(name=bindparam("name"), last=bindparam("count"))
    return statement.on_conflict_do_update(
        index_elements=["name"], set_={"last": table.c.last + statement.excluded.last}
    ).returning(table.c.last)


def current(session: Session, name: str) -> int:
    """The last number handed out (0 for none), as far as this transaction sees."""
    row = session.get(CounterRow, name)
    return row.last if row is not None else 0


def fast_forward(session: Session, name: str, to: int) -> None:
    """Never hand out a number at or below ``to`` again."""
    session.execute(insert_for(session)(CounterRow).values(name=name, last=0).on_conflict_do_nothing())
    session.execute(
        update(CounterRow).where(col(CounterRow.name) == name, col(CounterRow.last) < to).values(last=to)
    )
