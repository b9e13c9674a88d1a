"""Storage plumbing shared by both nodes: engines, transactions, timestamps, migrations.

SQLite (a file, the embedded default) and PostgreSQL (production) behave the same to callers:

* :meth:`Database.transaction` yields a SQLModel ``Session`` inside one transaction that commits on
  success and rolls back on any exception. On SQLite a write transaction starts with ``BEGIN IMMEDIATE``
  so concurrent writers queue on the database lock instead of failing to upgrade a read lock.
* SQLite runs in WAL mode with ``synchronous=FULL``: an acknowledged commit survives a crash.
* :func:`migrate` brings a node's schema to the newest Alembic revision on start, under a PostgreSQL
  advisory lock so that several processes starting together on one database migrate once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command, op
from alembic.config import Config
from sqlalchemy import Column, DateTime, Engine, LargeBinary, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, Session, SQLModel, create_engine

from common.settings import normalise_database_url

__all__ = [
    "Database",
    "SecretRow",
    "UTCDateTime",
    "create_node_secrets_table",
    "insert_for",
    "migrate",
    "utcnow",
]

logger = logging.getLogger(__name__)


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite stores it naive; we put UTC back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC timestamp column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class SecretRow(SQLModel, table=True):
    """A key of the node (random bytes, made on first use), shared by every process on the database."""

    __tablename__ = "node_secrets"

    name: str = Field(primary_key=True, max_length=32)
    value: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


def create_node_secrets_table() -> None:
    """The ``node_secrets`` table as first created (called by each node's migration; frozen)."""
    op.create_table(
        "node_secrets",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("value", sa.LargeBinary(), nullable=False),
    )


def insert_for(session: Session) -> Any:
    """The dialect's INSERT construct, which has ``on_conflict_do_update`` / ``on_conflict_do_nothing``."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


class Database:
    """One node's database: an engine plus transactions that behave alike on SQLite and PostgreSQL."""

    def __init__(
        self, url: str, *, pool_size: int = 16, postgres_settings: dict[str, str] | None = None
    ) -> None:
        """``postgres_settings``: run-time parameters every PostgreSQL session of this engine starts
        with (e.g. ``plan_cache_mode``), beside any ``options`` the URL gives."""
        url = normalise_database_url(url)
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        if self.is_sqlite:
            if self.url.database and self.url.database != ":memory:":
                Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(
                url,
                connect_args={"check_same_thread": False, "timeout": 60, "isolation_level": None},
                pool_size=pool_size,
                max_overflow=pool_size,
            )
            event.listen(self.engine, "connect", _sqlite_on_connect)
            event.listen(self.engine, "begin", _sqlite_on_begin)
        else:
            connect_args: dict[str, Any] = {}
            if postgres_settings:
                given = self.url.query.get("options", "")
                options = [given] if isinstance(given, str) else list(given)
                options += [f"-c {name}={value}" for name, value in postgres_settings.items()]
                connect_args["options"] = " ".join(o for o in options if o)
            self.engine = create_engine(
                url,
                pool_size=pool_size,
                max_overflow=pool_size,
                pool_pre_ping=True,
                connect_args=connect_args,
            )
        self._write_engine = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        # SQLite takes one writer at a time; writers of this process wait their turn here rather than
        # in SQLite's busy handler, whose growing sleeps give some waiters second-long delays.
        self._write_turn = threading.Lock() if self.is_sqlite else contextlib.nullcontext()

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Session]:
        """A session in one transaction: committed when the block ends, rolled back if it raises."""
        turn = self._write_turn if write else contextlib.nullcontext()
        with turn, Session(self._write_engine if write else self.engine, expire_on_commit=False) as session:
            with session.begin():
                yield session

    def secret(self, name: str, *, size: int = 32) -> bytes:
        """The node's key ``name``: made at random the first time, the same for every process after."""
        with self.transaction() as session:
            statement = insert_for(session)(SecretRow).values(name=name, value=os.urandom(size))
            session.execute(statement.on_conflict_do_nothing(index_elements=["name"]))
            row = session.get(SecretRow, name)
            assert row is not None
            return bytes(row.value)

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=60000")
    cursor.close()


def _sqlite_on_begin(connection: Connection) -> None:
    mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


def migrate(engine: Engine, script_location: Path) -> None:
    """Upgrade the schema to the newest revision of the Alembic scripts at ``script_location``."""
    config = Config()
    config.set_main_option("script_location", str(script_location))
    lock_key = zlib.crc32(f"{script_location.parent.name}/{script_location.name}".encode())
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    logger.info("schema at the newest revision (%s)", script_location.parent.name)
