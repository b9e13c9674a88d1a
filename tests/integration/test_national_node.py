"""The national node as a process, over real gRPC: coding authority, directory, bad input.

The tests share one national node per module (and per test worker), ``node``: each works on
registrations and request ids of its own, and measures what it spends against what the node held
before it (serials, assignments). A test that needs a node on which no code was ever assigned takes
``national_node``, a node of its own.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import descriptor_pb2, duration_pb2, json_format
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status

from common import codes
from common.clock import CHINA
from common.gen.registry.v1 import national_service_pb2 as ns
from common.gen.registry.v1 import national_service_pb2_grpc as ns_grpc
from common.gen.registry.v1 import node_pb2, sync_pb2
from common.gen.registry.v1 import registration_pb2 as r
from common.gen.registry.v1 import sync_service_pb2 as ss
from common.gen.registry.v1 import sync_service_pb2_grpc as ss_grpc
from tests.factories import make_uscc
from tests.nodes import ROOT, NodeProcess, national_node_process, registryctl
from tests.sync_support import awaiting_code, waiting_for_code
from tests.trust import token

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


def _db(node: NodeProcess) -> Path:
    return node.cwd / "node.db"


def _rows(node: NodeProcess) -> tuple[int, int]:
    """Codes assigned, and serials used up (every namespace), so far."""
    with sqlite3.connect(_db(node)) as conn:
        assignments = conn.execute("SELECT count(*) FROM code_assignments").fetchone()[0]
        serials = conn.execute("SELECT coalesce(sum(last_serial), 0) FROM code_counters").fetchone()[0]
    return assignments, serials


def _last_serial(node: NodeProcess, issuer: str = "320000", object_type: int = 1) -> int:
    """The last serial assigned in a namespace this year (0: none yet)."""
    year = datetime.now(CHINA).year
    with sqlite3.connect(_db(node)) as conn:
        (serial,) = conn.execute(
            "SELECT coalesce(max(last_serial), 0) FROM code_counters"
            " WHERE issuer = ? AND object_type = ? AND year = ?",
            (issuer, object_type, year),
        ).fetchone()
    return int(serial)


@pytest.fixture(scope="module")
def shared_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    node = national_node_process(tmp_path_factory.mktemp("national")).start()
    yield node
    node.kill()


@pytest.fixture
def node(shared_node: NodeProcess) -> NodeProcess:
    """The module's national node, running (started again if a test left it down)."""
    return shared_node.revive()


@pytest.fixture
def stub(node: NodeProcess) -> ns_grpc.NationalServiceStub:
    return ns_grpc.NationalServiceStub(node.channel())


@pytest.fixture
def ready(node: NodeProcess) -> Callable[..., ns.AssignCodeRequest]:
    """A code request for a registration the national ledger holds, waiting for its code."""

    def make(**overrides: object) -> ns.AssignCodeRequest:
        request = _request(**overrides)
        waiting_for_code(node.env["REGISTRY_DATABASE_URL"], [request])
        return request

    return make


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


def test_codes_are_sequential_per_namespace_valid_and_recorded(
    node: NodeProcess, stub: ns_grpc.NationalServiceStub, ready: Callable[..., ns.AssignCodeRequest]
) -> None:
    last = [_last_serial(node, "320000", 1), _last_serial(node, "320000", 2), _last_serial(node, "100000", 1)]
    first = stub.AssignCode(ready(), timeout=5)
    second = stub.AssignCode(ready(), timeout=5)
    product = stub.AssignCode(ready(object_type=2), timeout=5)
    national = stub.AssignCode(
        ready(
            node="nodes/100000",
            issuer="100000",
            subject_uscc=make_uscc("110000"),
            registration=f"nodes/100000/registrations/r-central-{uuid.uuid4().hex[:12]}",
        ),
        timeout=5,
    )
    # Each namespace goes on from its last serial, one at a time.
    assert [first.serial, second.serial, product.serial, national.serial] == [
        last[0] + 1,
        last[0] + 2,
        last[1] + 1,
        last[2] + 1,
    ]
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


def test_verify_code_explains_a_typo_and_knows_unassigned_codes(
    stub: ns_grpc.NationalServiceStub, ready: Callable[..., ns.AssignCodeRequest]
) -> None:
    code = stub.AssignCode(ready(), timeout=5).code
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
    node: NodeProcess, ready: Callable[..., ns.AssignCodeRequest]
) -> None:
    assignments, serials = _rows(node)
    request = ready()
    stub = ns_grpc.NationalServiceStub(node.channel())
    first = stub.AssignCode(request, timeout=5)
    # The node commits and dies before anyone hears back (SIGKILL, no shutdown code runs); the
    # caller retries against the restarted node with the same request id.
    node.kill()
    node.start()
    stub = ns_grpc.NationalServiceStub(node.channel())
    again = stub.AssignCode(request, timeout=5)
    assert again == first
    assert stub.AssignCode(ready(), timeout=5).serial == first.serial + 1  # no serial was used up
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
    assert _rows(node) == (assignments + 2, serials + 2)


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
    node: NodeProcess,
    stub: ns_grpc.NationalServiceStub,
    ready: Callable[..., ns.AssignCodeRequest],
    overrides: dict,
    status: str,
    reason: str,
    field: str,
) -> None:
    before, last = _rows(node), _last_serial(node)
    with pytest.raises(grpc.RpcError) as caught:
        stub.AssignCode(_request(**overrides), timeout=5)
    error = caught.value
    assert error.code() == getattr(grpc.StatusCode, status), error.details()
    info, violations = _details(error)
    assert info.domain == "registry.v1" and info.reason == reason
    assert field in violations or info.metadata.get("field") == field
    assert field in error.details() or info.metadata.get("field") == field
    assert _rows(node) == before  # no assignment, and no serial used up
    assert stub.AssignCode(ready(), timeout=5).serial == last + 1


