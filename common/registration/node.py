"""Composing the procedure into a node: calendar, clock, procedure, duties, servicer."""

from __future__ import annotations

from dataclasses import dataclass

from common.calendar import WorkingCalendar
from common.clock import Clock
from common.db import Database
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
    return RegistrationNode(procedure, duties, servicer)
