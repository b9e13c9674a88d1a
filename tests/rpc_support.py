"""Calling any RPC of the contract with raw bytes, and reading what came back, for the hard-edge tests;
streams held open and cancelled; what a node's log says went wrong."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from common.gen.registry.v1 import (
    demand_service_pb2,
    disclosure_service_pb2,
    log_service_pb2,
    national_service_pb2,
    provincial_service_pb2,
    registration_service_pb2,
    share_service_pb2,
    sync_service_pb2,
)
from common.gen.registry.v1 import sync_service_pb2 as ss
from common.gen.registry.v1 import sync_service_pb2_grpc as ss_grpc
from tests.trust import credentials

__all__ = [
    "NATIONAL_SERVICES",
    "PROVINCIAL_SERVICES",
    "Answer",
    "HeldStreams",
    "call_raw",
    "errors",
    "methods",
    "reason_of",
    "tracebacks",
]

NATIONAL_SERVICES: tuple[ServiceDescriptor, ...] = (
    national_service_pb2.DESCRIPTOR.services_by_name["NationalService"],
    registration_service_pb2.DESCRIPTOR.services_by_name["RegistrationService"],
    sync_service_pb2.DESCRIPTOR.services_by_name["SyncService"],
    log_service_pb2.DESCRIPTOR.services_by_name["LogService"],
    demand_service_pb2.DESCRIPTOR.services_by_name["DemandService"],
    share_service_pb2.DESCRIPTOR.services_by_name["ShareService"],
    disclosure_service_pb2.DESCRIPTOR.services_by_name["DisclosureService"],
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


def reason_of(error: grpc.RpcError) -> str:
    """The ``ErrorInfo`` reason of a failed call ("" if it has none)."""
    return _answer(error, 0).reason


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


def errors(log: Path) -> list[str]:
    """The lines of a node's log at ERROR or CRITICAL, and the first line of every traceback."""
    text = log.read_text(errors="replace") if log.exists() else ""
    return [
        line
        for line in text.splitlines()
        if " ERROR " in line or " CRITICAL " in line or line.startswith("Traceback")
    ]


class HeldStreams:
    """Streams opened on an event loop of their own: upward ones (as nodes/320000) that never send,
    downward ones that are never read, as the node ``pull_as`` (the node whose feed ``pull_node`` is:
    held for as long as the feed does not fit the stream's window; another node: refused at once).
    Closed (cancelled) on :meth:`close`."""

    def __init__(
        self, address: str, *, push: int, pull: int, pull_node: str, pull_as: str = "320000"
    ) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.calls: list[object] = []
        self.channels: list[grpc.aio.Channel] = []
        asyncio.run_coroutine_threadsafe(
            self._open(address, push, pull, pull_node, pull_as), self.loop
        ).result(60)

    async def _open(self, address: str, push: int, pull: int, pull_node: str, pull_as: str) -> None:
        never = asyncio.Event()

        async def silent() -> object:
            await never.wait()
            yield  # pragma: no cover - never reached

        for i in range(push + pull):
            if i in (0, push) or i % 100 == 0:
                node = "320000" if i < push else pull_as
                self.channels.append(grpc.aio.secure_channel(address, credentials(node=node)))
            stub = ss_grpc.SyncServiceStub(self.channels[-1])
            if i < push:
                self.calls.append(stub.PushChanges(silent()))
            else:
                self.calls.append(
                    stub.PullChanges(
                        ss.PullChangesRequest(node=pull_node, after_sequence=0, max_changes=5000)
                    )
                )
        await asyncio.sleep(1.0)  # let them all reach the node

    def close(self) -> None:
        async def close() -> None:
            for call in self.calls:
                call.cancel()  # type: ignore[attr-defined]
            for channel in self.channels:
                await channel.close()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        if not self.thread.is_alive():
            self.loop.close()  # its self-pipe is a socket pair: left open, a ResourceWarning at collection
