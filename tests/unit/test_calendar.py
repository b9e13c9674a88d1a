"""Working days on the official schedule, operator-supplied years, and the provisional fallback.

Facts for 2025 and 2026 are those of the State Council General Office's notices on the holiday
arrangements for 2025 (published November 2024) and for 2026 (published 4 November 2025, reported by
Xinhua: National Day 1-7 October 2026, with Sunday 20 September and Saturday 10 October 2026 worked).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from common.calendar import WorkingCalendar, YearSchedule, load_schedule_file
from common.errors import InvalidValue

EXAMPLE_FILE = Path(__file__).resolve().parents[2] / "deploy" / "working-days.example.toml"

SCHEDULE_2027 = """\
# Test schedule for 2027 (made up for the test, in the operator's format).
[2027]
holidays = [
  { name = "New Year's Day", from = "2027-01-01", to = "2027-01-03" },
  { name = "Spring Festival", from = "2027-02-05", to = "2027-02-11" },
  { name = "Tomb-sweeping Day", from = 2027-04-05 },
  "2027-05-03",
]
workdays = ["2027-02-14"]
"""


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    return WorkingCalendar()


@pytest.fixture
def calendar_2027(tmp_path: Path) -> WorkingCalendar:
    path = tmp_path / "working-days.toml"
    path.write_text(SCHEDULE_2027, encoding="utf-8")
    return WorkingCalendar.from_file(path)


def _dates(start: str, end: str) -> list[date]:
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    return [date.fromordinal(n) for n in range(first.toordinal(), last.toordinal() + 1)]


@pytest.mark.parametrize(
    ("day", "holiday"),
    [(d, "Spring Festival") for d in _dates("2025-01-28", "2025-02-04")]
    + [(d, "National Day") for d in _dates("2025-10-01", "2025-10-05")]
    + [(date(2025, 10, 6), "Mid-autumn Festival")]
    + [(d, "National Day") for d in _dates("2025-10-07", "2025-10-08")]
    + [(d, "National Day") for d in _dates("2026-10-01", "2026-10-07")]
    + [(d, "Spring Festival") for d in _dates("2026-02-15", "2026-02-23")],
)
def test_official_holidays_are_not_working_days(calendar: WorkingCalendar, day: date, holiday: str) -> None:
    info = calendar.day(day)
    assert not info.working
    assert info.holiday == holiday
    assert (info.source, info.provisional) == ("official", False)
    assert not calendar.is_working_day(day)


@pytest.mark.parametrize(
    "day",
    [
        date(2025, 1, 26),  # Sunday, worked for the Spring Festival
        date(2025, 2, 8),  # Saturday, worked for the Spring Festival
        date(2025, 9, 28),  # Sunday, worked for National Day
        date(2025, 10, 11),  # Saturday, worked for National Day
        date(2026, 1, 4),  # Sunday, worked for New Year's Day
        date(2026, 2, 14),  # Saturday, worked for the Spring Festival
        date(2026, 2, 28),  # Saturday, worked for the Spring Festival
        date(2026, 9, 20),  # Sunday, worked for National Day
        date(2026, 10, 10),  # Saturday, worked for National Day
    ],
)
def test_official_make_up_days_are_working_days(calendar: WorkingCalendar, day: date) -> None:
    assert day.weekday() >= 5
    info = calendar.day(day)
    assert info.working
    assert (info.source, info.provisional, info.holiday) == ("official", False, None)


def test_ordinary_days_of_a_covered_year(calendar: WorkingCalendar) -> None:
    assert calendar.day(date(2026, 9, 29)).working  # a Tuesday
    assert not calendar.day(date(2026, 9, 19)).working  # a Saturday without make-up
    assert calendar.day(date(2026, 9, 19)).holiday is None


def test_ten_working_days_from_28_september_2026_skip_national_day(calendar: WorkingCalendar) -> None:
    # From Monday 28 September 2026: 29 (1), 30 (2); 1-7 October off; Thu 8 (3), Fri 9 (4),
    # Saturday 10 worked (5); Sunday 11 off; Mon 12 (6), 13 (7), 14 (8), 15 (9), Fri 16 October (10).
    result = calendar.add_working_days(date(2026, 9, 28), 10)
    assert result.date == date(2026, 10, 16)
    assert not result.provisional


def test_five_working_days_from_26_september_2025_count_the_make_up_sunday(calendar: WorkingCalendar) -> None:
    # Fri 26 September 2025; Sat 27 off; Sun 28 worked (1); 29 (2), 30 (3); 1-8 October off;
    # Thu 9 (4), Fri 10 October (5).
    assert calendar.add_working_days(date(2025, 9, 26), 5).date == date(2025, 10, 10)


def test_adding_zero_working_days_gives_the_start_even_on_a_holiday(calendar: WorkingCalendar) -> None:
    assert calendar.add_working_days(date(2026, 10, 3), 0).date == date(2026, 10, 3)
    # One working day after a holiday is the next working day.
    assert calendar.add_working_days(date(2026, 10, 3), 1).date == date(2026, 10, 8)


def test_a_negative_number_of_working_days_is_refused(calendar: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="negative"):
        calendar.add_working_days(date(2026, 1, 5), -1)


def test_a_datetime_is_refused_because_its_day_depends_on_the_zone(calendar: WorkingCalendar) -> None:
    with pytest.raises(TypeError):
        calendar.day(datetime(2026, 1, 5, 12, 0))  # type: ignore[arg-type]


def test_working_days_in_october_2025(calendar: WorkingCalendar) -> None:
    # October 2025 has 23 weekdays; 1-3 and 6-8 are off (6 days) and Saturday 11 is worked: 18.
    count = calendar.working_days_between(date(2025, 9, 30), date(2025, 10, 31))
    assert (count.days, count.provisional) == (18, False)


def test_no_working_days_between_a_date_and_itself_or_an_earlier_one(calendar: WorkingCalendar) -> None:
    assert calendar.working_days_between(date(2026, 3, 2), date(2026, 3, 2)).days == 0
    assert calendar.working_days_between(date(2026, 3, 9), date(2026, 3, 2)).days == 0


@pytest.mark.parametrize(
    ("start", "n"),
    [
        (date(2025, 1, 20), 15),
        (date(2025, 9, 26), 20),
        (date(2026, 2, 13), 3),
        (date(2026, 9, 19), 10),
        (date(2026, 12, 20), 20),  # runs into 2027
        (date(2026, 10, 4), 1),  # starts on a holiday
    ],
)
def test_counting_undoes_adding(calendar: WorkingCalendar, start: date, n: int) -> None:
    reached = calendar.add_working_days(start, n)
    count = calendar.working_days_between(start, reached.date)
    assert count.days == n
    assert count.provisional == reached.provisional


def test_a_year_without_any_schedule_falls_back_to_weekends_and_is_provisional(
    calendar: WorkingCalendar,
) -> None:
    friday = calendar.day(date(2027, 1, 1))
    assert friday.working
    assert (friday.source, friday.provisional, friday.holiday) == ("weekends", True, None)
    saturday = calendar.day(date(2027, 1, 2))
    assert not saturday.working and saturday.provisional


def test_a_deadline_reaching_into_an_unscheduled_year_is_provisional(calendar: WorkingCalendar) -> None:
    # Wed 30 December 2026; Thu 31 (1, official); Fri 1 January 2027 (2, a guess); Mon 4 January (3).
    result = calendar.add_working_days(date(2026, 12, 30), 3)
    assert result.date == date(2027, 1, 4)
    assert result.provisional
    assert calendar.working_days_between(date(2026, 12, 30), date(2027, 1, 4)).provisional
    assert not calendar.working_days_between(date(2026, 12, 1), date(2026, 12, 31)).provisional


def test_an_operator_schedule_covers_a_later_year(calendar_2027: WorkingCalendar) -> None:
    new_year = calendar_2027.day(date(2027, 1, 1))
    assert not new_year.working
    assert (new_year.source, new_year.provisional, new_year.holiday) == ("operator", False, "New Year's Day")
    assert calendar_2027.day(date(2027, 2, 14)).working  # a Sunday worked for the Spring Festival
    assert not calendar_2027.day(date(2027, 2, 8)).working  # a Monday inside the Spring Festival run
    assert calendar_2027.day(date(2027, 4, 5)).holiday == "Tomb-sweeping Day"  # written as a TOML date
    bare = calendar_2027.day(date(2027, 5, 3))  # written as a bare date: off, but unnamed
    assert (bare.working, bare.holiday) == (False, None)
    ordinary = calendar_2027.day(date(2027, 3, 2))
    assert ordinary.working and not ordinary.provisional


def test_an_operator_schedule_makes_a_deadline_into_that_year_firm(calendar_2027: WorkingCalendar) -> None:
    # Wed 30 December 2026; Thu 31 (1); 1-3 January 2027 off; Mon 4 (2), Tue 5 January (3).
    result = calendar_2027.add_working_days(date(2026, 12, 30), 3)
    assert (result.date, result.provisional) == (date(2027, 1, 5), False)
    # Spring Festival: Thu 4 February 2027 (start); 5-11 off; Fri 12 (1); Sun 14 worked (2); Mon 15 (3).
    assert calendar_2027.add_working_days(date(2027, 2, 4), 3).date == date(2027, 2, 15)
    assert calendar_2027.working_days_between(date(2027, 2, 4), date(2027, 2, 15)).days == 3
    # The year after is still a guess.
    assert calendar_2027.add_working_days(date(2027, 12, 30), 2).provisional


def test_an_operator_schedule_replaces_the_official_data_for_its_year() -> None:
    correction = YearSchedule(
        2026,
        {date(2026, 10, d): "National Day" for d in range(1, 9)},
        frozenset({date(2026, 10, 10)}),
    )
    corrected = WorkingCalendar([correction])
    eighth = corrected.day(date(2026, 10, 8))
    assert (eighth.working, eighth.source, eighth.holiday) == (False, "operator", "National Day")
    # Make-up days of the official data no longer apply unless the operator lists them.
    assert not corrected.is_working_day(date(2026, 9, 20))
    assert corrected.covered_years()[2026] == "operator"
    assert corrected.covered_years()[2025] == "official"


def test_covered_years_report_the_official_years_and_the_operator_years(
    calendar: WorkingCalendar, calendar_2027: WorkingCalendar
) -> None:
    official = calendar.covered_years()
    assert official[2025] == official[2026] == "official"
    assert 2027 not in official
    assert min(official) == 2004
    assert calendar_2027.covered_years()[2027] == "operator"


def test_the_shipped_example_file_loads_and_marks_itself_as_an_example() -> None:
    example = WorkingCalendar.from_file(EXAMPLE_FILE)
    assert example.covered_years()[2027] == "operator"
    holiday = example.day(date(2027, 1, 1)).holiday
    assert holiday is not None and holiday.startswith("EXAMPLE")


def test_a_year_given_twice_is_refused() -> None:
    schedule = YearSchedule(2027, {date(2027, 1, 1): "New Year's Day"})
    with pytest.raises(InvalidValue, match="2027"):
        WorkingCalendar([schedule, schedule])


@pytest.mark.parametrize(
    ("text", "mentions"),
    [
        pytest.param(
            '[2027]\nholidays = [{ name = "New Year\'s Day", from = "2028-01-01" }]\n',
            ["[2027] holidays entry 1 (New Year's Day)", "2028-01-01 is not in 2027"],
            id="date-outside-its-year",
        ),
        pytest.param(
            '[2027]\nholidays = [\n  "2027-01-01",\n'
            '  { name = "Spring Festival", from = "2027-02-11", to = "2027-02-05" },\n]\n',
            ["[2027] holidays entry 2 (Spring Festival)", "'to' (2027-02-05) is before 'from' (2027-02-11)"],
            id="to-before-from",
        ),
        pytest.param(
            '[2027]\nholidays = [{ name = "Spring Festival", from = "2027-02-05", to = "2027-02-11" }]\n'
            'workdays = ["2027-02-14", "2027-02-06"]\n',
            ["[2027] workdays entry 2", "2027-02-06", "both", "Spring Festival"],
            id="holiday-and-workday",
        ),
        pytest.param(
            '[2027]\nholidays = ["2027-01-01"]\nworkdays = ["2027-02-15"]\n',
            ["[2027] workdays entry 1", "2027-02-15 is a Monday"],
            id="weekday-as-make-up-day",
        ),
        pytest.param(
            '[2027]\nholidays = [{ name = "A", from = "2027-10-01", to = "2027-10-07" }, '
            '{ name = "B", from = "2027-10-05" }]\n',
            ["[2027] holidays entry 2 (B)", "2027-10-05 is already listed"],
            id="overlapping-holidays",
        ),
        pytest.param(
            '[2027]\nholidays = ["2027-02-30"]\n',
            ["[2027] holidays entry 1", "'2027-02-30' is not a valid date"],
            id="impossible-date",
        ),
        pytest.param(
            "[2027]\nholidays = [2027-05-01T09:00:00]\n",
            ["[2027] holidays entry 1", "time of day"],
            id="date-with-a-time",
        ),
        pytest.param(
            '[2027]\nholidays = ["1 May 2027"]\n',
            ["[2027] holidays entry 1", "YYYY-MM-DD"],
            id="date-in-another-format",
        ),
        pytest.param(
            '[2027]\nholiday = ["2027-01-01"]\n',
            ["[2027]", "unknown key 'holiday'"],
            id="misspelt-key",
        ),
        pytest.param(
            '[2027]\nholidays = [{ name = "New Year\'s Day", to = "2027-01-03" }]\n',
            ["[2027] holidays entry 1", "'from'", "missing"],
            id="missing-from",
        ),
        pytest.param(
            "[2027]\nworkdays = []\n",
            ["[2027]", "'holidays'"],
            id="no-holidays",
        ),
        pytest.param(
            '[holidays]\n2027 = ["2027-01-01"]\n',
            ["[holidays]", "four-digit year"],
            id="table-not-a-year",
        ),
        pytest.param(
            '[2027]\nholidays = ["2027-01-01"\n',
            ["not a valid TOML file"],
            id="not-toml",
        ),
    ],
)
def test_a_malformed_schedule_file_is_refused_naming_file_year_and_entry(
    tmp_path: Path, text: str, mentions: list[str]
) -> None:
    path = tmp_path / "working-days.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidValue) as caught:
        WorkingCalendar.from_file(path)
    assert caught.value.reason == "BAD_SCHEDULE"
    assert str(path) in caught.value.message
    for fragment in mentions:
        assert fragment in caught.value.message


def test_load_schedule_file_returns_the_years_in_order(tmp_path: Path) -> None:
    path = tmp_path / "working-days.toml"
    path.write_text('[2028]\nholidays = ["2028-01-01"]\n\n' + SCHEDULE_2027, encoding="utf-8")
    schedules = load_schedule_file(path)
    assert [s.year for s in schedules] == [2027, 2028]
    assert schedules[0].workdays == frozenset({date(2027, 2, 14)})
    assert len(schedules[0].holidays) == 3 + 7 + 1 + 1
