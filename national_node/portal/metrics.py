"""The portal's metrics: requests by route and status, how long they took, rate-limit refusals.

``route`` is the route's template (``/api/v1/registrations/{id}``, ``/static``), never the path a client
sent, and ``unmatched`` for a path no route takes; ``method`` is one of the HTTP methods or ``other``:
no label takes a value a client can make up.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common.metrics.telemetry import Telemetry

__all__ = ["MeasuredRequests", "PortalMetrics"]

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: Seconds: a cached page takes a millisecond, a search up to a few hundred.
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class PortalMetrics:
    def __init__(self, telemetry: Telemetry) -> None:
        self.requests = telemetry.counter(
            "registry_portal_requests_total", "Requests the portal answered.", ["route", "method", "status"]
        )
        self.duration = telemetry.histogram(
            "registry_portal_request_duration_seconds",
            "Time the portal took to answer a request.",
            ["route", "method"],
            buckets=_BUCKETS,
        )
        self.rate_limited = telemetry.counter(
            "registry_portal_rate_limited_total",
            "Requests refused with 429 by a client's rate limit (reads, objections or demands).",
            ["limit"],
        )
        for limit in ("reads", "objections", "demands"):
            self.rate_limited.labels(limit)


class MeasuredRequests:
    """ASGI middleware: every HTTP request counted and timed (the portal's outermost layer)."""

    def __init__(self, app: ASGIApp, metrics: PortalMetrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # unless a response starts: an exception answered outside this layer

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        begun = time.perf_counter()
        try:
            await self.app(scope, receive, sending)
        finally:
            route = _template(scope)
            method = scope["method"] if scope["method"] in _METHODS else "other"
            self.metrics.requests.labels(route, method, str(status)).inc()
            self.metrics.duration.labels(route, method).observe(time.perf_counter() - begun)


def _template(scope: Scope) -> str:
    """The template of the route that took the request; for one answered before routing (a rate
    limit, a body too large), the route that would have taken it."""
    route: Any = scope.get("route")
    if route is None:
        app = scope.get("app")
        router = getattr(app, "router", None)
        for candidate in getattr(router, "routes", ()):
            if candidate.matches(scope)[0] != Match.NONE:
                route = candidate
                break
    path = getattr(route, "path", None)
    return path or "unmatched"
