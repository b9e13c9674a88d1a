"""The national node behind PgBouncer in transaction mode (Debian's pgbouncer, a process of the test).

In transaction mode each transaction runs on whichever of PgBouncer's server connections is free, so
the node must keep nothing in a session beyond a transaction (its migration lock is transaction-
scoped), and must not prepare statements on the server (PgBouncer 1.18 does not carry them from one
server connection to the next): ``database.prepared_statements = false``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from common.db import Database
from common.gen.registry.v1 import national_service_pb2_grpc as ns_grpc
from common.gen.registry.v1 import sync_service_pb2 as ss
from common.gen.registry.v1 import sync_service_pb2_grpc as ss_grpc
from tests.coding_support import (
    Calls,
    ConnectionSampler,
    assert_unique_and_gapless,
    code_requests,
    libpq,
    national,
)
from tests.nodes import NodeProcess, wait_until
from tests.rpc_support import errors
from tests.sync_support import seed

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.slow]

#: PgBouncer's server connections per database (the pgbouncer_url fixture's pool).
SERVER_CONNECTIONS = 4


@pytest.fixture
def nodes() -> Iterator[list[NodeProcess]]:
    started: list[NodeProcess] = []
    yield started
    for node in started:
        node.kill()


def test_the_national_node_codes_and_ingests_through_pgbouncer_in_transaction_mode(
    postgres_url: str,
    postgres_server_url: str,
    pgbouncer_url: str,
    tmp_path: Path,
    nodes: list[NodeProcess],
    report: Callable[[str], None],
) -> None:
    # The node migrates, codes, ingests and indexes (its indexer child too) through PgBouncer only.
    node = national(
        pgbouncer_url,
        tmp_path / "national",
        database__prepared_statements="false",
        database__connections="24",  # connections to PgBouncer; it holds 4 to the server
        duties_interval="0.2",
    ).start()
    nodes.append(node)
    threads, per_thread, registrations = 8, 20, 30
    requests = code_requests(postgres_url, threads * per_thread)
    province_db = f"sqlite:///{tmp_path / '320000.db'}"
    head = seed(province_db, "320000", registrations=registrations)
    (tmp_path / "320000").mkdir()
    province = NodeProcess(
        "provincial_node",
        env={
            "REGISTRY_REGION": "320000",
            "REGISTRY_NATIONAL_ADDRESS": node.address,
            "REGISTRY_DATABASE_URL": province_db,
            "REGISTRY_DUTIES_INTERVAL": "0.2",
            # No code leases: the codes asked for here are to run from serial 1 in their namespaces.
            "REGISTRY_CODE_LEASES__ENABLED": "false",
        },
        cwd=tmp_path / "320000",
    )
    channel = node.channel()
    sync = ss_grpc.SyncServiceStub(channel)
    stub = ns_grpc.NationalServiceStub(channel)
    calls = Calls()

    def client(i: int) -> list[tuple[str, str]]:
        mine = requests[i * per_thread : (i + 1) * per_thread]
        return [(r.request_id, calls.assign(stub, r)) for r in mine]

    database = make_url(postgres_url).database or ""
    try:
        with ConnectionSampler(postgres_server_url, database) as sampler:
            nodes.append(province.start())  # it pushes its changes while the codes are assigned
            with ThreadPoolExecutor(threads) as pool:
                issued = dict(pair for got in pool.map(client, range(threads)) for pair in got)
            wait_until(
                lambda: (
                    sync.GetSyncState(
                        ss.GetSyncStateRequest(node="nodes/320000"), timeout=5
                    ).acknowledged_sequence
                    == head
                ),
                timeout=60,
                message="the province's changes applied",
            )
    finally:
        channel.close()

    assert calls.failed["INTERNAL"] == 0
    assert len(issued) == len(requests)
    assert_unique_and_gapless(issued)
    with psycopg.connect(libpq(postgres_url)) as conn:
        stored = dict(conn.execute("SELECT request_id, code FROM code_assignments").fetchall())
        ledger = [name for (name,) in conn.execute("SELECT name FROM ledger WHERE node = '320000'")]
    assert stored == issued
    coded = {r.registration for r in requests}
    pushed = [name for name in ledger if name not in coded]
    assert len(pushed) == len(set(pushed)) == registrations  # each pushed registration, once
    # However many connections the node opened to PgBouncer, the server saw at most PgBouncer's pool.
    assert max(sampler.samples) <= SERVER_CONNECTIONS
    assert not errors(node.log), errors(node.log)[:5]
    report(
        f"through PgBouncer (transaction mode, {SERVER_CONNECTIONS} server connections): {len(issued)}"
        f" codes from {threads} threads, {head} pushed changes applied, peak"
        f" {max(sampler.samples)} server connections, failed attempts retried {dict(calls.failed) or 'none'}"
    )


def _same_statement_across_server_connections(db: Database) -> None:
    """One client runs a statement more often than psycopg's threshold for preparing it, while another
    holds a transaction (and so PgBouncer's other server connection); then that one ends, and the next
    transaction of the first is given the server connection freed last, where nothing was prepared."""
    holder, runner = db.engine.connect(), db.engine.connect()
    try:
        holder.execute(text("SELECT 1"))  # in a transaction: PgBouncer's server connection is its own
        for i in range(8):
            runner.execute(text("SELECT CAST(:i AS integer) + 1"), {"i": i})
            runner.commit()
        holder.commit()
        for i in range(8):
            runner.execute(text("SELECT CAST(:i AS integer) + 1"), {"i": i})
            runner.commit()
    finally:
        holder.close()
        runner.close()


def test_prepared_statements_must_be_turned_off_behind_pgbouncer(pgbouncer_url: str) -> None:
    prepared = Database(pgbouncer_url, pool_size=2, prepared_statements=True)
    try:
        with pytest.raises(DBAPIError, match="prepared statement .* does not exist"):
            _same_statement_across_server_connections(prepared)
    finally:
        prepared.dispose()
    unprepared = Database(pgbouncer_url, pool_size=2, prepared_statements=False)
    try:
        _same_statement_across_server_connections(unprepared)
    finally:
        unprepared.dispose()


def test_migrations_of_processes_starting_together_through_pgbouncer_run_once(
    pgbouncer_url: str, tmp_path: Path, nodes: list[NodeProcess]
) -> None:
    """The migration lock is transaction-scoped (pg_advisory_xact_lock), so it holds through PgBouncer:
    three national processes started at once on an empty database all come up on one schema."""
    starting = [
        national(
            pgbouncer_url,
            tmp_path / f"national-{i}",
            database__prepared_statements="false",
            indexer__embedded="false",
        )
        for i in range(3)
    ]
    failures: list[BaseException] = []

    def start(node: NodeProcess) -> None:
        try:
            nodes.append(node.start(timeout=60))
        except BaseException as error:  # reported below
            failures.append(error)

    runners = [threading.Thread(target=start, args=(node,)) for node in starting]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join(90)
    assert not failures, failures
    assert len(nodes) == 3
    for node in nodes:
        assert not errors(node.log), errors(node.log)[:5]
