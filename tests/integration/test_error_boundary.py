"""The gRPC error boundary over a real server: domain errors arrive with details, internals never leak."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, wrappers_pb2
from google.rpc import code_pb2, error_details_pb2
from grpc_status import rpc_status

from common.errors import DOMAIN, FieldViolation, InvalidArgument, NotFound, RegistryError
from common.rpc import NodeServer
from common.rpc.call import Call

pytestmark = pytest.mark.integration

SERVICE = "test.Boundary"
SECRET = "secret internal detail"
TIMEOUT = 10


def _service() -> Any:
    """A service of the test's own, in the default pool: unary methods and one server stream."""
    pool = descriptor_pool.Default()
    try:
        return pool.FindServiceByName(SERVICE)
    except KeyError:
        pass
    file = descriptor_pb2.FileDescriptorProto(
        name="test/boundary.proto", package="test", dependency=["google/protobuf/wrappers.proto"]
    )
    service = file.service.add(name="Boundary")
    for method in ("Echo", "Invalid", "Crash", "Exhausted"):
        service.method.add(
            name=method, input_type=".google.protobuf.BytesValue", output_type=".google.protobuf.BytesValue"
        )
    service.method.add(
        name="StreamNotFound",
        input_type=".google.protobuf.BytesValue",
        output_type=".google.protobuf.BytesValue",
        server_streaming=True,
    )
    pool.Add(file)
    return pool.FindServiceByName(SERVICE)


class ResourceExhausted(RegistryError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class Servicer:
    def Echo(self, request: wrappers_pb2.BytesValue, call: Call) -> wrappers_pb2.BytesValue:
        return request

    def Invalid(self, request: wrappers_pb2.BytesValue, call: Call) -> wrappers_pb2.BytesValue:
        raise InvalidArgument.from_violations(
            [
                FieldViolation("subject.uscc", "the check character does not match", "CHECK_MISMATCH"),
                FieldViolation("title", "is required", "FIELD_REQUIRED"),
            ]
        )

    def Crash(self, request: wrappers_pb2.BytesValue, call: Call) -> wrappers_pb2.BytesValue:
        raise RuntimeError(SECRET)

    def Exhausted(self, request: wrappers_pb2.BytesValue, call: Call) -> wrappers_pb2.BytesValue:
        raise ResourceExhausted("SLOW_DOWN", "slow down")

    def StreamNotFound(
        self, request: wrappers_pb2.BytesValue, call: Call
    ) -> Iterator[wrappers_pb2.BytesValue]:
        yield wrappers_pb2.BytesValue(value=b"first")
        raise NotFound("REGISTRATION_NOT_FOUND", "no such registration", metadata={"name": "r-9"})


@pytest.fixture
def channel() -> Iterator[grpc.Channel]:
    server = NodeServer(listen="127.0.0.1:0", max_workers=4, services=[(_service(), Servicer())])
    server.start()
    client = grpc.insecure_channel(server.address)
    try:
        yield client
    finally:
        client.close()
        server.stop(0)


def _call(channel: grpc.Channel, method: str, request: bytes = b"ping") -> bytes:
    stub = channel.unary_unary(
        f"/{SERVICE}/{method}",
        request_serializer=wrappers_pb2.BytesValue.SerializeToString,
        response_deserializer=wrappers_pb2.BytesValue.FromString,
    )
    return bytes(stub(wrappers_pb2.BytesValue(value=request), timeout=TIMEOUT).value)


def _failure(channel: grpc.Channel, method: str) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        _call(channel, method)
    return caught.value


def _boundary_errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "common.rpc.handlers" and r.levelno >= logging.ERROR]


def test_a_successful_call_passes_through(channel: grpc.Channel) -> None:
    assert _call(channel, "Echo", b"hello") == b"hello"


def test_invalid_argument_arrives_with_error_info_and_bad_request(
    channel: grpc.Channel, caplog: pytest.LogCaptureFixture
) -> None:
    error = _failure(channel, "Invalid")

    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(error)
    assert status is not None
    assert status.code == code_pb2.INVALID_ARGUMENT
    info = error_details_pb2.ErrorInfo()
    bad_request = error_details_pb2.BadRequest()
    assert len(status.details) == 2
    assert status.details[0].Unpack(info)
    assert status.details[1].Unpack(bad_request)
    assert (info.domain, info.reason) == (DOMAIN, "INVALID_FIELDS")
    assert [(v.field, v.reason) for v in bad_request.field_violations] == [
        ("subject.uscc", "CHECK_MISMATCH"),
        ("title", "FIELD_REQUIRED"),
    ]
    assert all(v.description for v in bad_request.field_violations)
    # An expected domain error is the caller's problem, not an incident: no error is logged.
    assert _boundary_errors(caplog) == []


def test_an_unexpected_error_is_internal_without_its_details_and_logged_once(
    channel: grpc.Channel, caplog: pytest.LogCaptureFixture
) -> None:
    error = _failure(channel, "Crash")

    assert error.code() == grpc.StatusCode.INTERNAL
    assert SECRET not in (error.details() or "")
    status = rpc_status.from_call(error)
    assert status is not None
    assert status.code == code_pb2.INTERNAL
    assert SECRET not in status.message
    assert all(SECRET.encode() not in detail.value for detail in status.details)
    for _key, value in error.trailing_metadata() or ():
        assert SECRET not in (value.decode(errors="replace") if isinstance(value, bytes) else value)

    logged = _boundary_errors(caplog)
    assert len(logged) == 1
    assert logged[0].exc_info is not None
    assert isinstance(logged[0].exc_info[1], RuntimeError)
    assert SECRET in str(logged[0].exc_info[1])
    assert "Crash" in logged[0].getMessage()


def test_a_domain_error_of_any_code_passes_through_with_its_code(
    channel: grpc.Channel, caplog: pytest.LogCaptureFixture
) -> None:
    error = _failure(channel, "Exhausted")

    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert error.details() == "slow down"
    assert _boundary_errors(caplog) == []


def test_bytes_that_are_no_message_are_invalid_argument_not_internal(
    channel: grpc.Channel, caplog: pytest.LogCaptureFixture
) -> None:
    raw = channel.unary_unary(f"/{SERVICE}/Echo", request_serializer=None, response_deserializer=None)
    with pytest.raises(grpc.RpcError) as caught:
        raw(b"\xff\xff\xff\xff", timeout=TIMEOUT)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(caught.value)
    info = error_details_pb2.ErrorInfo()
    assert status is not None and status.details[0].Unpack(info)
    assert info.reason == "REQUEST_UNDECODABLE"
    assert _boundary_errors(caplog) == []


def test_a_streaming_method_maps_domain_errors_too(channel: grpc.Channel) -> None:
    stub = channel.unary_stream(
        f"/{SERVICE}/StreamNotFound",
        request_serializer=wrappers_pb2.BytesValue.SerializeToString,
        response_deserializer=wrappers_pb2.BytesValue.FromString,
    )
    responses = stub(wrappers_pb2.BytesValue(value=b"ping"), timeout=TIMEOUT)
    received = []
    with pytest.raises(grpc.RpcError) as caught:
        for response in responses:
            received.append(response.value)

    assert received == [b"first"]
    error = caught.value
    assert error.code() == grpc.StatusCode.NOT_FOUND
    status = rpc_status.from_call(error)
    assert status is not None
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    assert (info.reason, dict(info.metadata)) == ("REGISTRATION_NOT_FOUND", {"name": "r-9"})
