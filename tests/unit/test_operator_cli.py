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
from common.gen.registry.v1 import code_pb2
from common.gen.registry.v1 import registration_pb2 as r
from common.grpc_server import status_for
from common.operator_cli import app
from common.operator_client import describe_rpc_error
from common.operator_render import enum_name, format_date, format_time, registration_panel

NAME = "nodes/320000/registrations/r-1"
# An address nothing is asked at: every test here fails before a call.
NOWHERE = "127.0.0.1:9"


@pytest.fixture(autouse=True)
def no_channels(monkeypatch: pytest.MonkeyPatch) -> None:
    """A unit test opens no socket: creating a channel fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a unit test tried to open a gRPC channel")

    monkeypatch.setattr(grpc, "insecure_channel", refuse)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner(
        env={"REGISTRY_NODE": None, "REGISTRY_ACTOR": None, "REGISTRY_REGION": None, "COLUMNS": "200"}
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
    ):
        assert re.search(rf"\b{re.escape(command)}\b", result.stdout), command


def _invoke(runner: CliRunner, *args: str, actor: str = "li.ming") -> object:
    return runner.invoke(app, ["--node", NOWHERE, "--actor", actor, *args])


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


def test_missing_required_options_are_usage_errors(runner: CliRunner) -> None:
    for args in (["return", NAME], ["refuse", NAME], ["change", NAME, "f.toml"], ["deregister", NAME]):
        assert _invoke(runner, *args).exit_code == 2, args


def test_an_unprintable_actor_is_refused_up_front(runner: CliRunner) -> None:
    result = _invoke(runner, "accept", NAME, actor="li\nming")

    assert result.exit_code == 2
    assert "must be a printable name" in result.stderr


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


def test_registry_text_is_printed_literally_not_as_markup() -> None:
    registration = r.Registration(
        name=NAME, content=r.RegistrationContent(data_name="[bold]数据[/bold] [red]")
    )
    console = Console(file=io.StringIO(), width=120, record=True)

    console.print(registration_panel(registration))

    assert "[bold]数据[/bold] [red]" in console.export_text()
