"""The connection budget: how one process's pool follows from its host's budget, what bounds it, and
what a caller is told when the database cannot serve it now (a retry delay, never INTERNAL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from google.protobuf import duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from common.db import RETRY_DELAY, SQLITE_POOL, Database, pool_share, refusal
from common.errors import ResourceExhausted, Unavailable
from common.retry import retry_delay_of
from common.rpc.status import status_for
from common.settings import DatabaseSettings, NodeSettings


@pytest.mark.parametrize(
    ("budget", "processes", "shared", "outside", "pool"),
    [
        (30, 1, 0, 0, 30),  # a province, its sync daemon inside the node
        (30, 1, 2, 0, 28),  # the national node with its embedded indexer
        (30, 2, 2, 0, 14),
        (30, 4, 2, 0, 7),
        (30, 4, 2, 1, 6),
        (30, 28, 2, 0, 1),
    ],
)
def test_each_process_gets_its_share_and_the_host_stays_within_the_budget(
    budget: int, processes: int, shared: int, outside: int, pool: int
) -> None:
    assert pool_share(budget, processes=processes, shared=shared, outside_pool=outside) == pool
    assert processes * (pool + outside) + shared <= budget


def test_a_budget_too_small_for_one_connection_each_says_how_large_it_must_be() -> None:
    with pytest.raises(ValueError, match=r"database.connections = 5 is too small.*need at least 6"):
        pool_share(5, processes=4, shared=2)


def test_settings_come_from_the_environment_like_the_other_nested_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REGISTRY_DATABASE__CONNECTIONS", "12")
    monkeypatch.setenv("REGISTRY_DATABASE__POOL_TIMEOUT", "0.5")
    monkeypatch.setenv("REGISTRY_DATABASE__PREPARED_STATEMENTS", "false")
    monkeypatch.setenv("REGISTRY_DATABASE_URL", "postgresql://registry@db/national")
    settings = NodeSettings()
    assert settings.database == DatabaseSettings(connections=12, pool_timeout=0.5, prepared_statements=False)
    assert settings.database_url == "postgresql+psycopg://registry@db/national"


def test_a_postgresql_pool_is_its_share_and_never_overflows() -> None:
    settings = DatabaseSettings(connections=20, pool_timeout=0.25, prepared_statements=False)
    db = Database.for_node("postgresql://registry@127.0.0.1:1/x", settings, processes=3, shared=2)
    try:  # the engine connects lazily: nothing is reached here
        pool = db.engine.pool
        assert pool.size() == 6  # type: ignore[attr-defined]
        assert pool._max_overflow == 0  # type: ignore[attr-defined]
        assert pool._timeout == 0.25  # type: ignore[attr-defined]
    finally:
        db.dispose()


def test_sqlite_is_outside_the_budget(tmp_path: Path) -> None:
    db = Database.for_node(f"sqlite:///{tmp_path}/node.db", DatabaseSettings(connections=1))
    try:
        assert db.engine.pool.size() == SQLITE_POOL  # type: ignore[attr-defined]
    finally:
        db.dispose()


def _connect_failure(message: str) -> OperationalError:
    return OperationalError(None, None, Exception(message))  # no statement: the connection failed


def test_an_exhausted_pool_is_resource_exhausted_and_a_refused_connection_unavailable() -> None:
    busy = refusal(PoolTimeout("QueuePool limit of size 4 overflow 0 reached"))
    assert isinstance(busy, ResourceExhausted)
    assert (busy.reason, busy.retry_delay) == ("DATABASE_BUSY", RETRY_DELAY)
    for message in ("FATAL:  sorry, too many clients already", "Connection refused"):
        refused = refusal(_connect_failure(message))
        assert isinstance(refused, Unavailable)
        assert (refused.reason, refused.retry_delay) == ("DATABASE_UNAVAILABLE", RETRY_DELAY)
        assert message not in refused.message  # nothing of the internals goes to the caller
    try:
        try:
            raise PoolTimeout("exhausted")
        except PoolTimeout as cause:
            raise RuntimeError("while coding") from cause
    except RuntimeError as wrapped:
        assert isinstance(refusal(wrapped), ResourceExhausted)


class _ServerError(Exception):
    def __init__(self, message: str, sqlstate: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def test_other_database_errors_are_not_refusals() -> None:
    failed_statement = OperationalError("UPDATE code_counters ...", {}, Exception("deadlock detected"))
    assert refusal(failed_statement) is None
    failed_commit = OperationalError(None, None, _ServerError("could not serialize access", "40001"))
    assert refusal(failed_commit) is None
    assert refusal(IntegrityError(None, None, Exception("a deferred constraint at commit"))) is None
    too_many = OperationalError(None, None, _ServerError("sorry, too many clients already", "53300"))
    assert isinstance(refusal(too_many), Unavailable)
    assert refusal(ValueError("a bug")) is None


def test_the_retry_delay_travels_in_retry_info_and_the_client_waits_at_least_that() -> None:
    status = status_pb2.Status.FromString(
        status_for(refusal(PoolTimeout("exhausted")) or ResourceExhausted("X", "x")).SerializeToString()
    )
    assert status.code == code_pb2.RESOURCE_EXHAUSTED
    kinds = {detail.type_url.rsplit("/", 1)[-1] for detail in status.details}
    assert kinds == {"google.rpc.ErrorInfo", "google.rpc.RetryInfo"}
    assert retry_delay_of(status) == RETRY_DELAY
    # Without a RetryInfo there is no delay to honour.
    assert retry_delay_of(status_pb2.Status(code=code_pb2.RESOURCE_EXHAUSTED)) is None
    info = error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=2, nanos=500_000_000))
    packed = status_pb2.Status(code=code_pb2.UNAVAILABLE)
    packed.details.add().Pack(info)
    assert retry_delay_of(packed) == 2.5
