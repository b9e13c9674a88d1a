"""``registryctl`` without a network: usage errors, how server errors read, how messages render.

Everything here stops before a call is made (or never makes one); the commands over real gRPC are in
``tests/integration/test_operator_cli.py``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from pathlib import Path

import grpc
import pytest
from google.protobuf import timestamp_pb2
from google.rpc import status_pb2
from google.type import date_pb2
from rich.console import Console
from typer.testing import CliRunner

from common.errors import FieldViolation, InvalidArgument, PermissionDenied, Unavailable
from common.gen.registry.v1 import code_pb2, sync_pb2
from common.gen.registry.v1 import provincial_service_pb2 as ps
from common.gen.registry.v1 import registration_pb2 as r
from common.gen.registry.v1 import registration_service_pb2 as rs
from common.gen.registry.v1 import sync_service_pb2 as ss
from common.registryctl import app
from common.registryctl.client import Session, describe_rpc_error
from common.registryctl.render import (
    agreement_report,
    application_panel,
    due_table,
    enum_name,
    format_date,
    format_duration,
    format_time,
    objection_panel,
    registration_panel,
    sync_states_table,
    transfer_panel,
)
from common.rpc.status import status_for

NAME = "nodes/320000/registrations/r-1"
# An address nothing is asked at: every test here fails before a call.
NOWHERE = "127.0.0.1:9"


@pytest.fixture(autouse=True)
def no_channels(monkeypatch: pytest.MonkeyPatch) -> None:
    """A unit test opens no socket: creating a channel fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a unit test tried to open a gRPC channel")

    monkeypatch.setattr(grpc, "insecure_channel", refuse)
    monkeypatch.setattr(grpc, "secure_channel", refuse)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner(
        env={"REGISTRY_NODE": None, "REGISTRY_TOKEN": None, "REGISTRY_REGION": None, "COLUMNS": "200"}
    )


class FakeCallError(grpc.RpcError, grpc.Call):
    """A failed call as the gRPC client raises it, optionally carrying a google.rpc.Status."""

    def __init__(self, code: grpc.StatusCode, details: str, status: status_pb2.Status | None = None) -> None:
        super().__init__()
        self._code, self._details, self._status = code, details, status

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details

    def trailing_metadata(self) -> Sequence[tuple[str, bytes]]:
        if self._status is None:
            return ()
        return (("grpc-status-details-bin", self._status.SerializeToString()),)

    def initial_metadata(self) -> Sequence[tuple[str, bytes]]:
        return ()

    def is_active(self) -> bool:
        return False

    def time_remaining(self) -> float | None:
        return None

    def cancel(self) -> bool:
        return False

    def add_callback(self, callback: object) -> bool:
        return False


def _from_server(error: InvalidArgument | PermissionDenied | Unavailable) -> FakeCallError:
    status = status_for(error)
    return FakeCallError(error.code, status.message, status)


def _describe(error: grpc.RpcError, request_id: str | None = None) -> list[str]:
    return describe_rpc_error(
        error, address="10.0.0.7:50061", flag="--node", timeout=10, request_id=request_id
    )


# --- how server errors read ----------------------------------------------------------------------------


def test_field_violations_are_listed_one_per_line() -> None:
    error = InvalidArgument.from_violations(
        [
            FieldViolation("content.data_name", "is required", "FIELD_REQUIRED"),
            FieldViolation("content.storage.location", "is required", "FIELD_REQUIRED"),
        ]
    )

    assert _describe(_from_server(error)) == [
        "error: INVALID_ARGUMENT (INVALID_FIELDS): invalid fields: "
        "content.data_name, content.storage.location",
        "  content.data_name: is required",
        "  content.storage.location: is required",
    ]


def test_a_single_violation_matches_the_documented_format() -> None:
    error = InvalidArgument.from_violations(
        [FieldViolation("content.data_name", "is required", "FIELD_REQUIRED")]
    )

    assert _describe(_from_server(error))[0] == (
        "error: INVALID_ARGUMENT (FIELD_REQUIRED): content.data_name: is required"
    )


