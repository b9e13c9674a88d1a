"""Statements sent straight to the database driver, inside a session's transaction.

SQLAlchemy's execution of even a compiled and cached statement costs a few hundred microseconds of CPU
here, several times what the driver itself spends on it. The hot paths (a group of code assignments,
the log's append) therefore send their few statements through the driver (DB-API) cursor of the
session's own connection, in the same transaction, in SQL that SQLite and PostgreSQL both take. Values
whose storage SQLAlchemy's types decide (timestamps on SQLite) go through those types' own bind and
result processors, so that the rows are the same as SQLAlchemy writes and reads them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Column
from sqlalchemy.engine import Dialect
from sqlmodel import Session

__all__ = ["Driver", "integrity_errors"]


class Driver:
    """The DB-API cursor of ``session``'s connection, and its dialect's parameter mark."""

    def __init__(self, session: Session) -> None:
        connection = session.connection()
        self.dialect: Dialect = connection.dialect
        self.cursor: Any = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        self.mark = "?" if self.dialect.paramstyle == "qmark" else "%s"

    def marks(self, count: int) -> str:
        """``count`` parameter marks, comma-separated (for ``IN (...)`` and ``VALUES (...)``)."""
        return ", ".join([self.mark] * count)

    def rows(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self.cursor.execute(sql, parameters)
        rows: list[tuple[Any, ...]] = self.cursor.fetchall()
        return rows

    def run(self, sql: str, parameters: Sequence[Any] = ()) -> None:
        self.cursor.execute(sql, parameters)

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.cursor.executemany(sql, rows)

    def to_db(self, column: Column[Any]) -> Callable[[Any], Any]:
        """How SQLAlchemy stores a value of ``column`` with this driver."""
        processor = column.type.dialect_impl(self.dialect).bind_processor(self.dialect)
        return processor if processor is not None else _same

    def from_db(self, column: Column[Any]) -> Callable[[Any], Any]:
        """How SQLAlchemy reads a value of ``column`` back."""
        processor = column.type.dialect_impl(self.dialect).result_processor(self.dialect, None)
        return processor if processor is not None else _same


def integrity_errors(dialect: Dialect) -> tuple[type[Exception], ...]:
    """What a unique violation raises: SQLAlchemy's wrapper and the driver's own (from a statement
    sent through :class:`Driver`)."""
    from sqlalchemy.exc import IntegrityError

    return (IntegrityError, dialect.loaded_dbapi.IntegrityError)


def _same(value: Any) -> Any:
    return value
