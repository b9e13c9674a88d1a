"""Authorised-operation disclosures on the portal (``/disclosures``): each organisation's yearly
disclosure in its latest version, by year and region, and on each registration's page the disclosures
that name it. Read from the national ledger's database (:mod:`national_node.disclosures` files them)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from sqlmodel import col, select

from common import regions
from common.gen.registry.v1 import disclosure_pb2 as ds
from national_node.disclosures import deadline_of, named_codes
from national_node.models import DisclosureCodeRow, DisclosureRow, SearchRow
from national_node.portal.deps import PortalDep
from national_node.portal.errors import PortalError
from national_node.portal.pages import PagesDep
from national_node.portal.service import Portal

__all__ = ["DisclosureLink", "naming", "router"]

router = APIRouter()

ROLE_LABELS = {"IMPLEMENTING_BODY": "实施机构", "OPERATING_ENTITY": "运营机构"}
_SEGMENT = {"implementing-body": "IMPLEMENTING_BODY", "operating-entity": "OPERATING_ENTITY"}


@dataclass(frozen=True)
class DisclosureLink:
    url: str
    year: int
    role: str
    party: str
    region: str
    version: int
    late: bool
    filed: str


def _link(row: DisclosureRow) -> DisclosureLink:
    region = regions.get(row.region).name if regions.is_region(row.region) else row.region
    return DisclosureLink(
        url="/" + row.name,
        year=row.year,
        role=ROLE_LABELS.get(row.role, row.role),
        party=row.party_name,
        region=region,
        version=row.version,
        late=row.late,
        filed=row.filed_at.date().isoformat(),
    )


def naming(portal: Portal, code: str) -> list[DisclosureLink]:
    """The latest disclosures that name ``code``."""
    if not code:
        return []
    with portal.search.db.transaction(write=False) as session:
        rows = session.exec(
            select(DisclosureRow)
            .where(
                col(DisclosureRow.latest).is_(True),
                col(DisclosureRow.name).in_(
                    select(DisclosureCodeRow.name).where(DisclosureCodeRow.code == code)
                ),
            )
            .order_by(col(DisclosureRow.year).desc(), col(DisclosureRow.name))
        ).all()
    return [_link(row) for row in rows]


@router.get("/disclosures", include_in_schema=False)
def disclosures_page(
    page: PagesDep,
    portal: PortalDep,
    year: Annotated[str, Query(max_length=4)] = "",
    region: Annotated[str, Query(max_length=6)] = "",
) -> Response:
    """授权运营信息披露: the disclosures, by year and region."""
    problem = ""
    statement = select(DisclosureRow).where(col(DisclosureRow.latest).is_(True))
    if year and not re.fullmatch(r"20[0-9]{2}", year):
        problem = "请输入四位年份，如 2026。"
    elif year:
        statement = statement.where(DisclosureRow.year == int(year))
    if region and not any(r.code == region for r in regions.provinces()):
        problem = "请从列表中选择地区。"
    elif region:
        statement = statement.where(DisclosureRow.region == region)
    rows: list[DisclosureRow] = []
    if not problem:
        with portal.search.db.transaction(write=False) as session:
            rows = list(
                session.exec(
                    statement.order_by(col(DisclosureRow.year).desc(), col(DisclosureRow.name)).limit(200)
                )
            )
    return page(
        "disclosures.html",
        cache=not problem,
        links=[_link(r) for r in rows],
        typed={"year": year, "region": region},
        problem=problem,
        provinces=regions.provinces(),
    )


@router.get("/disclosures/{year}/{segment}/{uscc}", include_in_schema=False)
def disclosure_page(
    page: PagesDep,
    portal: PortalDep,
    year: Annotated[int, Path(ge=2025, le=9999)],
    segment: Annotated[str, Path(pattern="^(implementing-body|operating-entity)$")],
    uscc: Annotated[str, Path(pattern="^[0-9A-Z]{18}$")],
) -> Response:
    name = f"disclosures/{year}/{segment}/{uscc}"
    with portal.search.db.transaction(write=False) as session:
        rows = list(
            session.exec(
                select(DisclosureRow).where(DisclosureRow.name == name).order_by(col(DisclosureRow.version))
            )
        )
        latest = rows[-1] if rows else None
        codes = sorted(named_codes(ds.Disclosure.FromString(latest.body))) if latest else []
        pages = (
            dict(
                session.exec(
                    select(SearchRow.code, SearchRow.uid).where(col(SearchRow.code).in_(codes))
                ).all()
            )
            if codes
            else {}
        )
    if latest is None:
        raise PortalError(404, "NOT_FOUND", f"there is no disclosure {name}")
    disclosure = ds.Disclosure.FromString(latest.body)
    return page(
        "disclosure.html",
        link=_link(latest),
        disclosure=disclosure,
        versions=[_link(r) for r in rows],
        pages={code: f"/registrations/{uid}" for code, uid in pages.items() if code},
        deadline=deadline_of(year).isoformat(),
        sha256=latest.content_sha256,
        log_index=latest.log_index,
    )
