"""Channels from one node to another that notice a dead link and heal by themselves.

gRPC keeps a connection open for as long as the kernel does; a peer behind a hung middlebox or a
half-dead NAT entry leaves it open and silent, and calls on it wait for their deadline, one after the
other, for ever. Every channel between nodes therefore

* sends keepalive pings (every ``KEEPALIVE_TIME`` seconds, also without calls) and drops the
  connection when one is not answered within ``KEEPALIVE_TIMEOUT``, so a silent connection is
  replaced by a new one within five seconds;
* reconnects quickly, without hammering a peer that is down: one connection attempt at a time, given
  up after 1 s without an answer, the next after a backoff from 0.25 s growing to at most
  ``RECONNECT_MAX`` (gRPC adds ±20 % jitter), instead of gRPC's default of up to two minutes. A peer
  that comes back is found within about a second;
* keeps its connections to itself (``grpc.use_local_subchannel_pool``): gRPC otherwise shares one
  connection between every channel of a process to the same address, so that a new channel would
  reuse the dead connection it was meant to replace;
* leaves retries to :mod:`common.retry` (gRPC's own retry policy is off, so the two do not stack).

Keepalive alone does not notice a silent link while calls are being made (gRPC resets its keepalive
timer on every write), so :class:`ReplaceableChannel` also replaces its channel, and with it the
connection, when a call times out (:meth:`ReplaceableChannel.calling`) or when its user saw no
progress on a stream (:meth:`ReplaceableChannel.replace`): the next call then opens a new connection,
which works as soon as the network does.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

import grpc

from common.rpc.tls import Files

__all__ = [
    "KEEPALIVE_TIME",
    "KEEPALIVE_TIMEOUT",
    "RECONNECT_MAX",
    "ReplaceableChannel",
    "channel_closed",
    "channel_options",
    "channel_target",
]

logger = logging.getLogger(__name__)

S = TypeVar("S")

#: Seconds between keepalive pings, and to wait for each answer (the server allows one every 2 s).
KEEPALIVE_TIME, KEEPALIVE_TIMEOUT = 3.0, 2.0
#: Seconds between connection attempts to a peer that does not answer, at the most.
RECONNECT_MAX = 1.0


def channel_target(address: str) -> str:
    """The gRPC target for ``address``: one ``host:port`` (or any gRPC target, such as
    ``dns:///national.example:50051``, whose every address record is a host of the national tier), or
    several ``host:port`` separated by commas, one per host. The calls are spread over every host that
    answers (``round_robin``, see :func:`channel_options`); a host that does not answer is left out
    until it does. Host names in a list are resolved here, once."""
    parts = [part.strip() for part in address.split(",") if part.strip()]
    if len(parts) <= 1:
        return address.strip()
    found: list[str] = []
    families: set[int] = set()
    for part in parts:
        host, _, port = part.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"{part!r} in {address!r} is not host:port")
        try:
            infos = socket.getaddrinfo(host.strip("[]"), int(port), type=socket.SOCK_STREAM)
        except OSError as error:
            raise ValueError(f"{part!r} in {address!r}: {error}") from None
        for family, _, _, _, sockaddr in infos:
            ip = str(sockaddr[0])
            entry = f"[{ip}]:{port}" if family == socket.AF_INET6 else f"{ip}:{port}"
            if entry not in found:
                found.append(entry)
                families.add(family)
    if families == {socket.AF_INET}:
        return "ipv4:" + ",".join(found)
    if families == {socket.AF_INET6}:
        return "ipv6:" + ",".join(found)
    raise ValueError(f"{address!r} mixes IPv4 and IPv6 hosts: list one family, or use a dns:/// name")


def channel_options() -> list[tuple[str, Any]]:
    return [
        # Several addresses (the national tier's hosts): every call goes to the next one that answers.
        ("grpc.lb_policy_name", "round_robin"),
        ("grpc.keepalive_time_ms", int(KEEPALIVE_TIME * 1000)),
        ("grpc.keepalive_timeout_ms", int(KEEPALIVE_TIMEOUT * 1000)),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.max_pings_without_data", 0),
        ("grpc.initial_reconnect_backoff_ms", 250),
        ("grpc.min_reconnect_backoff_ms", 1000),
        ("grpc.max_reconnect_backoff_ms", int(RECONNECT_MAX * 1000)),
        ("grpc.http2.ping_timeout_ms", int(KEEPALIVE_TIMEOUT * 1000)),
        ("grpc.use_local_subchannel_pool", 1),
        ("grpc.enable_retries", 0),
    ]


def channel_closed(error: BaseException) -> bool:
    """Whether a call failed only because its channel was closed under it, replaced by a fresh one or
    closed for a stop: a call in flight ends CANCELLED ("Channel closed!"), and one begun on a stub of
    the closed channel raises ValueError. The next call, on the new channel, goes through."""
    if isinstance(error, ValueError):
        return "closed channel" in str(error)
    return (
        isinstance(error, grpc.RpcError)
        and isinstance(error, grpc.Call)
        and error.code() == grpc.StatusCode.CANCELLED
        and "Channel closed" in (error.details() or "")
    )


class ReplaceableChannel(Generic[S]):
    """A channel to ``address`` and a stub on it, which can be replaced by a fresh one.

    With ``files`` (the node's certificate, key and CA), the channel is mutual TLS and is replaced,
    with the new files, when they change (looked at no more than once a second); ``server_name`` is
    the name the server's certificate must carry (the national node's, see
    :data:`common.security.identity.NATIONAL_SERVER_NAME`).
    """

    def __init__(
        self,
        address: str,
        stub: Callable[[grpc.Channel], S],
        files: Files | None = None,
        *,
        server_name: str | None = None,
    ) -> None:
        self.address = address
        self._server_name = server_name
        self._make_stub = stub
        self._files = files
        self._lock = threading.Lock()
        self._stamp = files.stamp() if files else ()
        self._looked = time.monotonic()
        self._channel = self._open()
        self._stub = stub(self._channel)
        self.replacements = 0

    def _open(self) -> grpc.Channel:
        if self._files is None:
            return grpc.insecure_channel(channel_target(self.address), options=channel_options())
        options = channel_options()
        if self._server_name is not None:
            options.append(("grpc.ssl_target_name_override", self._server_name))
        return grpc.secure_channel(
            channel_target(self.address), self._files.channel_credentials(), options=options
        )

    def _renewed(self) -> bool:
        if self._files is None or time.monotonic() - self._looked < 1.0:
            return False
        self._looked = time.monotonic()
        try:
            stamp = self._files.stamp()
        except OSError:
            return False
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        return True

    @property
    def stub(self) -> S:
        with self._lock:
            renewed = self._renewed()
            stub = self._stub
        if renewed:
            self.replace("the node's certificate files changed")
            return self.stub
        return stub

    @contextmanager
    def calling(self) -> Iterator[S]:
        """The stub for one call; a call that times out replaces the channel it was made on (once,
        however many calls on it time out together)."""
        self.stub  # noqa: B018 - a renewed certificate replaces the channel first
        with self._lock:
            stub, generation = self._stub, self.replacements
        try:
            yield stub
        except grpc.RpcError as error:
            if isinstance(error, grpc.Call) and error.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                self.replace("a call timed out", generation=generation)
            raise

    def replace(self, why: str, *, generation: int | None = None) -> None:
        """Close the channel (cancelling its calls) and open a new one; with ``generation``, only if the
        channel is still the one of that generation."""
        with self._lock:
            if generation is not None and generation != self.replacements:
                return
            old = self._channel
            self._channel = self._open()
            self._stub = self._make_stub(self._channel)
            self.replacements += 1
        logger.info("replacing the channel to %s: %s", self.address, why)
        old.close()

    def close(self) -> None:
        with self._lock:
            self._channel.close()
