"""A node's gRPC server: its services through the boundary, health checking, reflection, a clean stop."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from concurrent import futures

import grpc
from google.protobuf.descriptor import ServiceDescriptor
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection, reflection_pb2_grpc

from common.rpc.handlers import Boundary
from common.rpc.reflection import DocumentedReflection

__all__ = ["NodeServer"]

logger = logging.getLogger(__name__)


class NodeServer:
    """A gRPC server with the node's services, health checking and reflection.

    ``services`` pairs each service descriptor with the servicer implementing it; the service names
    are what health checking and reflection report.
    """

    def __init__(
        self,
        *,
        listen: str,
        max_workers: int,
        services: Sequence[tuple[ServiceDescriptor, object]],
        shutdown_grace: float = 5.0,
        on_start: Iterable[Callable[[], None]] = (),
        on_stop: Iterable[Callable[[], None]] = (),
    ) -> None:
        self._server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="rpc"),
            options=[("grpc.so_reuseport", 0)],
        )
        boundary = Boundary()
        self._server.add_generic_rpc_handlers([boundary.service(d, s) for d, s in services])
        self.health = health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self._server)
        self._service_names = tuple(d.full_name for d, _ in services)
        reflection_pb2_grpc.add_ServerReflectionServicer_to_server(
            DocumentedReflection((*self._service_names, health.SERVICE_NAME, reflection.SERVICE_NAME)),
            self._server,
        )
        self.port = self._server.add_insecure_port(listen)
        if self.port == 0:
            raise OSError(f"cannot listen on {listen}")
        host = listen.rsplit(":", 1)[0]
        self.address = f"{host}:{self.port}"
        self.announcement = f"listening on {self.address}"
        self._grace = shutdown_grace
        self._on_start = list(on_start)
        self._on_stop = list(on_stop)

    def start(self) -> None:
        self._server.start()
        for name in ("", *self._service_names):
            self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        for hook in self._on_start:
            hook()
        logger.info("serving on %s", self.address)

    def wait(self, timeout: float | None = None) -> bool:
        return bool(self._server.wait_for_termination(timeout))

    def stop(self, grace: float | None = None) -> None:  # the Process protocol of common.process
        """Report NOT_SERVING, let in-flight RPCs finish, then stop and run the stop hooks."""
        self.health.enter_graceful_shutdown()
        self._server.stop(self._grace if grace is None else grace).wait()
        for hook in self._on_stop:
            hook()
        logger.info("stopped")