def test_error_metadata_is_shown_when_there_are_no_field_violations() -> None:
    error = PermissionDenied("FOREIGN_NAMESPACE", "not your namespace", metadata={"issuer": "440000"})

    assert _describe(_from_server(error)) == [
        "error: PERMISSION_DENIED (FOREIGN_NAMESPACE): not your namespace",
        "  issuer=440000",
    ]


def test_an_unreachable_node_gets_a_hint_naming_its_address() -> None:
    lines = _describe(FakeCallError(grpc.StatusCode.UNAVAILABLE, "failed to connect to all addresses"))

    assert lines[0] == "error: UNAVAILABLE: failed to connect to all addresses"
    assert lines[1].startswith("hint: the node at 10.0.0.7:50061 cannot be reached")


def test_unavailable_reported_by_the_node_itself_is_not_blamed_on_the_network() -> None:
    error = Unavailable("NATIONAL_NODE_UNAVAILABLE", "the national node cannot be reached")

    lines = _describe(_from_server(error))

    assert lines == ["error: UNAVAILABLE (NATIONAL_NODE_UNAVAILABLE): the national node cannot be reached"]


def test_a_write_with_an_uncertain_outcome_says_how_to_retry_it_safely() -> None:
    lines = _describe(
        FakeCallError(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded"), request_id="r-42"
    )

    assert "hint: no answer from 10.0.0.7:50061 within 10 s (--timeout)" in lines
    assert lines[-1].endswith("repeat the command with --request-id r-42")


def test_a_definite_refusal_does_not_suggest_a_retry() -> None:
    error = InvalidArgument.from_violations([FieldViolation("name", "is required", "FIELD_REQUIRED")])

    assert not any("--request-id" in line for line in _describe(_from_server(error), request_id="r-42"))


# --- usage and file errors: exit 2, nothing sent -------------------------------------------------------


def test_help_lists_every_command(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--help"])

    assert result.exit_code == 0
    for command in (
        "apply",
        "resubmit",
        "change",
        "correct",
        "deregister",
        "withdraw",
        "accept",
        "return",
        "refuse",
        "approve",
        "request-correction",
        "reject",
        "announce",
        "object",
        "resolve",
        "renew",
        "show",
        "list",
        "due",
        "confirmation",
        "verify",
        "nodes",
        "ledger",
        "sync",
    ):
        assert re.search(rf"\b{re.escape(command)}\b", result.stdout), command


def test_sync_help_lists_its_commands(runner: CliRunner) -> None:
    result = runner.invoke(app, ["sync", "--help"])

    assert result.exit_code == 0
    for command in ("status", "check", "onboard", "transfer"):
        assert re.search(rf"\b{command}\b", result.stdout), command


def _invoke(runner: CliRunner, *args: str, token: str = "eyJ.li-ming.token") -> object:
    return runner.invoke(app, ["--node", NOWHERE, "--token", token, *args])


def test_a_bad_application_file_exits_2_naming_the_file_and_key(runner: CliRunner, tmp_path: Path) -> None:
    file = tmp_path / "application.toml"
    file.write_text("data_name = 1\n", encoding="utf-8")

    result = _invoke(runner, "apply", str(file), "--region", "320000")

    assert result.exit_code == 2
    assert result.stderr == f"error: {file}: data_name: expected a string, got an integer\n"
    assert result.stdout == ""


def test_a_missing_application_file_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    result = _invoke(runner, "resubmit", NAME, str(tmp_path / "gone.toml"))

    assert result.exit_code == 2
    assert "gone.toml: no such file" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["list"], "list needs the node's region: --region 320000"),
        (["due", "--region", "999999"], "--region '999999': not a GB/T 2260"),
        (["return", NAME, "--defect", "storage.location"], "expected FIELD=DESCRIPTION"),
        (["request-correction", NAME, "--defect", "=no field"], "expected FIELD=DESCRIPTION"),
        (["resolve", f"{NAME}/objections/o-1", "--resolution", "x"], "exactly one of --dismiss"),
        (
            ["resolve", f"{NAME}/objections/o-1", "--dismiss", "--uphold-return", "--resolution", "x"],
            "exactly one of --dismiss",
        ),
        (
            ["object", NAME, "--objector", "张三", "--reason", "x", "--evidence", "only-a-title"],
            "TITLE,URI,SHA256",
        ),
    ],
)
def test_usage_errors_exit_2_with_a_plain_message(runner: CliRunner, args: list[str], message: str) -> None:
    result = _invoke(runner, *args)

    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")
    assert message in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sync", "transfer", "132000026000000001D", "--to", "44"], "--to '44': not a GB/T 2260"),
        (["sync", "onboard", "4400", "--address", "10.0.0.8:50061"], "REGION '4400': not a GB/T 2260"),
        (["sync", "onboard", "440000", "--address", " "], "--address: give where the new node serves"),
        (["sync", "status", "999999"], "REGION '999999': not a GB/T 2260"),
        (["sync", "status", "320000", "--node-status"], "--node-status asks the node at --node about itself"),
    ],
)
def test_sync_usage_errors_exit_2_before_any_call(runner: CliRunner, args: list[str], message: str) -> None:
    result = _invoke(runner, *args)

    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")
    assert message in result.stderr


