"""The portal's pages: server-rendered Chinese HTML, no JavaScript anywhere (every control is a link or
a form). Each page renders what the API answers (:mod:`national_node.portal.service`), and tells a
visitor what went wrong in Chinese (:mod:`national_node.portal.messages`).

- ``/`` search (找数据): words, filters with counts, relevance or newest first, pages;
- ``/registrations/{id}``: a registration's public page (:mod:`national_node.public`);
- ``/announcements`` (登记公示) and ``/announcements/{id}/objection``: the objection form;
- ``/demands`` (数据需求) and ``/demands/{id}``: what organisations need, and how suppliers answered;
- ``/check`` (登记结果查询): a code's state and its confirmation, verified against the national log,
  with ``/check/{code}/confirmation.tlog`` to download and ``/check/{code}/print`` to print.

A page that answers what the visitor typed (a query too long, a form with mistakes, an announcement
that ended, a code that is not there) is a page like any other (200); error statuses are for requests
that cannot be answered (an unknown address, too many requests).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from common import regions
from common.clock import CHINA
from national_node.portal import api, demands, messages, service
from national_node.portal.deps import PortalDep, SettingsDep, TemplatesDep
from national_node.portal.errors import PortalError, Violation, validation_reason
from national_node.portal.schemas import DEMAND_STATES, MAX_QUERY, ObjectionIn
from national_node.portal.web import MAX_BODY, cached
from national_node.public import CHANNEL_KINDS, PUBLIC_FIELDS, region_label

__all__ = ["Pages", "error_page", "router", "templates"]

HERE = Path(__file__).resolve().parent
_FACET_TITLES = {
    "object_type": "登记对象",
    "region": "地区",
    "subject": "登记主体",
    "state": "登记状态",
    "update_frequency": "更新频率",
    "sharing_attribute": "共享属性",
    "open_attribute": "开放属性",
    "channel_kind": "获取方式",
}

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


def _mark(text: str, words: list[str]) -> Markup:
    """``text`` escaped, with the query's words in <mark>."""
    escaped = str(escape(text))
    for word in sorted(set(words), key=len, reverse=True):
        token = str(escape(word))
        if token:
            escaped = re.sub(re.escape(token), lambda m: f"<mark>{m.group(0)}</mark>", escaped)
    return Markup(escaped)


