"""The public portal: server-rendered pages in Chinese and the JSON API ``/api/v1``, on one FastAPI app.

Pages (no JavaScript anywhere: every control is a link or a form):

- ``/`` search (找数据): words, filters with counts, relevance or newest first, pages;
- ``/registrations/{id}``: a registration's public page (:mod:`national_node.public`);
- ``/announcements`` (登记公示) and ``/announcements/{id}/objection``: the objection form;
- ``/check`` (登记结果查询): a code's state and its confirmation, verified against the national log,
  with ``/check/{code}/confirmation.tlog`` to download and ``/check/{code}/print`` to print.

The API mirrors them (``/api/v1/registrations``, ``/api/v1/announcements``, ``/api/v1/codes/{code}``),
described by ``/api/v1/openapi.json``; reads carry ETag and Cache-Control; every error has one shape
(:class:`ErrorBody`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

import grpc
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from common import codes, regions
from common.clock import Clock
from common.errors import InvalidArgument, InvalidValue
from common.gen.registry.v1 import national_service_pb2 as ns
from common.gen.registry.v1 import registration_pb2, sync_pb2
from common.paging import PageTokens
from common.uscc import is_valid as is_valid_uscc
from national_node.models import SearchRow
from national_node.portal.national import Confirmation, NationalError, NationalGateway
from national_node.portal.ratelimit import RateLimiter
from national_node.public import (
    OBJECT_TYPES,
    PUBLIC_FIELDS,
    STATES,
    public_registration,
    region_label,
)
from national_node.search import Search, SearchQuery, SearchResult
from national_node.settings import PortalSettings

__all__ = ["ErrorBody", "Portal", "create_app"]

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
API = "/api/v1"
MAX_QUERY = 100
MAX_BODY = 32 * 1024
_UID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_FACET_TITLES = {
    "object_type": "登记对象",
    "region": "地区",
    "subject": "登记主体",
    "state": "登记状态",
    "update_frequency": "更新频率",
}


@dataclass
class Portal:
    """What the app works with: the search over the ledger, the national node, limits, the clock."""

    settings: PortalSettings
    search: Search
    tokens: PageTokens
    national: NationalGateway
    clock: Clock


# -- the API's shapes ---------------------------------------------------------------------------------


class Violation(BaseModel):
    field: str = Field(description="The request field at fault (a query parameter or body field).")
    reason: str
    description: str


class ErrorDetail(BaseModel):
    code: int = Field(description="The HTTP status.")
    status: str = Field(description="The status name (INVALID_ARGUMENT, NOT_FOUND, ...), as in gRPC.")
    reason: str = Field(description="A stable reason to switch on, e.g. FIELD_TOO_LONG.")
    message: str
    field: str = Field(default="", description="The first field at fault, if any.")
    violations: list[Violation] = []


class ErrorBody(BaseModel):
    """Every error of the portal's API."""

    error: ErrorDetail


class FacetValue(BaseModel):
    value: str
    label: str
    count: int


class RegistrationSummary(BaseModel):
    id: str
    code: str
    data_name: str
    subject_name: str
    object_type: str
    object_type_label: str
    state: str
    state_label: str
    region: str
    region_label: str
    update_frequency: str
    summary: str
    valid_until: str
    announcement_end: str


class SearchResponse(BaseModel):
    registrations: list[RegistrationSummary]
    total_size: int
    total_size_is_estimate: bool = Field(
        default=False,
        description="True when more than 1,000 match: the total and the counts are then estimates.",
    )
    facets: dict[str, list[FacetValue]]
    next_page_token: str = Field(
        description="Opaque; pass as page_token for the next page. Empty: last page."
    )


class HistoryEvent(BaseModel):
    date: str
    event: str
    label: str


class PublicRegistration(BaseModel):
    id: str
    code: str
    data_name: str
    subject_name: str
    object_type: str
    registration_type: str
    state: str
    region: str
    valid_from: str
    valid_until: str
    update_frequency: str
    data_format: str
    summary: str
    application_scenarios: list[str]
    history: list[HistoryEvent]
    under_announcement: bool
    announcement_end: str


