"""Time as the registry sees it: UTC instants, and calendar days in China Standard Time.

Deadlines are working days in China, so "today" is the date in Asia/Shanghai whatever the server's
time zone. :class:`SimulatedClock` lets a demonstration or test federation start at a chosen moment
and run faster than real time (a walkthrough can watch a ten-working-day announcement close in
seconds); nodes log a warning when one is configured.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

__all__ = ["CHINA", "Clock", "SimulatedClock", "SystemClock", "china_date", "make_clock"]

logger = logging.getLogger(__name__)

#: China Standard Time: the zone of every calendar day the registry counts (deadlines, validity, the
#: year in a code).
CHINA = ZoneInfo("Asia/Shanghai")


def china_date(instant: datetime) -> date:
    """The calendar date in China of an aware instant."""
    return instant.astimezone(CHINA).date()


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...

    def today(self) -> date:
        """Today's date in China."""
        ...


class SystemClock:
    """The real time."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return china_date(self.now())


class SimulatedClock:
    """Starts at ``start`` (default: now) and advances ``speed`` times faster than real time.

    ``anchor``: the real instant at which the clock reads ``start`` (default: when it is made). Nodes
    of one simulated federation given the same start and anchor keep one time between them, however
    far apart they started."""

    def __init__(
        self, start: datetime | None = None, speed: float = 1.0, anchor: datetime | None = None
    ) -> None:
        if speed <= 0:
            raise ValueError("clock speed must be positive")
        self._origin = start.astimezone(UTC) if start else datetime.now(UTC)
        self._real_origin = time.monotonic()
        if anchor is not None:  # the monotonic reading of the anchor's real instant
            self._real_origin -= time.time() - anchor.timestamp()
        self._speed = speed

    def now(self) -> datetime:
        return self._origin + timedelta(seconds=(time.monotonic() - self._real_origin) * self._speed)

    def today(self) -> date:
        return china_date(self.now())


def make_clock(start: datetime | None = None, speed: float = 1.0, anchor: datetime | None = None) -> Clock:
    """The real clock, or (for demonstrations and tests only) a simulated one, with a warning."""
    if start is None and speed == 1.0:
        return SystemClock()
    logger.warning(
        "SIMULATED CLOCK: starting at %s, running %.0fx real time; deadlines are not real",
        start or "now",
        speed,
    )
    return SimulatedClock(start, speed, anchor)
