"""What a caller receives for a domain error: a google.rpc.Status with ErrorInfo and BadRequest details.

Also the request-field Checker, which gathers every bad field of a request into one INVALID_ARGUMENT.
"""

from __future__ import annotations

import uuid

import pytest
from google.rpc import code_pb2, error_details_pb2, status_pb2

from common.errors import (
    DOMAIN,
    AlreadyExists,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    InvalidValue,
    NotFound,
    PermissionDenied,
    RegistryError,
    Unavailable,
)
from common.rpc.status import status_for
from common.validation import Checker


def on_the_wire(error: RegistryError) -> status_pb2.Status:
    """The status as a client decodes it: serialised and parsed back."""
    return status_pb2.Status.FromString(status_for(error).SerializeToString())


def details_of(
    status: status_pb2.Status,
) -> tuple[error_details_pb2.ErrorInfo, error_details_pb2.BadRequest | None]:
    """Unpack the ErrorInfo (exactly one) and the BadRequest (at most one) of a status."""
    infos, bad_requests = [], []
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            assert detail.Unpack(info)
            infos.append(info)
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_request = error_details_pb2.BadRequest()
            assert detail.Unpack(bad_request)
            bad_requests.append(bad_request)
        else:
            raise AssertionError(f"unexpected detail {detail.type_url}")
    assert len(infos) == 1
    assert len(bad_requests) <= 1
    return infos[0], (bad_requests[0] if bad_requests else None)


# --- status_for -----------------------------------------------------------------------------------


def test_several_bad_fields_are_reported_together() -> None:
    error = InvalidArgument.from_violations(
        [
            FieldViolation("subject.uscc", "the check character does not match", "CHECK_MISMATCH"),
            FieldViolation("title", "is required", "FIELD_REQUIRED"),
        ]
    )
    status = on_the_wire(error)

    assert status.code == code_pb2.INVALID_ARGUMENT
    assert "subject.uscc" in status.message and "title" in status.message
    info, bad_request = details_of(status)
    assert info.domain == DOMAIN == "registry.v1"
    assert info.reason == "INVALID_FIELDS"
    assert info.metadata["field"] == "subject.uscc"
    assert bad_request is not None
    assert [(v.field, v.description, v.reason) for v in bad_request.field_violations] == [
        ("subject.uscc", "the check character does not match", "CHECK_MISMATCH"),
        ("title", "is required", "FIELD_REQUIRED"),
    ]


def test_a_single_bad_field_gives_its_own_reason() -> None:
    error = InvalidArgument.from_violations([FieldViolation("issuer", "is not a region", "UNKNOWN_REGION")])
    status = on_the_wire(error)

    assert status.code == code_pb2.INVALID_ARGUMENT
    assert status.message == "issuer: is not a region"
    info, bad_request = details_of(status)
    assert info.reason == "UNKNOWN_REGION"
    assert dict(info.metadata) == {"field": "issuer"}
    assert bad_request is not None
    assert [(v.field, v.reason) for v in bad_request.field_violations] == [("issuer", "UNKNOWN_REGION")]


def test_a_single_violation_without_a_reason_gets_a_generic_one() -> None:
    info, _ = details_of(on_the_wire(InvalidArgument.from_violations([FieldViolation("title", "bad")])))
    assert info.reason == "INVALID_FIELD"


def test_a_value_error_wrapped_for_its_field_names_the_field() -> None:
    error = InvalidArgument.for_field("code", InvalidValue("CODE_CHECK_MISMATCH", "the check does not match"))
    status = on_the_wire(error)

    assert status.code == code_pb2.INVALID_ARGUMENT
    assert status.message.startswith("code: ")
    info, bad_request = details_of(status)
    assert info.reason == "CODE_CHECK_MISMATCH"
    assert info.metadata["field"] == "code"
    assert bad_request is not None
    assert [(v.field, v.reason) for v in bad_request.field_violations] == [("code", "CODE_CHECK_MISMATCH")]


@pytest.mark.parametrize(
    ("error_class", "code"),
    [
        (PermissionDenied, code_pb2.PERMISSION_DENIED),
        (NotFound, code_pb2.NOT_FOUND),
        (FailedPrecondition, code_pb2.FAILED_PRECONDITION),
        (AlreadyExists, code_pb2.ALREADY_EXISTS),
        (Unavailable, code_pb2.UNAVAILABLE),
    ],
)
def test_domain_errors_map_to_their_grpc_code_with_reason_and_metadata(
    error_class: type[RegistryError], code: int
) -> None:
    error = error_class(
        "SOME_REASON", "what went wrong", metadata={"registration": "nodes/320000/registrations/r1"}
    )
    status = on_the_wire(error)

    assert status.code == code
    assert status.message == "what went wrong"
    info, bad_request = details_of(status)
    assert info.domain == DOMAIN
    assert info.reason == "SOME_REASON"
    assert dict(info.metadata) == {"registration": "nodes/320000/registrations/r1"}
    assert bad_request is None


