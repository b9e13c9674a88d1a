"""gRPC server metrics under the names the gRPC ecosystem uses, from one server interceptor.

The families, labels and label values are go-grpc-middleware's Prometheus server metrics (and
go-grpc-prometheus's before it), so dashboards and alerts written for those work unchanged:

* ``grpc_server_started_total{grpc_type, grpc_service, grpc_method}``: calls started;
* ``grpc_server_handled_total{grpc_type, grpc_service, grpc_method, grpc_code}``: calls ended, with
  their status in Go's spelling (``OK``, ``InvalidArgument``, ``Unauthenticated``, ``Canceled``...);
* ``grpc_server_handling_seconds{grpc_type, grpc_service, grpc_method}``: a histogram of how long a
  call took, from its start to its status (a stream's whole life), on Prometheus's default buckets.

``grpc_type`` is ``unary``, ``client_stream``, ``server_stream`` or ``bidi_stream``; ``grpc_service`` the
service's full name (``registry.v1.NationalService``), ``grpc_method`` the method's. As
go-grpc-middleware's ``InitializeMetrics`` does, the counters of every method the node serves start at
zero, for every code, so a rate over a method that has never failed is 0, not absent.

Beside them, ``registry_rpc_refusals_total{grpc_service, grpc_method, grpc_code, reason}`` counts the
calls refused for who called (``Unauthenticated``) or for what they may do (``PermissionDenied``), by
the stable ``ErrorInfo`` reason (``TOKEN_EXPIRED``, ``ROLE_NOT_ALLOWED``...): the boundary
(:class:`~common.rpc.handlers.Boundary`) reports them, since only it knows the reason.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

import grpc
from google.protobuf.descriptor import ServiceDescriptor
from prometheus_client import CollectorRegistry, Counter, Histogram

__all__ = ["GO_CODES", "HANDLING_BUCKETS", "GrpcMetrics"]

#: Status codes as Go's ``codes.Code.String()`` spells them: the label values of ``grpc_code``.
GO_CODES: dict[grpc.StatusCode, str] = {
    grpc.StatusCode.OK: "OK",
    grpc.StatusCode.CANCELLED: "Canceled",
    grpc.StatusCode.UNKNOWN: "Unknown",
    grpc.StatusCode.INVALID_ARGUMENT: "InvalidArgument",
    grpc.StatusCode.DEADLINE_EXCEEDED: "DeadlineExceeded",
    grpc.StatusCode.NOT_FOUND: "NotFound",
    grpc.StatusCode.ALREADY_EXISTS: "AlreadyExists",
    grpc.StatusCode.PERMISSION_DENIED: "PermissionDenied",
    grpc.StatusCode.RESOURCE_EXHAUSTED: "ResourceExhausted",
    grpc.StatusCode.FAILED_PRECONDITION: "FailedPrecondition",
    grpc.StatusCode.ABORTED: "Aborted",
    grpc.StatusCode.OUT_OF_RANGE: "OutOfRange",
    grpc.StatusCode.UNIMPLEMENTED: "Unimplemented",
    grpc.StatusCode.INTERNAL: "Internal",
    grpc.StatusCode.UNAVAILABLE: "Unavailable",
    grpc.StatusCode.DATA_LOSS: "DataLoss",
    grpc.StatusCode.UNAUTHENTICATED: "Unauthenticated",
}
#: Prometheus's default buckets (Go's ``prometheus.DefBuckets``), as go-grpc-middleware uses them.
HANDLING_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_LABELS = ("grpc_type", "grpc_service", "grpc_method")


def _grpc_type(request_streaming: bool, response_streaming: bool) -> str:
    if request_streaming:
        return "bidi_stream" if response_streaming else "client_stream"
    return "server_stream" if response_streaming else "unary"


def _split(full_method: str) -> tuple[str, str]:
    """``/pkg.Service/Method`` as (``pkg.Service``, ``Method``)."""
    service, _, method = full_method.strip("/").partition("/")
    return service, method


class GrpcMetrics:
    """The families above, in ``registry``, and the interceptor that keeps them."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.started = Counter(
            "grpc_server_started_total",
            "Total number of RPCs started on the server.",
            _LABELS,
            registry=registry,
        )
        self.handled = Counter(
            "grpc_server_handled_total",
            "Total number of RPCs completed on the server, regardless of success or failure.",
            (*_LABELS, "grpc_code"),
            registry=registry,
        )
        self.handling = Histogram(
            "grpc_server_handling_seconds",
            "Histogram of response latency (seconds) of gRPC that had been application-level handled by"
            " the server.",
            _LABELS,
            buckets=HANDLING_BUCKETS,
            registry=registry,
        )
        self.refusals = Counter(
            "registry_rpc_refusals_total",
            "Calls refused for who called (Unauthenticated) or what they may do (PermissionDenied), by"
            " ErrorInfo reason.",
            ("grpc_service", "grpc_method", "grpc_code", "reason"),
            registry=registry,
        )

    def initialize(self, services: Iterable[ServiceDescriptor]) -> None:
        """Every method of ``services`` at zero (go-grpc-middleware's ``InitializeMetrics``)."""
        for service in services:
            for method in service.methods:
                labels = (
                    _grpc_type(method.client_streaming, method.server_streaming),
                    service.full_name,
                    method.name,
                )
                self.started.labels(*labels)
                self.handling.labels(*labels)
                for code in GO_CODES.values():
                    self.handled.labels(*labels, code)

    def refused(self, full_method: str, code: grpc.StatusCode, reason: str) -> None:
        """A call refused for its caller (``code`` UNAUTHENTICATED or PERMISSION_DENIED)."""
        service, method = _split(full_method)
        self.refusals.labels(service, method, GO_CODES.get(code, "Unknown"), reason).inc()

    def interceptor(self) -> grpc.aio.ServerInterceptor[Any, Any]:
        return _Interceptor(self)


