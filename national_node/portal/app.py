"""The public portal as one FastAPI app: the pages (:mod:`~national_node.portal.pages`, for people) and
the JSON API (:mod:`~national_node.portal.api`, ``/api/v1``, for programs), each a router of its own,
both calling :mod:`~national_node.portal.service`. Here: what every request goes through (the
security headers, the body limit, the rate limits) and how each kind of failure is answered, as a
page in Chinese or as the API's one error shape.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount

from common.db import refusal, summary
from common.rpc.handlers import DATABASE_WINDOW
from common.rpc.repeats import Repeats
from national_node.portal import api, ckan, dcat, disclosures, downloads, feeds, pages, rules, stats
from national_node.portal.errors import ErrorBody, PortalError, error_response, from_validation
from national_node.portal.metrics import MeasuredRequests, PortalMetrics
from national_node.portal.ratelimit import RateLimiter
from national_node.portal.service import Portal
from national_node.portal.web import MAX_BODY, SECURITY_HEADERS, SecurityHeaders, client_address

__all__ = ["ErrorBody", "Portal", "create_app"]

logger = logging.getLogger(__name__)


def _answer(request: Request, error: PortalError) -> Response:
    """A failure as the API's error body, or as a page."""
    if request.url.path.startswith(api.API):
        return error_response(error)
    return pages.error_page(request, error)


def _allowed(app: FastAPI, request: Request) -> str:
    """Every method some route takes at this path (for the Allow header of a 405)."""
    methods: set[str] = set()
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
        # The path as the app received it (a mount's scope has its own root path).
        probe = {"type": "http", "path": request.url.path, "root_path": "", "method": method}
        for route in app.router.routes:
            if route.matches(probe)[0] == Match.FULL:
                # A mount (the style sheet) takes any method to its app, which serves GET and HEAD.
                if not isinstance(route, Mount) or method in ("GET", "HEAD"):
                    methods.add(method)
    return ", ".join(sorted(methods))


def create_app(portal: Portal, metrics: PortalMetrics | None = None) -> FastAPI:
    """The portal's app; with ``metrics``, its requests and rate-limit refusals are counted."""
    settings = portal.settings
    app = FastAPI(
        title="公共数据资源登记 · 公开服务 API",
        version="1.0.0",
        description=(
            "The public window of the national registry of public data resources: search every"
            " registration in the national ledger, read a registration's public fields, list what is"
            " under announcement and file objections, and check a registration code with its"
            " confirmation verified against the national log. Reads carry ETag and Cache-Control;"
            " page tokens are opaque; every error is an ErrorBody."
        ),
        openapi_url=f"{api.API}/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.openapi = lambda: api.openapi(app)  # type: ignore[method-assign]
    app.state.portal = portal
    app.state.templates = pages.templates()
    reads = RateLimiter(settings.reads_per_second, settings.read_burst)
    objections = RateLimiter(settings.objections_per_hour / 3600, settings.objection_burst)
    demands = RateLimiter(settings.demands_per_hour / 3600, settings.demand_burst)
    app.mount("/static", StaticFiles(directory=pages.HERE / "static"), name="static")
    app.include_router(pages.router)
    app.include_router(api.router)
    app.include_router(downloads.router)
    app.include_router(rules.router)
    app.include_router(ckan.router)
    app.include_router(ckan.legacy)
    app.include_router(dcat.router)
    app.include_router(feeds.router)
    app.include_router(stats.router)
    app.include_router(disclosures.router)

    @app.middleware("http")
    async def guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        length = request.headers.get("content-length", "")
        if (length and (not length.isdigit() or int(length) > MAX_BODY)) or (
            request.method == "POST" and not length
        ):
            error = PortalError(
                413 if length else 400,
                "BODY_TOO_LARGE" if length else "LENGTH_REQUIRED",
                f"a request body is at most {MAX_BODY} bytes, with its Content-Length",
            )
            return _answer(request, error)
        if not request.url.path.startswith("/static/"):
            client = client_address(request, settings)
            wait, limit = reads.take(client), "reads"
            # (A CKAN action posted as JSON is a read, as CKAN's clients send every action.)
            read = request.url.path.startswith((ckan.PREFIX, ckan.LEGACY_PREFIX))
            if not wait and request.method == "POST" and not read:
                if request.url.path.startswith(f"{api.API}/demands"):
                    wait, limit = demands.take(client), "demands"
                else:
                    wait, limit = objections.take(client), "objections"
            if wait:
                if metrics is not None:
                    metrics.rate_limited.labels(limit).inc()
                seconds = str(math.ceil(wait))
                error = PortalError(
                    429,
                    "RATE_LIMITED",
                    f"too many requests from {client}; try again in {seconds} s",
                    headers={"Retry-After": seconds},
                )
                return _answer(request, error)
        return await call_next(request)

    # Outermost: every response carries the security headers, whatever answered it.
    app.add_middleware(SecurityHeaders)
    if metrics is not None:  # outside even that: what every request cost, whatever answered it
        app.add_middleware(MeasuredRequests, metrics=metrics)

    @app.exception_handler(PortalError)
    async def portal_error(request: Request, error: PortalError) -> Response:
        return _answer(request, error)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> Response:
        return _answer(request, from_validation(error))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        reason = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(error.status_code, "HTTP_ERROR")
        headers = dict(error.headers or {})
        if error.status_code == 405:
            headers["Allow"] = _allowed(app, request) or headers.get("Allow", "")
        message = {404: "no such page or resource", 405: f"{request.method} is not allowed here"}
        failure = PortalError(
            error.status_code, reason, message.get(error.status_code, str(error.detail)), headers=headers
        )
        return _answer(request, failure)

    database_repeats = Repeats(DATABASE_WINDOW)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, error: Exception) -> Response:
        # Answered outside the middleware: the security headers are set here.
        refused = refusal(error)
        if refused is not None:  # the database busy or unreachable: a state, retried after a delay
            repeated = database_repeats.seen(refused.reason)
            if repeated is not None:
                more = f" (and {repeated} requests more since it was last logged)" if repeated else ""
                logger.warning("%s %s: %s%s", request.method, request.url.path, summary(error), more)
            delay = str(math.ceil(refused.retry_delay or 1))
            failure = PortalError(503, refused.reason, refused.message, headers={"Retry-After": delay})
        else:
            logger.exception("%s %s failed unexpectedly", request.method, request.url.path)
            failure = PortalError(500, "INTERNAL", "internal error; it has been logged")
        response = _answer(request, failure)
        response.headers.update(SECURITY_HEADERS)
        return response

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, Any]:
        behind = portal.search.ready()
        # index_behind: log entries the search index has still to follow (null: being built).
        return {"status": "serving", "index_behind": behind}

    return app