class Announcement(BaseModel):
    id: str
    code: str
    data_name: str
    subject_name: str
    region_label: str
    announcement_end: str


class AnnouncementsResponse(BaseModel):
    announcements: list[Announcement]
    next_page_token: str


class EvidenceIn(BaseModel):
    title: str = Field(max_length=200)
    uri: str = Field(max_length=2000)
    sha256: str = Field(default="", max_length=64)


class ObjectionIn(BaseModel):
    name: str = Field(min_length=1, max_length=50, description="Who objects.")
    contact: str = Field(min_length=1, max_length=100, description="A telephone number or e-mail address.")
    reason: str = Field(min_length=1, max_length=2000)
    evidence: list[EvidenceIn] = Field(default=[], max_length=5)
    request_id: str = Field(
        min_length=1, max_length=64, description="Chosen by the client; a retry with the same id files once."
    )


class ObjectionFiled(BaseModel):
    id: str
    managing_node: str
    managing_region_label: str
    file_time: str
    announcement_end: str
    request_id: str


class Verification(BaseModel):
    verified: bool
    error: str = ""
    log_key: str = ""
    tree_size: int = 0
    root_hash: str = ""
    index: int = 0
    witnesses: list[str] = []


class CodeCheck(BaseModel):
    code: str
    id: str
    data_name: str
    subject_name: str
    state: str
    state_label: str
    valid_from: str
    valid_until: str
    confirmation: Verification
    confirmation_url: str


# -- errors ------------------------------------------------------------------------------------------


class PortalError(Exception):
    def __init__(
        self,
        status: int,
        reason: str,
        message: str,
        *,
        field: str = "",
        violations: list[Violation] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.reason, self.message, self.field = status, reason, message, field
        self.violations = violations or []
        self.headers = headers or {}


_STATUS_NAMES = {
    500: "INTERNAL",
    400: "INVALID_ARGUMENT",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "FAILED_PRECONDITION",
    413: "PAYLOAD_TOO_LARGE",
    429: "RESOURCE_EXHAUSTED",
    502: "NATIONAL_FAILED",
    503: "UNAVAILABLE",
}
_GRPC_TO_HTTP = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 503,
}


def _invalid(field: str, reason: str, description: str) -> PortalError:
    return PortalError(
        400,
        reason,
        f"{field}: {description}",
        field=field,
        violations=[Violation(field=field, reason=reason, description=description)],
    )


def _from_registry(error: InvalidArgument) -> PortalError:
    violations = [
        Violation(field=v.field, reason=v.reason, description=v.description) for v in error.violations
    ]
    return PortalError(
        400, error.reason, error.message, field=error.metadata.get("field", ""), violations=violations
    )


def _from_national(error: NationalError, field_map: dict[str, str] | None = None) -> PortalError:
    status = _GRPC_TO_HTTP.get(error.code, 502)
    mapped = field_map or {}
    violations = [Violation(field=mapped.get(f, f), reason=r, description=d) for f, r, d in error.violations]
    return PortalError(
        status,
        error.reason or error.code.name,
        error.message,
        field=violations[0].field if violations else "",
        violations=violations,
    )


def _error_response(error: PortalError) -> JSONResponse:
    body = ErrorBody(
        error=ErrorDetail(
            code=error.status,
            status=_STATUS_NAMES.get(error.status, "ERROR"),
            reason=error.reason,
            message=error.message,
            field=error.field,
            violations=error.violations,
        )
    )
    return JSONResponse(
        body.model_dump(), status_code=error.status, headers={"Cache-Control": "no-store", **error.headers}
    )


# -- helpers -----------------------------------------------------------------------------------------


