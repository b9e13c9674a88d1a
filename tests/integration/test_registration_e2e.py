"""The whole procedure over real gRPC, on real node processes: a province and the national node.

The nodes run a simulated clock (two days per real second) so that ten-working-day announcements
close within seconds; every other part is what an operator runs.

The tests share one federation per module (and per test worker): each works on registrations of its
own, with subjects and data names no other test uses (two registrations of one data name under one
subject name would be possible duplicates of each other). The test that takes the national node down
has a federation of its own.
"""

from __future__ import annotations

import itertools
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from common import codes
from common.gen.registry.v1 import correction_pb2
from common.gen.registry.v1 import national_service_pb2 as ns
from common.gen.registry.v1 import national_service_pb2_grpc as ns_grpc
from common.gen.registry.v1 import registration_pb2 as r
from common.gen.registry.v1 import registration_service_pb2 as rs
from common.gen.registry.v1 import registration_service_pb2_grpc as rs_grpc
from common.registration.content import canonical_json, content_sha256
from tests.factories import make_content, make_uscc
from tests.nodes import NodeProcess, free_port, registryctl, wait_until
from tests.trust import channel, metadata, token

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FAST_CLOCK = {"REGISTRY_CLOCK_SPEED": "172800", "REGISTRY_DUTIES_INTERVAL": "0.2"}
#: The calls of these tests are made as this operator (a token of the tests' issuer, role "tester").
ACTOR = metadata(None)
OPERATOR = token("operator-zhang")


@dataclass
class Federation:
    national: NodeProcess
    province: NodeProcess
    national_db: Path

    def registrations(self, node: NodeProcess) -> rs_grpc.RegistrationServiceStub:
        return rs_grpc.RegistrationServiceStub(node.channel(bearer=OPERATOR))

    def national_service(self) -> ns_grpc.NationalServiceStub:
        return ns_grpc.NationalServiceStub(self.national.channel())

    def revive(self) -> Federation:
        """Start again whichever node a test before left down (the national node on its own port)."""
        self.national.revive()
        self.province.revive()
        return self


@pytest.fixture(scope="module")
def shared_federation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    started = start_federation(tmp_path_factory.mktemp("federation"), search=False)
    yield started
    started.province.kill()
    started.national.kill()


@pytest.fixture
def federation(shared_federation: Federation) -> Federation:
    """The module's federation, both nodes running."""
    return shared_federation.revive()


@pytest.fixture
def own_federation(tmp_path: Path) -> Iterator[Federation]:
    """A federation for one test, which may take its nodes down."""
    started = start_federation(tmp_path, search=False)
    yield started
    started.province.kill()
    started.national.kill()


def start_federation(tmp_path: Path, *, strict: bool = False, search: bool = True) -> Federation:
    """A national node and Jiangsu's node; ``strict``: the built-in policy, as deployed, and schemas
    migrated from empty databases, as on a first start; ``search``: the national node runs its search
    indexer (without it, duplicates are still found, in the national log's entries)."""
    national_dir, province_dir = tmp_path / "national", tmp_path / "jiangsu"
    national_dir.mkdir()
    province_dir.mkdir()
    port = free_port()  # fixed, so that a restarted national node is found where it was
    national = NodeProcess(
        "national_node",
        env={
            **FAST_CLOCK,
            "REGISTRY_LISTEN": f"127.0.0.1:{port}",
            "REGISTRY_DATABASE_URL": f"sqlite:///{national_dir / 'national.db'}",
            "REGISTRY_PROVINCIAL_NODES": '[{"region": "320000"}]',
            "REGISTRY_INDEXER__EMBEDDED": "true" if search else "false",
        },
        cwd=national_dir,
        strict=strict,
        migrated=not strict,
    ).start()
    province = NodeProcess(
        "provincial_node",
        env={
            **FAST_CLOCK,
            "REGISTRY_REGION": "320000",
            "REGISTRY_NATIONAL_ADDRESS": national.address,
            "REGISTRY_NATIONAL_TIMEOUT": "2",
            "REGISTRY_DATABASE_URL": f"sqlite:///{province_dir / 'jiangsu.db'}",
        },
        cwd=province_dir,
        strict=strict,
        migrated=not strict,
    ).start()
    return Federation(national, province, national_dir / "national.db")


