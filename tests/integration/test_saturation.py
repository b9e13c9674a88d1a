"""Many clients cannot starve a node, and SIGTERM always stops it, with nothing acknowledged lost.

500 upward streams held open without a word and 300 downward streams whose reader never reads are
opened against a national node process, while a health check and an AssignCode loop run beside them:
every health check and every code answers within its deadline. Latencies and the node's memory are
printed (benchmark figures, not assertions). Then SIGTERM, under that load: the node exits within its
``stop_timeout``, and after a restart every code it acknowledged is there.
"""

from __future__ import annotations

import statistics
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from common.gen.registry.v1 import national_service_pb2 as ns
from common.gen.registry.v1 import national_service_pb2_grpc as ns_grpc
from common.gen.registry.v1 import registration_pb2 as r
from tests.cluster import Cluster
from tests.factories import make_uscc
from tests.nodes import NodeProcess, wait_until
from tests.proxy import Proxy
from tests.rpc_support import HeldStreams, tracebacks
from tests.sync_support import feed_for_sichuan, waiting_for_code

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.alone]

PUSH_STREAMS, PULL_STREAMS = 500, 300
STOP_BOUND = 10.0  # the default stop_timeout


def _rss_mb(node: NodeProcess) -> float:
    assert node.process is not None
    for line in Path(f"/proc/{node.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _code_requests(cluster: Cluster, count: int) -> list[ns.AssignCodeRequest]:
    """Code requests for registrations the national ledger holds, waiting for their code."""
    subject = make_uscc("320106")
    requests = [
        ns.AssignCodeRequest(
            node="nodes/320000",
            issuer="320000",
            object_type=r.PUBLIC_DATA_RESOURCE,
            registration=f"nodes/320000/registrations/r-{uuid.uuid4().hex[:12]}",
            subject_uscc=subject,
            request_id=str(uuid.uuid4()),
        )
        for _ in range(count)
    ]
    waiting_for_code(cluster.db_url("national"), requests)
    return requests


def _percentiles(values: list[float]) -> str:
    ordered = sorted(values)
    p = statistics.quantiles(ordered, n=100) if len(ordered) > 1 else [ordered[0]] * 99
    return f"p50 {p[49] * 1000:.1f} ms, p99 {p[98] * 1000:.1f} ms, max {ordered[-1] * 1000:.1f} ms"


@pytest.fixture
def national(cluster: Cluster) -> Iterator[NodeProcess]:
    cluster.own_nodes = ("320000",)
    node = cluster.national()
    node.env["REGISTRY_LOG_LEVEL"] = "INFO"
    yield node.start()


def test_held_and_unread_streams_do_not_starve_health_or_codes_and_sigterm_stops_the_node(
    cluster: Cluster, national: NodeProcess, report: Callable[[str], None]
) -> None:
    feed_for_sichuan(national, 60)
    asked = _code_requests(cluster, 5000)
    codes = ns_grpc.NationalServiceStub(national.channel())
    health = health_pb2_grpc.HealthStub(national.channel())
    idle_rss = _rss_mb(national)
    held = HeldStreams(national.address, push=PUSH_STREAMS, pull=PULL_STREAMS, pull_node="nodes/510000")
    try:
        health_latencies: list[float] = []
        code_latencies: list[float] = []
        acknowledged: list[str] = []
        stop = threading.Event()

        def check_health() -> None:
            while not stop.is_set():
                started = time.perf_counter()
                reply = health.Check(health_pb2.HealthCheckRequest(), timeout=2)
                assert reply.status == health_pb2.HealthCheckResponse.SERVING
                health_latencies.append(time.perf_counter() - started)
                stop.wait(0.05)

        checker = threading.Thread(target=check_health, daemon=True)
        checker.start()
        deadline = time.monotonic() + 8
        for request in asked:
            if time.monotonic() >= deadline:
                break
            started = time.perf_counter()
            acknowledged.append(codes.AssignCode(request, timeout=5).code)
            code_latencies.append(time.perf_counter() - started)
        loaded_rss = _rss_mb(national)
        stop.set()
        checker.join(5)
        assert health_latencies and code_latencies
        report(
            f"saturation: {PUSH_STREAMS} held upward + {PULL_STREAMS} unread downward streams;"
            f" health {_percentiles(health_latencies)} ({len(health_latencies)} checks);"
            f" AssignCode {_percentiles(code_latencies)} ({len(code_latencies)} codes);"
            f" node memory {idle_rss:.0f} MB idle, {loaded_rss:.0f} MB loaded"
        )
        assert loaded_rss < 1024, "the held streams' memory is bounded"

        # SIGTERM under that load: out within the bound, and every acknowledged code survives.
        started = time.monotonic()
        national.stop(STOP_BOUND + 5)
        took = time.monotonic() - started
        report(
            f"SIGTERM with {PUSH_STREAMS + PULL_STREAMS} streams open: the national node exited"
            f" in {took:.1f} s"
        )
        assert took <= STOP_BOUND + 2
    finally:
        held.close()
    national.start()
    restarted = ns_grpc.NationalServiceStub(national.channel())
    for code in acknowledged:
        assert (
            restarted.GetCodeAssignment(ns.GetCodeAssignmentRequest(name=f"codes/{code}"), timeout=5).code
            == code
        )
    assert tracebacks(national.log) == []


def test_cancelled_streams_leave_no_traceback(national: NodeProcess) -> None:
    held = HeldStreams(national.address, push=50, pull=50, pull_node="nodes/320000")
    held.close()
    health = health_pb2_grpc.HealthStub(national.channel())
    assert (
        health.Check(health_pb2.HealthCheckRequest(), timeout=5).status
        == health_pb2.HealthCheckResponse.SERVING
    )
    assert tracebacks(national.log) == []


def test_sigterm_stops_a_province_whose_link_is_hung(cluster: Cluster) -> None:
    national = cluster.national().start()
    proxy = Proxy(national.address)
    try:
        province = cluster.province("320000")
        province.env["REGISTRY_NATIONAL_ADDRESS"] = proxy.address
        province.start()
        wait_until(lambda: cluster.state("320000").HasField("last_contact_time"), message="the link is up")
        proxy.set("silent")  # the link hangs with its connections open
        time.sleep(1.0)
        started = time.monotonic()
        province.stop(STOP_BOUND + 5)
        assert time.monotonic() - started <= STOP_BOUND + 2
    finally:
        proxy.close()
