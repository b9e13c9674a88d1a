"""The JSON API, ``/api/v1``: search, registrations, announcements and objections, code checks.

Every constraint on a request is declared on the parameter or the body's model, so the OpenAPI
description (``/api/v1/openapi.json``) states exactly what FastAPI enforces; every status an operation
answers is listed with it. Reads carry ETag and Cache-Control; every error is an
:class:`~national_node.portal.errors.ErrorBody`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import PlainTextResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from national_node.portal import demands, service
from national_node.portal.deps import PortalDep, SettingsDep
from national_node.portal.errors import PortalError, responses
from national_node.portal.schemas import (
    CODE_PATTERN,
    DEMAND_STATES,
    MAX_QUERY,
    PROVINCE_PATTERN,
    REGION_PATTERN,
    USCC_PATTERN,
    AnnouncementsResponse,
    CodeCheck,
    DemandIn,
    DemandsResponse,
    DemandView,
    ObjectionFiled,
    ObjectionIn,
    PublicRegistration,
    SearchResponse,
)
from national_node.portal.web import json_answer
from national_node.public import CHANNEL_KINDS, OBJECT_TYPES, OPEN_ATTRIBUTES, SHARING_ATTRIBUTES, STATES

__all__ = ["API", "openapi", "router"]

API = "/api/v1"

router = APIRouter(prefix=API)

_NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: the copy the client named in If-None-Match is current."}
}


def _one_of(values: object) -> str:
    return "^(|" + "|".join(str(v) for v in values) + ")$"  # type: ignore[attr-defined]


Code = Annotated[
    str,
    Path(
        pattern=CODE_PATTERN,
        description="A unified registration code: 19 characters, lower case read as upper case. Its"
        " last is GB 32100's check character over the first 18: a mistyped code is refused (400"
        " CODE_CHECK_MISMATCH), as is a zero serial (400 CODE_BAD_SERIAL).",
        examples=["132000026000000001D"],
    ),
]


@router.get(
    "/registrations",
    response_model=SearchResponse,
    responses={**_NOT_MODIFIED, **responses(400, 429)},
    tags=["search"],
)
def search_registrations(
    request: Request,
    portal: PortalDep,
    settings: SettingsDep,
    q: str = Query(
        "",
        max_length=MAX_QUERY,
        description="Words (Chinese is segmented: 气象, 医保 ...); all must match. An abbreviation also"
        " matches its full forms (医保: 医疗保障), traditional characters match simplified ones; when"
        " nothing holds every word, the answer is a partial match (partial_match) and may carry a"
        " suggestion.",
    ),
    object_type: str = Query("", pattern=_one_of(OBJECT_TYPES), description="The object type."),
    region: str = Query(
        "", pattern=REGION_PATTERN, description="A province-level region code (100000: central bodies)."
    ),
    subject: str = Query("", pattern=USCC_PATTERN, description="The subject's unified social credit code."),
    state: str = Query("", pattern=_one_of(STATES), description="The registration's state."),
    update_frequency: str = Query("", max_length=100),
    sharing_attribute: str = Query(
        "",
        pattern=_one_of(SHARING_ATTRIBUTES),
        description="The sharing attribute (政务数据共享条例): UNCONDITIONALLY_SHARED 无条件共享,"
        " CONDITIONALLY_SHARED 有条件共享, NOT_SHARED 不予共享.",
    ),
    open_attribute: str = Query(
        "",
        pattern=_one_of(OPEN_ATTRIBUTES),
        description="The open attribute: UNCONDITIONALLY_OPEN 无条件开放, CONDITIONALLY_OPEN 有条件开放,"
        " NOT_OPEN 不予开放.",
    ),
    channel_kind: str = Query(
        "",
        pattern=_one_of(CHANNEL_KINDS),
        description="A kind of access channel the registration offers: API 接口调用, FILE_DOWNLOAD 文件下载,"
        " DATA_SERVICE 数据服务, ON_REQUEST 依申请获取.",
    ),
    sort: Literal["relevance", "newest"] = Query("relevance"),
    page_size: int = Query(20, ge=1, le=100),
    page_token: str = Query("", description="A next_page_token, for the page after it."),
) -> Response:
    """Search every registration in the national ledger, with counts per filter value (every filter
    but channel_kind, which a registration may hold several of)."""
    filters: dict[str, str | None] = {
        "object_type": object_type,
        "region": region,
        "subject": subject,
        "state": state,
        "update_frequency": update_frequency,
        "sharing_attribute": sharing_attribute,
        "open_attribute": open_attribute,
        "channel_kind": channel_kind,
    }
    query = service.parse_query(q, filters, sort, page_size)
    body, _ = service.search(portal, query, page_token)
    return json_answer(request, body, settings.cache_seconds)


@router.get(
    "/registrations/{uid}",
    response_model=PublicRegistration,
    responses={**_NOT_MODIFIED, **responses(404, 429, s404="No such registration.")},
    tags=["registrations"],
)
def get_registration(request: Request, portal: PortalDep, settings: SettingsDep, uid: str) -> Response:
    """A registration's public fields and its public history."""
    return json_answer(request, service.registration(portal, uid), settings.cache_seconds)


