"""How long a registration is valid: three years from coding, never past a product's operation term.

The first day counts: a registration coded on 2026-10-28 is valid until 2029-10-27. A renewal adds
three years after the last day (from today, for a registration that lapsed). 29 February becomes
28 February in a year without one.
"""

from __future__ import annotations

from datetime import date, timedelta

__all__ = ["TERM_YEARS", "add_years", "clamp", "first_term", "latest_renewable", "renewed_term"]

#: Years of validity (《公共数据资源登记管理暂行办法》: three years, or the shorter operation term).
TERM_YEARS = 3
_DAY = timedelta(days=1)


def add_years(day: date, years: int) -> date:
    """The same day ``years`` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def clamp(until: date, term_end: date | None) -> date:
    """``until``, or the end of the operation term if that comes first."""
    return until if term_end is None else min(until, term_end)


def first_term(coded_on: date, term_end: date | None) -> date:
    """The last day of validity of a registration coded on ``coded_on``."""
    return clamp(add_years(coded_on, TERM_YEARS) - _DAY, term_end)


def renewed_term(valid_until: date, *, today: date, lapsed: bool, term_end: date | None) -> date:
    """The last day of validity after a renewal."""
    if lapsed:
        return first_term(today, term_end)
    return clamp(add_years(valid_until + _DAY, TERM_YEARS) - _DAY, term_end)


def latest_renewable(today: date) -> date:
    """A registration valid beyond this day was renewed already (at most three years ahead)."""
    return add_years(today, TERM_YEARS) - _DAY