def _rid() -> str:
    return str(uuid.uuid4())


_batches = itertools.count(1)


def _content(
    uscc: str | None = None, *, operation_term: tuple[date, date] | None = None
) -> r.RegistrationContent:
    """Materials whose data name no other registration of the federation has."""
    data_name = f"全省道路交通流量数据（第{next(_batches)}批）"
    return make_content(uscc, data_name=data_name, operation_term=operation_term)


def _apply(
    stub: rs_grpc.RegistrationServiceStub, node: str, object_type: int, content: r.RegistrationContent
) -> r.Registration:
    return stub.CreateRegistration(
        rs.CreateRegistrationRequest(
            parent=f"nodes/{node}",
            registration=r.Registration(object_type=object_type, content=content),
            request_id=_rid(),
        ),
        metadata=ACTOR,
        timeout=10,
    )


def _to_announcement(stub: rs_grpc.RegistrationServiceStub, name: str) -> r.Registration:
    stub.AcceptApplication(
        rs.AcceptApplicationRequest(name=name, request_id=_rid()), metadata=ACTOR, timeout=10
    )
    stub.ApproveApplication(
        rs.ApproveApplicationRequest(name=name, request_id=_rid()), metadata=ACTOR, timeout=10
    )
    return stub.AnnounceApplication(
        rs.AnnounceApplicationRequest(name=name, request_id=_rid()), metadata=ACTOR, timeout=10
    )


def _state(stub: rs_grpc.RegistrationServiceStub, name: str) -> r.Registration:
    return stub.GetRegistration(rs.GetRegistrationRequest(name=name), timeout=10)


def _names(stub: rs_grpc.RegistrationServiceStub, parent: str, **filters: str) -> list[str]:
    """The names of every registration under ``parent`` (all pages)."""
    names, page_token = [], ""
    for _ in range(100):
        page = stub.ListRegistrations(
            rs.ListRegistrationsRequest(parent=parent, page_size=100, page_token=page_token, **filters),
            timeout=10,
        )
        names += [reg.name for reg in page.registrations]
        page_token = page.next_page_token
        if not page_token:
            return names
    raise AssertionError("more pages than registrations")


def _wait_active(stub: rs_grpc.RegistrationServiceStub, name: str, timeout: float = 60) -> r.Registration:
    return wait_until(
        lambda: (reg := _state(stub, name)).state == r.Registration.ACTIVE and reg,
        timeout=timeout,
        message=f"{name} to become active",
    )


def _error(error: grpc.RpcError) -> tuple[grpc.StatusCode, str, dict[str, str], list[str]]:
    info, fields = error_details_pb2.ErrorInfo(), []
    for detail in rpc_status.from_call(error).details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            detail.Unpack(info)
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            fields = [v.field for v in bad.field_violations]
    return error.code(), info.reason, dict(info.metadata), fields


def _check_coded(fed: Federation, node: NodeProcess, registration: r.Registration, issuer: str) -> None:
    parsed = codes.parse(registration.code)
    assert (parsed.object_type, parsed.issuer) == (registration.object_type, issuer)
    verified = fed.national_service().VerifyCode(ns.VerifyCodeRequest(code=registration.code), timeout=10)
    assert verified.assigned and verified.assignment.registration == registration.name
    confirmation = fed.registrations(node).GetConfirmation(
        rs.GetConfirmationRequest(code=registration.code), timeout=10
    )
    assert confirmation.registration == registration.name and confirmation.version == 1
    assert confirmation.content_sha256 == content_sha256(canonical_json(registration.content))
    assert (confirmation.valid_from, confirmation.valid_until) == (
        registration.valid_from,
        registration.valid_until,
    )


