"""Fuzzing every RPC of every service, over real gRPC, against real node processes.

For each method of the national node's three services and the provincial node's two, Hypothesis sends
generated messages (any field set to anything: integer edges, undefined enum numbers, impossible
timestamps, near-miss names and codes, long and non-ASCII text), well-formed messages with bytes
flipped or cut off, and raw random bytes. Every answer must be a deliberate one: no INTERNAL, no
UNKNOWN; a refused call must leave the node's database as it was (row counts of every table, the code
serials); the node's log must hold no traceback; and the node must still answer its health check.

The two nodes are not linked (the province's national address is closed), so that nothing but the
fuzzer writes to either database. Examples are derandomised (the same every run) and bounded, so the
suite takes well under a minute. ``FUZZ_REPORT=path`` writes the figures (calls, examples, statuses).
"""

from __future__ import annotations

import collections
import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf.descriptor import MethodDescriptor
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz_strategies import message_bytes, mutated, raw_bytes
from tests.nodes import NodeProcess, free_port
from tests.rpc_support import NATIONAL_SERVICES, PROVINCIAL_SERVICES, call_raw, methods, tracebacks

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
STATUSES: collections.Counter[str] = collections.Counter()
CALLS: collections.Counter[str] = collections.Counter()


def _counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        # Every table but the leases (which process does the node's duties: not what a call changes).
        tables = [
            t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'") if t != "leases"
        ]
        counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}  # noqa: S608
        if "code_counters" in tables:
            counts["serials"] = conn.execute(
                "SELECT coalesce(sum(last_serial), 0) FROM code_counters"
            ).fetchone()[0]
        if "sequence_counters" in tables:
            counts["sequences"] = conn.execute(
                "SELECT coalesce(sum(last), 0) FROM sequence_counters"
            ).fetchone()[0]
    return counts


class Target:
    def __init__(self, node: NodeProcess, db: Path) -> None:
        self.node, self.db = node, db
        self.channel = node.channel()


@pytest.fixture(scope="module")
def targets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Target]]:
    root = tmp_path_factory.mktemp("fuzz")
    closed = f"127.0.0.1:{free_port()}"
    national = NodeProcess(
        "national_node",
        env={
            "REGISTRY_DATABASE_URL": f"sqlite:///{root / 'national.db'}",
            "REGISTRY_PROVINCIAL_NODES": '[{"region": "320000"}]',
            "REGISTRY_LOG_LEVEL": "INFO",
            # No search indexer: it writes its cursor on its own schedule, which is not the fuzzer's
            # doing (the search RPCs answer from the index, which needs no indexer running).
            "REGISTRY_INDEXER__EMBEDDED": "false",
        },
        cwd=root,
    ).start()
    (root / "province").mkdir()
    province = NodeProcess(
        "provincial_node",
        env={
            "REGISTRY_REGION": "320000",
            "REGISTRY_NATIONAL_ADDRESS": closed,
            "REGISTRY_DATABASE_URL": f"sqlite:///{root / 'province.db'}",
            "REGISTRY_LOG_LEVEL": "INFO",
        },
        cwd=root / "province",
    ).start()
    yield {
        "national": Target(national, root / "national.db"),
        "provincial": Target(province, root / "province.db"),
    }
    for target in (national, province):
        target.kill()
    report = os.environ.get("FUZZ_REPORT")
    if report:
        Path(report).write_text(
            json.dumps(
                {"rpcs": len(CALLS), "calls": sum(CALLS.values()), "statuses": dict(STATUSES)}, indent=2
            )
        )


CASES = [("national", m) for m in methods(NATIONAL_SERVICES)] + [
    ("provincial", m) for m in methods(PROVINCIAL_SERVICES)
]


def _send(target: Target, method: MethodDescriptor, payloads: list[bytes]) -> None:
    before = _counts(target.db)
    answer = call_raw(target.channel, method, payloads, timeout=10)
    CALLS[method.full_name] += 1
    STATUSES[answer.code.name] += 1
    assert answer.code not in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN), (
        method.full_name,
        payloads,
        answer,
    )
    assert answer.code != grpc.StatusCode.DEADLINE_EXCEEDED, (method.full_name, payloads)
    if answer.code != grpc.StatusCode.OK:
        assert _counts(target.db) == before, (method.full_name, payloads, answer)


@pytest.mark.parametrize(
    ("node", "method"), CASES, ids=[f"{n}-{m.containing_service.name}.{m.name}" for n, m in CASES]
)
def test_no_input_makes_a_node_fail(targets: dict[str, Target], node: str, method: MethodDescriptor) -> None:
    target = targets[node]
    stream = method.client_streaming
    one = st.one_of(message_bytes(method.input_type), mutated(method.input_type), raw_bytes())
    payloads = st.lists(one, min_size=1, max_size=3) if stream else one.map(lambda p: [p])

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(payloads)
    def fuzz(sent: list[bytes]) -> None:
        _send(target, method, sent)

    fuzz()
    health = health_pb2_grpc.HealthStub(target.channel)
    assert (
        health.Check(health_pb2.HealthCheckRequest(), timeout=5).status
        == health_pb2.HealthCheckResponse.SERVING
    )
    assert tracebacks(target.node.log) == []
