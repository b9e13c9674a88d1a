"""The connection budget on a real PostgreSQL, with national node processes as an operator runs them.

* Two national processes (two hosts, each with its budget) under AssignCode from many threads: no
  call fails, every code is unique and the serials have no gap, and the database never sees more
  client connections than the two budgets (sampled from pg_stat_activity all along the load).
* A pool whose every connection is held by calls waiting on a lock answers the next call
  RESOURCE_EXHAUSTED (DATABASE_BUSY) with a retry delay; a client on the project's retry policy
  waits that delay and gets its code once the calls ahead of it are through.
* A database that refuses connections answers UNAVAILABLE (DATABASE_UNAVAILABLE) with a retry delay,
  and serves again once it takes connections.

Neither refusal is INTERNAL, nor an ERROR with a traceback in the node's log: one WARNING, counted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import psycopg
import pytest
from sqlalchemy.engine import make_url

from common import codes
from common.gen.registry.v1 import national_service_pb2 as ns
from common.gen.registry.v1 import national_service_pb2_grpc as ns_grpc
from common.retry import retrying
from common.rpc.status import details_of
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

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def nodes() -> Iterator[list[NodeProcess]]:
    started: list[NodeProcess] = []
    yield started
    for node in started:
        node.kill()


def test_two_national_processes_stay_within_their_budget_under_load(
    postgres_url: str,
    postgres_server_url: str,
    tmp_path: Path,
    nodes: list[NodeProcess],
    report: Callable[[str], None],
) -> None:
    budget, threads, per_thread = 6, 24, 25  # a budget a few times smaller than the threads calling
    requests = code_requests(postgres_url, threads * per_thread)
    for i in range(2):  # two hosts, each with its budget; each runs its search indexer (2 of the 6)
        nodes.append(
            national(postgres_url, tmp_path / f"host-{i}", database__connections=str(budget)).start()
        )
    channels = [node.channel() for node in nodes]
    stubs = [ns_grpc.NationalServiceStub(channel) for channel in channels]
    calls = Calls()
    database = make_url(postgres_url).database or ""

    def client(i: int) -> list[tuple[str, str]]:
        mine = requests[i * per_thread : (i + 1) * per_thread]
        return [(r.request_id, calls.assign(stubs[(i + k) % 2], r)) for k, r in enumerate(mine)]

    started = time.monotonic()
    try:
        with ConnectionSampler(postgres_server_url, database) as sampler:
            with ThreadPoolExecutor(threads) as pool:
                issued = dict(pair for got in pool.map(client, range(threads)) for pair in got)
    finally:
        for channel in channels:
            channel.close()
    elapsed = time.monotonic() - started

    assert calls.failed["INTERNAL"] == 0
    assert len(issued) == len(requests)  # every call answered, in the end, with a code
    assert_unique_and_gapless(issued)
    peak = max(sampler.samples)
    assert peak <= 2 * budget, f"{peak} connections to the database; the two budgets allow {2 * budget}"
    # The sampler saw the load: both processes held connections at once. (Whether the load reaches the
    # two budgets depends on how fast group commit drains the calls; the pool's own bound is proven by
    # the exhausted-pool test below.)
    assert peak >= 2
    report(
        f"connection budget: 2 national processes, budget {budget} each, {threads} threads:"
        f" {len(issued)} codes in {elapsed:.1f} s, peak {peak} connections in {len(sampler.samples)}"
        f" samples, failed attempts retried {dict(calls.failed) or 'none'}"
    )
    for node in nodes:
        assert not [line for line in errors(node.log) if "failed unexpectedly" in line]


def _waiting_on_locks(server_url: str, database: str) -> int:
    with psycopg.connect(libpq(server_url), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
            (database,),
        ).fetchone()
    return int(row[0]) if row else 0


@pytest.mark.alone  # its pool waits 0.5 s at most: a busy machine turns the waits it sets up into refusals
def test_an_exhausted_pool_answers_resource_exhausted_with_a_retry_delay(
    postgres_url: str,
    postgres_server_url: str,
    tmp_path: Path,
    nodes: list[NodeProcess],
    report: Callable[[str], None],
) -> None:
    budget = 2
    requests = code_requests(postgres_url, 2)
    probe, patient = requests
    node = national(
        postgres_url,
        tmp_path / "national",
        database__connections=str(budget),
        database__pool_timeout="0.5",
        indexer__embedded="false",
    ).start()
    nodes.append(node)
    channel = node.channel()
    stub = ns_grpc.NationalServiceStub(channel)
    database = make_url(postgres_url).database or ""
    calls = Calls()
    # An operator's long transaction holds the table every code is read from and written to: the
    # calls that reach it wait, each holding one of the node's connections, until every connection
    # waits there. (Lookups, one connection each: concurrent AssignCode calls share one transaction.)
    unassigned = [codes.generate(1, "320000", 2026, 900_000 + i) for i in range(budget + 1)]

    def lookup(code: str) -> bool:
        for attempt in retrying(idempotent=True, max_attempts=40, max_seconds=90):
            with attempt:
                return stub.VerifyCode(ns.VerifyCodeRequest(code=code), timeout=60).assigned
        raise AssertionError("unreachable")

    blocker = psycopg.connect(libpq(postgres_url))
    try:
        blocker.execute("LOCK TABLE code_assignments IN ACCESS EXCLUSIVE MODE")
        with ThreadPoolExecutor(len(unassigned) + 1) as pool:
            waiting = [pool.submit(lookup, code) for code in unassigned]
            wait_until(
                lambda: _waiting_on_locks(postgres_server_url, database) == budget,
                timeout=60,
                message="every connection of the pool waiting on the lock",
            )

            # What a client sees when the pool is exhausted.
            with pytest.raises(grpc.RpcError) as refused:
                stub.AssignCode(probe, timeout=10)
            seen = details_of(refused.value)
            assert seen.code == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert seen.reason == "DATABASE_BUSY"
            assert seen.retry_delay == 1.0
            assert "code_assignments" not in seen.message and "QueuePool" not in seen.message
            report(
                f"exhausted pool, as a client sees it: {seen.code.name} {seen.reason}"
                f" retry_delay={seen.retry_delay} s, {seen.message!r}"
            )

            # A client on the retry policy, turned away while the lock is held, gets its code after,
            # and the calls that waited on the lock get their answers.
            later = pool.submit(calls.assign, stub, patient)
            wait_until(lambda: calls.failed["RESOURCE_EXHAUSTED"] >= 2, timeout=20, message="refusals")
            blocker.rollback()
            assert [f.result(timeout=60) for f in waiting] == [False] * len(unassigned)
            issued = {patient.request_id: later.result(timeout=60)}
    finally:
        blocker.close()
        channel.close()
    assert_unique_and_gapless(issued)
    attempts = calls.attempts[patient.request_id]
    assert len(attempts) >= 2
    assert attempts[1] - attempts[0] >= 1.0  # the retry came no sooner than the delay asked for
    assert calls.failed.keys() <= {"RESOURCE_EXHAUSTED"}
    log = node.log.read_text(errors="replace")
    assert "WARNING" in log and "DATABASE_BUSY" in log
    assert not [line for line in errors(node.log) if "AssignCode" in line or line.startswith("Traceback")]


def test_a_database_refusing_connections_answers_unavailable_with_a_retry_delay(
    postgres_url: str,
    postgres_server_url: str,
    tmp_path: Path,
    nodes: list[NodeProcess],
    report: Callable[[str], None],
) -> None:
    requests = code_requests(postgres_url, 3)
    node = national(postgres_url, tmp_path / "national", indexer__embedded="false").start()
    nodes.append(node)
    channel = node.channel()
    stub = ns_grpc.NationalServiceStub(channel)
    database = make_url(postgres_url).database or ""
    stub.AssignCode(requests[0], timeout=10)
    calls = Calls()
    with psycopg.connect(libpq(postgres_server_url), autocommit=True) as admin:
        # The server takes no connection to the node's database (as when it has max_connections
        # clients already), and ends the ones the node holds.
        admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (database,)
        )
        try:
            with pytest.raises(grpc.RpcError) as refused:
                stub.AssignCode(requests[1], timeout=10)
            seen = details_of(refused.value)
            assert seen.code == grpc.StatusCode.UNAVAILABLE
            assert seen.reason == "DATABASE_UNAVAILABLE"
            assert seen.retry_delay == 1.0
            report(
                f"database refusing connections, as a client sees it: {seen.code.name} {seen.reason}"
                f" retry_delay={seen.retry_delay} s, {seen.message!r}"
            )
            with ThreadPoolExecutor(1) as pool:
                patient = pool.submit(calls.assign, stub, requests[2])
                wait_until(lambda: calls.failed["UNAVAILABLE"] >= 1, timeout=20, message="a refusal")
                admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
                assert patient.result(timeout=60)
        finally:
            admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
    channel.close()
    attempts = calls.attempts[requests[2].request_id]
    assert attempts[1] - attempts[0] >= 1.0
    log = node.log.read_text(errors="replace")
    assert "DATABASE_UNAVAILABLE" in log
    assert not [line for line in errors(node.log) if "AssignCode" in line or line.startswith("Traceback")]