def test_sync_commands_need_their_arguments(runner: CliRunner) -> None:
    for args in (
        ["sync", "onboard", "440000"],
        ["sync", "transfer", "132000026000000001D"],
        ["sync", "transfer", "--to", "440000"],
        ["ledger"],
    ):
        assert _invoke(runner, *args).exit_code == 2, args


def test_missing_required_options_are_usage_errors(runner: CliRunner) -> None:
    for args in (["return", NAME], ["refuse", NAME], ["change", NAME, "f.toml"], ["deregister", NAME]):
        assert _invoke(runner, *args).exit_code == 2, args


def test_a_malformed_token_is_refused_up_front(runner: CliRunner) -> None:
    result = _invoke(runner, "accept", NAME, token="li\nming")

    assert result.exit_code == 2
    assert "not a bearer token" in result.stderr


def test_apply_needs_a_region(runner: CliRunner) -> None:
    result = _invoke(runner, "apply", "deploy/examples/application.toml")

    assert result.exit_code == 2
    assert "apply needs the node's region: --region 320000 (or set REGISTRY_REGION)" in result.stderr


def test_the_region_can_come_from_the_environment(runner: CliRunner, tmp_path: Path) -> None:
    # With REGISTRY_REGION set, apply gets past the region check and stops at the (bad) file instead.
    result = runner.invoke(
        app, ["--node", NOWHERE, "apply", str(tmp_path / "x.toml")], env={"REGISTRY_REGION": "320000"}
    )

    assert result.exit_code == 2
    assert "no such file" in result.stderr


# --- rendering -----------------------------------------------------------------------------------------


def test_enum_names_lose_their_prefix() -> None:
    assert enum_name(code_pb2.CodeDefect, code_pb2.CODE_DEFECT_CHECK_MISMATCH) == "CHECK_MISMATCH"
    assert enum_name(r.Application.State, r.Application.UNDER_REVIEW) == "UNDER_REVIEW"
    assert enum_name(r.ObjectType, r.OPEN_DATA_RESOURCE) == "OPEN_DATA_RESOURCE"
    assert enum_name(r.ObjectType, 0) == "—"
    assert enum_name(r.ObjectType, 99) == "99"  # a value newer than this client


def test_dates_and_times() -> None:
    assert format_date(date_pb2.Date(year=2027, month=1, day=6)) == "2027-01-06"
    assert (
        format_date(date_pb2.Date(year=2027, month=1, day=6), provisional=True) == "2027-01-06 (provisional)"
    )
    assert format_date(date_pb2.Date()) == ""
    # 2025-12-31T16:30:00Z is already New Year's Day in China Standard Time.
    assert format_time(timestamp_pb2.Timestamp(seconds=1767198600)) == "2026-01-01 00:30:00"
    assert format_time(timestamp_pb2.Timestamp()) == ""