def test_several_bad_fields_are_reported_at_once(stub: ns_grpc.NationalServiceStub) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        stub.AssignCode(_request(issuer="", subject_uscc="x", request_id=""), timeout=5)
    _, violations = _details(caught.value)
    assert set(violations) == {"issuer", "subject_uscc", "request_id"}


def _push(national_node: NodeProcess, region: str, *records: sync_pb2.RegistrationRecord) -> None:
    """Send records up ``region``'s change feed, as that node (its certificate), after what is there."""
    sync = ss_grpc.SyncServiceStub(national_node.channel(node=region))
    after = sync.GetSyncState(ss.GetSyncStateRequest(node=f"nodes/{region}"), timeout=5).acknowledged_sequence
    batch = sync_pb2.ChangeBatch(node=f"nodes/{region}")
    for i, record in enumerate(records, start=after + 1):
        batch.changes.add(sequence=i, record=record)
    [ack] = list(sync.PushChanges(iter([batch]), timeout=5))
    assert ack.acknowledged_sequence == after + len(records) and not ack.refused, ack


def _refusal(call: Callable[[], object]) -> tuple[grpc.StatusCode, str, dict[str, str]]:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    info, _ = _details(caught.value)
    return caught.value.code(), info.reason, dict(info.metadata)


def test_a_code_is_spent_only_on_a_registration_the_ledger_holds_for_the_node_waiting_for_it(
    node: NodeProcess,
) -> None:
    before, last = _rows(node), _last_serial(node)
    # Nodes as they call: each with its own certificate.
    jiangsu = ns_grpc.NationalServiceStub(node.channel(node="320000"))
    guangdong = ns_grpc.NationalServiceStub(node.channel(node="440000"))
    waiting = awaiting_code(f"nodes/320000/registrations/r-{uuid.uuid4().hex[:12]}")
    reg = waiting.registration
    asked = _request(registration=reg.name, subject_uscc=reg.content.subject.uscc)
    # Before its change has come up the feed, the ledger does not hold it: asked again later.
    code, reason, metadata = _refusal(lambda: jiangsu.AssignCode(asked, timeout=5))
    assert (code, reason, metadata["registration"]) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "REGISTRATION_NOT_IN_LEDGER",
        reg.name,
    )
    # Guangdong inventing registrations in its own namespace, or naming Jiangsu's registration under
    # its own name, mints nothing.
    for name in ("nodes/440000/registrations/r-invented", reg.name.replace("nodes/320000", "nodes/440000")):
        forged = _request(
            node="nodes/440000", issuer="440000", registration=name, subject_uscc=make_uscc("440305")
        )
        code, reason, _ = _refusal(lambda f=forged: guangdong.AssignCode(f, timeout=5))
        assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "REGISTRATION_NOT_IN_LEDGER")
    _push(node, "320000", waiting)
    # In the ledger, but the request describes another subject or object type.
    for wrong, field in (
        ({"subject_uscc": make_uscc("320106")}, "subject_uscc"),
        ({"object_type": 2}, "object_type"),
    ):
        mismatch = ns.AssignCodeRequest()
        mismatch.CopyFrom(asked)
        for key, value in wrong.items():
            setattr(mismatch, key, value)
        code, reason, metadata = _refusal(lambda m=mismatch: jiangsu.AssignCode(m, timeout=5))
        assert (code, reason, metadata["field"]) == (
            grpc.StatusCode.INVALID_ARGUMENT,
            "LEDGER_MISMATCH",
            field,
        )
    # A registration the ledger holds in another state: still under announcement.
    announced = awaiting_code(f"nodes/320000/registrations/r-{uuid.uuid4().hex[:12]}")
    announced.registration.current_application.state = r.Application.ANNOUNCED
    _push(node, "320000", announced)
    code, reason, metadata = _refusal(
        lambda: jiangsu.AssignCode(
            _request(
                registration=announced.registration.name,
                subject_uscc=announced.registration.content.subject.uscc,
            ),
            timeout=5,
        )
    )
    assert (code, reason, metadata["application_state"]) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "REGISTRATION_NOT_CODABLE",
        "ANNOUNCED",
    )
    assert _rows(node) == before  # not one serial spent
    # Once the ledger holds it waiting, its node gets the code, the namespace's next serial.
    assert jiangsu.AssignCode(asked, timeout=5).serial == last + 1


