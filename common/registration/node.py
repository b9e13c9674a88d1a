"""Composing the procedure into a node: calendar, clock, procedure, duties, servicer."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from common import regions
from common.calendar import WorkingCalendar
from common.clock import Clock
from common.db import Database
from common.gen.registry.v1 import registration_service_pb2 as rs
from common.paging import PageTokens
from common.registration.duplicates import DuplicateSource
from common.registration.duties import CodeSource, Duties
from common.registration.procedure import ChangeHook, Jurisdiction, Procedure
from common.registration.service import ConfirmationProofs, RegistrationServicer
from common.settings import NodeSettings

__all__ = ["RegistrationNode", "build_registration", "calendar_from"]


def calendar_from(settings: NodeSettings) -> WorkingCalendar:
    if settings.working_days_file is None:
        return WorkingCalendar()
    return WorkingCalendar.from_file(settings.working_days_file)


@dataclass
class RegistrationNode:
    procedure: Procedure
    duties: Duties
    servicer: RegistrationServicer


def build_registration(
    db: Database,
    *,
    node: str,
    settings: NodeSettings,
    clock: Clock,
    jurisdiction: Jurisdiction,
    codes: CodeSource,
    on_change: ChangeHook | None = None,
    proofs: ConfirmationProofs | None = None,
    duplicates: DuplicateSource | None = None,
) -> RegistrationNode:
    procedure = Procedure(
        node=node,
        calendar=calendar_from(settings),
        limits=settings.time_limits,
        clock=clock,
        jurisdiction=jurisdiction,
        on_change=on_change,
        separation_of_duties=settings.auth.separation_of_duties,
    )
    duties = Duties(db, procedure, codes, interval=settings.duties_interval)
    servicer = RegistrationServicer(
        db, procedure, clock, PageTokens(db.secret("page_tokens")), proofs, duplicates=duplicates
    )
    servicer.business_rules = business_rules(settings, node, procedure.calendar, clock.now())
    return RegistrationNode(procedure, duties, servicer)


#: The provincial variants of the national standard a node may apply, and what each asks.
VARIANTS = {
    "fujian-initial-registration": (
        "Fujian: an authorised operator registers each product or service within"
        " time_limits.initial_registration_days working days of its operation term's start"
    ),
    "hainan-full-registration": (
        "Hainan (全量登记): an operating entity registers every product and service it makes from authorised"
        " data; one its disclosure lists without a code is due within time_limits.product_registration_days"
        " working days"
    ),
}


def business_rules(
    settings: NodeSettings, node: str, calendar: WorkingCalendar, effective: datetime
) -> rs.BusinessRules:
    """The rules a node applies, as RegistrationService.GetBusinessRules publishes them."""
    limits = settings.time_limits
    rules = rs.BusinessRules(
        name=f"nodes/{node}/businessRules",
        display_name=regions.get(node).name,
        time_limits=rs.ProcedureTimeLimits(
            acceptance_days=limits.acceptance_days,
            review_days=limits.review_days,
            announcement_days=limits.announcement_days,
            objection_days=limits.objection_days,
            expiry_reminder_days=limits.expiry_reminder_days,
            initial_registration_days=limits.initial_registration_days or 0,
            demand_answer_days=limits.demand_answer_days,
            share_reply_days=limits.share_reply_days,
            share_delivery_days=limits.share_delivery_days,
            product_registration_days=limits.product_registration_days or 0,
        ),
        variants=[
            rs.RuleVariant(
                id="fujian-initial-registration",
                description=VARIANTS["fujian-initial-registration"],
                applied=limits.initial_registration_days is not None,
            ),
            rs.RuleVariant(
                id="hainan-full-registration",
                description=VARIANTS["hainan-full-registration"],
                applied=limits.product_registration_days is not None,
            ),
        ],
        calendar_years=[
            rs.CalendarYear(year=year, source=source) for year, source in calendar.covered_years().items()
        ],
        separation_of_duties=settings.auth.separation_of_duties,
    )
    if settings.working_days_file is not None:
        path = Path(settings.working_days_file)
        rules.calendar_file = path.name
        rules.calendar_file_sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    rules.effective_time.FromDatetime(effective)
    return rules