@pytest.mark.parametrize("object_type", [1, 2, 3], ids=["resource", "product", "open-data"])
def test_each_object_type_goes_through_every_step_on_a_province(
    federation: Federation, object_type: int
) -> None:
    stub = federation.registrations(federation.province)
    # A term that ends within the three years a registration is valid for, whatever day the
    # federation's clock (two days a second) has reached.
    today = date.today()
    term = (date(today.year, 1, 1), date(today.year + 2, 12, 31))
    content = _content(operation_term=term if object_type == 2 else None)
    created = _apply(stub, "320000", object_type, content)
    name = created.name
    assert created.state == r.Registration.PENDING
    assert created.current_application.state == r.Application.SUBMITTED
    # Returned once with every defect listed, then resubmitted.
    returned = stub.ReturnApplication(
        rs.ReturnApplicationRequest(
            name=name,
            request_id=_rid(),
            defects=[
                r.Defect(field="storage.location", description="name the data centre"),
                r.Defect(field="commitment", description="the letter is unsigned"),
            ],
        ),
        metadata=ACTOR,
        timeout=10,
    )
    assert [d.field for d in returned.current_application.defects] == ["storage.location", "commitment"]
    fixed = r.RegistrationContent()
    fixed.CopyFrom(content)
    fixed.storage.location = "江苏省政务云南京数据中心"
    stub.ResubmitApplication(
        rs.ResubmitApplicationRequest(name=name, content=fixed, request_id=_rid()),
        metadata=ACTOR,
        timeout=10,
    )
    announced = _to_announcement(stub, name)
    assert announced.current_application.state == r.Application.ANNOUNCED
    public = rs_grpc.RegistrationServiceStub(channel(federation.province.address))  # no token
    objection = public.CreateObjection(
        rs.CreateObjectionRequest(
            parent=name,
            request_id=_rid(),
            objection=r.Objection(objector="李四 13800000000", reason="数据来源存疑"),
        ),
        timeout=10,
    )
    stub.ResolveObjection(
        rs.ResolveObjectionRequest(
            name=objection.name,
            outcome=r.Objection.DISMISS,
            resolution="来源合法，材料齐全",
            request_id=_rid(),
        ),
        metadata=ACTOR,
        timeout=10,
    )
    active = _wait_active(stub, name)
    assert active.version == 1 and active.current_application.state == r.Application.COMPLETED
    _check_coded(federation, federation.province, active, "320000")
    if object_type == 2:
        end = term[1]
        assert (active.valid_until.year, active.valid_until.month, active.valid_until.day) == (
            end.year,
            end.month,
            end.day,
        )
    else:
        assert active.valid_until.year == active.valid_from.year + 3
    history = stub.ListHistory(rs.ListHistoryRequest(parent=name), timeout=10).entries
    actions = [e.action for e in history]
    assert actions[:7] == ["submit", "return", "resubmit", "accept", "approve", "announce", "object"]
    assert actions[-1] == "assign_code" and "dismiss_objection" in actions
    assert {e.actor for e in history if e.action in ("accept", "approve")} == {"operator-zhang"}
    assert stub.LookupRegistration(rs.LookupRegistrationRequest(code=active.code), timeout=10).name == name


