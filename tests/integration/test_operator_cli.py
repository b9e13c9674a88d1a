"""``registryctl`` over real gRPC against in-process fake servicers: what it sends, what it prints.

The fakes record each request and its metadata and answer with canned messages, or with the same
``google.rpc.Status`` (ErrorInfo + BadRequest) the real nodes send. End-to-end tests against real nodes
come with the registration workflow.
"""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import json_format
from google.type import date_pb2
from grpc_status import rpc_status
from typer.testing import CliRunner

from common.errors import FieldViolation, InvalidArgument, NotFound, Unavailable
from common.gen.registry.v1 import code_pb2, node_pb2, sync_pb2
from common.gen.registry.v1 import national_service_pb2 as ns
from common.gen.registry.v1 import national_service_pb2_grpc as ns_grpc
from common.gen.registry.v1 import provincial_service_pb2 as ps
from common.gen.registry.v1 import provincial_service_pb2_grpc as ps_grpc
from common.gen.registry.v1 import registration_pb2 as r
from common.gen.registry.v1 import registration_service_pb2 as rs
from common.gen.registry.v1 import registration_service_pb2_grpc as rs_grpc
from common.gen.registry.v1 import sync_service_pb2 as ss
from common.gen.registry.v1 import sync_service_pb2_grpc as ss_grpc
from common.registryctl import EXIT_DIFFERS, app
from common.registryctl.files import load_application
from common.rpc.status import status_for

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[2] / "deploy" / "examples"
NAME = "nodes/320000/registrations/r-1"
CODE = "132000026000000001X"
TIMEOUT = 10


def _date(year: int, month: int, day: int) -> date_pb2.Date:
    return date_pb2.Date(year=year, month=month, day=day)


def _pending(content: r.RegistrationContent | None = None) -> r.Registration:
    return r.Registration(
        name=NAME,
        object_type=r.PUBLIC_DATA_RESOURCE,
        state=r.Registration.PENDING,
        content=content or r.RegistrationContent(data_name="江苏省企业登记基础信息"),
        managing_node="nodes/320000",
        etag="e1",
        current_application=r.Application(
            id="a-1",
            type=r.INITIAL,
            state=r.Application.SUBMITTED,
            acceptance_due=_date(2027, 1, 6),
            acceptance_due_provisional=True,
            deadlines_provisional=True,
        ),
    )


@dataclass
class Recorded:
    method: str
    request: Any
    metadata: dict[str, str]


