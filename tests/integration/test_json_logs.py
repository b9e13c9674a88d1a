"""Structured logs: a federation started with ``[log] format = "json"`` logs one JSON object a line.

A national node (with its search indexer as a child process) and a province run as real processes
with ``REGISTRY_LOG__FORMAT=json``; the province's sync daemon calls the national node as a node, a
person calls the province with a request id for a registration it does not hold. Then both stop.
Every line either process wrote is a JSON object with the time (RFC 3339, UTC), level, logger,
message and node; the lines of the calls name their method and their principal (the node, or the
token's subject), and the request id; no line holds the token.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import grpc
import pytest

from common.gen.registry.v1 import registration_service_pb2 as rs
from common.gen.registry.v1 import registration_service_pb2_grpc as rs_grpc
from tests.cluster import Cluster
from tests.nodes import NodeProcess, wait_until
from tests.trust import token

pytestmark = [pytest.mark.integration]

FIELDS = ("time", "level", "logger", "message", "node", "role")


def _entries(log: Path) -> list[dict[str, Any]]:
    """Every line of ``log`` as JSON: fails on the first line that is not an object with FIELDS."""
    entries = []
    for number, line in enumerate(log.read_text().splitlines(), 1):
        try:
            entry = json.loads(line)
        except ValueError:
            pytest.fail(f"{log.name} line {number} is not JSON: {line[:200]!r}")
        assert isinstance(entry, dict), line
        missing = [f for f in FIELDS if f not in entry]
        assert not missing, f"{log.name} line {number} lacks {missing}: {line[:200]}"
        when = datetime.fromisoformat(entry["time"])
        assert entry["time"].endswith("Z") and when.utcoffset() is not None and not when.utcoffset()
        entries.append(entry)
    return entries


def _json(node: NodeProcess) -> NodeProcess:
    node.env |= {"REGISTRY_LOG__FORMAT": "json", "REGISTRY_LOG__LEVEL": "INFO"}
    return node


def test_a_node_started_with_json_logs_writes_json_lines_that_name_each_call(cluster: Cluster) -> None:
    national = _json(cluster.national())
    national.env["REGISTRY_INDEXER__EMBEDDED"] = "true"  # its child logs to the same stream
    national.start()
    province = _json(cluster.province("320000")).start()
    wait_until(lambda: cluster.state("320000").HasField("last_contact_time"), message="the link is up")

    bearer = token("zhang.san", ("clerk",))
    stub = rs_grpc.RegistrationServiceStub(province.channel(bearer=bearer))
    request_id = "7d3c1f0e-5b9a-4e2d-8c6f-1a2b3c4d5e6f"
    with pytest.raises(grpc.RpcError) as refused:
        stub.AcceptApplication(
            rs.AcceptApplicationRequest(name="nodes/320000/registrations/r-1", request_id=request_id),
            timeout=10,
        )
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND  # type: ignore[attr-defined]

    def national_logged_the_province() -> list[dict[str, Any]]:
        return [e for e in _entries(national.log) if e.get("principal") == "nodes/320000"]

    wait_until(national_logged_the_province, message="a line of the province's call at the national node")
    assert province.stop() == 0
    assert national.stop() == 0

    lines = _entries(province.log)
    assert {e["node"] for e in lines} == {"320000"} and {e["role"] for e in lines} == {"provincial"}
    call = [e for e in lines if e.get("method") == "/registry.v1.RegistrationService/AcceptApplication"]
    assert call, "the refused call is logged"
    assert call[0]["principal"] == "zhang.san"
    assert call[0]["request_id"] == request_id
    assert call[0]["level"] == "INFO" and "NOT_FOUND" in call[0]["message"]
    assert len({e["call_id"] for e in lines if "call_id" in e}) >= 1

    national_lines = _entries(national.log)
    assert {e["role"] for e in national_lines} >= {"national", "indexer"}, "the indexer child logs JSON too"
    assert {e["node"] for e in national_lines} == {"100000"}
    from_province = national_logged_the_province()
    assert all(e["method"].startswith("/registry.v1.") for e in from_province)
    for log in (national.log, province.log):
        assert bearer not in log.read_text(), "a token is never logged"