def test_change_then_deregistration_keep_the_code(federation: Federation) -> None:
    stub = federation.registrations(federation.province)
    name = _apply(stub, "320000", 1, _content()).name
    _to_announcement(stub, name)
    active = _wait_active(stub, name)
    changed = make_content(active.content.subject.uscc, data_name="全省道路交通流量数据（含城市道路）")
    stub.SubmitApplication(
        rs.SubmitApplicationRequest(
            name=name, type=r.CHANGE, content=changed, reason="扩大范围", request_id=_rid()
        ),
        metadata=ACTOR,
        timeout=10,
    )
    during = _state(stub, name)
    assert during.state == r.Registration.ACTIVE and during.content.data_name == active.content.data_name
    _to_announcement(stub, name)
    version2 = wait_until(
        lambda: (reg := _state(stub, name)).version == 2 and reg, timeout=60, message="version 2"
    )
    assert version2.code == active.code and version2.content.data_name == changed.data_name
    confirmation = stub.GetConfirmation(rs.GetConfirmationRequest(code=active.code), timeout=10)
    assert confirmation.version == 2 and confirmation.data_name == changed.data_name
    stub.SubmitApplication(
        rs.SubmitApplicationRequest(
            name=name, type=r.DEREGISTRATION, reason="数据停止采集", request_id=_rid()
        ),
        metadata=ACTOR,
        timeout=10,
    )
    stub.AcceptApplication(
        rs.AcceptApplicationRequest(name=name, request_id=_rid()), metadata=ACTOR, timeout=10
    )
    gone = stub.ApproveApplication(
        rs.ApproveApplicationRequest(name=name, request_id=_rid()), metadata=ACTOR, timeout=10
    )
    assert gone.state == r.Registration.DEREGISTERED and gone.code == active.code
    before = _state(stub, name)
    with pytest.raises(grpc.RpcError) as caught:
        stub.SubmitApplication(
            rs.SubmitApplicationRequest(
                name=name, type=r.CHANGE, content=changed, reason="再次变更", request_id=_rid()
            ),
            metadata=ACTOR,
            timeout=10,
        )
    assert _error(caught.value)[:2] == (grpc.StatusCode.FAILED_PRECONDITION, "REGISTRATION_NOT_ACTIVE")
    assert _state(stub, name) == before


def _corrections(federation: Federation) -> int:
    with sqlite3.connect(federation.national_db) as db:
        return int(db.execute("SELECT count(*) FROM ledger_corrections").fetchone()[0])