@dataclass
class FakeRegistrationService(rs_grpc.RegistrationServiceServicer):
    """Records calls; answers from ``responses`` (a message, or a list of pages) or aborts with ``errors``."""

    calls: list[Recorded] = field(default_factory=list)
    responses: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, Exception] = field(default_factory=dict)

    def _answer(self, method: str, request: Any, context: grpc.ServicerContext) -> Any:
        self.calls.append(Recorded(method, request, dict(context.invocation_metadata())))
        if method in self.errors:
            context.abort_with_status(rpc_status.to_status(status_for(self.errors[method])))
        response = self.responses[method]
        if isinstance(response, list):  # pages, in order
            return response.pop(0)
        return response

    def CreateRegistration(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._answer("CreateRegistration", request, context)

    def GetRegistration(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._answer("GetRegistration", request, context)

    def LookupRegistration(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._answer("LookupRegistration", request, context)

    def ListHistory(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._answer("ListHistory", request, context)

    def GetConfirmation(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._answer("GetConfirmation", request, context)

    def ListRegistrations(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._answer("ListRegistrations", request, context)

    def ReturnApplication(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._answer("ReturnApplication", request, context)

    def AcceptApplication(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._answer("AcceptApplication", request, context)

    def ListDueItems(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._answer("ListDueItems", request, context)


@dataclass
class FakeNationalService(ns_grpc.NationalServiceServicer):
    calls: list[Recorded] = field(default_factory=list)
    pages: list[ns.ListNodesResponse] = field(default_factory=list)

    def VerifyCode(self, request: Any, context: grpc.ServicerContext) -> Any:
        self.calls.append(Recorded("VerifyCode", request, dict(context.invocation_metadata())))
        return ns.VerifyCodeResponse(
            well_formed=False,
            defect=code_pb2.CODE_DEFECT_CHECK_MISMATCH,
            message="the check character does not match",
        )

    def ListNodes(self, request: Any, context: grpc.ServicerContext) -> Any:
        self.calls.append(Recorded("ListNodes", request, dict(context.invocation_metadata())))
        return self.pages.pop(0)


@dataclass
class FakeSyncService(ss_grpc.SyncServiceServicer):
    """The national node's SyncService, as FakeRegistrationService: canned answers, recorded calls."""

    calls: list[Recorded] = field(default_factory=list)
    responses: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, Exception] = field(default_factory=dict)

    _answer = FakeRegistrationService._answer

    def ListSyncStates(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._answer("ListSyncStates", request, context)

    def GetSyncState(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._answer("GetSyncState", request, context)

    def TransferRegistration(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._answer("TransferRegistration", request, context)

    def OnboardNode(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._answer("OnboardNode", request, context)


@dataclass
class FakeProvincialService(ps_grpc.ProvincialServiceServicer):
    calls: list[Recorded] = field(default_factory=list)
    responses: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, Exception] = field(default_factory=dict)

    _answer = FakeRegistrationService._answer

    def CheckAgreement(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._answer("CheckAgreement", request, context)


@dataclass
class Fakes:
    address: str
    registration: FakeRegistrationService
    national: FakeNationalService
    sync: FakeSyncService
    provincial: FakeProvincialService


@pytest.fixture
def fakes() -> Iterator[Fakes]:
    registration, national = FakeRegistrationService(), FakeNationalService()
    sync, provincial = FakeSyncService(), FakeProvincialService()
    executor = futures.ThreadPoolExecutor(max_workers=4)
    server = grpc.server(executor)
    rs_grpc.add_RegistrationServiceServicer_to_server(registration, server)
    ns_grpc.add_NationalServiceServicer_to_server(national, server)
    ss_grpc.add_SyncServiceServicer_to_server(sync, server)
    ps_grpc.add_ProvincialServiceServicer_to_server(provincial, server)
    port = server.add_insecure_port("127.0.0.1:0")
    assert port != 0
    server.start()
    try:
        yield Fakes(f"127.0.0.1:{port}", registration, national, sync, provincial)
    finally:
        server.stop(TIMEOUT).wait(TIMEOUT)
        executor.shutdown(wait=True)


@pytest.fixture
def runner() -> CliRunner:
    # No REGISTRY_* settings leak in from the environment running the tests.
    return CliRunner(
        env={
            "REGISTRY_NODE": None,
            "REGISTRY_NATIONAL": None,
            "REGISTRY_TOKEN": None,
            "REGISTRY_REGION": None,
            "COLUMNS": "200",
        }
    )


def _run(runner: CliRunner, fakes: Fakes, *args: str) -> Any:
    return runner.invoke(
        app,
        [
            "--node",
            fakes.address,
            "--national",
            fakes.address,
            "--plaintext",
            "--token",
            "li.ming",
            "--timeout",
            "5",
            *args,
        ],
    )


def test_apply_sends_the_file_content_the_token_and_a_request_id(runner: CliRunner, fakes: Fakes) -> None:
    fakes.registration.responses["CreateRegistration"] = _pending()
    file = EXAMPLES / "product.toml"

    result = _run(runner, fakes, "apply", str(file), "--region", "320000", "--object-type", "product")

    assert result.exit_code == 0, result.output
    [call] = fakes.registration.calls
    assert call.method == "CreateRegistration"
    assert call.request.parent == "nodes/320000"
    assert call.request.registration.object_type == r.DATA_PRODUCT_OR_SERVICE
    assert call.request.registration.content == load_application(file)
    assert call.metadata["authorization"] == "Bearer li.ming"
    assert uuid.UUID(call.request.request_id)
    # The operator sees the new registration, its state and the acceptance deadline.
    assert NAME in result.stdout
    assert "PENDING" in result.stdout
    assert "SUBMITTED" in result.stdout
    assert "2027-01-06 (provisional)" in result.stdout


def test_each_write_gets_a_fresh_request_id_unless_one_is_given(runner: CliRunner, fakes: Fakes) -> None:
    fakes.registration.responses["AcceptApplication"] = _pending()
    for args in (
        ["accept", NAME],
        ["accept", NAME],
        ["accept", NAME, "--request-id", "retry-7", "--etag", "e1"],
    ):
        assert _run(runner, fakes, *args).exit_code == 0
    first, second, third = (call.request for call in fakes.registration.calls)
    assert first.request_id != second.request_id
    assert (third.request_id, third.etag) == ("retry-7", "e1")


def test_json_output_parses_back_into_the_response(runner: CliRunner, fakes: Fakes) -> None:
    fakes.registration.responses["CreateRegistration"] = _pending()

    result = _run(runner, fakes, "--json", "apply", str(EXAMPLES / "application.toml"), "--region", "320000")

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["name"] == NAME
    assert document["current_application"]["state"] == "SUBMITTED"
    assert json_format.ParseDict(document, r.Registration()) == _pending()


def test_a_server_invalid_argument_prints_every_field_violation_and_exits_1(
    runner: CliRunner, fakes: Fakes
) -> None:
    fakes.registration.errors["CreateRegistration"] = InvalidArgument.from_violations(
        [
            FieldViolation("content.data_name", "is required", "FIELD_REQUIRED"),
            FieldViolation("content.subject.uscc", "the check character does not match", "CHECK_MISMATCH"),
        ]
    )

    result = _run(runner, fakes, "apply", str(EXAMPLES / "application.toml"), "--region", "320000")

    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: INVALID_ARGUMENT (INVALID_FIELDS): ")
    assert "  content.data_name: is required" in lines
    assert "  content.subject.uscc: the check character does not match" in lines
    assert "Traceback" not in result.output


def test_a_single_violation_reads_as_one_error_line(runner: CliRunner, fakes: Fakes) -> None:
    fakes.registration.errors["CreateRegistration"] = InvalidArgument.from_violations(
        [FieldViolation("content.data_name", "is required", "FIELD_REQUIRED")]
    )

    result = _run(runner, fakes, "apply", str(EXAMPLES / "application.toml"), "--region", "320000")

    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        "error: INVALID_ARGUMENT (FIELD_REQUIRED): content.data_name: is required"
    )


def test_a_not_found_names_the_reason_and_its_metadata(runner: CliRunner, fakes: Fakes) -> None:
    fakes.registration.errors["GetRegistration"] = NotFound(
        "REGISTRATION_NOT_FOUND", "no such registration", metadata={"name": NAME}
    )

    result = _run(runner, fakes, "show", NAME)

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: NOT_FOUND (REGISTRATION_NOT_FOUND): no such registration",
        f"  name={NAME}",
    ]


def test_an_unreachable_node_exits_1_with_a_hint_and_the_request_id_to_retry(runner: CliRunner) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{probe.getsockname()[1]}"

    result = runner.invoke(
        app,
        ["--node", address, "--plaintext", "--token", "li.ming", "accept", NAME, "--request-id", "retry-1"],
    )

    assert result.exit_code == 1
    assert result.stderr.startswith("error: UNAVAILABLE")
    assert f"the node at {address} cannot be reached" in result.stderr
    assert "--request-id retry-1" in result.stderr
    assert "Traceback" not in result.output


def test_a_bad_application_file_exits_2_before_any_call(
    runner: CliRunner, fakes: Fakes, tmp_path: Path
) -> None:
    file = tmp_path / "application.toml"
    file.write_text('data_nmae = "x"\n', encoding="utf-8")

    result = _run(runner, fakes, "apply", str(file), "--region", "320000")

    assert result.exit_code == 2
    assert f"{file}: data_nmae: unknown key" in result.stderr
    assert fakes.registration.calls == []


def test_return_sends_every_defect(runner: CliRunner, fakes: Fakes) -> None:
    fakes.registration.responses["ReturnApplication"] = _pending()

    result = _run(
        runner,
        fakes,
        "return",
        NAME,
        "--defect",
        "storage.location=写明存储的数据中心",
        "--defect",
        "commitment=承诺书未签章",
    )

    assert result.exit_code == 0, result.output
    [call] = fakes.registration.calls
    assert [(d.field, d.description) for d in call.request.defects] == [
        ("storage.location", "写明存储的数据中心"),
        ("commitment", "承诺书未签章"),
    ]


def _coded_registration(fakes: Fakes) -> None:
    active = r.Registration(name=NAME, code=CODE, state=r.Registration.ACTIVE, version=1)
    entries = [r.HistoryEntry(sequence=i, action=f"step-{i}", actor="li.ming") for i in range(1, 4)]
    fakes.registration.responses.update(
        LookupRegistration=active,
        ListHistory=[
            rs.ListHistoryResponse(entries=entries[:2], next_page_token="t2"),
            rs.ListHistoryResponse(entries=entries[2:]),
        ],
        GetConfirmation=r.Confirmation(code=CODE, registration=NAME, valid_until=_date(2029, 3, 1)),
    )


def test_show_by_code_gathers_the_registration_all_its_history_and_its_confirmation(
    runner: CliRunner, fakes: Fakes
) -> None:
    _coded_registration(fakes)

    result = _run(runner, fakes, "--json", "show", CODE)

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["registration"]["code"] == CODE
    assert [e["action"] for e in document["history"]] == ["step-1", "step-2", "step-3"]
    assert document["confirmation"]["valid_until"] == {"year": 2029, "month": 3, "day": 1}
    methods = [(c.method, getattr(c.request, "page_token", "")) for c in fakes.registration.calls]
    assert methods == [
        ("LookupRegistration", ""),
        ("ListHistory", ""),
        ("ListHistory", "t2"),
        ("GetConfirmation", ""),
    ]


def test_show_prints_readable_panels(runner: CliRunner, fakes: Fakes) -> None:
    _coded_registration(fakes)

    result = _run(runner, fakes, "show", CODE)

    assert result.exit_code == 0, result.output
    for text in (CODE, "ACTIVE", "step-1", "step-3", "2029-03-01", "登记结果确认单"):
        assert text in result.stdout


def test_list_all_follows_page_tokens_and_sends_the_filters(runner: CliRunner, fakes: Fakes) -> None:
    fakes.registration.responses["ListRegistrations"] = [
        rs.ListRegistrationsResponse(
            registrations=[r.Registration(name=f"{NAME}{i}") for i in range(2)], next_page_token="p2"
        ),
        rs.ListRegistrationsResponse(registrations=[r.Registration(name=f"{NAME}9")]),
    ]

    result = _run(
        runner, fakes, "--json", "list", "--region", "320000", "--state", "active", "--type", "open", "--all"
    )

    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["registrations"]) == 3
    first, second = (call.request for call in fakes.registration.calls)
    assert (first.parent, first.state, first.object_type) == (
        "nodes/320000",
        r.Registration.ACTIVE,
        r.OPEN_DATA_RESOURCE,
    )
    assert second.page_token == "p2"


def test_list_stops_at_the_limit_and_says_how_to_continue(runner: CliRunner, fakes: Fakes) -> None:
    fakes.registration.responses["ListRegistrations"] = [
        rs.ListRegistrationsResponse(registrations=[r.Registration(name=NAME)], next_page_token="p2"),
    ]

    result = _run(runner, fakes, "list", "--region", "320000", "--limit", "1")

    assert result.exit_code == 0, result.output
    assert fakes.registration.calls[0].request.page_size == 1
    assert "--page-token p2" in result.stdout


def test_due_highlights_overdue_items(runner: CliRunner, fakes: Fakes) -> None:
    fakes.registration.responses["ListDueItems"] = rs.ListDueItemsResponse(
        items=[
            rs.DueItem(registration=NAME, kind=rs.DueItem.ACCEPTANCE, due=_date(2025, 3, 5), overdue=True),
            rs.DueItem(registration=NAME, kind=rs.DueItem.EXPIRY, due=_date(2028, 3, 5), provisional=True),
        ]
    )

    result = _run(runner, fakes, "due", "--region", "320000", "--overdue")

    assert result.exit_code == 0, result.output
    assert fakes.registration.calls[0].request.overdue_only is True
    assert "OVERDUE" in result.stdout
    assert "2028-03-05 (provisional)" in result.stdout


def test_verify_and_nodes_talk_to_the_national_node(runner: CliRunner, fakes: Fakes) -> None:
    fakes.national.pages = [
        ns.ListNodesResponse(
            nodes=[node_pb2.Node(region="100000", mode=node_pb2.Node.NATIONAL)], next_page_token="n2"
        ),
        ns.ListNodesResponse(nodes=[node_pb2.Node(region="320000", mode=node_pb2.Node.OWN_NODE)]),
    ]

    verified = _run(runner, fakes, "verify", "132000026000000001Y")
    listed = _run(runner, fakes, "--json", "nodes")

    assert verified.exit_code == 0, verified.output
    assert "CHECK_MISMATCH" in verified.stdout
    assert listed.exit_code == 0, listed.output
    assert [n["region"] for n in json.loads(listed.stdout)["nodes"]] == ["100000", "320000"]
    assert [c.method for c in fakes.national.calls] == ["VerifyCode", "ListNodes", "ListNodes"]


# --- registryctl sync ... -------------------------------------------------------------------------------


def test_sync_transfer_sends_the_receiving_node_and_a_fresh_request_id_unless_one_is_given(
    runner: CliRunner, fakes: Fakes
) -> None:
    fakes.sync.responses["TransferRegistration"] = ss.Transfer(
        id="t-1", code=CODE, from_node="nodes/320000", to_node="nodes/440000", state=ss.Transfer.PENDING
    )
    for args in (["--to", "440000"], ["--to", "440000"], ["--to", "440000", "--request-id", "move-7"]):
        result = _run(runner, fakes, "sync", "transfer", CODE, *args)
        assert result.exit_code == 0, result.output
    first, second, third = fakes.sync.calls
    assert first.request.to_node == "nodes/440000" and first.request.code == CODE
    assert uuid.UUID(first.request.request_id) and first.request.request_id != second.request.request_id
    assert third.request.request_id == "move-7"
    assert first.metadata["authorization"] == "Bearer li.ming"
    for text in ("t-1", "nodes/320000", "nodes/440000", "PENDING", "until nodes/440000 confirms it"):
        assert text in result.stdout


def test_a_transfer_whose_outcome_is_unknown_says_how_to_retry_it(runner: CliRunner, fakes: Fakes) -> None:
    fakes.sync.errors["TransferRegistration"] = Unavailable("LEDGER_BUSY", "the ledger is busy")

    result = _run(runner, fakes, "sync", "transfer", CODE, "--to", "440000", "--request-id", "move-8")

    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: UNAVAILABLE (LEDGER_BUSY): the ledger is busy",
        "hint: the write may or may not have been done; to retry it safely, repeat the command "
        "with --request-id move-8",
    ]


@pytest.mark.parametrize(
    ("repair", "report", "exit_code", "expected"),
    [
        (
            False,
            ps.AgreementReport(in_agreement=True, ranges_compared=3),
            0,
            "in agreement (3 ranges compared)",
        ),
        (
            False,
            ps.AgreementReport(
                ranges_compared=3, differing_ranges=[sync_pb2.RangeDigest(prefix="3f")], node_newer=["3f-1"]
            ),
            EXIT_DIFFERS,
            "this node holds newer (or the ledger lacks): 1 registration (uid)\n  3f-1",
        ),
        (
            True,
            ps.AgreementReport(
                ranges_compared=3,
                differing_ranges=[sync_pb2.RangeDigest(prefix="3f")],
                node_newer=["3f-1"],
                repaired=True,
            ),
            0,
            "repaired: 0 taken from the national ledger, 1 queued to be sent up",
        ),
    ],
)
def test_sync_check_exits_3_only_when_the_node_differs_and_was_not_repaired(
    runner: CliRunner,
    fakes: Fakes,
    repair: bool,
    report: ps.AgreementReport,
    exit_code: int,
    expected: str,
) -> None:
    fakes.provincial.responses["CheckAgreement"] = report
    args = ["sync", "check", *(["--repair"] if repair else [])]

    text = _run(runner, fakes, *args)
    as_json = _run(runner, fakes, "--json", *args)

    assert (text.exit_code, as_json.exit_code) == (exit_code, exit_code), text.output
    assert expected in text.stdout
    assert json_format.ParseDict(json.loads(as_json.stdout), ps.AgreementReport()) == report
    assert [c.request.repair for c in fakes.provincial.calls] == [repair, repair]


def test_sync_status_of_one_node_asks_for_it_and_lists_it_like_every_node(
    runner: CliRunner, fakes: Fakes
) -> None:
    state = sync_pb2.SyncState(node="nodes/440000", acknowledged_sequence=3, head_sequence=5, lag_changes=2)
    fakes.sync.responses.update(
        GetSyncState=state, ListSyncStates=ss.ListSyncStatesResponse(states=[state, state])
    )

    one = _run(runner, fakes, "--json", "sync", "status", "440000")
    every = _run(runner, fakes, "sync", "status")

    assert one.exit_code == 0 and every.exit_code == 0, one.output + every.output
    assert json_format.ParseDict(json.loads(one.stdout), ss.ListSyncStatesResponse()).states == [state]
    assert "2 nodes: 2 lagging, 2 never heard from" in every.stdout
    assert [(c.method, getattr(c.request, "node", "")) for c in fakes.sync.calls] == [
        ("GetSyncState", "nodes/440000"),
        ("ListSyncStates", ""),
    ]


def test_sync_onboard_sends_the_node_and_its_address(runner: CliRunner, fakes: Fakes) -> None:
    fakes.sync.responses["OnboardNode"] = ss.OnboardNodeResponse(handed_over=2, downward_head=9)

    result = _run(runner, fakes, "sync", "onboard", "440000", "--address", " 10.0.0.8:50061 ")

    assert result.exit_code == 0, result.output
    [call] = fakes.sync.calls
    assert (call.request.node, call.request.address) == ("nodes/440000", "10.0.0.8:50061")
    assert result.stdout == (
        "nodes/440000 onboarded at 10.0.0.8:50061: 2 registrations handed over (downward head 9)\n"
    )
