"""A CKAN-compatible action API over the national ledger (``/api/3/action/{action}``), so that CKAN's
harvesters and clients (``ckanapi``, ``ckanext-harvest``'s CKAN harvester) read the registry as they
read any CKAN portal. Read-only: ``status_show``, ``package_list``, ``package_show``,
``package_search``, ``organization_list``, ``organization_show``.

As CKAN does: GET with query parameters or POST with a JSON object; every answer is
``{"help": ..., "success": true, "result": ...}``, and an error ``{"success": false, "error":
{"__type": "Not Found Error" | "Validation Error", "message": ...}}`` with 404 or 409.

What maps to what:

* a coded registration is a package (``type: dataset``): ``id`` its uid, ``name`` its code in lower
  case, ``title`` its data name, ``notes`` its summary, ``url`` its page on the portal; its access
  channels are its resources, its contact point the maintainer, its licence ``license_title``; the
  registry's own fields are ``extras`` (``registration_code``, ``registration_state``, ``region``,
  ``object_type``, ``update_frequency``, ``sharing_attribute``, ``open_attribute``, ``valid_from``,
  ``valid_until``);
* a subject (登记主体) is an organization: ``id`` its USCC, ``name`` the USCC in lower case, ``title``
  its name.

``package_search`` runs the portal's search (the same words, synonyms and ranking) with ``q``; ``fq``
takes Solr-style ``field:value`` terms, ANDed: ``organization``, ``region``, ``state``,
``object_type``, ``tags`` (a channel kind) and ``res_format`` (the same). ``rows`` is at most 1000 and
``start + rows`` at most 10,000 (deep paging is for ``package_list`` or the golden copy).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import func
from sqlmodel import col, select
from starlette.concurrency import run_in_threadpool

from common.gen.registry.v1 import sync_pb2
from national_node.models import LedgerRow, SearchRow
from national_node.portal.deps import PortalDep
from national_node.portal.errors import PortalError
from national_node.portal.service import Portal, parse_query
from national_node.public import CHANNEL_KINDS, public_access

__all__ = ["router"]

#: Where the actions are; CKAN serves them at ``/api/action/`` too (where ckanapi calls them).
PREFIX = "/api/3/action/"
LEGACY_PREFIX = "/api/action/"
router = APIRouter(prefix=PREFIX.rstrip("/"))
legacy = APIRouter(prefix=LEGACY_PREFIX.rstrip("/"))

#: What ``status_show`` says: the CKAN API version these actions follow.
CKAN_VERSION = "2.10.0"
MAX_ROWS = 1000
MAX_DEPTH = 10_000
_FQ_TERM = re.compile(r'\s*\+?([a-z_]+):("([^"]*)"|(\S+))\s*')
_FQ_FIELDS = {
    "organization": "subject",
    "region": "region",
    "state": "state",
    "object_type": "object_type",
    "tags": "channel_kind",
    "res_format": "channel_kind",
}


class _CkanError(Exception):
    def __init__(
        self, status: int, kind: str, message: str, fields: dict[str, list[str]] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.kind, self.fields = status, kind, fields or {}


def _help(request: Request, action: str) -> str:
    return str(request.base_url) + f"api/3/action/help_show?name={action}"


def _not_found(what: str) -> _CkanError:
    return _CkanError(404, "Not Found Error", f"Not found: {what}")


def _invalid(field: str, message: str) -> _CkanError:
    return _CkanError(409, "Validation Error", f"{field}: {message}", {field: [message]})


def _int(params: dict[str, Any], field: str, default: int, low: int, high: int) -> int:
    value = params.get(field, default)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise _invalid(field, "Invalid integer") from None
    if not low <= number <= high:
        raise _invalid(field, f"Must be between {low} and {high}")
    return number


def _text(params: dict[str, Any], field: str, default: str = "") -> str:
    value = params.get(field, default)
    if not isinstance(value, str):
        raise _invalid(field, "Must be a string")
    return value


def _when(value: datetime) -> str:
    return value.replace(tzinfo=None).isoformat(timespec="microseconds")


def _organization(uscc: str, name: str, count: int | None = None) -> dict[str, Any]:
    org: dict[str, Any] = {
        "id": uscc,
        "name": uscc.lower(),
        "title": name,
        "display_name": name,
        "type": "organization",
        "is_organization": True,
        "state": "active",
        "approval_status": "approved",
        "description": "",
        "image_url": "",
    }
    if count is not None:
        org["package_count"] = count
    return org


def _package(request: Request, row: SearchRow, record: sync_pb2.RegistrationRecord | None) -> dict[str, Any]:
    access = public_access(record.registration.content.access_terms) if record is not None else None
    resources = []
    for i, channel in enumerate(access["channels"] if access else []):
        resources.append(
            {
                "id": f"{row.uid}-{i}",
                "package_id": row.uid,
                "name": channel["description"] or channel["kind_label"],
                "description": channel["kind_label"],
                "url": channel["uri"],
                "format": channel["kind"],
                "position": i,
                "state": "active",
            }
        )
    tags = [
        {"name": kind, "display_name": CHANNEL_KINDS.get(kind, kind)} for kind in row.channel_kinds.split()
    ]
    extras = {
        "registration_code": row.code or "",
        "registration_state": row.state,
        "region": row.region,
        "object_type": row.object_type,
        "update_frequency": row.update_frequency,
        "sharing_attribute": row.sharing_attribute,
        "open_attribute": row.open_attribute,
        "valid_from": row.valid_from.isoformat() if row.valid_from else "",
        "valid_until": row.valid_until.isoformat() if row.valid_until else "",
    }
    contact = access["contact"] if access else None
    return {
        "id": row.uid,
        "name": (row.code or row.uid).lower(),
        "title": row.data_name,
        "notes": row.summary,
        "type": "dataset",
        "state": "active",
        "private": False,
        "url": str(request.base_url) + f"registrations/{row.uid}",
        "license_id": "",
        "license_title": access["license"] if access else "",
        "maintainer": contact["department"] if contact else "",
        "maintainer_email": contact["email"] if contact else "",
        "author": row.subject_name,
        "author_email": "",
        "version": "",
        "metadata_created": _when(row.created_at),
        "metadata_modified": _when(row.updated_at),
        "owner_org": row.subject_uscc,
        "organization": _organization(row.subject_uscc, row.subject_name),
        "num_resources": len(resources),
        "resources": resources,
        "num_tags": len(tags),
        "tags": tags,
        "groups": [],
        "extras": [{"key": k, "value": v} for k, v in extras.items()],
        "relationships_as_object": [],
        "relationships_as_subject": [],
    }


def _records(portal: Portal, uids: list[str]) -> dict[str, sync_pb2.RegistrationRecord]:
    if not uids:
        return {}
    with portal.search.db.transaction(write=False) as session:
        rows = session.exec(select(LedgerRow.uid, LedgerRow.record).where(col(LedgerRow.uid).in_(uids))).all()
    return {uid: sync_pb2.RegistrationRecord.FromString(record) for uid, record in rows}


def _find(portal: Portal, ident: str) -> SearchRow:
    """A coded registration by its package id (uid) or name (its code, any case)."""
    ident = ident.strip()
    with portal.search.db.transaction(write=False) as session:
        row = session.get(SearchRow, ident) if len(ident) == 36 else None
        if row is None and 2 <= len(ident) <= 19:
            row = session.exec(select(SearchRow).where(SearchRow.code == ident.upper())).first()
        if row is not None:
            session.expunge(row)
    if row is None or not row.code:
        raise _not_found("Dataset")
    return row


# -- the actions --------------------------------------------------------------------------------------


def status_show(request: Request, portal: Portal, params: dict[str, Any]) -> Any:
    return {
        "ckan_version": CKAN_VERSION,
        "site_title": "国家公共数据资源登记平台",
        "site_description": "全国公共数据资源登记一本账",
        "site_url": str(request.base_url).rstrip("/"),
        "locale_default": "zh_Hans_CN",
        "extensions": [],
    }


def package_list(request: Request, portal: Portal, params: dict[str, Any]) -> Any:
    limit = _int(params, "limit", MAX_ROWS, 1, MAX_ROWS)
    offset = _int(params, "offset", 0, 0, 10**9)
    with portal.search.db.transaction(write=False) as session:
        codes = session.exec(
            select(SearchRow.code)
            .where(col(SearchRow.code).is_not(None))
            .order_by(col(SearchRow.code))
            .offset(offset)
            .limit(limit)
        ).all()
    return [code.lower() for code in codes if code]


def package_show(request: Request, portal: Portal, params: dict[str, Any]) -> Any:
    ident = _text(params, "id") or _text(params, "name")
    if not ident:
        raise _invalid("id", "Missing value")
    row = _find(portal, ident)
    return _package(request, row, _records(portal, [row.uid]).get(row.uid))


def _filters(fq: str) -> dict[str, str]:
    filters: dict[str, str] = {}
    position = 0
    while position < len(fq):
        match = _FQ_TERM.match(fq, position)
        if match is None or match.end() == position:
            raise _invalid("fq", f"Cannot read {fq[position : position + 40]!r}: use field:value terms")
        field, value = match.group(1), match.group(3) if match.group(3) is not None else match.group(4)
        if field not in _FQ_FIELDS:
            raise _invalid("fq", f"Unknown field {field!r}; known: {', '.join(sorted(_FQ_FIELDS))}")
        filters[_FQ_FIELDS[field]] = value.upper() if field == "organization" else value
        position = match.end()
    return filters


def package_search(request: Request, portal: Portal, params: dict[str, Any]) -> Any:
    q = _text(params, "q").strip()
    if q in ("*:*", "*"):
        q = ""
    rows = _int(params, "rows", 10, 0, MAX_ROWS)
    start = _int(params, "start", 0, 0, MAX_DEPTH)
    if start + rows > MAX_DEPTH:
        raise _invalid("start", f"start + rows is at most {MAX_DEPTH}")
    sort = _text(params, "sort", "score desc, metadata_modified desc").strip()
    order = {"score desc, metadata_modified desc": "relevance", "score desc": "relevance"}.get(sort)
    if order is None and sort in ("metadata_modified desc", "metadata_created desc"):
        order = "newest"
    if order is None:
        raise _invalid("sort", "Use 'score desc, metadata_modified desc' or 'metadata_modified desc'")
    try:
        filters: dict[str, str | None] = dict(_filters(_text(params, "fq")))
        query = parse_query(q, filters, order, page_size=100)
    except PortalError as error:
        raise _invalid(error.field or "q", error.message) from None
    found: list[SearchRow] = []
    after: list[Any] | None = None
    total = 0
    while True:
        result = portal.search.search(query, after)
        total = result.total
        found.extend(result.items)
        if len(found) >= start + rows or not result.next_position:
            break
        after = result.next_position
    page = [row for row in found[start : start + rows] if row.code]
    records = _records(portal, [row.uid for row in page])
    return {
        "count": total,
        "sort": sort,
        "results": [_package(request, row, records.get(row.uid)) for row in page],
        "facets": {},
        "search_facets": {},
    }


def organization_list(request: Request, portal: Portal, params: dict[str, Any]) -> Any:
    limit = _int(params, "limit", MAX_ROWS, 1, MAX_ROWS)
    offset = _int(params, "offset", 0, 0, 10**9)
    all_fields = params.get("all_fields") in (True, "true", "True", "1")
    with portal.search.db.transaction(write=False) as session:
        rows = session.exec(
            select(SearchRow.subject_uscc, func.max(SearchRow.subject_name), func.count())
            .where(col(SearchRow.code).is_not(None))
            .group_by(SearchRow.subject_uscc)
            .order_by(SearchRow.subject_uscc)
            .offset(offset)
            .limit(limit)
        ).all()
    if all_fields:
        return [_organization(uscc, name, count) for uscc, name, count in rows]
    return [uscc.lower() for uscc, _, _ in rows]


def organization_show(request: Request, portal: Portal, params: dict[str, Any]) -> Any:
    ident = _text(params, "id").strip().upper()
    if not ident:
        raise _invalid("id", "Missing value")
    with portal.search.db.transaction(write=False) as session:
        found = session.exec(
            select(func.max(SearchRow.subject_name), func.count()).where(
                SearchRow.subject_uscc == ident, col(SearchRow.code).is_not(None)
            )
        ).one()
    name, count = found
    if not count:
        raise _not_found("Organization")
    return _organization(ident, name, count)


ACTIONS = {
    f.__name__: f
    for f in (status_show, package_list, package_show, package_search, organization_list, organization_show)
}


@router.api_route("/{action}", methods=["GET", "POST"], include_in_schema=False)
@legacy.api_route("/{action}", methods=["GET", "POST"], include_in_schema=False)
async def action(action: str, request: Request, portal: PortalDep) -> Response:
    help_url = _help(request, action)
    try:
        handler = ACTIONS.get(action)
        if handler is None:
            raise _CkanError(400, "Bad request", f"Bad request - Action name not known: {action[:100]}")
        params: dict[str, Any] = dict(request.query_params)
        if request.method == "POST":
            raw = await request.body()
            if raw.strip():
                try:
                    parsed = json.loads(raw)
                except (ValueError, UnicodeDecodeError):
                    raise _CkanError(
                        400, "Bad request", "Bad request - JSON Error: the body is no JSON"
                    ) from None
                if not isinstance(parsed, dict):
                    raise _CkanError(
                        400, "Bad request", "Bad request - JSON Error: the body is no JSON object"
                    )
                params.update(parsed)
        result = await run_in_threadpool(handler, request, portal, params)
    except _CkanError as error:
        body: dict[str, Any] = {"__type": error.kind, "message": str(error)}
        body.update(error.fields)
        return JSONResponse({"help": help_url, "success": False, "error": body}, status_code=error.status)
    return JSONResponse({"help": help_url, "success": True, "result": result})