def test_a_code_whose_registration_never_reached_the_ledger_coded_is_listed_as_orphaned(
    national_node: NodeProcess,
) -> None:
    # A node of its own: the list of orphaned codes is compared whole, so every code assigned on the
    # node must be one of this test's.
    coordinator = ns_grpc.NationalServiceStub(
        national_node.channel(bearer=token("coordinator-wu", ("coordinator",)))
    )
    waiting = [awaiting_code(f"nodes/320000/registrations/r-{uuid.uuid4().hex[:12]}") for _ in range(3)]
    _push(national_node, "320000", *waiting)
    jiangsu = ns_grpc.NationalServiceStub(national_node.channel(node="320000"))
    assigned = [
        jiangsu.AssignCode(
            _request(registration=w.registration.name, subject_uscc=w.registration.content.subject.uscc),
            timeout=5,
        )
        for w in waiting
    ]

    def orphaned(**request: Any) -> list[ns.OrphanedCode]:
        listed, page_token = [], ""
        for _ in range(10):
            page = coordinator.ListOrphanedCodes(
                ns.ListOrphanedCodesRequest(page_size=2, page_token=page_token, **request), timeout=5
            )
            listed += page.orphaned_codes
            page_token = page.next_page_token
            if not page_token:
                return listed
        raise AssertionError("more pages than codes")

    # Within the grace (an hour by default) a code is on its way, not orphaned.
    assert orphaned() == []
    now = orphaned(grace=duration_pb2.Duration(seconds=0))
    assert [o.assignment.code for o in now] == sorted(a.code for a in assigned)
    assert {(o.in_ledger, o.ledger_state, o.ledger_application_state) for o in now} == {
        (True, r.Registration.PENDING, r.Application.AWAITING_CODE)
    }
    # One comes up the feed coded: it is no longer orphaned; the others stay listed.
    coded = sync_pb2.RegistrationRecord()
    coded.CopyFrom(waiting[0])
    coded.revision += 2
    coded.registration.code, coded.registration.state = assigned[0].code, r.Registration.ACTIVE
    coded.registration.current_application.state = r.Application.COMPLETED
    _push(national_node, "320000", coded)
    left = orphaned(grace=duration_pb2.Duration(seconds=0))
    assert [o.assignment.code for o in left] == sorted(a.code for a in assigned[1:])
    # The coordinator's command line says the same.
    bearer = token("coordinator-wu", ("coordinator",))
    where = national_node.address
    shown = registryctl(
        where, "codes", "orphaned", "--grace", "0s", bearer=bearer, national=where, json_output=False
    )
    assert shown.returncode == 0 and "2 orphaned codes" in shown.stdout, shown.stderr
    listed = json_format.Parse(
        registryctl(where, "codes", "orphaned", "--grace", "0s", bearer=bearer, national=where).stdout,
        ns.ListOrphanedCodesResponse(),
    )
    assert [o.assignment.code for o in listed.orphaned_codes] == sorted(a.code for a in assigned[1:])
    none_yet = registryctl(where, "codes", "orphaned", bearer=bearer, national=where, json_output=False)
    assert none_yet.returncode == 0 and "no orphaned codes (assigned more than 1h ago)" in none_yet.stdout
    # A grace out of range is bad input; a clerk may not look.
    code, reason, _ = _refusal(
        lambda: coordinator.ListOrphanedCodes(
            ns.ListOrphanedCodesRequest(grace=duration_pb2.Duration(seconds=-1)), timeout=5
        )
    )
    assert (code, reason) == (grpc.StatusCode.INVALID_ARGUMENT, "FIELD_OUT_OF_RANGE")
    clerk = ns_grpc.NationalServiceStub(national_node.channel(bearer=token("clerk-li", ("clerk",))))
    code, reason, _ = _refusal(lambda: clerk.ListOrphanedCodes(ns.ListOrphanedCodesRequest(), timeout=5))
    assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "ROLE_NOT_ALLOWED")


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


def _directory(node: NodeProcess) -> list[tuple[str, str, str]]:
    with sqlite3.connect(_db(node)) as conn:
        return conn.execute("SELECT region, mode, address FROM nodes ORDER BY region").fetchall()


def test_an_onboarding_with_an_overlong_address_is_refused_and_changes_nothing(node: NodeProcess) -> None:
    sync = ss_grpc.SyncServiceStub(node.channel())
    before = _directory(node)
    with pytest.raises(grpc.RpcError) as caught:
        sync.OnboardNode(ss.OnboardNodeRequest(node="nodes/510000", address="h" * 256 + ":1"), timeout=5)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert _details(caught.value)[1] == ["address"]
    assert _directory(node) == before


def test_sync_states_come_a_page_at_a_time(node: NodeProcess) -> None:
    sync = ss_grpc.SyncServiceStub(node.channel())
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


def test_reflection_serves_the_contract_with_its_comments(node: NodeProcess) -> None:
    reflection = reflection_pb2_grpc.ServerReflectionStub(node.channel())
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