def _day(text: str) -> date_pb2.Date:
    year, month, day = (int(part) for part in text.split("-"))
    return date_pb2.Date(year=year, month=month, day=day)


def _rendered(*renderables: object) -> str:
    console = Console(file=io.StringIO(), width=200, record=True)
    for renderable in renderables:
        console.print(renderable)
    return console.export_text()


def test_each_date_shows_its_own_provisional_mark() -> None:
    objection = r.Objection(
        name=f"{NAME}/objections/o-1",
        state=r.Objection.PENDING,
        resolve_by=_day("2027-01-20"),
        resolve_by_provisional=True,
    )
    application = r.Application(
        id="a-1",
        state=r.Application.ANNOUNCED,
        acceptance_due=_day("2026-12-03"),
        review_due=_day("2027-01-05"),
        review_due_provisional=True,
        announcement_start=_day("2027-01-04"),  # the day it started: never provisional
        announcement_end=_day("2027-01-18"),
        announcement_end_provisional=True,
        deadlines_provisional=True,
        initial_registration_due=_day("2026-11-30"),
        initial_registration_late=True,
        objections=[objection],
    )
    registration = r.Registration(name=NAME, current_application=application)
    due = [
        rs.DueItem(registration=NAME, kind=rs.DueItem.OBJECTION, due=_day("2027-01-20"), provisional=True),
        rs.DueItem(
            registration=NAME, kind=rs.DueItem.INITIAL_REGISTRATION, due=_day("2026-11-30"), overdue=True
        ),
    ]

    for text in (_rendered(registration_panel(registration)), _rendered(application_panel(application))):
        assert "2026-12-03 (provisional)" not in text and "2026-12-03" in text
        assert "2027-01-05 (provisional)" in text
        assert "2027-01-04 – 2027-01-18 (provisional)" in text
        assert "2026-11-30 (missed: first submitted after it)" in text
    assert "2027-01-20 (provisional)" in _rendered(application_panel(application))
    assert "2027-01-20 (provisional)" in _rendered(objection_panel(objection))
    table = _rendered(due_table(due))
    assert "2027-01-20 (provisional)" in table
    assert re.search(r"2026-11-30\s+INITIAL_REGISTRATION\s.*OVERDUE", table)


def test_registry_text_is_printed_literally_not_as_markup() -> None:
    registration = r.Registration(
        name=NAME, content=r.RegistrationContent(data_name="[bold]数据[/bold] [red]")
    )
    console = Console(file=io.StringIO(), width=120, record=True)

    console.print(registration_panel(registration))

    assert "[bold]数据[/bold] [red]" in console.export_text()


