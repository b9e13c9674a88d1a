"""The gRPC side of ``registryctl``: one TLS channel per command, a deadline on every call, the operator's
bearer token in the request metadata, and failed calls turned into the lines an operator reads.

A failure prints as ``error: CODE (REASON): message``, then one line per ``BadRequest`` field
violation (or the ``ErrorInfo`` metadata when there are none), then a hint where one helps: a node
that cannot be reached, a deadline that passed, and for a write whose outcome is unknown, the
``--request-id`` that repeats it safely.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import grpc
from google.protobuf.message import Message

from common.gen.registry.v1 import demand_service_pb2_grpc as ds_grpc
from common.gen.registry.v1 import disclosure_service_pb2_grpc as dis_grpc
from common.gen.registry.v1 import log_service_pb2_grpc as ls_grpc
from common.gen.registry.v1 import national_service_pb2_grpc as ns_grpc
from common.gen.registry.v1 import provincial_service_pb2_grpc as ps_grpc
from common.gen.registry.v1 import registration_service_pb2_grpc as rs_grpc
from common.gen.registry.v1 import share_service_pb2_grpc as sh_grpc
from common.gen.registry.v1 import sync_service_pb2_grpc as ss_grpc
from common.rpc.channels import channel_target
from common.rpc.status import details_of

__all__ = ["SERVICES", "CallFailed", "Session", "describe_rpc_error"]

#: The services a session can call, by name: ``registration`` (RegistrationService, every node),
#: ``national`` (NationalService) and ``sync`` (SyncService) on the national node, ``provincial``
#: (ProvincialService) on a provincial node, ``log`` (LogService), ``demand`` (DemandService) and
#: ``share`` (ShareService) and ``disclosure`` (DisclosureService) on the national node.
SERVICES: dict[str, Callable[[grpc.Channel], Any]] = {
    "registration": rs_grpc.RegistrationServiceStub,
    "national": ns_grpc.NationalServiceStub,
    "sync": ss_grpc.SyncServiceStub,
    "provincial": ps_grpc.ProvincialServiceStub,
    "log": ls_grpc.LogServiceStub,
    "demand": ds_grpc.DemandServiceStub,
    "share": sh_grpc.ShareServiceStub,
    "disclosure": dis_grpc.DisclosureServiceStub,
}

# Codes after which a write may or may not have been done.
_UNCERTAIN = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.CANCELLED,
    }
)


class CallFailed(Exception):
    """A call failed; ``lines`` say how, for people."""

    def __init__(self, lines: Sequence[str]) -> None:
        self.lines = list(lines)
        super().__init__("\n".join(self.lines))


def describe_rpc_error(
    error: grpc.RpcError, *, address: str, flag: str, timeout: float, request_id: str | None = None
) -> list[str]:
    """The lines to print for a failed call: code, reason, message, each field violation, and a hint.

    ``flag`` names the option that set ``address``, for the hint when it cannot be reached.
    """
    details = details_of(error)
    code, message, reason, metadata = details.code, details.message, details.reason, details.metadata
    head = f"error: {code.name}"
    if reason:
        head += f" ({reason})"
    if message:
        head += f": {message}"
    lines = [head]
    lines += [f"  {field}: {description}" for field, _, description in details.violations]
    if metadata and not details.violations:
        lines.append("  " + ", ".join(f"{key}={value}" for key, value in sorted(metadata.items())))
    # A status with details came from the node itself; without one, the failure is on the way there.
    from_node = details.from_server
    if code == grpc.StatusCode.UNAVAILABLE and not from_node:
        lines.append(f"hint: the node at {address} cannot be reached: is it running, and is {flag} right?")
    elif code == grpc.StatusCode.DEADLINE_EXCEEDED:
        lines.append(f"hint: no answer from {address} within {timeout:g} s (--timeout)")
    elif code == grpc.StatusCode.UNIMPLEMENTED and not from_node:
        lines.append(f"hint: the server at {address} does not serve this call: is {flag} right?")
    if request_id and code in _UNCERTAIN:
        lines.append(
            "hint: the write may or may not have been done; to retry it safely, repeat the command "
            f"with --request-id {request_id}"
        )
    return lines


class Session:
    """One channel to one node for one command, closed on exit.

    ``service`` names the service called (a key of :data:`SERVICES`); without it, ``national`` selects
    ``NationalService``, else ``RegistrationService``. Every call carries
    ``timeout`` as its deadline and ``metadata``; a failed call raises :class:`CallFailed`. No call is
    retried automatically: writes print their request id on an uncertain failure instead.
    """

    def __init__(
        self,
        address: str,
        *,
        flag: str,
        timeout: float,
        metadata: Sequence[tuple[str, str | bytes]],
        national: bool = False,
        service: str | None = None,
        credentials: grpc.ChannelCredentials | None = None,
        server_name: str | None = None,
    ) -> None:
        if service is None:
            service = "national" if national else "registration"
        if service not in SERVICES:
            raise ValueError(f"unknown service {service!r}; one of {', '.join(SERVICES)}")
        self.address = address
        self._flag = flag
        self._timeout = timeout
        self._metadata = tuple(metadata)
        options: list[tuple[str, Any]] = [("grpc.lb_policy_name", "round_robin")]  # several national hosts
        if credentials is None:
            self._channel = grpc.insecure_channel(channel_target(address), options=options)
        else:
            if server_name:
                options.append(("grpc.ssl_target_name_override", server_name))
            self._channel = grpc.secure_channel(channel_target(address), credentials, options=options)
        self._stub: Any = SERVICES[service](self._channel)

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._channel.close()

    def call(self, method: str, request: Message, *, request_id: str | None = None) -> Any:
        """Call ``method`` (e.g. ``"GetRegistration"``); ``request_id`` marks a write, for the hint."""
        try:
            return getattr(self._stub, method)(request, timeout=self._timeout, metadata=self._metadata)
        except grpc.RpcError as error:
            raise CallFailed(
                describe_rpc_error(
                    error, address=self.address, flag=self._flag, timeout=self._timeout, request_id=request_id
                )
            ) from None

    def pages(self, method: str, request: Any, field: str) -> list[Any]:
        """Every item of a List call, following ``next_page_token`` to the last page."""
        items: list[Any] = []
        seen: set[str] = set()
        while True:
            response = self.call(method, request)
            items.extend(getattr(response, field))
            token = response.next_page_token
            if not token or token in seen:  # a repeated token would loop for ever
                return items
            seen.add(token)
            request.page_token = token