@router.get(
    "/announcements",
    response_model=AnnouncementsResponse,
    responses={**_NOT_MODIFIED, **responses(400, 429)},
    tags=["announcements"],
)
def list_announcements(
    request: Request,
    portal: PortalDep,
    settings: SettingsDep,
    page_size: int = Query(50, ge=1, le=100),
    page_token: str = Query("", description="A next_page_token, for the page after it."),
) -> Response:
    """What is under announcement now, closing soonest first."""
    body = service.announcements(portal, page_size, page_token)
    return json_answer(request, body, settings.cache_seconds)


@router.post(
    "/announcements/{uid}/objections",
    response_model=ObjectionFiled,
    status_code=201,
    responses=responses(
        400,
        404,
        409,
        413,
        429,
        502,
        503,
        s404="No such registration.",
        s409="Not under announcement, the announcement closed, or the request_id was used for"
        " another objection.",
    ),
    tags=["announcements"],
)
def file_objection(uid: str, body: ObjectionIn, portal: PortalDep) -> ObjectionFiled:
    """File an objection to a registration under announcement; it goes to the node that manages it."""
    return service.file_objection(portal, service.announced_row(portal, uid), body)


# -- data demands ------------------------------------------------------------------------------------

#: A bearer token of the identity provider the national node trusts (role data_user, naming the
#: organisation's USCC), passed on to the national node, which checks it: the portal grants nothing.
_BEARER = HTTPBearer(auto_error=False, description="A data user's token (role data_user, its `uscc` claim).")
_DEMAND_ID = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


@router.get(
    "/demands",
    response_model=DemandsResponse,
    responses={**_NOT_MODIFIED, **responses(400, 429, 502, 503)},
    tags=["demands"],
)
def list_demands(
    request: Request,
    portal: PortalDep,
    settings: SettingsDep,
    q: str = Query("", max_length=100, description="Words the title or the purpose must hold."),
    region: str = Query("", pattern=PROVINCE_PATTERN, description="A province-level region code."),
    state: str = Query(
        "", pattern=_one_of(DEMAND_STATES), description="OPEN, ANSWERED, MATCHED, CLOSED, WITHDRAWN."
    ),
    organisation: str = Query(
        "", pattern=USCC_PATTERN, description="The organisation's unified social credit code."
    ),
    page_size: int = Query(20, ge=1, le=100),
    page_token: str = Query("", description="A next_page_token, for the page after it."),
) -> Response:
    """Data demands (数据需求) posted by verified organisations, newest first."""
    body = demands.demands(
        portal,
        q=q,
        region=region,
        state=state,
        organisation=organisation,
        page_size=page_size,
        page_token=page_token,
    )
    return json_answer(request, body, settings.cache_seconds)


