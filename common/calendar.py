"""Working days on China's official schedule of public holidays and make-up working days (调休).

Every time limit in the registration procedure counts working days. Which days are working days is set
each year by the General Office of the State Council, usually in November for the following year: public
holidays, and weekend days that become working days in exchange. A :class:`WorkingCalendar` answers from,
in order of precedence:

1. an operator-supplied schedule for the year (a TOML file, see :func:`load_schedule_file`), which
   covers years the package below does not know yet, or corrects one it does;
2. the official data shipped with the ``chinese_calendar`` package, for the years it covers;
3. otherwise weekends alone (Monday to Friday working), and every such answer is marked provisional.

The schedule file has one table per year::

    [2027]
    holidays = [
      { name = "New Year's Day", from = "2027-01-01", to = "2027-01-03" },
      { name = "Tomb-sweeping Day", from = "2027-04-05" },   # one day: "to" may be left out
      "2027-05-01",                                          # or a bare date, without a name
    ]
    workdays = ["2027-02-14"]   # weekend days that are working days

Dates may be quoted strings or TOML dates. A file that is not consistent (a date outside its year, a
``to`` before its ``from``, a day that is both a holiday and a working day, a weekday listed as a make-up
working day) is rejected as a whole with :class:`~common.errors.InvalidValue` (``BAD_SCHEDULE``) naming
the file, the year and the entry at fault.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Literal

import chinese_calendar

from common.errors import InvalidValue

__all__ = [
    "DayInfo",
    "Source",
    "WorkingCalendar",
    "WorkingCount",
    "WorkingDate",
    "YearSchedule",
    "load_schedule_file",
    "parse_schedules",
]

logger = logging.getLogger(__name__)

#: Where the answer for a day came from.
Source = Literal["official", "operator", "weekends"]

_BAD_SCHEDULE = "BAD_SCHEDULE"
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_HOLIDAY_KEYS = frozenset({"name", "from", "to"})
_YEAR_KEYS = frozenset({"holidays", "workdays"})
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class DayInfo:
    """Whether ``date`` is a working day, where that answer came from, and the holiday's name if any."""

    date: date
    working: bool
    provisional: bool
    source: Source
    holiday: str | None = None


@dataclass(frozen=True, slots=True)
class WorkingDate:
    """A date reached by counting working days; ``provisional`` if any day counted was a guess."""

    date: date
    provisional: bool


@dataclass(frozen=True, slots=True)
class WorkingCount:
    """A number of working days; ``provisional`` if any day counted was a guess."""

    days: int
    provisional: bool


@dataclass(frozen=True, slots=True)
class YearSchedule:
    """One year's published schedule: its holidays (day → name, ``None`` if unnamed) and make-up days.

    ``origin`` says where it came from (a file name) and only serves error and log messages.
    """

    year: int
    holidays: Mapping[date, str | None]
    workdays: frozenset[date] = frozenset()
    origin: str = field(default="operator schedule", compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "holidays", MappingProxyType(dict(self.holidays)))
        object.__setattr__(self, "workdays", frozenset(self.workdays))
        where = f"{self.origin}: [{self.year}]"
        if not 1 <= self.year <= 9999:
            raise _bad(where, "not a calendar year")
        for day in sorted(self.holidays):
            if day.year != self.year:
                raise _bad(where, f"holiday {day.isoformat()} is not in {self.year}")
        for day in sorted(self.workdays):
            _check_workday(day, self.year, self.holidays, where)


def _bad(where: str, problem: str) -> InvalidValue:
    return InvalidValue(_BAD_SCHEDULE, f"{where}: {problem}")


def _check_workday(day: date, year: int, holidays: Mapping[date, str | None], where: str) -> None:
    if day.year != year:
        raise _bad(where, f"workday {day.isoformat()} is not in {year}")
    if day in holidays:
        name = holidays[day]
        also = f"a holiday ({name!r})" if name else "a holiday"
        raise _bad(where, f"{day.isoformat()} is listed both as a working day and as {also}")
    if day.weekday() < 5:
        raise _bad(where, f"{day.isoformat()} is a {day:%A}: list only weekend days that are working days")