def test_a_coordinators_correction_is_made_by_the_province_and_its_outcome_comes_back(
    federation: Federation,
) -> None:
    stub = federation.registrations(federation.province)
    name = _apply(stub, "320000", 1, _content()).name
    _to_announcement(stub, name)
    active = _wait_active(stub, name)

    def in_ledger() -> bool:
        with sqlite3.connect(federation.national_db) as db:
            return db.execute("SELECT 1 FROM ledger WHERE code = ?", (active.code,)).fetchone() is not None

    wait_until(in_ledger, timeout=30, message="the coded registration in the national ledger")
    coordinator = ns_grpc.NationalServiceStub(
        federation.national.channel(bearer=token("coordinator-wu", ("coordinator",)))
    )
    evidence = r.Document(title="比对报告", uri="https://registry.invalid/reports/1", sha256="a" * 64)
    filing = ns.FileLedgerCorrectionRequest(
        code=active.code, problem="数据名称与实际数据不符", evidence=[evidence], request_id=_rid()
    )
    # Refusals write nothing: a clerk may not file one; bad input names its fields; an unknown code.
    before = _corrections(federation)
    clerk = ns_grpc.NationalServiceStub(federation.national.channel(bearer=token("clerk-li", ("clerk",))))
    with pytest.raises(grpc.RpcError) as caught:
        clerk.FileLedgerCorrection(filing, timeout=10)
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    bad = ns.FileLedgerCorrectionRequest(
        code=active.code,
        problem=" ",
        evidence=[r.Document(title="x", uri="nope", sha256="")],
        request_id=_rid(),
    )
    with pytest.raises(grpc.RpcError) as caught:
        coordinator.FileLedgerCorrection(bad, timeout=10)
    assert _error(caught.value)[0] == grpc.StatusCode.INVALID_ARGUMENT
    assert set(_error(caught.value)[3]) == {"problem", "evidence[0].uri", "evidence[0].sha256"}
    unknown = codes.generate(1, "320000", 2026, 987654)
    with pytest.raises(grpc.RpcError) as caught:
        coordinator.FileLedgerCorrection(
            ns.FileLedgerCorrectionRequest(code=unknown, problem="x", evidence=[evidence], request_id=_rid()),
            timeout=10,
        )
    assert _error(caught.value)[:2] == (grpc.StatusCode.NOT_FOUND, "REGISTRATION_NOT_FOUND")
    assert _corrections(federation) == before

    filed = coordinator.FileLedgerCorrection(filing, timeout=10)
    assert filed.managing_node == "nodes/320000" and filed.requested_by == "coordinator-wu"
    assert coordinator.FileLedgerCorrection(filing, timeout=10).name == filed.name  # a retry: the same
    reused = ns.FileLedgerCorrectionRequest()
    reused.CopyFrom(filing)
    reused.problem = "另一个问题"
    with pytest.raises(grpc.RpcError) as caught:
        coordinator.FileLedgerCorrection(reused, timeout=10)
    assert _error(caught.value)[:2] == (grpc.StatusCode.ALREADY_EXISTS, "REQUEST_ID_REUSED")

    def correction() -> correction_pb2.LedgerCorrection:
        return coordinator.GetLedgerCorrection(ns.GetLedgerCorrectionRequest(name=filed.name), timeout=10)

    opened = wait_until(
        lambda: (c := correction()).state == c.OPEN and c, timeout=30, message="the correction opened"
    )
    # At the province: a correction application, the coordinator as the one who asked.
    reg = _state(stub, name)
    assert (
        reg.current_application.type == r.CORRECTION and reg.current_application.id == opened.application_id
    )
    history = stub.ListHistory(rs.ListHistoryRequest(parent=name), timeout=10).entries
    assert (history[-1].actor, history[-1].action) == ("coordinator-wu via nodes/100000", "submit_correction")
    assert history[-1].reason.startswith(filed.name)
    # A second request while this one is open is refused, and writes nothing.
    with pytest.raises(grpc.RpcError) as caught:
        coordinator.FileLedgerCorrection(
            ns.FileLedgerCorrectionRequest(
                code=active.code, problem="再查", evidence=[evidence], request_id=_rid()
            ),
            timeout=10,
        )
    assert _error(caught.value)[:2] == (grpc.StatusCode.FAILED_PRECONDITION, "CORRECTION_OPEN")
    assert _corrections(federation) == before + 1

    # The province's staff: the reviewer asks the subject for corrected materials, the subject sends
    # them, and the correction goes through to a new version.
    stub.AcceptApplication(
        rs.AcceptApplicationRequest(name=name, request_id=_rid()), metadata=ACTOR, timeout=10
    )
    stub.RequestCorrection(
        rs.RequestCorrectionRequest(
            name=name,
            defects=[r.Defect(field="content.data_name", description="与实际数据不符")],
            request_id=_rid(),
        ),
        metadata=ACTOR,
        timeout=10,
    )
    corrected = make_content(active.content.subject.uscc, data_name=f"{active.content.data_name}（更正）")
    stub.ResubmitApplication(
        rs.ResubmitApplicationRequest(name=name, content=corrected, request_id=_rid()),
        metadata=ACTOR,
        timeout=10,
    )
    _to_announcement(stub, name)
    done = wait_until(
        lambda: (c := correction()).state == c.CORRECTED and c, timeout=60, message="the correction made"
    )
    assert _state(stub, name).content.data_name == corrected.data_name
    steps = [entry.action for entry in done.history]
    assert steps[0] == "submit_correction" and "request_correction" in steps and "resubmit" in steps
    assert {entry.application_id for entry in done.history} == {opened.application_id}
    listed = coordinator.ListLedgerCorrections(
        ns.ListLedgerCorrectionsRequest(node="nodes/320000"), timeout=10
    )
    assert filed.name in [c.name for c in listed.ledger_corrections]
    # The coordinator's command line says the same.
    where, bearer = federation.national.address, token("coordinator-wu", ("coordinator",))
    shown = registryctl(
        where, "corrections", "show", filed.name, bearer=bearer, national=where, json_output=False
    )
    assert shown.returncode == 0 and f"{filed.name}  CORRECTED" in shown.stdout, shown.stderr