def _china_time(instant: str) -> str:
    """An RFC 3339 instant as the time in China (the pages' one time zone), to the second."""
    moment = datetime.fromisoformat(instant.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


def _node_label(node: str) -> str:
    """``nodes/320000`` as 江苏省（nodes/320000）."""
    return f"{region_label(node.rsplit('/', 1)[-1])}（{node}）"


def templates() -> Jinja2Templates:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["mark"] = _mark
    env.filters["china_time"] = _china_time
    env.filters["node_label"] = _node_label
    env.globals.update(
        PUBLIC_FIELDS=PUBLIC_FIELDS,
        MAX_QUERY=MAX_QUERY,
        code_problem=messages.code_problem,
        verification_problem=messages.verification_problem,
    )
    return Jinja2Templates(env=env)


@dataclass
class Pages:
    """Renders a page for one request: a read's page with its ETag and Cache-Control, any other
    (an answer to a form, an error) never kept."""

    request: Request
    templates: Jinja2Templates
    cache_seconds: int

    def __call__(self, name: str, *, status: int = 200, cache: bool = True, **context: Any) -> Response:
        html = self.templates.get_template(name).render(request=self.request, **context)
        if cache and status == 200:
            return cached(self.request, html.encode(), "text/html; charset=utf-8", self.cache_seconds)
        return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def get_pages(request: Request, templates: TemplatesDep, settings: SettingsDep) -> Pages:
    return Pages(request, templates, settings.cache_seconds)


PagesDep = Annotated[Pages, Depends(get_pages)]


def error_page(request: Request, error: PortalError) -> Response:
    """The page of an error the visitor cannot put right on a form (for the app's error handlers)."""
    state = request.app.state
    page = Pages(request, state.templates, state.portal.settings.cache_seconds)
    title, text = messages.error_text(error)
    response = page("error.html", status=error.status, cache=False, error=error, title=title, text=text)
    response.headers.update(error.headers)
    return response


# -- search ----------------------------------------------------------------------------------------


@router.get("/")
def search_page(
    page: PagesDep,
    portal: PortalDep,
    q: str = "",
    object_type: str | None = None,
    region: str | None = None,
    subject: str | None = None,
    state: str | None = None,
    update_frequency: str | None = None,
    sharing_attribute: str | None = None,
    open_attribute: str | None = None,
    channel_kind: str | None = None,
    sort: str = "relevance",
    page_token: str = "",
) -> Response:
    filters = {
        "object_type": object_type,
        "region": region,
        "subject": subject,
        "state": state,
        "update_frequency": update_frequency,
        "sharing_attribute": sharing_attribute,
        "open_attribute": open_attribute,
        "channel_kind": channel_kind,
    }
    try:
        query = service.parse_query(q, filters, sort)
        response, result = service.search(portal, query, page_token)
    except PortalError as error:
        if error.status != 400:
            raise
        # The form again, as typed, with what to change; no results for a query that was not run.
        if error.field == "q":
            problem = f"关键词最多 {MAX_QUERY} 个字，您输入了 {len(q)} 个字。请缩短后再搜索。"
        else:
            problem = messages.error_text(error)[1]
        typed = {k: (v or "").strip() for k, v in filters.items() if v and k != "q"}
        return page(
            "search.html",
            cache=False,
            q=q,
            sort=sort if sort in ("relevance", "newest") else "relevance",
            filters=typed,
            problem=problem,
            problem_field=error.field,
            response=None,
        )
    return page(
        "search.html",
        q=query.q,
        sort=query.sort,
        filters=query.filters,
        problem="",
        problem_field="",
        response=response,
        words=result.words,
        base={"q": query.q, **query.filters, "sort": query.sort},
        facet_titles=_FACET_TITLES,
        channel_kinds=CHANNEL_KINDS,
        first_page=not page_token,
    )


# -- registrations and announcements ----------------------------------------------------------------


@router.get("/registrations/{uid}")
def registration_page(page: PagesDep, portal: PortalDep, uid: str) -> Response:
    view = service.registration(portal, uid)
    from national_node.portal.disclosures import naming  # (the disclosures' router imports this module)

    return page(
        "registration.html",
        view=view,
        today=portal.clock.today().isoformat(),
        disclosures=naming(portal, getattr(view, "code", "")),
    )


@router.get("/announcements")
def announcements_page(page: PagesDep, portal: PortalDep, page_token: str = "") -> Response:
    listing = service.announcements(portal, service.ANNOUNCEMENTS_PAGE, page_token)
    return page("announcements.html", listing=listing)


@router.get("/announcements/{uid}/objection")
def objection_form(page: PagesDep, portal: PortalDep, uid: str) -> Response:
    row = service.announced_row(portal, uid)
    if not row.announced or (row.announcement_end and row.announcement_end < portal.clock.today()):
        return page("closed.html", cache=False, row=row)
    return page(
        "objection.html",
        cache=False,
        row=row,
        provisional=row.announcement_end_provisional,
        form={},
        errors={},
        request_id=str(uuid.uuid4()),
    )


def _form_errors(error: ValidationError) -> dict[str, str]:
    """The form's mistakes, by the form's field names, in Chinese."""
    errors: dict[str, str] = {}
    for item in error.errors():
        location = [str(p) for p in item.get("loc", ())]
        key = location[0] if location else "form"
        if key == "evidence":
            key = "evidence_" + (location[-1] if location[-1] in ("title", "uri", "sha256") else "uri")
        violation = Violation(field=key, reason=validation_reason(str(item.get("type", ""))), description="")
        limit = item.get("ctx", {}).get("max_length")
        errors.setdefault(key, messages.field_problem(violation, limit))
    return errors


@router.post("/announcements/{uid}/objection")
async def objection_post(request: Request, page: PagesDep, portal: PortalDep, uid: str) -> Response:
    row = await run_in_threadpool(service.announced_row, portal, uid)
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
    request_id = values.get("request_id", "") or str(uuid.uuid4())

    def again(errors: dict[str, str], request_id: str = request_id) -> Response:
        """The form once more, as typed, with what to fix (the same request id: nothing was filed)."""
        return page(
            "objection.html",
            cache=False,
            row=row,
            provisional=row.announcement_end_provisional,
            form=values,
            errors=errors,
            request_id=request_id,
        )

    try:
        body = ObjectionIn(
            name=values.get("name", "").strip(),
            contact=values.get("contact", "").strip(),
            reason=values.get("reason", "").strip(),
            evidence=evidence,  # type: ignore[arg-type]  # validated as EvidenceIn
            request_id=request_id,
        )
    except ValidationError as error:
        errors = _form_errors(error)
        # A request id the form did not make is replaced, so that the corrected form files.
        return again(errors, str(uuid.uuid4()) if "request_id" in errors else request_id)
    try:
        filed = await run_in_threadpool(service.file_objection, portal, row, body)
    except PortalError as failure:
        if failure.reason in ("ANNOUNCEMENT_CLOSED", "NOT_ANNOUNCED"):
            return page("closed.html", cache=False, row=row)
        if failure.status == 400:
            errors = {}
            for violation in failure.violations:
                key = violation.field.replace("evidence[0].", "evidence_")
                errors[key] = messages.field_problem(violation)
            return again(errors or {"form": messages.error_text(failure)[1]})
        raise
    return page("objection_filed.html", cache=False, row=row, filed=filed)


# -- codes ------------------------------------------------------------------------------------------


@router.get("/check")
def check_page(page: PagesDep, portal: PortalDep, code: str = "") -> Response:
    if not code.strip():
        return page("check.html", code="", check=None, problem="")
    try:
        parsed = service.read_code(code)
        check = service.code_check(portal, parsed)
    except PortalError as error:
        if error.status == 404:
            problem = f"没有登记持有编号 {code.strip().upper()[:40]}。请核对编号，或通过“找数据”搜索。"
        elif error.status == 400:
            problem = messages.code_problem(error.reason, code)
        else:
            raise
        return page("check.html", cache=False, code=code[:40], check=None, problem=problem)
    return page("check.html", code=parsed, check=check, problem="")


@router.get("/check/{code}/print")
def print_page(page: PagesDep, portal: PortalDep, code: str) -> Response:
    check = service.code_check(portal, service.read_code(code))
    return page("print.html", check=check)


@router.get("/check/{code}/confirmation.tlog")
def confirmation_download(portal: PortalDep, code: str) -> Response:
    return api.confirmation_response(portal, service.read_code(code))


# -- data demands ----------------------------------------------------------------------------------


@router.get("/demands")
def demands_page(
    page: PagesDep, portal: PortalDep, q: str = "", region: str = "", state: str = "", page_token: str = ""
) -> Response:
    """数据需求: what organisations need, searchable; each links to its matches and answers."""
    typed = {"q": q.strip(), "region": region.strip(), "state": state.strip()}
    problem = ""
    listing = None
    if len(typed["q"]) > 100:
        problem = f"关键词最多 100 个字，您输入了 {len(typed['q'])} 个字。请缩短后再搜索。"
    elif typed["state"] and typed["state"] not in DEMAND_STATES:
        problem = "请从列表中选择需求状态。"
    elif typed["region"] and not any(r.code == typed["region"] for r in regions.provinces()):
        problem = "请从列表中选择地区。"
    else:
        try:
            listing = demands.demands(
                portal, q=typed["q"], region=typed["region"], state=typed["state"], page_token=page_token
            )
        except PortalError as error:
            if error.status != 400:
                raise
            problem = messages.error_text(error)[1]
    base = {k: v for k, v in typed.items() if v}
    return page(
        "demands.html",
        cache=not problem,
        typed=typed,
        problem=problem,
        listing=listing,
        states=DEMAND_STATES,
        provinces=regions.provinces(),
        next_query=urlencode({**base, "page_token": listing.next_page_token}) if listing else "",
    )


@router.get("/demands/{demand_id}")
def demand_page(page: PagesDep, portal: PortalDep, demand_id: str) -> Response:
    return page("demand.html", view=demands.demand(portal, demand_id))
