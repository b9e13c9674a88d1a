"""A node's gRPC server: its services through the boundary, health checking, reflection, a clean stop.

The server is ``grpc.aio``'s, on an event loop of its own thread; servicers run in a bounded thread
pool (see :mod:`common.rpc.handlers`). Health and reflection are served on the event loop itself, so
they answer while every thread is busy.

Keepalive: the server pings an idle connection every ``keepalive_time`` seconds and drops it when the
ping is not answered within ``keepalive_timeout``, so connections to peers that vanished (a cable cut,
a NAT entry gone, a silent middlebox) are reclaimed; it accepts the clients' own keepalive pings
(:func:`common.rpc.channels.channel_options`) at their rate.

Probes: with ``health_listen``, health checking is also served in plaintext on a port of its own, and
nothing else is: for checkers that cannot present a client certificate, such as Kubernetes' ``grpc``
probes and most load balancers. It tells what the mutual-TLS port's health service tells (the same
servicer), and nothing about a registration.

Stop: health goes NOT_SERVING, the server refuses new calls, lets the calls in flight finish for
``shutdown_grace`` seconds and cancels the rest (streams included), then runs the stop hooks.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import grpc
from google.protobuf.descriptor import ServiceDescriptor
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection, reflection_pb2_grpc

from common.metrics.grpc import GrpcMetrics
from common.rpc.auth import Authenticator
from common.rpc.handlers import Boundary, ServingLimits
from common.rpc.reflection import DocumentedReflection
from common.security.policy import Policy

__all__ = ["SERVER_KEEPALIVE_TIME", "SERVER_KEEPALIVE_TIMEOUT", "NodeServer", "server_options"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Seconds between keepalive pings on an idle connection, and to wait for the answer.
SERVER_KEEPALIVE_TIME, SERVER_KEEPALIVE_TIMEOUT = 10.0, 5.0


def server_options(max_concurrent: int, *, reuse_port: bool = False) -> list[tuple[str, Any]]:
    """``reuse_port``: several processes serve one address (the national node's workers); otherwise a
    second server on a port in use fails to start, as it should."""
    return [
        ("grpc.so_reuseport", 1 if reuse_port else 0),
        ("grpc.keepalive_time_ms", int(SERVER_KEEPALIVE_TIME * 1000)),
        ("grpc.keepalive_timeout_ms", int(SERVER_KEEPALIVE_TIMEOUT * 1000)),
        ("grpc.http2.ping_timeout_ms", int(SERVER_KEEPALIVE_TIMEOUT * 1000)),
        ("grpc.keepalive_permit_without_calls", 1),
        # Clients ping every 3 s at the fastest (common.rpc.channels); allow it, with or without calls.
        ("grpc.http2.min_recv_ping_interval_without_data_ms", 2000),
        ("grpc.http2.max_ping_strikes", 0),
        ("grpc.max_concurrent_streams", max_concurrent),
    ]


class NodeServer:
    """A gRPC server with the node's services, health checking and reflection.

    ``services`` pairs each service descriptor with the servicer implementing it; the service names
    are what health checking and reflection report. A node passes its TLS ``credentials``, its
    ``authenticator`` and its ``policy`` (:func:`common.rpc.security.node_security`); without them the
    server is plaintext and refuses nobody, for tests and benchmarks of the boundary alone. With
    ``metrics``, every call (health and reflection included) is counted and timed by an interceptor
    (:mod:`common.metrics.grpc`).
    """

    def __init__(
        self,
        *,
        listen: str,
        max_workers: int,
        services: Sequence[tuple[ServiceDescriptor, object]],
        shutdown_grace: float = 5.0,
        limits: ServingLimits | None = None,
        credentials: grpc.ServerCredentials | None = None,
        authenticator: Authenticator | None = None,
        policy: Policy | None = None,
        on_start: Iterable[Callable[[], None]] = (),
        on_stop: Iterable[Callable[[], None]] = (),
        reuse_port: bool = False,
        health_listen: str = "",
        metrics: GrpcMetrics | None = None,
    ) -> None:
        self.limits = limits or ServingLimits()
        self._metrics = metrics
        self._reuse_port = reuse_port
        self._executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="rpc")
        self._boundary = Boundary(
            self._executor, self.limits, authenticator=authenticator, policy=policy, metrics=metrics
        )
        self._credentials = credentials
        self._services = list(services)
        self._service_names = tuple(d.full_name for d, _ in services)
        self._grace = shutdown_grace
        self._on_start = list(on_start)
        self._on_stop = list(on_stop)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="grpc", daemon=True)
        self._thread.start()
        self.health = HealthServicer()
        self._server, self.port = self._on_loop(self._build(listen))
        #: The plaintext health port (``health_listen``), and its server; 0 and None without one.
        self.health_port = 0
        self._health_server: grpc.aio.Server | None = None
        if health_listen:
            self._health_server, self.health_port = self._on_loop(self._build_health(health_listen))
        host = listen.rsplit(":", 1)[0]
        self.address = f"{host}:{self.port}"
        self.announcement = f"listening on {self.address}"
        self._stopped = False

    def _on_loop(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    async def _build(self, listen: str) -> tuple[grpc.aio.Server, int]:
        limits = self.limits
        server = grpc.aio.server(
            options=server_options(limits.max_streams + limits.unary_queue, reuse_port=self._reuse_port),
            maximum_concurrent_rpcs=limits.max_streams + limits.unary_queue + 64,
            interceptors=[self._metrics.interceptor()] if self._metrics is not None else None,
        )
        if self._metrics is not None:
            self._metrics.initialize(d for d, _ in self._services)
        server.add_generic_rpc_handlers([self._boundary.service(d, s) for d, s in self._services])
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        reflection_pb2_grpc.add_ServerReflectionServicer_to_server(
            DocumentedReflection((*self._service_names, health.SERVICE_NAME, reflection.SERVICE_NAME)), server
        )
        if self._credentials is not None:
            port = server.add_secure_port(listen, self._credentials)
        else:
            port = server.add_insecure_port(listen)
        if port == 0:
            raise OSError(f"cannot listen on {listen}")
        return server, port

    async def _build_health(self, listen: str) -> tuple[grpc.aio.Server, int]:
        server = grpc.aio.server(options=[("grpc.so_reuseport", 1 if self._reuse_port else 0)])
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        port = server.add_insecure_port(listen)
        if port == 0:
            raise OSError(f"cannot listen on {listen} (health_listen)")
        return server, port

    async def _start(self) -> None:
        await self._server.start()
        if self._health_server is not None:
            await self._health_server.start()
        for name in ("", *self._service_names):
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)

    async def _stop(self, grace: float) -> None:
        await self.health.enter_graceful_shutdown()
        await self._server.stop(grace)
        if self._health_server is not None:
            await self._health_server.stop(0)

    def start(self) -> None:
        self._on_loop(self._start())
        for hook in self._on_start:
            hook()
        logger.info("serving on %s", self.address)
        if self.health_port:
            logger.info("health checks (plaintext) on port %d", self.health_port)

    def stop(self, grace: float | None = None) -> None:  # the Process protocol of common.process
        """Report NOT_SERVING, let calls in flight finish for the grace period, cancel the rest, then
        run the stop hooks."""
        if self._stopped:
            return
        self._stopped = True
        self._on_loop(self._stop(self._grace if grace is None else grace))
        for hook in self._on_stop:
            try:
                hook()
            except Exception:
                logger.exception("a stop hook failed; stopping the rest")
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        if not self._thread.is_alive():
            self._loop.close()
        logger.info("stopped")
