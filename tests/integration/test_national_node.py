"""The national node as a process, over real gRPC: coding authority, directory, bad input."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import grpc
import pytest
from google.protobuf import descriptor_pb2
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status

from common import codes
from common.gen.registry.v1 import national_service_pb2 as ns
from common.gen.registry.v1 import national_service_pb2_grpc as ns_grpc
from common.gen.registry.v1 import node_pb2
from common.gen.registry.v1 import sync_service_pb2 as ss
from common.gen.registry.v1 import sync_service_pb2_grpc as ss_grpc
from tests.factories import make_uscc
from tests.nodes import ROOT, NodeProcess

pytestmark = pytest.mark.integration


def _request(**overrides: object) -> ns.AssignCodeRequest:
    fields = {
        "node": "nodes/320000",
        "issuer": "320000",
        "object_type": 1,
        "registration": f"nodes/320000/registrations/r-{uuid.uuid4().hex[:12]}",
        "subject_uscc": make_uscc("320106"),
        "request_id": str(uuid.uuid4()),
    }
    fields.update(overrides)
    return ns.AssignCodeRequest(**fields)


def _details(error: grpc.RpcError) -> tuple[error_details_pb2.ErrorInfo, list[str]]:
    status = rpc_status.from_call(error)
    info, fields = error_details_pb2.ErrorInfo(), []
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            detail.Unpack(info)
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            fields = [v.field for v in bad.field_violations]
    return info, fields


def _rows(db: Path) -> tuple[int, int]:
    with sqlite3.connect(db) as conn:
        assignments = conn.execute("SELECT count(*) FROM code_assignments").fetchone()[0]
        serials = conn.execute("SELECT coalesce(sum(last_serial), 0) FROM code_counters").fetchone()[0]
    return assignments, serials


@pytest.fixture
def stub(national_node: NodeProcess) -> ns_grpc.NationalServiceStub:
    return ns_grpc.NationalServiceStub(national_node.channel())


def test_started_as_the_readme_says_it_answers_health_and_lists_services(tmp_path: Path) -> None:
    # README: `python -m national_node --config deploy/national.toml`, run from the project folder.
    # Only the port and the data file are moved aside so the test can run beside a real deployment.
    node = NodeProcess(
        "national_node",
        env={"REGISTRY_DATABASE_URL": f"sqlite:///{tmp_path / 'national.db'}"},
        cwd=ROOT,
        args=("--config", "deploy/national.toml"),
    )
    node.log = tmp_path / "national.log"
    node.start()
    try:
        channel = node.channel()
        health = health_pb2_grpc.HealthStub(channel)
        for service in ("", "registry.v1.NationalService"):
            reply = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
        reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
        replies = reflection.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5
        )
        services = {s.name for reply in replies for s in reply.list_services_response.service}
        assert {"registry.v1.NationalService", "grpc.health.v1.Health"} <= services
        # The directory reflects the configuration file: Jiangsu and Guangdong run their own nodes.
        stub = ns_grpc.NationalServiceStub(channel)
        jiangsu = stub.GetNode(ns.GetNodeRequest(name="nodes/320000"), timeout=5)
        assert (jiangsu.mode, jiangsu.address) == (node_pb2.Node.OWN_NODE, "127.0.0.1:50061")
        assert node.stop() == 0  # SIGTERM is a clean stop
    finally:
        node.kill()


def test_directory_lists_every_region_once_across_pages(stub: ns_grpc.NationalServiceStub) -> None:
    seen, token = [], ""
    while True:
        page = stub.ListNodes(ns.ListNodesRequest(page_size=7, page_token=token), timeout=5)
        seen += page.nodes
        token = page.next_page_token
        if not token:
            break
    assert len(seen) == 36 and len({n.region for n in seen}) == 36
    modes = {n.region: n.mode for n in seen}
    assert modes["100000"] == node_pb2.Node.NATIONAL
    assert modes["320000"] == modes["440000"] == node_pb2.Node.OWN_NODE
    assert modes["660000"] == modes["510000"] == node_pb2.Node.PROXY
    assert next(n for n in seen if n.region == "660000").display_name == "新疆生产建设兵团"


def test_codes_are_sequential_per_namespace_valid_and_recorded(stub: ns_grpc.NationalServiceStub) -> None:
    first = stub.AssignCode(_request(), timeout=5)
    second = stub.AssignCode(_request(), timeout=5)
    product = stub.AssignCode(_request(object_type=2), timeout=5)
    national = stub.AssignCode(
        _request(
            node="nodes/100000",
            issuer="100000",
            subject_uscc=make_uscc("110000"),
            registration="nodes/100000/registrations/r-central-1",
        ),
        timeout=5,
    )
    assert [first.serial, second.serial, product.serial, national.serial] == [1, 2, 1, 1]
    for assignment in (first, second, product, national):
        parsed = codes.parse(assignment.code)
        assert (parsed.issuer, parsed.serial) == (assignment.issuer, assignment.serial)
        assert parsed.year == assignment.year % 100
    assert first.code.startswith("1320000") and product.code.startswith("2320000")
    # Who asked, for which registration, when: readable back, and verifiable by anyone.
    fetched = stub.GetCodeAssignment(ns.GetCodeAssignmentRequest(name=f"codes/{first.code}"), timeout=5)
    assert fetched == first
    assert fetched.requested_by == "nodes/320000" and fetched.assign_time.seconds > 0
    verified = stub.VerifyCode(ns.VerifyCodeRequest(code=first.code), timeout=5)
    assert (
        verified.well_formed and verified.assigned and verified.assignment.registration == first.registration
    )


def test_verify_code_explains_a_typo_and_knows_unassigned_codes(stub: ns_grpc.NationalServiceStub) -> None:
    code = stub.AssignCode(_request(), timeout=5).code
    i = next(i for i in range(17, 0, -1) if code[i] != code[i + 1])  # two different neighbours
    swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
    typo = stub.VerifyCode(ns.VerifyCodeRequest(code=swapped), timeout=5)
    assert not typo.well_formed and typo.defect != 0 and typo.message
    unassigned = codes.generate(3, "650000", 2026, 424242)
    reply = stub.VerifyCode(ns.VerifyCodeRequest(code=unassigned), timeout=5)
    assert reply.well_formed and not reply.assigned
    with pytest.raises(grpc.RpcError) as caught:
        stub.GetCodeAssignment(ns.GetCodeAssignmentRequest(name=f"codes/{unassigned}"), timeout=5)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


def test_a_repeated_request_id_gets_its_first_code_back_even_after_a_crash(
    national_node: NodeProcess, tmp_path: Path
) -> None:
    request = _request()
    stub = ns_grpc.NationalServiceStub(national_node.channel())
    first = stub.AssignCode(request, timeout=5)
    # The node commits and dies before anyone hears back (SIGKILL, no shutdown code runs); the
    # caller retries against the restarted node with the same request id.
    national_node.kill()
    national_node.start()
    stub = ns_grpc.NationalServiceStub(national_node.channel())
    again = stub.AssignCode(request, timeout=5)
    assert again == first
    assert stub.AssignCode(_request(), timeout=5).serial == first.serial + 1  # no serial was used up
    # The same registration cannot get a second code under a new request id ...
    with pytest.raises(grpc.RpcError) as caught:
        stub.AssignCode(
            _request(registration=request.registration, subject_uscc=request.subject_uscc), timeout=5
        )
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert _details(caught.value)[0].metadata["code"] == first.code
    # ... and a request id cannot be reused for something else.
    with pytest.raises(grpc.RpcError) as caught:
        stub.AssignCode(_request(request_id=request.request_id), timeout=5)
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert _details(caught.value)[0].reason == "REQUEST_ID_REUSED"
    assert _rows(tmp_path / "node.db") == (2, 2)


BAD_REQUESTS = [
    # (case, overrides, status, reason, field)
    (
        "malformed USCC",
        {"subject_uscc": "91320106MA1XYZ12"},
        "INVALID_ARGUMENT",
        "WRONG_LENGTH",
        "subject_uscc",
    ),
    (
        "USCC check character",
        {"subject_uscc": "91110000600037341M"},
        "INVALID_ARGUMENT",
        "CHECK_MISMATCH",
        "subject_uscc",
    ),
    ("unknown region as issuer", {"issuer": "990000"}, "INVALID_ARGUMENT", "UNKNOWN_REGION", "issuer"),
    (
        "USCC in no known region",
        {"subject_uscc": "91990000600037341L"},
        "INVALID_ARGUMENT",
        "UNKNOWN_REGION",
        "subject_uscc",
    ),
    ("empty registration", {"registration": ""}, "INVALID_ARGUMENT", "FIELD_REQUIRED", "registration"),
    (
        "oversized registration",
        {"registration": "nodes/320000/registrations/" + "r" * 200},
        "INVALID_ARGUMENT",
        "FIELD_TOO_LONG",
        "registration",
    ),
    ("empty request id", {"request_id": ""}, "INVALID_ARGUMENT", "FIELD_REQUIRED", "request_id"),
    ("oversized request id", {"request_id": "x" * 65}, "INVALID_ARGUMENT", "FIELD_TOO_LONG", "request_id"),
    ("no object type", {"object_type": 0}, "INVALID_ARGUMENT", "FIELD_REQUIRED", "object_type"),
    ("malformed node name", {"node": "320000"}, "INVALID_ARGUMENT", "FIELD_MALFORMED", "node"),
    (
        "unknown node",
        {"node": "nodes/999999", "registration": "nodes/999999/registrations/r-1"},
        "NOT_FOUND",
        "NODE_NOT_FOUND",
        "node",
    ),
    ("foreign namespace", {"issuer": "440000"}, "PERMISSION_DENIED", "FOREIGN_NAMESPACE", "issuer"),
    (
        "another node's registration",
        {"registration": "nodes/440000/registrations/r-1"},
        "INVALID_ARGUMENT",
        "FOREIGN_REGISTRATION",
        "registration",
    ),
    (
        "subject of another province",
        {"subject_uscc": make_uscc("440300")},
        "PERMISSION_DENIED",
        "SUBJECT_OUTSIDE_JURISDICTION",
        "subject_uscc",
    ),
    (
        "province served by proxy",
        {
            "node": "nodes/510000",
            "issuer": "510000",
            "registration": "nodes/510000/registrations/r-1",
            "subject_uscc": make_uscc("510100"),
        },
        "PERMISSION_DENIED",
        "NODE_NOT_ONLINE",
        "node",
    ),
]


@pytest.mark.parametrize(
    ("overrides", "status", "reason", "field"),
    [case[1:] for case in BAD_REQUESTS],
    ids=[case[0] for case in BAD_REQUESTS],
)
def test_bad_input_is_refused_with_the_field_named_and_nothing_written(
    stub: ns_grpc.NationalServiceStub, tmp_path: Path, overrides: dict, status: str, reason: str, field: str
) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        stub.AssignCode(_request(**overrides), timeout=5)
    error = caught.value
    assert error.code() == getattr(grpc.StatusCode, status), error.details()
    info, violations = _details(error)
    assert info.domain == "registry.v1" and info.reason == reason
    assert field in violations or info.metadata.get("field") == field
    assert field in error.details() or info.metadata.get("field") == field
    assert _rows(tmp_path / "node.db") == (0, 0)  # no assignment, and no serial used up
    assert stub.AssignCode(_request(), timeout=5).serial == 1


def test_several_bad_fields_are_reported_at_once(stub: ns_grpc.NationalServiceStub) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        stub.AssignCode(_request(issuer="", subject_uscc="x", request_id=""), timeout=5)
    _, violations = _details(caught.value)
    assert set(violations) == {"issuer", "subject_uscc", "request_id"}


def test_bad_configuration_is_refused_before_serving(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[[provincial_nodes]]\nregion = "990000"\n')
    result = subprocess.run(
        [sys.executable, "-m", "national_node", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "990000" in result.stderr


def _directory(db: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT region, mode, address FROM nodes ORDER BY region").fetchall()


def test_an_onboarding_with_an_overlong_address_is_refused_and_changes_nothing(
    national_node: NodeProcess, tmp_path: Path
) -> None:
    sync = ss_grpc.SyncServiceStub(national_node.channel())
    before = _directory(tmp_path / "node.db")
    with pytest.raises(grpc.RpcError) as caught:
        sync.OnboardNode(ss.OnboardNodeRequest(node="nodes/510000", address="h" * 256 + ":1"), timeout=5)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert _details(caught.value)[1] == ["address"]
    assert _directory(tmp_path / "node.db") == before


def test_sync_states_come_a_page_at_a_time(national_node: NodeProcess) -> None:
    sync = ss_grpc.SyncServiceStub(national_node.channel())
    first = sync.ListSyncStates(ss.ListSyncStatesRequest(page_size=1), timeout=5)
    second = sync.ListSyncStates(
        ss.ListSyncStatesRequest(page_size=1, page_token=first.next_page_token), timeout=5
    )
    assert [s.node for s in first.states] == ["nodes/320000"]
    assert [s.node for s in second.states] == ["nodes/440000"] and second.next_page_token == ""
    with pytest.raises(grpc.RpcError) as caught:
        sync.ListSyncStates(ss.ListSyncStatesRequest(page_token=first.next_page_token[:-2] + "AA"), timeout=5)
    assert (caught.value.code(), _details(caught.value)[0].reason) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "PAGE_TOKEN_INVALID",
    )


def test_reflection_serves_the_contract_with_its_comments(national_node: NodeProcess) -> None:
    reflection = reflection_pb2_grpc.ServerReflectionStub(national_node.channel())
    request = reflection_pb2.ServerReflectionRequest(file_containing_symbol="registry.v1.RegistrationService")
    [answer] = list(reflection.ServerReflectionInfo(iter([request]), timeout=5))
    files = {}
    for raw in answer.file_descriptor_response.file_descriptor_proto:
        proto = descriptor_pb2.FileDescriptorProto.FromString(raw)
        files[proto.name] = proto
    service = files["registry/v1/registration_service.proto"]
    comments = " ".join(loc.leading_comments for loc in service.source_code_info.location)
    assert "Request ids" in comments and "authorization: Bearer" in comments
    assert "registry/v1/registration.proto" in files  # its imports come along, documented too
    assert files["registry/v1/registration.proto"].source_code_info.location
