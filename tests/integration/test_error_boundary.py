"""The gRPC error boundary over a real server: domain errors arrive with details, internals never leak."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest
from google.rpc import code_pb2, error_details_pb2
from grpc_status import rpc_status

from common.errors import DOMAIN, FieldViolation, InvalidArgument, NotFound
from common.grpc_server import ErrorInterceptor

pytestmark = pytest.mark.integration

SERVICE = "test.Boundary"
SECRET = "secret internal detail"
TIMEOUT = 10


def _identity(data: bytes) -> bytes:
    return data


def _echo(request: bytes, context: grpc.ServicerContext) -> bytes:
    return request


def _invalid(request: bytes, context: grpc.ServicerContext) -> bytes:
    raise InvalidArgument.from_violations(
        [
            FieldViolation("subject.uscc", "the check character does not match", "CHECK_MISMATCH"),
            FieldViolation("title", "is required", "FIELD_REQUIRED"),
        ]
    )


def _crash(request: bytes, context: grpc.ServicerContext) -> bytes:
    raise RuntimeError(SECRET)


def _abort(request: bytes, context: grpc.ServicerContext) -> bytes:
    context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "slow down")
    raise AssertionError("abort returned")


def _stream_not_found(request: bytes, context: grpc.ServicerContext) -> Iterator[bytes]:
    yield b"first"
    raise NotFound("REGISTRATION_NOT_FOUND", "no such registration", metadata={"name": "r-9"})


def _unary(behaviour: Any) -> grpc.RpcMethodHandler:
    return grpc.unary_unary_rpc_method_handler(
        behaviour, request_deserializer=_identity, response_serializer=_identity
    )


@pytest.fixture
def channel() -> Iterator[grpc.Channel]:
    executor = futures.ThreadPoolExecutor(max_workers=4)
    server = grpc.server(executor, interceptors=[ErrorInterceptor()])
    handlers = {
        "Echo": _unary(_echo),
        "Invalid": _unary(_invalid),
        "Crash": _unary(_crash),
        "Abort": _unary(_abort),
        "StreamNotFound": grpc.unary_stream_rpc_method_handler(
            _stream_not_found, request_deserializer=_identity, response_serializer=_identity
        ),
    }
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(SERVICE, handlers)])
    port = server.add_insecure_port("127.0.0.1:0")
    assert port != 0
    server.start()
    client = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield client
    finally:
        client.close()
        server.stop(None).wait(TIMEOUT)
        executor.shutdown(wait=True)


def _call(channel: grpc.Channel, method: str, request: bytes = b"ping") -> bytes:
    stub = channel.unary_unary(
        f"/{SERVICE}/{method}", request_serializer=_identity, response_deserializer=_identity
    )
    return stub(request, timeout=TIMEOUT)


def _failure(channel: grpc.Channel, method: str) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        _call(channel, method)
    return caught.value


def _boundary_errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "common.grpc_server" and r.levelno >= logging.ERROR]


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


def test_a_servicers_own_abort_passes_through_untouched(
    channel: grpc.Channel, caplog: pytest.LogCaptureFixture
) -> None:
    error = _failure(channel, "Abort")

    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert error.details() == "slow down"
    assert _boundary_errors(caplog) == []


def test_a_streaming_method_maps_domain_errors_too(channel: grpc.Channel) -> None:
    stub = channel.unary_stream(
        f"/{SERVICE}/StreamNotFound", request_serializer=_identity, response_deserializer=_identity
    )
    responses = stub(b"ping", timeout=TIMEOUT)
    received = []
    with pytest.raises(grpc.RpcError) as caught:
        for response in responses:
            received.append(response)

    assert received == [b"first"]
    error = caught.value
    assert error.code() == grpc.StatusCode.NOT_FOUND
    status = rpc_status.from_call(error)
    assert status is not None
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    assert (info.reason, dict(info.metadata)) == ("REGISTRATION_NOT_FOUND", {"name": "r-9"})
