"""The working calendar core: China's 2025/2026 schedule, business-time arithmetic, property tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.sla import holidays_cn
from kefu.sla.calendar import CONTINUOUS, CalendarError, WorkCalendar, hours, office_calendar, parse_window

CN = office_calendar({d: kind for d, (kind, _) in holidays_cn.statutory_days().items()})
SH = timedelta(hours=8)


def bj(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    """A Beijing wall-clock time as the UTC instant kefu stores."""
    return datetime(y, m, d, hh, mm, tzinfo=UTC) - SH


def test_2025_and_2026_schedule_matches_the_notices() -> None:
    days = holidays_cn.statutory_days()
    holidays = sorted(d for d, (k, _) in days.items() if k == "holiday")
    makeup = sorted(d for d, (k, _) in days.items() if k == "workday" and d.year in (2025, 2026))
    assert len([d for d in holidays if d.year == 2025]) == 28
    assert len([d for d in holidays if d.year == 2026]) == 33
    assert makeup == [date(2025, 1, 26), date(2025, 2, 8), date(2025, 4, 27), date(2025, 9, 28),
                      date(2025, 10, 11), date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28),
                      date(2026, 5, 9), date(2026, 9, 20), date(2026, 10, 10)]
    assert all(d.weekday() >= 5 for d in makeup)  # make-up days are always weekend days
    assert days[date(2026, 2, 17)] == ("holiday", "春节")
    assert days[date(2025, 10, 6)] == ("holiday", "国庆节、中秋节")


def test_the_package_day_table_becomes_festivals_with_their_make_up_days() -> None:
    d = date
    holidays = {d(2024, 12, 31): "New Year's Day", d(2025, 1, 1): "New Year's Day",
                d(2025, 10, 5): "National Day", d(2025, 10, 6): "Mid-autumn Festival", d(2025, 10, 7): "National Day",
                d(2025, 10, 20): "Some Day"}
    workdays = {d(2025, 1, 4): "New Year's Day", d(2025, 9, 28): "National Day", d(2025, 10, 11): "National Day"}
    got = holidays_cn.festivals(holidays, workdays)
    assert got == {
        2024: (holidays_cn.Festival("new_year", "元旦", d(2024, 12, 31), d(2025, 1, 1), (d(2025, 1, 4),)),),
        2025: (holidays_cn.Festival("national", "国庆节、中秋节", d(2025, 10, 5), d(2025, 10, 7),
                                    (d(2025, 9, 28), d(2025, 10, 11))),
               holidays_cn.Festival("some_day", "Some Day", d(2025, 10, 20), d(2025, 10, 20)))}
    # every year the installed package knows, from 2004 on, with a one-off day off under its Chinese name
    assert min(holidays_cn.SCHEDULE) == 2004
    assert holidays_cn.statutory_days()[d(2015, 9, 3)] == (
        "holiday", "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日")


def test_working_days_around_spring_festival_2026() -> None:
    # Saturday 14 Feb is worked; 15-23 Feb are off; 24 Feb (Tuesday) work resumes.
    assert CN.is_working_day(date(2026, 2, 14))
    assert not any(CN.is_working_day(date(2026, 2, d)) for d in range(15, 24))
    assert CN.is_working_day(date(2026, 2, 24))
    assert CN.is_working_day(date(2026, 2, 28))  # make-up Saturday
    assert not CN.is_working_day(date(2026, 3, 1))  # an ordinary Sunday


def test_add_working_hours_over_a_holiday_spanning_a_weekend() -> None:
    # Friday 30 Apr 2026 17:00 + 2 working hours: 1 h that day, then Labour Day 1-5 May (Fri..Tue) and the
    # weekend are skipped; Wednesday 6 May 09:00 + 1 h.
    assert CN.add_working(bj(2026, 4, 30, 17), 2 * 3600) == bj(2026, 5, 6, 10)


def test_a_make_up_saturday_counts_with_weekday_hours() -> None:
    # Friday 8 May 2026 17:30 + 1 h: 30 min Friday, lunch-free morning of make-up Saturday 9 May.
    assert CN.add_working(bj(2026, 5, 8, 17, 30), 3600) == bj(2026, 5, 9, 9, 30)
    assert CN.working_seconds(bj(2026, 5, 9), bj(2026, 5, 10)) == 7.5 * 3600


def test_a_clock_starting_outside_hours_waits_for_the_opening() -> None:
    assert CN.add_working(bj(2026, 3, 2, 22), 60) == bj(2026, 3, 3, 9, 1)  # Monday night -> Tuesday 09:01
    assert CN.add_working(bj(2026, 3, 3, 12, 10), 60) == bj(2026, 3, 3, 13, 31)  # lunch break
    assert CN.next_open(bj(2026, 2, 15, 10)) == bj(2026, 2, 24, 9)
    assert CN.is_open(bj(2026, 3, 3, 9))
    assert not CN.is_open(bj(2026, 3, 3, 12))


def test_working_days_for_an_appeal_acceptance() -> None:
    # The appeal body decides within 5 working days: received Friday 25 Sep 2026 (Mid-Autumn starts that day),
    # National Day 1-7 Oct; 28, 29, 30 Sep, 8 Oct, 9 Oct are the five -> ends at midnight after 9 Oct.
    assert CN.add_working_days(bj(2026, 9, 25, 15), 5) == bj(2026, 10, 10)
    assert CN.working_days_between(date(2026, 9, 1), date(2026, 9, 30)) == 22  # 22 weekdays - 25 Sep + Sunday 20 Sep


def test_continuous_time_is_plain_time() -> None:
    t = bj(2026, 2, 16, 3)
    assert CONTINUOUS.add_working(t, 15 * 86400) == t + timedelta(days=15)


def test_naive_times_and_bad_hours_are_refused() -> None:
    with pytest.raises(CalendarError, match="timezone-aware"):
        CN.working_seconds(datetime(2026, 1, 1), datetime(2026, 1, 2))  # noqa: DTZ001
    with pytest.raises(CalendarError):
        parse_window("18:00-09:00")
    with pytest.raises(CalendarError):
        WorkCalendar(weekly=(hours("09:00-12:00", "11:00-13:00"),) * 7)
    with pytest.raises(CalendarError, match="no working time"):
        WorkCalendar(weekly=((),) * 7).add_working(bj(2026, 1, 1), 1)


# ---- properties ------------------------------------------------------------------------------

instants = st.datetimes(min_value=datetime(2024, 12, 1), max_value=datetime(2026, 12, 31),  # noqa: DTZ001
                        timezones=st.just(UTC))
calendars = st.sampled_from([CN, CONTINUOUS, office_calendar(day_hours=hours("08:00-22:00")),
                             WorkCalendar(weekly=(hours("00:00-24:00"),) * 5 + (hours("10:00-16:00"),) * 2,
                                          zone="UTC")])
amounts = st.floats(min_value=0, max_value=40 * 3600, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(cal=calendars, start=instants, seconds=amounts)
def test_adding_working_time_uses_exactly_that_working_time(cal: WorkCalendar, start: datetime,
                                                          seconds: float) -> None:
    end = cal.add_working(start, seconds)
    assert end >= start
    assert cal.working_seconds(start, end) == pytest.approx(seconds, abs=1e-3)
    if seconds > 0:
        assert cal.is_open(end - timedelta(microseconds=1)) or cal.is_open(end)


@settings(max_examples=200, deadline=None)
@given(cal=calendars, a=instants, b=instants, c=instants)
def test_working_time_adds_up_over_consecutive_spans(cal: WorkCalendar, a: datetime, b: datetime,
                                                     c: datetime) -> None:
    a, b, c = sorted((a, b, c))
    assert cal.working_seconds(a, c) == pytest.approx(cal.working_seconds(a, b) + cal.working_seconds(b, c),
                                                      abs=1e-3)
    assert 0 <= cal.working_seconds(a, c) <= (c - a).total_seconds() + 1e-3


@settings(max_examples=100, deadline=None)
@given(start=instants, days=st.integers(min_value=0, max_value=30))
def test_working_day_deadlines_end_at_midnight_after_a_working_day(start: datetime, days: int) -> None:
    due = CN.add_working_days(start, days)
    last_day = (due - timedelta(seconds=1) + SH).date()
    first = (start + SH).date()
    assert (due + SH).time().isoformat() == "00:00:00"
    assert CN.working_days_between(first + timedelta(days=1), last_day) == days
    assert days == 0 or CN.is_working_day(last_day)
