"""Many clients cannot starve a node, and SIGTERM always stops it, with nothing acknowledged lost.

500 upward streams held open without a word and 300 downward streams whose reader never reads are
opened against a national node process, while a health check and an AssignCode loop run beside them:
every health check and every code answers within its deadline. Latencies and the node's memory are
printed (benchmark figures, not assertions). Then SIGTERM, under that load: the node exits within its
``stop_timeout``, and after a restart every code it acknowledged is there.
"""

from __future__ import annotations

import asyncio
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from common.gen.registry.v1 import national_service_pb2 as ns
from common.gen.registry.v1 import national_service_pb2_grpc as ns_grpc
from common.gen.registry.v1 import registration_pb2 as r
from common.gen.registry.v1 import registration_service_pb2 as rs
from common.gen.registry.v1 import registration_service_pb2_grpc as rs_grpc
from common.gen.registry.v1 import sync_service_pb2 as ss
from common.gen.registry.v1 import sync_service_pb2_grpc as ss_grpc
from tests.cluster import Cluster
from tests.factories import make_content, make_uscc
from tests.nodes import NodeProcess, wait_until
from tests.proxy import Proxy
from tests.rpc_support import tracebacks
from tests.trust import credentials

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PUSH_STREAMS, PULL_STREAMS = 500, 300
STOP_BOUND = 10.0  # the default stop_timeout


class HeldStreams:
    """Streams opened on an event loop of their own: upward ones that never send, downward ones that
    are never read. Closed (cancelled) on :meth:`close`."""

    def __init__(self, address: str, *, push: int, pull: int, pull_node: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.calls: list[object] = []
        self.channels: list[grpc.aio.Channel] = []
        asyncio.run_coroutine_threadsafe(self._open(address, push, pull, pull_node), self.loop).result(60)

    async def _open(self, address: str, push: int, pull: int, pull_node: str) -> None:
        never = asyncio.Event()

        async def silent() -> object:
            await never.wait()
            yield  # pragma: no cover - never reached

        for i in range(push + pull):
            if i % 100 == 0:
                self.channels.append(grpc.aio.secure_channel(address, credentials(node="320000")))
            stub = ss_grpc.SyncServiceStub(self.channels[-1])
            if i < push:
                self.calls.append(stub.PushChanges(silent()))
            else:
                self.calls.append(
                    stub.PullChanges(
                        ss.PullChangesRequest(node=pull_node, after_sequence=0, max_changes=5000)
                    )
                )
        await asyncio.sleep(1.0)  # let them all reach the node

    def close(self) -> None:
        async def close() -> None:
            for call in self.calls:
                call.cancel()  # type: ignore[attr-defined]
            for channel in self.channels:
                await channel.close()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def _rss_mb(node: NodeProcess) -> float:
    assert node.process is not None
    for line in Path(f"/proc/{node.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _assign(stub: ns_grpc.NationalServiceStub, timeout: float) -> str:
    request = ns.AssignCodeRequest(
        node="nodes/320000",
        issuer="320000",
        object_type=r.PUBLIC_DATA_RESOURCE,
        registration=f"nodes/320000/registrations/r-{uuid.uuid4().hex[:12]}",
        subject_uscc=make_uscc("320106"),
        request_id=str(uuid.uuid4()),
    )
    return stub.AssignCode(request, timeout=timeout).code


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


def _feed_for_sichuan(national: NodeProcess, registrations: int) -> None:
    """Registrations by proxy for Sichuan, handed over when it onboards: a downward feed to pull."""
    stub = rs_grpc.RegistrationServiceStub(national.channel())
    for i in range(registrations):
        stub.CreateRegistration(
            rs.CreateRegistrationRequest(
                parent="nodes/100000",
                registration=r.Registration(
                    object_type=1, content=make_content(make_uscc("510104"), data_name=f"四川数据 {i}")
                ),
                request_id=str(uuid.uuid4()),
            ),
            timeout=10,
        )
    sync = ss_grpc.SyncServiceStub(national.channel())
    assert (
        sync.OnboardNode(ss.OnboardNodeRequest(node="nodes/510000"), timeout=10).handed_over == registrations
    )


def test_held_and_unread_streams_do_not_starve_health_or_codes_and_sigterm_stops_the_node(
    cluster: Cluster, national: NodeProcess, report: Callable[[str], None]
) -> None:
    _feed_for_sichuan(national, 60)
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
        while time.monotonic() < deadline:
            started = time.perf_counter()
            acknowledged.append(_assign(codes, timeout=5))
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
