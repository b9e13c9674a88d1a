"""Hard edges, as a hostile client finds them: any bytes in, a clear answer out, nothing written.

Each finding of the review that led to the serving and boundary rework is a test here, against real
node processes over real gRPC. The tests share one cluster per module (and per test worker): none of
them writes, so the state they find is the cluster's steady state after its first sync, and each
compares what it finds with what it leaves.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from common.gen.registry.v1 import national_service_pb2 as ns
from common.gen.registry.v1 import registration_service_pb2 as rs
from common.gen.registry.v1 import sync_pb2
from tests.cluster import Cluster
from tests.nodes import NodeProcess, wait_until
from tests.rpc_support import NATIONAL_SERVICES, PROVINCIAL_SERVICES, call_raw, methods, tracebacks

pytestmark = pytest.mark.integration

#: Bytes that no message decodes from: a field with wire type 7, a truncated varint, a length beyond
#: the end, an end-group without a start.
UNDECODABLE = [b"\x0f", b"\x08\xff\xff\xff", b"\x0a\xff\x01abc", b"\x0c"]
#: Invalid UTF-8 in field 1, undecodable where field 1 is a string (as in most requests).
BAD_UTF8 = b"\x0a\x02\xff\xfe"


def _counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}  # noqa: S608
        if "code_counters" in tables:
            counts["serials"] = conn.execute(
                "SELECT coalesce(sum(last_serial), 0) FROM code_counters"
            ).fetchone()[0]
    return counts


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The module's cluster: a national node and Jiangsu's node, logging at INFO."""
    c = Cluster(tmp_path_factory.mktemp("edges"), own_nodes=("320000",))
    c.national().env["REGISTRY_LOG_LEVEL"] = "INFO"
    c.province("320000").env["REGISTRY_LOG_LEVEL"] = "INFO"
    yield c
    c.kill()


@pytest.fixture
def nodes(cluster: Cluster) -> tuple[NodeProcess, NodeProcess]:
    """Both nodes running (started on the module's first test, again if a test left one down)."""
    cluster.revive()
    # The province's link is up (its sync state exists): what changes from now on is the tests' doing.
    wait_until(lambda: cluster.state("320000").HasField("last_contact_time"), message="the first sync")
    national, province = cluster.processes
    return national, province


def test_undecodable_bytes_are_invalid_argument_on_every_rpc_of_every_service(
    cluster: Cluster, nodes: tuple[NodeProcess, NodeProcess]
) -> None:
    national, province = nodes
    before = (_counts(cluster.root / "national.db"), _counts(cluster.root / "320000.db"))
    answered = 0
    for node, services in ((national, NATIONAL_SERVICES), (province, PROVINCIAL_SERVICES)):
        channel = node.channel()
        for method in methods(services):
            first = method.input_type.fields_by_number.get(1)
            string_first = first is not None and first.type == first.TYPE_STRING and not first.is_repeated
            for payload in UNDECODABLE + ([BAD_UTF8] if string_first else []):
                answer = call_raw(channel, method, [payload])
                assert answer.code == grpc.StatusCode.INVALID_ARGUMENT, (method.full_name, payload, answer)
                assert answer.reason == "REQUEST_UNDECODABLE", (method.full_name, answer)
                answered += 1
    assert answered >= 4 * (len(list(methods(NATIONAL_SERVICES))) + len(list(methods(PROVINCIAL_SERVICES))))
    assert (_counts(cluster.root / "national.db"), _counts(cluster.root / "320000.db")) == before
    assert tracebacks(national.log) == [] and tracebacks(province.log) == []


def test_an_unknown_enum_number_is_invalid_argument_naming_the_field(
    nodes: tuple[NodeProcess, NodeProcess],
) -> None:
    _, province = nodes
    method = PROVINCIAL_SERVICES[0].methods_by_name["ListRegistrations"]
    request = rs.ListRegistrationsRequest(parent="nodes/320000")
    raw = request.SerializeToString() + b"\x20" + _varint(-1667)  # field 4 (state), an open-enum value
    answer = call_raw(province.channel(), method, [raw])
    assert (answer.code, answer.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ("state",))
    assert tracebacks(province.log) == []


def test_an_invalid_timestamp_in_a_batch_is_invalid_argument_and_acknowledges_nothing(
    cluster: Cluster, nodes: tuple[NodeProcess, NodeProcess]
) -> None:
    national, _ = nodes
    before = cluster.state("320000").acknowledged_sequence
    batch = sync_pb2.ChangeBatch(
        node="nodes/320000", head_sequence=5, head_time=Timestamp(seconds=1, nanos=-91)
    )
    method = NATIONAL_SERVICES[2].methods_by_name["PushChanges"]
    answer = call_raw(national.channel(), method, [batch.SerializeToString()])
    assert (answer.code, answer.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ("head_time",))
    assert cluster.state("320000").acknowledged_sequence == before
    assert tracebacks(national.log) == []


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


#: The page tokens that used to reach the servicers and fail there: wrong types, huge integers, short
#: lists, mixed types, and a token of the old readable shape.
FORGED_TOKENS = [
    _b64(json.dumps({"p": {"a": 1}, "f": "x"}).encode()),
    _b64(json.dumps({"p": 10**30, "f": "0" * 16}).encode()),
    _b64(json.dumps({"p": ["2026-01-01T00:00:00+00:00"], "f": "0" * 16}).encode()),
    _b64(json.dumps({"p": [True, "x"], "f": "0" * 16}).encode()),
    _b64(b"\x00" * 40),
    "A" * 1025,
]


@pytest.mark.parametrize("token", FORGED_TOKENS)
def test_forged_page_tokens_are_invalid_argument_on_every_list(
    token: str, nodes: tuple[NodeProcess, NodeProcess]
) -> None:
    _, province = nodes
    service = PROVINCIAL_SERVICES[0]
    requests = {
        "ListRegistrations": rs.ListRegistrationsRequest(parent="nodes/320000", page_token=token),
        "ListHistory": rs.ListHistoryRequest(parent="nodes/320000/registrations/r-0", page_token=token),
        "ListDueItems": rs.ListDueItemsRequest(parent="nodes/320000", page_token=token),
    }
    for name, request in requests.items():
        answer = call_raw(province.channel(), service.methods_by_name[name], [request.SerializeToString()])
        if name == "ListHistory" and answer.code == grpc.StatusCode.NOT_FOUND:
            continue  # no such registration: refused before the token is read
        assert answer.code == grpc.StatusCode.INVALID_ARGUMENT, (name, answer)
        assert answer.fields == ("page_token",), (name, answer)
    assert tracebacks(province.log) == []


def test_a_code_request_naming_no_node_is_refused_without_writing(
    cluster: Cluster, nodes: tuple[NodeProcess, NodeProcess]
) -> None:
    national, _ = nodes
    before = _counts(cluster.root / "national.db")
    request = ns.AssignCodeRequest(request_id=str(uuid.uuid4()), object_type=-5)  # type: ignore[arg-type]
    method = NATIONAL_SERVICES[0].methods_by_name["AssignCode"]
    answer = call_raw(national.channel(), method, [request.SerializeToString()])
    assert answer.code == grpc.StatusCode.INVALID_ARGUMENT and "object_type" in answer.fields
    assert _counts(cluster.root / "national.db") == before


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)
