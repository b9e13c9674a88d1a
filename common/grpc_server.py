"""The gRPC boundary of a node: error mapping, health, reflection and graceful shutdown.

Servicers raise :class:`common.errors.RegistryError`; :class:`ErrorInterceptor` turns it into a
``google.rpc.Status`` carrying an ``ErrorInfo`` (domain, stable reason, metadata) and, for bad input,
a ``BadRequest`` with one field violation per offending field. Anything else is logged once with its
traceback and reported as INTERNAL with a generic message: internals never reach the caller.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from concurrent import futures
from typing import Any

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from grpc_status import rpc_status

from common.errors import DOMAIN, RegistryError

__all__ = ["ErrorInterceptor", "NodeServer", "status_for"]

logger = logging.getLogger(__name__)


def _pack(message: Any) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def status_for(error: RegistryError) -> status_pb2.Status:
    """The ``google.rpc.Status`` sent for a domain error."""
    details = [
        _pack(error_details_pb2.ErrorInfo(reason=error.reason, domain=DOMAIN, metadata=error.metadata))
    ]
    if error.violations:
        bad_request = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(
                    field=v.field, description=v.description, reason=v.reason
                )
                for v in error.violations
            ]
        )
        details.append(_pack(bad_request))
    return status_pb2.Status(code=error.code.value[0], message=error.message, details=details)


_INTERNAL = status_pb2.Status(code=code_pb2.INTERNAL, message="internal error; it has been logged")


def _abort(context: grpc.ServicerContext, error: BaseException, method: str) -> None:
    if isinstance(error, RegistryError):
        logger.debug("%s: %s %s", method, error.code.name, error.reason)
        context.abort_with_status(rpc_status.to_status(status_for(error)))
    logger.exception("%s failed unexpectedly", method)
    context.abort_with_status(rpc_status.to_status(_INTERNAL))


class ErrorInterceptor(grpc.ServerInterceptor):
    """Maps exceptions raised by servicers to gRPC status with details."""

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method

        def unary(behaviour: Callable[..., Any]) -> Callable[..., Any]:
            def wrapped(request: Any, context: grpc.ServicerContext) -> Any:
                try:
                    return behaviour(request, context)
                except Exception as error:  # noqa: BLE001 - the boundary: everything is mapped
                    if _is_abort(context):
                        raise
                    _abort(context, error, method)

            return wrapped

        def streaming(behaviour: Callable[..., Any]) -> Callable[..., Any]:
            def wrapped(request: Any, context: grpc.ServicerContext) -> Any:
                try:
                    yield from behaviour(request, context)
                except Exception as error:  # noqa: BLE001
                    if _is_abort(context):
                        raise
                    _abort(context, error, method)

            return wrapped

        if handler.unary_unary:
            return handler._replace(unary_unary=unary(handler.unary_unary))
        if handler.stream_unary:
            return handler._replace(stream_unary=unary(handler.stream_unary))
        if handler.unary_stream:
            return handler._replace(unary_stream=streaming(handler.unary_stream))
        if handler.stream_stream:
            return handler._replace(stream_stream=streaming(handler.stream_stream))
        return handler


def _is_abort(context: grpc.ServicerContext) -> bool:
    # context.abort() raises a bare Exception after recording the status; let it through untouched.
    state = getattr(context, "_state", None)
    return bool(getattr(state, "aborted", False))


class NodeServer:
    """A gRPC server with the node's services, health checking and reflection.

    ``add_services`` is called with the ``grpc.Server`` to register servicers; ``service_names`` are
    the full names reported by health checking and reflection.
    """

    def __init__(
        self,
        *,
        listen: str,
        max_workers: int,
        add_services: Callable[[grpc.Server], None],
        service_names: Sequence[str],
        shutdown_grace: float = 5.0,
        on_start: Iterable[Callable[[], None]] = (),
        on_stop: Iterable[Callable[[], None]] = (),
    ) -> None:
        self._server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="rpc"),
            interceptors=[ErrorInterceptor()],
            options=[("grpc.so_reuseport", 0)],
        )
        add_services(self._server)
        self.health = health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self._server)
        self._service_names = tuple(service_names)
        reflection.enable_server_reflection(
            (*self._service_names, health.SERVICE_NAME, reflection.SERVICE_NAME), self._server
        )
        self.port = self._server.add_insecure_port(listen)
        if self.port == 0:
            raise OSError(f"cannot listen on {listen}")
        host = listen.rsplit(":", 1)[0]
        self.address = f"{host}:{self.port}"
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
        return self._server.wait_for_termination(timeout)

    def stop(self, grace: float | None = None) -> None:
        """Report NOT_SERVING, let in-flight RPCs finish, then stop and run the stop hooks."""
        self.health.enter_graceful_shutdown()
        self._server.stop(self._grace if grace is None else grace).wait()
        for hook in self._on_stop:
            hook()
        logger.info("stopped")
