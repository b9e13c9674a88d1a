"""Storage plumbing shared by both nodes: engines, transactions, timestamps, migrations.

SQLite (a file, the embedded default) and PostgreSQL (production) behave the same to callers:

* :meth:`Database.transaction` yields a SQLModel ``Session`` inside one transaction that commits on
  success and rolls back on any exception. On SQLite a write transaction starts with ``BEGIN IMMEDIATE``
  so concurrent writers queue on the database lock instead of failing to upgrade a read lock.
* SQLite runs in WAL mode with ``synchronous=FULL``: an acknowledged commit survives a crash.
* :func:`migrate` brings a node's schema to the newest Alembic revision on start, under a PostgreSQL
  advisory lock so that several processes starting together on one database migrate once.

Connections to PostgreSQL are a budget (:class:`~common.settings.DatabaseSettings`): a pool never opens
more than its size (no overflow), :func:`pool_share` divides a host's budget among its processes, and
a call that finds the pool exhausted, or the server refusing connections, is answered with a retry
delay (:func:`refusal`), never INTERNAL. Nothing holds state in a PostgreSQL session beyond one
transaction (the migration lock is ``pg_advisory_xact_lock``), so the connections may go through
PgBouncer in transaction mode (with ``prepared_statements = false``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import zlib
from collections.abc import Callable, Iterator
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
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.pool import QueuePool
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, Session, SQLModel, create_engine

from common.errors import RegistryError, ResourceExhausted, Unavailable
from common.settings import DatabaseSettings, normalise_database_url

__all__ = [
    "RETRY_DELAY",
    "SQLITE_POOL",
    "Database",
    "SecretRow",
    "UTCDateTime",
    "create_node_secrets_table",
    "insert_for",
    "log_failure",
    "migrate",
    "pool_share",
    "refusal",
    "summary",
    "utcnow",
]

#: Seconds a caller is told to wait (``google.rpc.RetryInfo``) before it tries again a call that found
#: the database busy or unreachable.
RETRY_DELAY = 1.0
#: Connections of a node's pool on SQLite (a file has no connection limit; the budget is PostgreSQL's).
SQLITE_POOL = 32

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


def pool_share(budget: int, *, processes: int = 1, shared: int = 0, outside_pool: int = 0) -> int:
    """The pool of one process of a node, from its host's connection ``budget``::

        pool = floor((budget - shared) / processes) - outside_pool

    ``processes``: the node's processes on the host that each open a pool of this size;
    ``shared``: connections the host's other processes of the node hold, counted once (the national
    node's embedded indexer, a province's sync daemon run as its own process);
    ``outside_pool``: connections each process holds apart from its pool (none today: every query
    of a node goes through its pool, the migration's included).

    The pools have no overflow, so ``processes * (pool + outside_pool) + shared <= budget`` holds at
    every moment. A budget too small to give each process one connection is a ValueError that says
    how large it must be.
    """
    if processes < 1 or shared < 0 or outside_pool < 0:
        raise ValueError("processes must be at least 1, shared and outside_pool at least 0")
    pool = (budget - shared) // processes - outside_pool
    if pool < 1:
        needed = shared + processes * (1 + outside_pool)
        raise ValueError(
            f"database.connections = {budget} is too small: {processes} process(es) with a pool of at least"
            f" one connection each{f', {outside_pool} more each' if outside_pool else ''}"
            f"{f' and {shared} shared' if shared else ''} need at least {needed}"
        )
    return pool


def refusal(error: BaseException) -> RegistryError | None:
    """What to answer a caller whose call failed because the database could not serve it now, or None
    if ``error`` (or an error it was raised from) is not that:

    * every connection of the pool was in use for ``pool_timeout`` seconds: RESOURCE_EXHAUSTED
      (``DATABASE_BUSY``);
    * the server refused a new connection (``too many clients``, not accepting connections, nothing
      listening) or dropped one in use: UNAVAILABLE (``DATABASE_UNAVAILABLE``).

    Both carry :data:`RETRY_DELAY`. Writes carry a request id, so a retry of one whose connection
    dropped during its commit never does it twice.
    """
    seen: BaseException | None = error
    for _ in range(8):  # an error raised from another, a few links at most
        if seen is None:
            return None
        if isinstance(seen, PoolTimeout):
            return ResourceExhausted(
                "DATABASE_BUSY",
                "the node's connections to its database are all in use; retry after the delay given",
                retry_delay=RETRY_DELAY,
            )
        if isinstance(seen, DBAPIError) and (seen.connection_invalidated or _connect_failure(seen)):
            return Unavailable(
                "DATABASE_UNAVAILABLE",
                "the node's database does not accept connections now; retry after the delay given",
                retry_delay=RETRY_DELAY,
            )
        seen = seen.__cause__
    return None


def summary(error: BaseException) -> str:
    """A database error in one line for the log: the driver's own message when there is one
    (SQLAlchemy's wraps it with the statement and a link)."""
    cause = getattr(error, "orig", None) or error
    lines = str(cause).split(" (Background on this error at")[0].strip().splitlines()
    return f"{type(cause).__name__}: {lines[0] if lines else ''}"


def log_failure(log: logging.Logger, what: str, error: BaseException) -> None:
    """A round of a background loop failed, ``what`` saying which: the database busy or unreachable
    (:func:`refusal`) is a state the next round may find gone, a WARNING in one line; anything else is
    a fault, an ERROR with its traceback."""
    if refusal(error) is not None:
        log.warning("%s: %s", what, summary(error))
    else:
        log.error("%s", what, exc_info=error)


#: SQLSTATE classes of a server that cannot take a connection: connection exceptions (08), insufficient
#: resources (53: too many connections), operator intervention (57P: shutting down, starting up).
_REFUSED_STATES = ("08", "53", "57P")


def _connect_failure(error: DBAPIError) -> bool:
    """Whether ``error`` is a connection that could not be made: an OperationalError raised outside any
    statement, as the driver's connect raises it (psycopg 3 without a SQLSTATE, whatever the server
    said; another driver may give one of :data:`_REFUSED_STATES`). An error at a commit, also outside
    a statement, carries the SQLSTATE of what went wrong, and is none."""
    if not isinstance(error, OperationalError) or error.statement is not None:
        return False
    state = getattr(error.orig, "sqlstate", None)
    return state is None or str(state).startswith(_REFUSED_STATES)


class Database:
    """One node's database: an engine plus transactions that behave alike on SQLite and PostgreSQL."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 16,
        pool_timeout: float = 30.0,
        prepared_statements: bool = True,
        postgres_settings: dict[str, str] | None = None,
    ) -> None:
        """On PostgreSQL the engine opens at most ``pool_size`` connections (no overflow); a session
        waits at most ``pool_timeout`` seconds for one (then ``sqlalchemy.exc.TimeoutError``, which
        :func:`refusal` answers). ``prepared_statements``: False behind PgBouncer in transaction mode
        (:class:`~common.settings.DatabaseSettings`). ``postgres_settings``: run-time parameters every
        PostgreSQL session of this engine starts with (e.g. ``plan_cache_mode``), beside any
        ``options`` the URL gives."""
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
                pool_timeout=pool_timeout,
            )
            event.listen(self.engine, "connect", _sqlite_on_connect)
            event.listen(self.engine, "begin", _sqlite_on_begin)
        else:
            connect_args: dict[str, Any] = {}
            if not prepared_statements:
                connect_args["prepare_threshold"] = None  # psycopg 3: never prepare on the server
            if postgres_settings:
                given = self.url.query.get("options", "")
                options = [given] if isinstance(given, str) else list(given)
                options += [f"-c {name}={value}" for name, value in postgres_settings.items()]
                connect_args["options"] = " ".join(o for o in options if o)
            self.engine = create_engine(
                url,
                pool_size=pool_size,
                max_overflow=0,  # the pool's size is the process's share of a budget: a hard bound
                pool_timeout=pool_timeout,
                pool_pre_ping=True,
                connect_args=connect_args,
            )
        self._write_engine = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        # SQLite takes one writer at a time; writers of this process wait their turn here rather than
        # in SQLite's busy handler, whose growing sleeps give some waiters second-long delays.
        self._write_turn = threading.Lock() if self.is_sqlite else contextlib.nullcontext()

    @classmethod
    def for_node(
        cls,
        url: str,
        settings: DatabaseSettings,
        *,
        processes: int = 1,
        shared: int = 0,
        outside_pool: int = 0,
    ) -> Database:
        """A node process's database, its pool its share of the host's budget (:func:`pool_share`)
        on PostgreSQL, :data:`SQLITE_POOL` on SQLite."""
        sqlite = make_url(normalise_database_url(url)).get_backend_name() == "sqlite"
        return cls(
            url,
            pool_size=SQLITE_POOL
            if sqlite
            else pool_share(
                settings.connections, processes=processes, shared=shared, outside_pool=outside_pool
            ),
            pool_timeout=settings.pool_timeout,
            prepared_statements=settings.prepared_statements,
        )

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

    def observe_pool(self, observer: Callable[[float, bool], None]) -> None:
        """Call ``observer(seconds, timed_out)`` after each wait for a connection of the pool (the
        metrics' ``registry_db_pool_wait_seconds``); a wait that gave up has ``timed_out``."""
        pool = self.engine.pool
        if not isinstance(pool, QueuePool):
            return  # an in-memory SQLite database: one connection, no pool to wait for
        take = pool._do_get

        def measured() -> Any:
            begun = time.perf_counter()
            try:
                connection = take()
            except PoolTimeout:
                observer(time.perf_counter() - begun, True)
                raise
            observer(time.perf_counter() - begun, False)
            return connection

        pool._do_get = measured  # type: ignore[method-assign]

    def pool_usage(self) -> tuple[int, int]:
        """(connections checked out, the most the pool holds) of this process."""
        pool = self.engine.pool
        if not isinstance(pool, QueuePool):
            return 0, 1
        return pool.checkedout(), pool.size() + max(0, pool._max_overflow)

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