def test_a_session_refuses_an_unknown_service_before_opening_a_channel() -> None:
    with pytest.raises(ValueError, match="unknown service 'ledger'"):
        Session(NOWHERE, flag="--node", timeout=1, metadata=(), service="ledger")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (-1, "0 s"),
        (4.25, "4.2 s"),
        (42, "42 s"),
        (185, "3 min 5 s"),
        (3600, "1 h"),
        (7920, "2 h 12 min"),
    ],
)
def test_lags_read_as_durations(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def _rendered(renderable: object, *, styles: bool = False) -> str:
    console = Console(
        file=io.StringIO(), width=200, record=True, force_terminal=styles, color_system="standard"
    )
    console.print(renderable)
    return console.export_text(styles=styles)


def test_sync_states_highlight_lag_and_errors_and_sum_them_up() -> None:
    states = [
        sync_pb2.SyncState(node="nodes/320000", acknowledged_sequence=7, head_sequence=7),
        sync_pb2.SyncState(
            node="nodes/440000",
            acknowledged_sequence=3,
            head_sequence=10,
            lag_changes=7,
            lag_seconds=185,
            downward_head=2,
            downward_acknowledged=1,
            last_contact_time=timestamp_pb2.Timestamp(seconds=1767198600),
            last_error="UNAVAILABLE: [bold]connection refused",
            refused_changes=2,
            transfers_releasing=1,
        ),
    ]

    plain = _rendered(sync_states_table(states))
    coloured = _rendered(sync_states_table(states), styles=True)

    [caught_up] = [line for line in plain.splitlines() if "nodes/320000" in line]
    assert re.search(r"nodes/320000\s+7\s+7\s+0\s+0 s\s+0 / 0\s+never\s+0\s+0", caught_up)
    [lagging] = [line for line in plain.splitlines() if "nodes/440000" in line]
    assert re.search(r"nodes/440000\s+3\s+10\s+7\s+3 min 5 s\s+2 / 1\s+2026-01-01 00:30:00\s+2\s+1", lagging)
    assert "UNAVAILABLE: [bold]connection refused" in lagging  # literally, not as markup
    assert "2 nodes: 1 lagging, 1 with an error, 1 never heard from, 1 yet to release a transfer" in plain
    assert "\x1b[1;31mUNAVAILABLE: [bold]connection refused" in coloured  # the error in bold red
    assert "\x1b[1;33m3 min 5 s" in coloured  # the lag in bold yellow
    assert _rendered(sync_states_table([])).strip() == "no provincial node runs its own node"


def test_a_pending_transfer_says_what_it_waits_for() -> None:
    transfer = ss.Transfer(
        id="t-1", code="1320000260000000019", from_node="nodes/320000", to_node="nodes/440000"
    )
    transfer.state = ss.Transfer.PENDING
    transfer.create_time.FromSeconds(1767198600)
    assert "until nodes/440000 confirms it" in _rendered(transfer_panel(transfer))
    transfer.confirm_time.FromSeconds(1767198660)
    shown = _rendered(transfer_panel(transfer))
    assert "until nodes/320000 releases it through its change feed" in shown
    assert "confirmed (CST)  2026-01-01 00:31:00" in shown
    transfer.state = ss.Transfer.COMPLETED
    transfer.release_time.FromSeconds(1767198720)
    transfer.complete_time.FromSeconds(1767198720)
    shown = _rendered(transfer_panel(transfer))
    assert "until" not in shown and "completed (CST)  2026-01-01 00:32:00" in shown


def test_an_agreement_report_lists_what_differs_and_how_to_repair_it() -> None:
    assert _rendered(agreement_report(ps.AgreementReport(in_agreement=True, ranges_compared=12))) == (
        "in agreement (12 ranges compared)\n"
    )
    differs = ps.AgreementReport(
        ranges_compared=12,
        differing_ranges=[sync_pb2.RangeDigest(prefix="3f", digest="ab" * 32, count=2)],
        ledger_newer=["3f000000-0000-0000-0000-000000000001", "3f000000-0000-0000-0000-000000000002"],
        node_newer=["3f000000-0000-0000-0000-000000000003"],
    )

    found = _rendered(agreement_report(differs))

    assert found.startswith("differs from the national ledger in 1 range (of 12 compared)\n")
    assert re.search(r"3f\s+2\s+abababababababab\s", found)
    assert (
        "the national ledger holds newer (or this node lacks): 2 registrations (uid)\n"
        "  3f000000-0000-0000-0000-000000000001\n"
        "  3f000000-0000-0000-0000-000000000002\n"
        "this node holds newer (or the ledger lacks): 1 registration (uid)\n"
        "  3f000000-0000-0000-0000-000000000003\n"
    ) in found
    assert found.endswith("to repair: registryctl sync check --repair\n")
    differs.repaired = True
    repaired = _rendered(agreement_report(differs))
    assert "repaired: 2 taken from the national ledger, 1 queued to be sent up by the sync daemon" in repaired
    assert repaired.endswith("run `registryctl sync check` again to confirm agreement\n")