def test_permission_denied_for_another_nodes_namespace() -> None:
    error = PermissionDenied(
        "NOT_YOUR_NAMESPACE", "node 440000 may not assign codes for 320000", metadata={"issuer": "320000"}
    )
    status = on_the_wire(error)
    assert status.code == code_pb2.PERMISSION_DENIED
    info, _ = details_of(status)
    assert (info.reason, dict(info.metadata)) == ("NOT_YOUR_NAMESPACE", {"issuer": "320000"})


# --- Checker --------------------------------------------------------------------------------------


def test_checker_reports_every_bad_field_in_one_error() -> None:
    check = Checker()
    check.text("title", "  ", max_length=100)
    check.region("issuer", "990000")
    check.request_id("request_id", "a b")
    check.uscc("subject.uscc", "91110000600037341M")

    with pytest.raises(InvalidArgument) as caught:
        check.done()

    error = caught.value
    assert error.reason == "INVALID_FIELDS"
    assert [(v.field, v.reason) for v in error.violations] == [
        ("title", "FIELD_REQUIRED"),
        ("issuer", "UNKNOWN_REGION"),
        ("request_id", "FIELD_MALFORMED"),
        ("subject.uscc", "CHECK_MISMATCH"),
    ]
    for field in ("title", "issuer", "request_id", "subject.uscc"):
        assert field in error.message
    _, bad_request = details_of(on_the_wire(error))
    assert bad_request is not None
    assert len(bad_request.field_violations) == 4


def test_checker_with_only_good_fields_passes_and_returns_the_values() -> None:
    check = Checker()
    assert check.text("title", "  Road traffic counts  ", max_length=100) == "Road traffic counts"
    region = check.region("issuer", "320000")
    assert region is not None and region.code == "320000"
    subject = check.uscc("subject.uscc", "91110000600037341L")
    assert subject is not None and subject.value == "91110000600037341L"
    check.request_id("request_id", str(uuid.uuid4()))
    check.done()
    assert check.violations == []


def test_text_required_and_empty() -> None:
    check = Checker()
    check.text("title", "", max_length=10)
    assert [(v.field, v.reason) for v in check.violations] == [("title", "FIELD_REQUIRED")]


def test_text_optional_and_empty_is_fine() -> None:
    check = Checker()
    assert check.text("note", "", max_length=10, required=False) == ""
    assert check.violations == []


def test_text_too_long_names_the_limit() -> None:
    check = Checker()
    check.text("title", "x" * 11, max_length=10)
    check.text("summary", "y" * 10, max_length=10)  # exactly at the limit: fine
    assert [(v.field, v.reason) for v in check.violations] == [("title", "FIELD_TOO_LONG")]
    assert "10" in check.violations[0].description
    assert "11" in check.violations[0].description


def test_a_single_bad_field_is_raised_with_its_own_reason() -> None:
    check = Checker()
    check.text("title", "x" * 300, max_length=200)
    with pytest.raises(InvalidArgument) as caught:
        check.done()
    assert caught.value.reason == "FIELD_TOO_LONG"
    assert caught.value.metadata == {"field": "title"}


@pytest.mark.parametrize(
    "value",
    [str(uuid.UUID(int=0x1234567890ABCDEF1234567890ABCDEF)), "req-1", "a", "A" * 64, "batch:7_part.2"],
)
def test_request_id_accepts_uuids_and_short_tokens(value: str) -> None:
    check = Checker()
    assert check.request_id("request_id", value) == value
    assert check.violations == []


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        pytest.param("", "FIELD_REQUIRED", id="empty"),
        pytest.param("a" * 65, "FIELD_TOO_LONG", id="65-characters"),
        pytest.param("a b", "FIELD_MALFORMED", id="space"),
        pytest.param("-leading-dash", "FIELD_MALFORMED", id="leading-dash"),
        pytest.param("abc\n", "FIELD_MALFORMED", id="trailing-newline"),
        pytest.param("r\u00e9q", "FIELD_MALFORMED", id="non-ascii"),
    ],
)
def test_request_id_rejects(value: str, reason: str) -> None:
    check = Checker()
    check.request_id("request_id", value)
    assert [(v.field, v.reason) for v in check.violations] == [("request_id", reason)]


def test_uscc_passes_the_parsers_reason_through() -> None:
    check = Checker()
    check.uscc("subject.uscc", "91110000600037341M")  # the right check character is L
    check.uscc("agent.uscc", "9111000060003734")
    check.uscc("owner.uscc", " ")
    assert [(v.field, v.reason) for v in check.violations] == [
        ("subject.uscc", "CHECK_MISMATCH"),
        ("agent.uscc", "WRONG_LENGTH"),
        ("owner.uscc", "FIELD_REQUIRED"),
    ]
    assert "check character" in check.violations[0].description


@pytest.mark.parametrize(
    ("value", "reason"),
    [("990000", "UNKNOWN_REGION"), ("320100", "UNKNOWN_REGION"), ("", "FIELD_REQUIRED")],
)
def test_region_rejects(value: str, reason: str) -> None:
    check = Checker()
    assert check.region("issuer", value) is None
    assert [(v.field, v.reason) for v in check.violations] == [("issuer", reason)]
