"""Expected events are not errors in the log, and what a poll finds again is not logged again.

A national node and two provinces run as real processes, with INFO logging, as an operator runs them:

* an empty federation (the national log has no checkpoint yet, which each witness asks about every
  round) runs for a few seconds: the national node says so once per province, not once per poll;
* downward streams whose reader never reads, of a feed too large to be sent at once, are opened and
  cancelled: the clients are gone;
* then the nodes are stopped: one province while the national node serves its streams, the national
  node while the other province's streams are open, then, after a few seconds of retrying, that
  province, whose link is down: it says the national node is gone when it finds it so, not at every
  retry.

No log holds an ERROR line or a traceback.
"""

from __future__ import annotations

import time

import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from common.gen.registry.v1 import provincial_service_pb2 as ps
from common.gen.registry.v1 import provincial_service_pb2_grpc as ps_grpc
from tests.cluster import Cluster
from tests.nodes import NodeProcess, wait_until
from tests.rpc_support import HeldStreams, errors
from tests.sync_support import feed_for_sichuan

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: Seconds the empty federation runs: several rounds of every witness.
EMPTY_SECONDS = 5.0
#: Seconds a province runs with the national node gone: several retries of its sync daemon.
DOWN_SECONDS = 4.0


def _lines(node: NodeProcess, text: str) -> list[str]:
    return [line for line in node.log.read_text(errors="replace").splitlines() if text in line]


def test_cancelled_streams_stops_and_polls_of_an_empty_log_are_not_errors(cluster: Cluster) -> None:
    cluster.own_nodes = ("320000", "440000")
    national = cluster.national()
    provinces = [cluster.province("320000"), cluster.province("440000")]
    for node in (national, *provinces):
        node.env["REGISTRY_LOG_LEVEL"] = "INFO"
    national.start()
    for province in provinces:
        province.start()

    # An empty federation: each witness finds no checkpoint, round after round.
    wait_until(
        lambda: all(cluster.state(p.region or "").HasField("last_contact_time") for p in provinces),
        message="both links are up",
    )
    time.sleep(EMPTY_SECONDS)  # the duration observed, not a synchronisation

    # Downward streams that are never read, cancelled by their client.
    feed_for_sichuan(national, 300)
    held = HeldStreams(national.address, push=20, pull=100, pull_node="nodes/510000", pull_as="510000")
    held.close()
    health = health_pb2_grpc.HealthStub(national.channel())
    assert (
        health.Check(health_pb2.HealthCheckRequest(), timeout=5).status
        == health_pb2.HealthCheckResponse.SERVING
    )

    # Stops: a province the national node is serving, the national node with the other's streams
    # open, then that province with its link down.
    assert provinces[1].stop() == 0
    assert national.stop() == 0
    status = ps_grpc.ProvincialServiceStub(provinces[0].channel())
    wait_until(
        lambda: "UNAVAILABLE" in status.GetSyncStatus(ps.GetSyncStatusRequest(), timeout=5).last_error,
        message="the province to find the national node gone",
    )
    time.sleep(DOWN_SECONDS)  # the duration observed, not a synchronisation
    assert provinces[0].stop() == 0

    for node in (national, *provinces):
        found = errors(node.log)
        assert found == [], f"{node.module} {node.region} logged errors: {found[:5]}"
    for region in ("320000", "440000"):
        asked = _lines(national, f"GetCheckpoint refused for nodes/{region}")
        assert len(asked) <= 1, f"the empty log is logged at every poll of nodes/{region}: {asked[:3]}"
    # The national node gone is a state: logged when it begins, not at every retry.
    retries = _lines(provinces[0], "WARNING provincial_node.sync")
    assert len(retries) <= 2, f"the province logs every retry: {retries[:4]}"
