"""Statistics of the national ledger (``/stats``): charts the server draws as SVG with leather (the
portal stays free of JavaScript), each with its numbers in a table on the page (for screen readers,
and for anyone who wants the figures) and as CSV (``/stats/{chart}.csv``).

The charts count what the public search index holds, the national node's view of the ledger:

* ``regions``, ``object_types``, ``states``: registrations by province-level region, object type and
  state;
* ``months``: registrations that entered the national ledger, by month (China Standard Time), the
  last 24 months;
* ``time_to_code``: coded registrations by the days from entering the ledger to the first day of
  validity (the day of coding), in bands, with the median;
* ``announcements``: what is under announcement now, by region, and the objections the public filed
  with the national node, by month;
* ``disclosures``: last year's authorised-operation disclosures, by role: filed on time, filed late,
  and (once 31 March has passed) not filed.

Counts are read at most once a minute (``count_cache_seconds`` of the portal, or 60 s).
"""

from __future__ import annotations

import csv
import io
import statistics
import threading
import time as clock
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated

import leather
from fastapi import APIRouter, Path
from fastapi.responses import Response
from sqlalchemy import Integer, cast, func
from sqlmodel import col, select

from common import regions
from common.clock import CHINA, china_date
from common.gen.registry.v1 import disclosure_pb2 as ds
from common.gen.registry.v1 import disclosure_service_pb2 as dss
from national_node.disclosures import FIRST_YEAR, DisclosureDesk, deadline_of
from national_node.models import DisclosureRow, PublicObjectionRow, SearchRow
from national_node.portal.deps import PortalDep
from national_node.portal.disclosures import ROLE_LABELS
from national_node.portal.errors import PortalError
from national_node.portal.pages import PagesDep
from national_node.portal.service import Portal
from national_node.public import OBJECT_TYPES, STATES

__all__ = ["Chart", "router", "statistics_of"]

router = APIRouter()

leather.theme.default_font_family = "sans-serif"
leather.theme.title_font_family = "sans-serif"
leather.theme.tick_font_family = "sans-serif"
_BANDS = (
    (0, 10, "0–10 天"),
    (11, 20, "11–20 天"),
    (21, 30, "21–30 天"),
    (31, 60, "31–60 天"),
    (61, 10**6, "60 天以上"),
)
_CACHE_SECONDS = 60.0


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    label: str  # what a row is (the first column)
    unit: str  # what the number counts
    rows: tuple[tuple[str, int], ...]
    columns: bool = False  # vertical columns (a time series) rather than horizontal bars
    note: str = ""

    def svg(self) -> str:
        chart = leather.Chart(self.title)
        data = (
            [(label, count) for label, count in self.rows]
            if self.columns
            else [(count, label) for label, count in self.rows]
        )
        if not data:
            data = [("—", 0)] if self.columns else [(0, "—")]
        if self.columns:
            chart.add_columns(data)
        else:
            chart.add_bars(data)
        out = io.StringIO()
        height = 200 + 24 * len(data) if not self.columns else 420
        chart.to_svg(out, width=820, height=height)
        return out.getvalue()

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([self.label, self.unit])
        writer.writerows(self.rows)
        return out.getvalue()


def _months(today: date, count: int) -> list[str]:
    months, year, month = [], today.year, today.month
    for _ in range(count):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return list(reversed(months))