def _as_date(value: object, year: int, where: str) -> date:
    """A date from a TOML date or a ``YYYY-MM-DD`` string, which must fall in ``year``."""
    if isinstance(value, datetime):
        raise _bad(where, f"{value} has a time of day; write the date alone, as YYYY-MM-DD")
    if not isinstance(value, date | str):
        raise _bad(where, f"{value} is not a date; write it as YYYY-MM-DD")
    if isinstance(value, str):
        if not _ISO_DATE.fullmatch(value.strip()):
            raise _bad(where, f"{value!r} is not a date; write it as YYYY-MM-DD")
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            raise _bad(where, f"{value!r} is not a valid date") from None
    if value.year != year:
        raise _bad(where, f"{value.isoformat()} is not in {year}")
    return value


def _days(start: date, end: date) -> Iterator[date]:
    day = start
    while day <= end:
        yield day
        day += _ONE_DAY


def _parse_holiday(entry: object, year: int, where: str) -> tuple[str | None, date, date]:
    if not isinstance(entry, Mapping):
        day = _as_date(entry, year, where)
        return None, day, day
    unknown = sorted(set(entry) - _HOLIDAY_KEYS)
    if unknown:
        raise _bad(where, f"unknown key {unknown[0]!r}; a holiday has 'name', 'from' and optionally 'to'")
    name = entry.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise _bad(where, "'name' must be a non-empty text in quotes")
    if "from" not in entry:
        raise _bad(where, "'from' (the first day of the holiday) is missing")
    start = _as_date(entry["from"], year, where)
    end = _as_date(entry["to"], year, where) if "to" in entry else start
    if end < start:
        raise _bad(where, f"'to' ({end.isoformat()}) is before 'from' ({start.isoformat()})")
    return (name.strip() if name else None), start, end


def _parse_year(key: str, table: object, origin: str) -> YearSchedule:
    if not re.fullmatch(r"\d{4}", key):
        raise _bad(f"{origin}: [{key}]", "tables must be named by a four-digit year, such as [2027]")
    year, where = int(key), f"{origin}: [{key}]"
    if not isinstance(table, Mapping):
        raise _bad(where, "must be a table with 'holidays' and 'workdays'")
    unknown = sorted(set(table) - _YEAR_KEYS)
    if unknown:
        raise _bad(where, f"unknown key {unknown[0]!r}; a year has 'holidays' and 'workdays'")
    entries = table.get("holidays")
    if not isinstance(entries, list) or not entries:
        raise _bad(where, "'holidays' must be a non-empty list of the year's holidays")
    holidays: dict[date, str | None] = {}
    for number, entry in enumerate(entries, start=1):
        label = entry.get("name") if isinstance(entry, Mapping) else None
        entry_where = f"{where} holidays entry {number}" + (f" ({label})" if isinstance(label, str) else "")
        name, start, end = _parse_holiday(entry, year, entry_where)
        for day in _days(start, end):
            if day in holidays:
                raise _bad(entry_where, f"{day.isoformat()} is already listed in an earlier holiday entry")
            holidays[day] = name
    workday_entries = table.get("workdays", [])
    if not isinstance(workday_entries, list):
        raise _bad(where, "'workdays' must be a list of dates")
    workdays: set[date] = set()
    for number, value in enumerate(workday_entries, start=1):
        entry_where = f"{where} workdays entry {number}"
        day = _as_date(value, year, entry_where)
        _check_workday(day, year, holidays, entry_where)
        workdays.add(day)
    return YearSchedule(year, holidays, frozenset(workdays), origin=origin)


def parse_schedules(document: Mapping[str, object], *, origin: str = "schedule") -> tuple[YearSchedule, ...]:
    """The year schedules in an already-parsed TOML document, in year order; see the module docs."""
    schedules = [_parse_year(key, table, origin) for key, table in document.items()]
    return tuple(sorted(schedules, key=lambda s: s.year))


def load_schedule_file(path: str | os.PathLike[str]) -> tuple[YearSchedule, ...]:
    """Read an operator's schedule file (TOML). Raises ``InvalidValue`` (``BAD_SCHEDULE``) if malformed.

    A file that cannot be read raises ``OSError`` as usual.
    """
    origin = os.fspath(path)
    with open(path, "rb") as stream:
        try:
            document = tomllib.load(stream)
        except tomllib.TOMLDecodeError as exc:
            raise _bad(origin, f"not a valid TOML file ({exc})") from None
    return parse_schedules(document, origin=origin)