@router.get(
    "/demands/{demand_id}",
    response_model=DemandView,
    responses={**_NOT_MODIFIED, **responses(400, 404, 429, 502, 503, s404="No such demand.")},
    tags=["demands"],
)
def get_demand(
    request: Request,
    portal: PortalDep,
    settings: SettingsDep,
    demand_id: str = Path(pattern=_DEMAND_ID, description="The demand's id (a UUID)."),
) -> Response:
    """A demand, the registrations of the national ledger that match it, the suppliers' answers and its
    history (who acted is not shown: the organisation, the supplier, the national node)."""
    return json_answer(request, demands.demand(portal, demand_id), settings.cache_seconds)


@router.post(
    "/demands",
    response_model=DemandView,
    status_code=201,
    responses=responses(
        400,
        401,
        403,
        409,
        413,
        429,
        502,
        503,
        s409="The request_id was used for another request.",
    ),
    tags=["demands"],
)
def post_demand(
    body: DemandIn,
    portal: PortalDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)],
) -> DemandView:
    """Post a data demand as a verified organisation, with its bearer token; the national node matches it
    against its ledger at once. A retry with the same request_id posts once."""
    if credentials is None or not credentials.credentials.strip():
        raise PortalError(
            401,
            "CREDENTIALS_REQUIRED",
            "posting a demand needs a data user's bearer token (Authorization: Bearer ...)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return demands.post_demand(portal, body, credentials.credentials.strip())


@router.get(
    "/codes/{code}",
    response_model=CodeCheck,
    responses={
        **_NOT_MODIFIED,
        **responses(400, 404, 429, s404="No registration holds the code."),
    },
    tags=["codes"],
)
def check_code(request: Request, portal: PortalDep, settings: SettingsDep, code: Code) -> Response:
    """Check a registration code: its registration's state and validity, and its confirmation
    verified against the national log by the portal."""
    check = service.code_check(portal, service.read_code(code))
    return json_answer(request, check, settings.cache_seconds)


@router.get(
    "/codes/{code}/confirmation",
    response_model=None,
    responses={
        200: {
            "description": "The confirmation file (C2SP tlog-proof).",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        },
        **responses(
            400,
            404,
            409,
            429,
            502,
            503,
            s404="No registration holds the code.",
            s409="The national log has no checkpoint of this code yet.",
        ),
    },
    tags=["codes"],
)
def get_confirmation(portal: PortalDep, code: Code) -> Response:
    """The confirmation file (C2SP tlog-proof) of a code, to verify offline."""
    return confirmation_response(portal, service.read_code(code))


def confirmation_response(portal: service.Portal, code: str) -> Response:
    return PlainTextResponse(
        service.confirmation_file(portal, code),
        headers={
            "Content-Disposition": f'attachment; filename="{code}.tlog"',
            "Cache-Control": "no-cache",
        },
    )


def openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI description as FastAPI makes it, less what it cannot be told: no operation answers
    422 (bad input is a 400 ErrorBody), every error is JSON whatever a success is, a 304 has no body,
    and the confirmation file is text alone."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        error_body = {"schema": {"$ref": "#/components/schemas/ErrorBody"}}
        for operations in schema["paths"].values():
            for operation in operations.values():
                answers = operation["responses"]
                answers.pop("422", None)
                for status, answer in answers.items():
                    content = answer.get("content", {})
                    if status.startswith(("4", "5")):
                        answer["content"] = {"application/json": error_body}
                    elif status == "304":
                        answer.pop("content", None)
                    elif "text/plain" in content:
                        answer["content"] = {"text/plain": content["text/plain"]}
        for unused in ("HTTPValidationError", "ValidationError"):
            schema.get("components", {}).get("schemas", {}).pop(unused, None)
        app.openapi_schema = schema
    return app.openapi_schema
