"""Atom feeds (RFC 4287, written with feedgen) of the public ledger, for feed readers and for other
portals that follow the registry without harvesting all of it:

* ``/feeds/registrations.atom``: the newest coded registrations (newest code first), 50 entries;
* ``/feeds/announcements.atom``: what is under announcement (登记公示) now, newest first, each entry
  saying until when objections are taken and linking to the objection form.

``?region=320000`` limits either to one province-level region. Each entry's id is its registration's
page on the portal, so a reader sees an entry once however often it fetches.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from feedgen.feed import FeedGenerator
from sqlmodel import col, select

from common import regions
from national_node.models import SearchRow
from national_node.portal.deps import PortalDep
from national_node.portal.errors import PortalError
from national_node.public import OBJECT_TYPES, STATES

__all__ = ["router"]

router = APIRouter(prefix="/feeds")

ENTRIES = 50
ATOM = "application/atom+xml; charset=utf-8"
RegionQuery = Annotated[
    str, Query(max_length=6, description="A province-level region (GB/T 2260), e.g. 320000.")
]


def _region(region: str) -> str:
    region = region.strip()
    if region and not regions.is_region(region):
        raise PortalError(
            400,
            "INVALID_ARGUMENT",
            "region must be a province-level region code such as 320000",
            field="region",
        )
    return region


def _feed(request: Request, kind: str, title: str, region: str) -> FeedGenerator:
    base = str(request.base_url)
    feed = FeedGenerator()
    query = f"?region={region}" if region else ""
    feed.id(f"{base}feeds/{kind}.atom{query}")
    where = f" · {regions.get(region).name}" if region else ""
    feed.title(f"{title}{where} · 国家公共数据资源登记平台")
    feed.author({"name": "国家公共数据资源登记平台"})
    feed.link(href=f"{base}feeds/{kind}.atom{query}", rel="self", type="application/atom+xml")
    feed.link(href=base, rel="alternate", type="text/html")
    feed.language("zh-CN")
    return feed


def _entry(feed: FeedGenerator, base: str, row: SearchRow, updated: datetime, summary: str) -> None:
    entry = feed.add_entry(order="append")
    page = f"{base}registrations/{row.uid}"
    entry.id(page)
    entry.title(row.data_name)
    entry.link(href=page, rel="alternate", type="text/html")
    entry.author({"name": row.subject_name})
    entry.updated(updated.astimezone(UTC))
    entry.published(row.created_at.astimezone(UTC))
    entry.summary(summary)
    entry.category(
        term=row.region, label=regions.get(row.region).name if regions.is_region(row.region) else row.region
    )
    entry.category(term=row.object_type, label=OBJECT_TYPES.get(row.object_type, row.object_type))


def _answer(feed: FeedGenerator, rows: list[SearchRow]) -> Response:
    newest = max((row.updated_at for row in rows), default=datetime(2025, 3, 1, tzinfo=UTC))
    feed.updated(newest.astimezone(UTC))
    return Response(
        feed.atom_str(pretty=True), media_type=ATOM, headers={"Cache-Control": "public, max-age=60"}
    )


@router.get("/registrations.atom", include_in_schema=False)
def registrations_feed(request: Request, portal: PortalDep, region: RegionQuery = "") -> Response:
    region = _region(region)
    statement = select(SearchRow).where(col(SearchRow.code).is_not(None))
    if region:
        statement = statement.where(SearchRow.region == region)
    statement = statement.order_by(col(SearchRow.valid_from).desc(), col(SearchRow.created_at).desc()).limit(
        ENTRIES
    )
    with portal.search.db.transaction(write=False) as session:
        rows = list(session.exec(statement))
        session.expunge_all()
    feed = _feed(request, "registrations", "新登记", region)
    base = str(request.base_url)
    for row in rows:
        state = STATES.get(row.state, row.state)
        summary = f"{row.subject_name} · 登记编号 {row.code} · {state}"
        if row.valid_from is not None:
            summary += f" · 自 {row.valid_from.isoformat()} 起有效"
        _entry(feed, base, row, row.updated_at, summary)
    return _answer(feed, rows)


@router.get("/announcements.atom", include_in_schema=False)
def announcements_feed(request: Request, portal: PortalDep, region: RegionQuery = "") -> Response:
    region = _region(region)
    today = portal.clock.today()
    statement = select(SearchRow).where(
        col(SearchRow.announced).is_(True), col(SearchRow.announcement_end) >= today
    )
    if region:
        statement = statement.where(SearchRow.region == region)
    statement = statement.order_by(col(SearchRow.updated_at).desc(), col(SearchRow.uid)).limit(ENTRIES)
    with portal.search.db.transaction(write=False) as session:
        rows = list(session.exec(statement))
        session.expunge_all()
    feed = _feed(request, "announcements", "登记公示", region)
    base = str(request.base_url)
    for row in rows:
        end = row.announcement_end.isoformat() if row.announcement_end else ""
        provisional = "（暂定）" if row.announcement_end_provisional else ""
        form = f"{base}announcements/{row.uid}/objection"
        summary = f"{row.subject_name} · 公示至 {end}{provisional}，期间可对登记提出异议：{form}"
        _entry(feed, base, row, row.updated_at, summary)
    return _answer(feed, rows)