def _client(request: Request, settings: PortalSettings) -> str:
    if settings.trust_forwarded_for:
        forwarded = request.headers.get("x-forwarded-for", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.client.host if request.client else "unknown"


def _cached(request: Request, payload: bytes, media_type: str, seconds: int) -> Response:
    """A read's answer with its ETag (a hash of the bytes) and Cache-Control; 304 when the client has it."""
    etag = '"' + hashlib.sha256(payload).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={seconds}"}
    wanted = [t.strip() for t in request.headers.get("if-none-match", "").split(",")]
    if etag in wanted or "*" in wanted:
        return Response(status_code=304, headers=headers)
    return Response(payload, media_type=media_type, headers=headers)


def _json(request: Request, model: BaseModel, seconds: int) -> Response:
    payload = json.dumps(model.model_dump(), ensure_ascii=False, separators=(",", ":")).encode()
    return _cached(request, payload, "application/json", seconds)


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def _summary(row: SearchRow) -> RegistrationSummary:
    return RegistrationSummary(
        id=row.uid,
        code=row.code or "",
        data_name=row.data_name,
        subject_name=row.subject_name,
        object_type=row.object_type,
        object_type_label=OBJECT_TYPES.get(row.object_type, row.object_type),
        state=row.state,
        state_label=STATES.get(row.state, row.state),
        region=row.region,
        region_label=region_label(row.region),
        update_frequency=row.update_frequency,
        summary=row.summary,
        valid_until=_day(row.valid_until),
        announcement_end=_day(row.announcement_end) if row.announced else "",
    )


def _facet_label(key: str, value: str, label: str) -> str:
    if key == "object_type":
        return OBJECT_TYPES.get(value, value)
    if key == "state":
        return STATES.get(value, value)
    if key == "region":
        return region_label(value)
    return label


def _parse_query(
    q: str,
    filters: dict[str, str | None],
    sort: str,
    page_size: int,
) -> SearchQuery:
    if len(q) > MAX_QUERY:
        raise _invalid("q", "FIELD_TOO_LONG", f"is {len(q)} characters long; the limit is {MAX_QUERY}")
    chosen: dict[str, str] = {}
    for key, value in filters.items():
        if value is None or value == "":
            continue
        value = value.strip()
        if key == "object_type" and value not in OBJECT_TYPES:
            raise _invalid(key, "FIELD_MALFORMED", "must be one of " + ", ".join(OBJECT_TYPES))
        if key == "state" and value not in STATES:
            raise _invalid(key, "FIELD_MALFORMED", "must be one of " + ", ".join(STATES))
        if key == "region" and not (value == regions.NATIONAL or regions.is_region(value)):
            raise _invalid(key, "FIELD_MALFORMED", "must be a province-level region code such as 320000")
        if key == "subject" and not is_valid_uscc(value):
            raise _invalid(key, "FIELD_MALFORMED", "must be a unified social credit code (18 characters)")
        if key == "update_frequency" and len(value) > 100:
            raise _invalid(key, "FIELD_TOO_LONG", "is longer than 100 characters")
        chosen[key] = value
    if sort not in ("relevance", "newest"):
        raise _invalid("sort", "FIELD_MALFORMED", "must be relevance or newest")
    if not 1 <= page_size <= 100:
        raise _invalid("page_size", "FIELD_OUT_OF_RANGE", "must be between 1 and 100")
    return SearchQuery(q=q.strip(), filters=chosen, sort=sort, page_size=page_size)


def _run_search(portal: Portal, query: SearchQuery, page_token: str) -> tuple[SearchResult, str]:
    try:
        after = portal.tokens.decode("search", page_token, query.key())
    except InvalidArgument as error:
        raise _from_registry(error) from None
    result = portal.search.search(query, after)
    token = portal.tokens.encode("search", result.next_position, query.key()) if result.next_position else ""
    return result, token


def _uid(value: str) -> str:
    if not _UID.fullmatch(value):
        raise PortalError(
            404, "REGISTRATION_NOT_FOUND", f"there is no registration {value[:64]!r}", field="id"
        )
    return value


def _code(value: str, field: str = "code") -> str:
    try:
        return str(codes.parse(value.strip().upper()))
    except InvalidValue as error:
        raise _invalid(field, error.reason, error.message) from None


def _public(portal: Portal, uid: str) -> tuple[SearchRow, dict[str, Any]]:
    found = portal.search.get(_uid(uid))
    if found is None:
        raise PortalError(404, "REGISTRATION_NOT_FOUND", f"there is no registration {uid}", field="id")
    row, ledger = found
    view = public_registration(sync_pb2.RegistrationRecord.FromString(ledger.record), region=row.region)
    return row, view


def _verification(confirmation: Confirmation | None) -> Verification:
    if confirmation is None:
        return Verification(verified=False, error="the national log has no checkpoint of this code yet")
    if confirmation.verified is None:
        return Verification(verified=False, error=confirmation.error)
    proof = confirmation.verified.proof
    return Verification(
        verified=True,
        log_key=proof.log_key,
        tree_size=proof.checkpoint.size,
        root_hash=proof.checkpoint.root_hash.hex(),
        index=proof.index,
        witnesses=[name for name, _ in proof.witnesses],
    )


def _code_check(portal: Portal, code: str) -> tuple[CodeCheck, Confirmation | None]:
    found = portal.search.by_code(code)
    if found is None:
        raise PortalError(404, "CODE_NOT_FOUND", f"no registration holds the code {code}", field="code")
    row, _ = found
    try:
        confirmation = portal.national.confirmation(code)
    except NationalError as error:
        confirmation = Confirmation("", None, error.message)
    verification = _verification(confirmation)
    if confirmation is not None and confirmation.verified is not None:
        entry = confirmation.verified.entry
        if entry.get("code") != code:
            verification = Verification(verified=False, error="the log's entry is of another code")
    check = CodeCheck(
        code=code,
        id=row.uid,
        data_name=row.data_name,
        subject_name=row.subject_name,
        state=row.state,
        state_label=STATES.get(row.state, row.state),
        valid_from=_day(row.valid_from),
        valid_until=_day(row.valid_until),
        confirmation=verification,
        confirmation_url=f"/check/{code}/confirmation.tlog"
        if confirmation and confirmation.tlog_proof
        else "",
    )
    return check, confirmation


def _objection_request(uid_name: str, body: ObjectionIn) -> ns.FileObjectionRequest:
    evidence = []
    for item in body.evidence:
        evidence.append(
            registration_pb2.Document(title=item.title.strip(), uri=item.uri.strip(), sha256=item.sha256)
        )
    return ns.FileObjectionRequest(
        registration=uid_name,
        objection=registration_pb2.Objection(
            objector=f"{body.name.strip()}（{body.contact.strip()}）", reason=body.reason, evidence=evidence
        ),
        request_id=body.request_id,
    )


#: The national node's field names, as the portal's callers know them.
_OBJECTION_FIELDS = {"objection.objector": "name", "objection.reason": "reason", "request_id": "request_id"}


def _file(portal: Portal, row: SearchRow, body: ObjectionIn) -> ObjectionFiled:
    if body.evidence:
        for i, item in enumerate(body.evidence):
            if item.sha256 and not _SHA256.fullmatch(item.sha256):
                raise _invalid(
                    f"evidence[{i}].sha256", "FIELD_MALFORMED", "must be 64 lower-case hex characters"
                )
    try:
        filed = portal.national.file_objection(_objection_request(row.name, body))
    except NationalError as error:
        mapped = dict(_OBJECTION_FIELDS)
        for i in range(len(body.evidence)):
            for part in ("title", "uri", "sha256"):
                mapped[f"objection.evidence[{i}].{part}"] = f"evidence[{i}].{part}"
        raise _from_national(error, mapped) from None
    node = filed.managing_node.removeprefix("nodes/")
    end = filed.announcement_end
    return ObjectionFiled(
        id=row.uid,
        managing_node=filed.managing_node,
        managing_region_label=region_label(node),
        file_time=filed.file_time.ToDatetime().isoformat() + "Z",
        announcement_end=f"{end.year:04d}-{end.month:02d}-{end.day:02d}" if end.year else "",
        request_id=body.request_id,
    )


# -- the app -----------------------------------------------------------------------------------------


def _templates() -> Jinja2Templates:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )

    def mark(text: str, words: list[str]) -> Markup:
        """``text`` escaped, with the query's words in <mark>."""
        escaped = str(escape(text))
        for word in sorted(set(words), key=len, reverse=True):
            token = str(escape(word))
            if token:
                escaped = re.sub(re.escape(token), lambda m: f"<mark>{m.group(0)}</mark>", escaped)
        return Markup(escaped)

    env.filters["mark"] = mark
    env.globals["PUBLIC_FIELDS"] = PUBLIC_FIELDS
    return Jinja2Templates(env=env)


