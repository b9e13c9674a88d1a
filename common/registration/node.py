"""Composing the procedure into a node: calendar, clock, registry, duties, servicer."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session

from common.calendar import WorkingCalendar
from common.clock import Clock, SimulatedClock, SystemClock
from common.db import Database
from common.gen.registry.v1 import registration_pb2 as r
from common.registration.duties import CodeSource, Duties
from common.registration.models import RegistrationRow
from common.registration.procedure import Jurisdiction, Registry
from common.registration.service import RegistrationServicer
from common.settings import NodeSettings

__all__ = ["RegistrationNode", "build_registration", "clock_from", "calendar_from"]

logger = logging.getLogger(__name__)


def clock_from(settings: NodeSettings) -> Clock:
    if settings.clock_start is None and settings.clock_speed == 1.0:
        return SystemClock()
    logger.warning(
        "SIMULATED CLOCK: starting at %s, running %.0fx real time; deadlines are not real",
        settings.clock_start or "now",
        settings.clock_speed,
    )
    return SimulatedClock(settings.clock_start, settings.clock_speed)


def calendar_from(settings: NodeSettings) -> WorkingCalendar:
    if settings.working_days_file is None:
        return WorkingCalendar()
    return WorkingCalendar.from_file(settings.working_days_file)


@dataclass
class RegistrationNode:
    registry: Registry
    duties: Duties
    servicer: RegistrationServicer


def build_registration(
    db: Database,
    *,
    node: str,
    settings: NodeSettings,
    jurisdiction: Jurisdiction,
    codes: CodeSource,
    on_change: Callable[[Session, RegistrationRow], r.Registration | None] | None = None,
    clock: Clock | None = None,
) -> RegistrationNode:
    registry = Registry(
        db,
        node=node,
        calendar=calendar_from(settings),
        limits=settings.time_limits,
        clock=clock or clock_from(settings),
        jurisdiction=jurisdiction,
        on_change=on_change,
    )
    duties = Duties(registry, codes, interval=settings.duties_interval)
    return RegistrationNode(registry, duties, RegistrationServicer(registry))