def statistics_of(portal: Portal) -> dict[str, Chart]:
    """Every chart, counted now."""
    today = portal.clock.today()
    with portal.search.db.transaction(write=False) as session:
        by_region = session.exec(select(SearchRow.region, func.count()).group_by(SearchRow.region)).all()
        by_type = session.exec(
            select(SearchRow.object_type, func.count()).group_by(SearchRow.object_type)
        ).all()
        by_state = session.exec(select(SearchRow.state, func.count()).group_by(SearchRow.state)).all()
        entered = session.exec(
            select(SearchRow.created_at).where(col(SearchRow.created_at) >= _since(today, 24))
        ).all()
        coded = session.exec(
            select(col(SearchRow.created_at), col(SearchRow.valid_from)).where(
                col(SearchRow.code).is_not(None), col(SearchRow.valid_from).is_not(None)
            )
        ).all()
        announced = session.exec(
            select(SearchRow.region, func.count())
            .where(col(SearchRow.announced).is_(True), col(SearchRow.announcement_end) >= today)
            .group_by(SearchRow.region)
        ).all()
        objections = session.exec(
            select(PublicObjectionRow.filed_at).where(col(PublicObjectionRow.filed_at) >= _since(today, 24))
        ).all()
    last_year = today.year - 1
    with portal.search.db.transaction(write=False) as session:
        filed = session.exec(
            select(DisclosureRow.role, func.count(), func.sum(cast(col(DisclosureRow.late), Integer)))
            .where(col(DisclosureRow.latest).is_(True), DisclosureRow.year == last_year)
            .group_by(DisclosureRow.role)
        ).all()
    overdue = DisclosureDesk(portal.search.db, portal.clock, portal.tokens, None).overdue(
        dss.ListOverdueDisclosuresRequest(year=max(last_year, FIRST_YEAR))
    )
    late_overdue = Counter(ds.Disclosure.Role.Name(o.role) for o in overdue.overdue)
    disclosed: list[tuple[str, int]] = []
    for role, label in ROLE_LABELS.items():
        counts = {r: (n, late or 0) for r, n, late in filed}
        on_time, late = counts.get(role, (0, 0))
        disclosed += [
            (f"{label}·按期披露", on_time - late),
            (f"{label}·逾期披露", late),
            (f"{label}·尚未披露", late_overdue.get(role, 0)),
        ]
    months = _months(today, 24)
    per_month = Counter(china_date(at).strftime("%Y-%m") for at in entered)
    per_objection_month = Counter(china_date(at).strftime("%Y-%m") for at in objections)
    days = [max(0, (valid_from - china_date(created)).days) for created, valid_from in coded if valid_from]
    bands = Counter(next(label for low, high, label in _BANDS if low <= d <= high) for d in days)
    median = f"中位数 {statistics.median(days):.0f} 天，共 {len(days)} 条" if days else "尚无已赋码的登记"

    def region_name(code: str) -> str:
        return regions.get(code).name if regions.is_region(code) else code

    charts = [
        Chart(
            "regions",
            "各地区登记数量",
            "地区",
            "登记数量",
            tuple(sorted(((region_name(r), n) for r, n in by_region), key=lambda x: -x[1])),
        ),
        Chart(
            "object_types",
            "各类登记对象数量",
            "登记对象",
            "登记数量",
            tuple((OBJECT_TYPES.get(t, t), n) for t, n in sorted(by_type)),
        ),
        Chart(
            "states",
            "各登记状态数量",
            "登记状态",
            "登记数量",
            tuple((STATES.get(s, s), n) for s, n in sorted(by_state)),
        ),
        Chart(
            "months",
            "每月进入全国账本的登记（近 24 个月）",
            "月份",
            "登记数量",
            tuple((m, per_month.get(m, 0)) for m in months),
            columns=True,
        ),
        Chart(
            "time_to_code",
            "从进入账本到赋码的天数",
            "天数",
            "登记数量",
            tuple((label, bands.get(label, 0)) for _, _, label in _BANDS),
            note=median,
        ),
        Chart(
            "announcements",
            "正在公示的登记（按地区）",
            "地区",
            "公示中",
            tuple(sorted(((region_name(r), n) for r, n in announced), key=lambda x: -x[1])),
        ),
        Chart(
            "objections",
            "公众通过国家平台提出的异议（近 24 个月）",
            "月份",
            "异议数量",
            tuple((m, per_objection_month.get(m, 0)) for m in months),
            columns=True,
        ),
        Chart(
            "disclosures",
            f"{last_year} 年度授权运营信息披露",
            "情况",
            "机构数量",
            tuple(disclosed),
            note=f"披露截止日 {deadline_of(last_year).isoformat()}"
            + ("，已过：未披露者列入逾期名单" if overdue.deadline_passed else ""),
        ),
    ]
    return {chart.key: chart for chart in charts}


def _since(today: date, months: int) -> datetime:
    """The first instant (China Standard Time) of the month ``months - 1`` before ``today``'s."""
    first = (today.replace(day=1) - timedelta(days=31 * (months - 1))).replace(day=1)
    return datetime.combine(first, time(), tzinfo=CHINA)


class _Cached:
    """The charts, counted at most once per interval, for every request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._at = -1e9
        self._charts: dict[str, Chart] = {}

    def get(self, portal: Portal) -> dict[str, Chart]:
        with self._lock:
            if clock.monotonic() - self._at > _CACHE_SECONDS or not self._charts:
                self._charts, self._at = statistics_of(portal), clock.monotonic()
            return self._charts


_cache = _Cached()
ChartName = Annotated[str, Path(pattern=r"^[a-z_]{1,20}$")]


def _chart(portal: Portal, name: str) -> Chart:
    chart = _cache.get(portal).get(name)
    if chart is None:
        raise PortalError(404, "NOT_FOUND", f"no chart {name}")
    return chart


@router.get("/stats", include_in_schema=False)
def stats_page(page: PagesDep, portal: PortalDep) -> Response:
    """统计: the ledger in charts, each with its table and CSV."""
    return page("stats.html", charts=list(_cache.get(portal).values()))


@router.get("/stats/{name}.svg", include_in_schema=False)
def stats_svg(portal: PortalDep, name: ChartName) -> Response:
    return Response(
        _chart(portal, name).svg(),
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=60"},
    )


@router.get("/stats/{name}.csv", include_in_schema=False)
def stats_csv(portal: PortalDep, name: ChartName) -> Response:
    return Response(
        _chart(portal, name).csv(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="registry-{name}.csv"'},
    )