def test_illegal_transition_is_failed_precondition_and_changes_nothing(federation: Federation) -> None:
    stub = federation.registrations(federation.province)
    name = _apply(stub, "320000", 1, _content()).name
    before = _state(stub, name)
    with pytest.raises(grpc.RpcError) as caught:
        stub.AnnounceApplication(rs.AnnounceApplicationRequest(name=name, request_id=_rid()), timeout=10)
    code, reason, metadata, _ = _error(caught.value)
    assert (code, reason, metadata["state"]) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "INVALID_TRANSITION",
        "SUBMITTED",
    )
    assert _state(stub, name) == before
    assert len(stub.ListHistory(rs.ListHistoryRequest(parent=name), timeout=10).entries) == 1


def test_a_central_body_registers_on_the_national_node(federation: Federation) -> None:
    stub = federation.registrations(federation.national)
    content = make_content(
        make_uscc("110000", department="1", category="1"), central=True, data_name="全国企业登记数据"
    )
    name = _apply(stub, "100000", 1, content).name
    assert name.startswith("nodes/100000/registrations/")
    _to_announcement(stub, name)
    active = _wait_active(stub, name)
    _check_coded(federation, federation.national, active, "100000")


def test_locality_province_refuses_others_national_takes_provinces_without_a_node(
    federation: Federation,
) -> None:
    province = federation.registrations(federation.province)
    before = _names(province, "nodes/320000")
    outsider = make_uscc("440305")
    with pytest.raises(grpc.RpcError) as caught:
        _apply(province, "320000", 1, _content(outsider))
    code, reason, metadata, _ = _error(caught.value)
    assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "SUBJECT_OUTSIDE_JURISDICTION")
    assert metadata["field"] == "registration.content.subject.uscc" and metadata["subject_region"] == "440000"
    assert _names(province, "nodes/320000") == before  # nothing registered
    assert _names(province, "nodes/320000", subject_uscc=outsider) == []
    national = federation.registrations(federation.national)
    # Jiangsu runs its own node: the national node sends its subjects there.
    with pytest.raises(grpc.RpcError) as caught:
        _apply(national, "100000", 1, _content(make_uscc("320106")))
    assert _error(caught.value)[:2] == (grpc.StatusCode.PERMISSION_DENIED, "SUBJECT_HAS_PROVINCIAL_NODE")
    # Sichuan runs none: the national node registers its subject by proxy, under issuer 100000.
    name = _apply(national, "100000", 3, _content(make_uscc("510104"))).name
    _to_announcement(national, name)
    active = _wait_active(national, name)
    _check_coded(federation, federation.national, active, "100000")
    assert active.content.subject.region == "510000"


def test_codes_arrive_after_the_national_node_comes_back(own_federation: Federation) -> None:
    federation = own_federation
    stub = federation.registrations(federation.province)
    names = [_apply(stub, "320000", object_type, make_content()).name for object_type in (1, 3, 1)]
    federation.national.kill()  # down before any announcement closes
    for name in names:
        _to_announcement(stub, name)
    wait_until(
        lambda: all(_state(stub, n).current_application.state == r.Application.AWAITING_CODE for n in names),
        timeout=60,
        message="announcements to close while the national node is down",
    )
    due = stub.ListDueItems(rs.ListDueItemsRequest(parent="nodes/320000"), timeout=10).items
    assert {i.registration for i in due if i.kind == rs.DueItem.CODING} == set(names)
    federation.national.start()  # same port, same database; no operator action on the province
    coded = [_wait_active(stub, n, timeout=120).code for n in names]
    assert len(set(coded)) == len(coded) == 3
    with sqlite3.connect(federation.national_db) as conn:
        rows = conn.execute(
            "SELECT registration, code FROM code_assignments WHERE requested_by = '320000'"
        ).fetchall()
    assert sorted(rows) == sorted(zip(names, coded, strict=True))  # one code each, none twice