def _require_date(value: object) -> None:
    # A datetime is a date too, but which day a moment falls on depends on its time zone.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"expected a date, got {type(value).__name__}")


@functools.cache
def _official_covers(year: int) -> bool:
    """Whether the ``chinese_calendar`` package has the official schedule for ``year``."""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


class WorkingCalendar:
    """Working days: operator schedules first, then the official package data, then weekends alone."""

    def __init__(self, schedules: Iterable[YearSchedule] = ()) -> None:
        self._schedules: dict[int, YearSchedule] = {}
        for schedule in schedules:
            earlier = self._schedules.get(schedule.year)
            if earlier is not None:
                raise _bad(
                    f"{schedule.origin}: [{schedule.year}]",
                    f"the year is also given by {earlier.origin}; give each year once",
                )
            self._schedules[schedule.year] = schedule
            if _official_covers(schedule.year):
                logger.info(
                    "working-day schedule for %d from %s replaces the official data",
                    schedule.year,
                    schedule.origin,
                )

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> WorkingCalendar:
        """A calendar with the operator schedules in ``path`` on top of the official data."""
        schedules = load_schedule_file(path)
        logger.info(
            "loaded working-day schedules for %s from %s",
            ", ".join(str(s.year) for s in schedules) or "no years",
            os.fspath(path),
        )
        return cls(schedules)

    def source_for_year(self, year: int) -> Source:
        """Which source answers for days of ``year``."""
        if year in self._schedules:
            return "operator"
        if _official_covers(year):
            return "official"
        return "weekends"

    def covered_years(self) -> dict[int, Source]:
        """Every year with a published schedule, mapped to the source used for it, in year order.

        Years not listed are computed on weekends alone and their answers are provisional.
        """
        packaged = {day.year for day in chinese_calendar.holidays} | {
            day.year for day in chinese_calendar.workdays
        }
        years = {year for year in packaged if _official_covers(year)} | set(self._schedules)
        return {year: self.source_for_year(year) for year in sorted(years)}

    def day(self, d: date) -> DayInfo:
        """Whether ``d`` is a working day, and on what authority."""
        _require_date(d)
        schedule = self._schedules.get(d.year)
        if schedule is not None:
            if d in schedule.workdays:
                return DayInfo(d, working=True, provisional=False, source="operator")
            if d in schedule.holidays:
                return DayInfo(d, False, False, "operator", schedule.holidays[d])
            return DayInfo(d, working=d.weekday() < 5, provisional=False, source="operator")
        if _official_covers(d.year):
            on_holiday, name = chinese_calendar.get_holiday_detail(d)
            return DayInfo(d, not on_holiday, False, "official", name if on_holiday else None)
        return DayInfo(d, working=d.weekday() < 5, provisional=True, source="weekends")

    def is_working_day(self, d: date) -> bool:
        """Whether ``d`` is a working day (see :meth:`day` for whether the answer is provisional)."""
        return self.day(d).working

    def add_working_days(self, start: date, n: int) -> WorkingDate:
        """The ``n``-th working day after ``start`` (``start`` itself is not counted; ``n=0`` gives it).

        Raises ``ValueError`` if ``n`` is negative.
        """
        _require_date(start)
        if n < 0:
            raise ValueError(f"the number of working days to add must not be negative, got {n}")
        day, counted, provisional = start, 0, False
        while counted < n:
            day += _ONE_DAY
            info = self.day(day)
            provisional = provisional or info.provisional
            counted += info.working
        return WorkingDate(day, provisional)

    def working_days_between(self, start: date, end: date) -> WorkingCount:
        """The number of working days ``d`` with ``start < d <= end`` (0 when ``end <= start``)."""
        _require_date(start)
        _require_date(end)
        days, provisional = 0, False
        for day in _days(start + _ONE_DAY, end):
            info = self.day(day)
            provisional = provisional or info.provisional
            days += info.working
        return WorkingCount(days, provisional)