class _Interceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Wraps each method's handler (once per method) so that every call is counted and timed."""

    def __init__(self, metrics: GrpcMetrics) -> None:
        self._metrics = metrics
        self._wrapped: dict[str, tuple[grpc.RpcMethodHandler[Any, Any], grpc.RpcMethodHandler[Any, Any]]] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any]]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        handler = await continuation(handler_call_details)
        if handler is None:  # no such method: gRPC answers UNIMPLEMENTED
            return handler
        name = handler_call_details.method
        known = self._wrapped.get(name)
        if known is not None and known[0] is handler:
            return known[1]
        wrapped = self._wrap(name, handler)
        self._wrapped[name] = (handler, wrapped)
        return wrapped

    def _wrap(self, name: str, handler: grpc.RpcMethodHandler[Any, Any]) -> grpc.RpcMethodHandler[Any, Any]:
        service, method = _split(name)
        labels = (_grpc_type(handler.request_streaming, handler.response_streaming), service, method)
        started = self._metrics.started.labels(*labels)
        handling = self._metrics.handling.labels(*labels)
        handled = self._metrics.handled

        def ended(context: grpc.aio.ServicerContext[Any, Any], begun: float, code: str | None) -> None:
            if code is None:
                status = context.code()
                code = GO_CODES.get(status, "Unknown") if isinstance(status, grpc.StatusCode) else "OK"
            handled.labels(*labels, code).inc()
            handling.observe(time.perf_counter() - begun)

        def measured(behaviour: Callable[..., Any]) -> Callable[..., Any]:
            if inspect.isasyncgenfunction(behaviour):

                async def stream(
                    request: Any, context: grpc.aio.ServicerContext[Any, Any]
                ) -> AsyncIterator[Any]:
                    started.inc()
                    begun = time.perf_counter()
                    code: str | None = "Unknown"
                    try:
                        async for item in behaviour(request, context):
                            yield item
                        code = None
                    except grpc.aio.AbortError:
                        code = None
                        raise
                    except asyncio.CancelledError:
                        code = "Canceled"
                        raise
                    finally:
                        ended(context, begun, code)

                return stream
            if not inspect.iscoroutinefunction(behaviour):
                return behaviour  # a synchronous handler (none here): served as it is, not counted

            async def call(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
                started.inc()
                begun = time.perf_counter()
                code: str | None = "Unknown"
                try:
                    answer = await behaviour(request, context)
                    code = None
                    return answer
                except grpc.aio.AbortError:
                    code = None  # the status it aborted with
                    raise
                except asyncio.CancelledError:
                    code = "Canceled"  # the client cancelled or went away, or the server is stopping
                    raise
                finally:
                    ended(context, begun, code)

            return call

        return handler._replace(  # type: ignore[attr-defined, no-any-return]
            **{
                kind: measured(behaviour)
                for kind in ("unary_unary", "unary_stream", "stream_unary", "stream_stream")
                if (behaviour := getattr(handler, kind)) is not None
            }
        )
