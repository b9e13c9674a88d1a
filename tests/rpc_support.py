"""Calling any RPC of the contract with raw bytes, and reading what came back, for the hard-edge tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from common.gen.registry.v1 import (
    log_service_pb2,
    national_service_pb2,
    provincial_service_pb2,
    registration_service_pb2,
    sync_service_pb2,
)

__all__ = ["NATIONAL_SERVICES", "PROVINCIAL_SERVICES", "Answer", "call_raw", "methods", "tracebacks"]

NATIONAL_SERVICES: tuple[ServiceDescriptor, ...] = (
    national_service_pb2.DESCRIPTOR.services_by_name["NationalService"],
    registration_service_pb2.DESCRIPTOR.services_by_name["RegistrationService"],
    sync_service_pb2.DESCRIPTOR.services_by_name["SyncService"],
    log_service_pb2.DESCRIPTOR.services_by_name["LogService"],
)
PROVINCIAL_SERVICES: tuple[ServiceDescriptor, ...] = (
    registration_service_pb2.DESCRIPTOR.services_by_name["RegistrationService"],
    provincial_service_pb2.DESCRIPTOR.services_by_name["ProvincialService"],
)


def methods(services: tuple[ServiceDescriptor, ...]) -> Iterator[MethodDescriptor]:
    for service in services:
        yield from service.methods


@dataclass(frozen=True)
class Answer:
    code: grpc.StatusCode
    reason: str
    fields: tuple[str, ...]
    messages: int


def _identity(data: bytes) -> bytes:
    return data


def call_raw(
    channel: grpc.Channel,
    method: MethodDescriptor,
    payloads: list[bytes],
    *,
    timeout: float = 5.0,
    metadata: tuple[tuple[str, str], ...] = (),
) -> Answer:
    """Send ``payloads`` (one for a unary request, each as a message of a client stream) and read the
    answer (at most 20 messages of a server stream)."""
    path = f"/{method.containing_service.full_name}/{method.name}"
    received = 0
    try:
        if method.client_streaming:
            call = channel.stream_stream(path, request_serializer=_identity, response_deserializer=_identity)
            for _ in call(iter(payloads), timeout=timeout, metadata=metadata):
                received += 1
                if received >= len(payloads):
                    break
        elif method.server_streaming:
            call = channel.unary_stream(path, request_serializer=_identity, response_deserializer=_identity)
            for _ in call(payloads[0], timeout=timeout, metadata=metadata):
                received += 1
                if received >= 20:
                    break
        else:
            unary = channel.unary_unary(path, request_serializer=_identity, response_deserializer=_identity)
            unary(payloads[0], timeout=timeout, metadata=metadata)
            received = 1
    except grpc.RpcError as error:
        return _answer(error, received)
    return Answer(grpc.StatusCode.OK, "", (), received)


def _answer(error: grpc.RpcError, received: int) -> Answer:
    assert isinstance(error, grpc.Call)
    reason, fields = "", []
    try:
        status = rpc_status.from_call(error)
    except ValueError:
        status = None
    for detail in status.details if status else ():
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reason = info.reason
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            fields = [v.field for v in bad.field_violations]
    return Answer(error.code(), reason, tuple(fields), received)


def tracebacks(log: Path) -> list[str]:
    """The tracebacks a node wrote to its log (each as its first lines)."""
    text = log.read_text(errors="replace") if log.exists() else ""
    found = []
    for block in text.split("Traceback (most recent call last):")[1:]:
        found.append("\n".join(block.strip().splitlines()[-3:]))
    return found