def create_app(portal: Portal) -> FastAPI:
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
        openapi_url=f"{API}/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    templates = _templates()
    reads = RateLimiter(settings.reads_per_second, settings.read_burst)
    objections = RateLimiter(settings.objections_per_hour / 3600, settings.objection_burst)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    # A page that answers what the visitor typed (a form with mistakes, an announcement that ended, a
    # code that is not there) is a page like any other (200); error statuses are for requests that
    # cannot be answered (an unknown address, too many requests).
    def page(request: Request, name: str, status: int = 200, cache: bool = True, **context: Any) -> Response:
        html = templates.get_template(name).render(request=request, **context)
        if cache and status == 200:
            return _cached(request, html.encode(), "text/html; charset=utf-8", settings.cache_seconds)
        return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})

    def error_page(request: Request, error: PortalError) -> Response:
        response = page(request, "error.html", status=error.status, cache=False, error=error)
        response.headers.update(error.headers)
        return response

    @app.middleware("http")
    async def guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        api = request.url.path.startswith(API)
        length = request.headers.get("content-length", "")
        if (length and (not length.isdigit() or int(length) > MAX_BODY)) or (
            request.method == "POST" and not length
        ):
            error = PortalError(
                413 if length else 400,
                "BODY_TOO_LARGE" if length else "LENGTH_REQUIRED",
                f"a request body is at most {MAX_BODY} bytes, with its Content-Length",
            )
            return _error_response(error) if api else error_page(request, error)
        if not request.url.path.startswith("/static/"):
            client = _client(request, settings)
            wait = reads.take(client)
            if not wait and request.method == "POST":
                wait = objections.take(client)
            if wait:
                error = PortalError(
                    429,
                    "RATE_LIMITED",
                    f"too many requests from {client}; try again in {math.ceil(wait)} s",
                    headers={"Retry-After": str(math.ceil(wait))},
                )
                return _error_response(error) if api else error_page(request, error)
        return await call_next(request)

    @app.exception_handler(PortalError)
    async def portal_error(request: Request, error: PortalError) -> Response:
        return _error_response(error) if request.url.path.startswith(API) else error_page(request, error)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> Response:
        violations = []
        for item in error.errors():
            location = [str(p) for p in item.get("loc", ()) if p not in ("query", "body", "path")]
            field = ".".join(location) or "body"
            field = re.sub(r"\.(\d+)(?=\.|$)", r"[\1]", field)
            violations.append(
                Violation(
                    field=field,
                    reason=str(item.get("type", "invalid")).upper(),
                    description=str(item.get("msg", "")),
                )
            )
        first = (
            violations[0] if violations else Violation(field="body", reason="INVALID", description="invalid")
        )
        reason = "INVALID_FIELDS" if len(violations) > 1 else first.reason
        portal_failure = PortalError(
            400, reason, f"{first.field}: {first.description}", field=first.field, violations=violations
        )
        return (
            _error_response(portal_failure)
            if request.url.path.startswith(API)
            else error_page(request, portal_failure)
        )

    @app.exception_handler(Exception)
    async def internal_error(request: Request, error: Exception) -> Response:
        logger.exception("%s %s failed unexpectedly", request.method, request.url.path)
        failure = PortalError(500, "INTERNAL", "internal error; it has been logged")
        return _error_response(failure) if request.url.path.startswith(API) else error_page(request, failure)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        reason = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(error.status_code, "HTTP_ERROR")
        failure = PortalError(error.status_code, reason, str(error.detail))
        return _error_response(failure) if request.url.path.startswith(API) else error_page(request, failure)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, Any]:
        behind = portal.search.ready()
        # index_behind: log entries the search index has still to follow (null: being built).
        return {"status": "serving", "index_behind": behind}

    # -- pages --------------------------------------------------------------------------------

    def search_filters(
        object_type: str | None,
        region: str | None,
        subject: str | None,
        state: str | None,
        update_frequency: str | None,
    ) -> dict[str, str | None]:
        return {
            "object_type": object_type,
            "region": region,
            "subject": subject,
            "state": state,
            "update_frequency": update_frequency,
        }

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def search_page(
        request: Request,
        q: str = "",
        object_type: str | None = None,
        region: str | None = None,
        subject: str | None = None,
        state: str | None = None,
        update_frequency: str | None = None,
        sort: str = "relevance",
        page_token: str = "",
    ) -> Response:
        query = _parse_query(
            q, search_filters(object_type, region, subject, state, update_frequency), sort, 20
        )
        result, token = _run_search(portal, query, page_token)
        base = {"q": query.q, **query.filters, "sort": query.sort}
        facets = {
            key: [(value, _facet_label(key, value, label), count) for value, label, count in values]
            for key, values in result.facets.items()
        }
        return page(
            request,
            "search.html",
            query=query,
            result=result,
            items=[_summary(r) for r in result.items],
            facets=facets,
            facet_titles=_FACET_TITLES,
            base=base,
            next_token=token,
            first_page=not page_token,
        )

    @app.get("/registrations/{uid}", response_class=HTMLResponse, include_in_schema=False)
    def registration_page(request: Request, uid: str) -> Response:
        row, view = _public(portal, uid)
        return page(request, "registration.html", row=row, view=view, today=portal.clock.today())

    @app.get("/announcements", response_class=HTMLResponse, include_in_schema=False)
    def announcements_page(request: Request, page_token: str = "") -> Response:
        try:
            after = portal.tokens.decode("announcements", page_token)
        except InvalidArgument as error:
            raise _from_registry(error) from None
        rows = portal.search.announcements(portal.clock.today(), limit=51, after=after)
        token = ""
        if len(rows) > 50:
            rows = rows[:50]
            token = portal.tokens.encode("announcements", [_day(rows[-1].announcement_end), rows[-1].uid])
        return page(request, "announcements.html", rows=rows, next_token=token, region_label=region_label)

    def announced_row(uid: str) -> SearchRow:
        found = portal.search.get(_uid(uid))
        if found is None:
            raise PortalError(404, "REGISTRATION_NOT_FOUND", f"there is no registration {uid}", field="id")
        return found[0]

    @app.get("/announcements/{uid}/objection", response_class=HTMLResponse, include_in_schema=False)
    def objection_form(request: Request, uid: str) -> Response:
        row = announced_row(uid)
        if not row.announced or (row.announcement_end and row.announcement_end < portal.clock.today()):
            return page(request, "closed.html", cache=False, row=row)
        return page(
            request, "objection.html", cache=False, row=row, form={}, errors={}, request_id=str(uuid.uuid4())
        )

    @app.post("/announcements/{uid}/objection", response_class=HTMLResponse, include_in_schema=False)
    async def objection_post(request: Request, uid: str) -> Response:
        row = announced_row(uid)
        form = await request.form(max_files=0, max_fields=20, max_part_size=MAX_BODY)
        values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
        evidence = []
        if any(values.get(f"evidence_{part}", "").strip() for part in ("title", "uri", "sha256")):
            evidence.append(
                {
                    "title": values.get("evidence_title", "").strip() or "证据材料",
                    "uri": values.get("evidence_uri", "").strip(),
                    "sha256": values.get("evidence_sha256", "").strip().lower(),
                }
            )
        errors: dict[str, str] = {}
        request_id = values.get("request_id", "") or str(uuid.uuid4())

        def again(errors: dict[str, str]) -> Response:
            """The form once more, as typed, with what to fix (the same request id: nothing was filed)."""
            return page(
                request,
                "objection.html",
                cache=False,
                row=row,
                form=values,
                errors=errors,
                request_id=request_id,
            )

        try:
            body = ObjectionIn(
                name=values.get("name", "").strip(),
                contact=values.get("contact", "").strip(),
                reason=values.get("reason", "").strip(),
                evidence=[EvidenceIn(**e) for e in evidence],
                request_id=request_id,
            )
        except ValueError as error:
            for item in getattr(error, "errors", lambda: [])():
                location = [str(p) for p in item.get("loc", ())]
                key = location[0] if location else "form"
                if key == "evidence":
                    key = "evidence_" + (
                        location[-1] if location[-1] in ("title", "uri", "sha256") else "uri"
                    )
                errors[key] = _form_message(item)
            return again(errors)
        try:
            filed = await _in_thread(_file, portal, row, body)
        except PortalError as failure:
            if failure.reason in ("ANNOUNCEMENT_CLOSED", "NOT_ANNOUNCED"):
                return page(request, "closed.html", cache=False, row=row)
            if failure.status == 400:
                for violation in failure.violations:
                    errors[violation.field.replace("evidence[0].", "evidence_")] = violation.description
                return again(errors or {"form": failure.message})
            raise
        return page(request, "objection_filed.html", cache=False, row=row, filed=filed)

    @app.get("/check", response_class=HTMLResponse, include_in_schema=False)
    def check_page(request: Request, code: str = "") -> Response:
        if not code.strip():
            return page(request, "check.html", code="", check=None, error=None)
        try:
            parsed = _code(code)
            check, _ = _code_check(portal, parsed)
        except PortalError as error:
            return page(
                request,
                "check.html",
                cache=False,
                code=code[:40],
                check=None,
                error=error,
            )
        return page(request, "check.html", code=parsed, check=check, error=None)

    @app.get("/check/{code}/print", response_class=HTMLResponse, include_in_schema=False)
    def print_page(request: Request, code: str) -> Response:
        check, _ = _code_check(portal, _code(code))
        return page(request, "print.html", check=check)

    @app.get("/check/{code}/confirmation.tlog", include_in_schema=False)
    def confirmation_download(code: str) -> Response:
        return confirmation_file(_code(code))

    def confirmation_file(code: str) -> Response:
        if portal.search.by_code(code) is None:
            raise PortalError(404, "CODE_NOT_FOUND", f"no registration holds the code {code}", field="code")
        try:
            confirmation = portal.national.confirmation(code)
        except NationalError as error:
            raise _from_national(error) from None
        if confirmation is None or not confirmation.tlog_proof:
            raise PortalError(
                409, "NOT_YET_CHECKPOINTED", "the national log has no checkpoint of this code yet"
            )
        return PlainTextResponse(
            confirmation.tlog_proof,
            headers={
                "Content-Disposition": f'attachment; filename="{code}.tlog"',
                "Cache-Control": "no-cache",
            },
        )

    # -- the API ------------------------------------------------------------------------------

    errors_doc: dict[int | str, dict[str, Any]] = {
        400: {"model": ErrorBody, "description": "A parameter is malformed; the field is named."},
        429: {"model": ErrorBody, "description": "Too many requests from this client."},
    }

    @app.get(f"{API}/registrations", response_model=SearchResponse, responses=errors_doc, tags=["search"])
    def api_search(
        request: Request,
        q: str = Query("", description="Words (Chinese is segmented: 气象, 医保 ...); all must match."),
        object_type: str | None = Query(
            None, description="PUBLIC_DATA_RESOURCE, DATA_PRODUCT_OR_SERVICE or OPEN_DATA_RESOURCE"
        ),
        region: str | None = Query(
            None, description="A province-level region code (100000: central bodies)."
        ),
        subject: str | None = Query(None, description="The subject's unified social credit code."),
        state: str | None = Query(None, description="PENDING, ACTIVE, EXPIRED, DEREGISTERED or CLOSED"),
        update_frequency: str | None = Query(None),
        sort: Literal["relevance", "newest"] = Query("relevance"),
        page_size: int = Query(20, description="1 to 100."),
        page_token: str = Query(""),
    ) -> Response:
        """Search every registration in the national ledger, with counts per filter value."""
        query = _parse_query(
            q, search_filters(object_type, region, subject, state, update_frequency), sort, page_size
        )
        result, token = _run_search(portal, query, page_token)
        body = SearchResponse(
            registrations=[_summary(r) for r in result.items],
            total_size=result.total,
            total_size_is_estimate=result.approximate,
            facets={
                key: [
                    FacetValue(value=v, label=_facet_label(key, v, label), count=n) for v, label, n in values
                ]
                for key, values in result.facets.items()
            },
            next_page_token=token,
        )
        return _json(request, body, settings.cache_seconds)

    @app.get(
        f"{API}/registrations/{{uid}}",
        response_model=PublicRegistration,
        responses={404: {"model": ErrorBody, "description": "No such registration."}},
        tags=["registrations"],
    )
    def api_registration(request: Request, uid: str) -> Response:
        """A registration's public fields and its public history."""
        row, view = _public(portal, uid)
        body = PublicRegistration(
            id=row.uid,
            under_announcement=row.announced,
            announcement_end=_day(row.announcement_end) if row.announced else "",
            **view,
        )
        return _json(request, body, settings.cache_seconds)

    @app.get(
        f"{API}/announcements",
        response_model=AnnouncementsResponse,
        responses=errors_doc,
        tags=["announcements"],
    )
    def api_announcements(
        request: Request, page_size: int = Query(50), page_token: str = Query("")
    ) -> Response:
        """What is under announcement now, closing soonest first."""
        if not 1 <= page_size <= 100:
            raise _invalid("page_size", "FIELD_OUT_OF_RANGE", "must be between 1 and 100")
        try:
            after = portal.tokens.decode("announcements", page_token)
        except InvalidArgument as error:
            raise _from_registry(error) from None
        rows = portal.search.announcements(portal.clock.today(), limit=page_size + 1, after=after)
        token = ""
        if len(rows) > page_size:
            rows = rows[:page_size]
            last = rows[-1]
            token = portal.tokens.encode("announcements", [_day(last.announcement_end), last.uid])
        body = AnnouncementsResponse(
            announcements=[
                Announcement(
                    id=r.uid,
                    code=r.code or "",
                    data_name=r.data_name,
                    subject_name=r.subject_name,
                    region_label=region_label(r.region),
                    announcement_end=_day(r.announcement_end),
                )
                for r in rows
            ],
            next_page_token=token,
        )
        return _json(request, body, settings.cache_seconds)

    @app.post(
        f"{API}/announcements/{{uid}}/objections",
        response_model=ObjectionFiled,
        status_code=201,
        responses={
            **errors_doc,
            404: {"model": ErrorBody, "description": "No such registration."},
            409: {"model": ErrorBody, "description": "Not under announcement, or the announcement closed."},
            503: {
                "model": ErrorBody,
                "description": "The national node cannot be reached; retry with the same request_id.",
            },
        },
        tags=["announcements"],
    )
    def api_object(uid: str, body: ObjectionIn) -> ObjectionFiled:
        """File an objection to a registration under announcement; it goes to the node that manages it."""
        row = announced_row(uid)
        return _file(portal, row, body)

    @app.get(
        f"{API}/codes/{{code}}",
        response_model=CodeCheck,
        responses={**errors_doc, 404: {"model": ErrorBody, "description": "No registration holds the code."}},
        tags=["codes"],
    )
    def api_code(request: Request, code: str) -> Response:
        """Check a registration code: its registration's state and validity, and its confirmation
        verified against the national log by the portal."""
        check, _ = _code_check(portal, _code(code))
        return _json(request, check, settings.cache_seconds)

    @app.get(
        f"{API}/codes/{{code}}/confirmation",
        response_class=PlainTextResponse,
        responses={404: {"model": ErrorBody}, 409: {"model": ErrorBody}},
        tags=["codes"],
    )
    def api_confirmation(code: str) -> Response:
        """The confirmation file (C2SP tlog-proof) of a code, to verify offline."""
        return confirmation_file(_code(code))

    return app


def _form_message(item: Any) -> str:
    kind = str(item.get("type", ""))
    if kind == "string_too_short":
        return "必填"
    if kind == "string_too_long":
        limit = item.get("ctx", {}).get("max_length", "")
        return f"最多 {limit} 个字符"
    return str(item.get("msg", "格式不正确"))


async def _in_thread(function: Callable[..., Any], *args: Any) -> Any:
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(function, *args)
