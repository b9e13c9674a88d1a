"""The plaintext health port (``health_listen``): what Kubernetes' ``grpc`` probes and load balancers
call, since they present no client certificate. It answers health checks and nothing else."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from common.gen.registry.v1 import national_service_pb2 as ns
from common.gen.registry.v1 import national_service_pb2_grpc as ns_grpc
from tests.nodes import NodeProcess, free_port

pytestmark = pytest.mark.integration

SERVING = health_pb2.HealthCheckResponse.SERVING


@pytest.fixture
def national(tmp_path: Path) -> Iterator[tuple[NodeProcess, str]]:
    health = f"127.0.0.1:{free_port()}"
    node = NodeProcess(
        "national_node",
        env={
            "REGISTRY_DATABASE_URL": f"sqlite:///{tmp_path / 'national.db'}",
            "REGISTRY_HEALTH_LISTEN": health,
            "REGISTRY_INDEXER__EMBEDDED": "false",
            "REGISTRY_SHUTDOWN_GRACE": "0.5",  # the open Watch is cancelled after it
        },
        cwd=tmp_path,
    ).start()
    yield node, health
    node.kill()


def test_the_health_port_answers_in_plaintext_and_serves_nothing_else(
    national: tuple[NodeProcess, str],
) -> None:
    node, health = national
    with grpc.insecure_channel(health) as plain:
        checker = health_pb2_grpc.HealthStub(plain)
        assert checker.Check(health_pb2.HealthCheckRequest(), timeout=5).status == SERVING
        # Per service too, as a probe naming one (``grpc.service``) asks.
        named = health_pb2.HealthCheckRequest(service="registry.v1.NationalService")
        assert checker.Check(named, timeout=5).status == SERVING
        # No registry call is reachable without mutual TLS.
        with pytest.raises(grpc.RpcError) as refused:
            ns_grpc.NationalServiceStub(plain).VerifyCode(ns.VerifyCodeRequest(code="x"), timeout=5)
        assert refused.value.code() == grpc.StatusCode.UNIMPLEMENTED
    # The node's own port still demands a client certificate.
    with grpc.insecure_channel(node.address) as plain:
        with pytest.raises(grpc.RpcError) as no_tls:
            health_pb2_grpc.HealthStub(plain).Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert no_tls.value.code() == grpc.StatusCode.UNAVAILABLE


def test_a_stopping_node_says_not_serving_before_its_health_port_closes(
    national: tuple[NodeProcess, str],
) -> None:
    """Readiness drops first (Kubernetes takes the pod out of its Service), then the port goes."""
    node, health = national
    with grpc.insecure_channel(health) as plain:
        watch = health_pb2_grpc.HealthStub(plain).Watch(health_pb2.HealthCheckRequest(), timeout=20)
        seen = [next(watch).status]
        assert node.stop() == 0
        with pytest.raises(grpc.RpcError):  # the stream ends when the port closes
            for reply in watch:
                seen.append(reply.status)
    assert seen[0] == SERVING and health_pb2.HealthCheckResponse.NOT_SERVING in seen[1:]
    with grpc.insecure_channel(health) as plain:
        with pytest.raises(grpc.RpcError) as gone:
            health_pb2_grpc.HealthStub(plain).Check(health_pb2.HealthCheckRequest(), timeout=2)
        assert gone.value.code() == grpc.StatusCode.UNAVAILABLE
