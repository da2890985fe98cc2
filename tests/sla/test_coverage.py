"""7×24 coverage per channel: union of calendars over a week, gaps listed (Spring Festival 2026 included)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from kefu.sla import coverage as cov
from kefu.sla.calendar import CONTINUOUS, WorkCalendar, hours, office_calendar
from tests.sla.test_calendar import CN, bj

VOICE = WorkCalendar(weekly=(hours("08:00-22:00"),) * 7)


def test_human_voice_8_to_22_leaves_ten_hours_a_night_uncovered() -> None:
    [row] = cov.coverage({"voice": [VOICE]}, date(2026, 3, 2))
    assert row.covered_seconds == 7 * 14 * 3600
    assert round(row.ratio, 4) == round(98 / 168, 4)
    assert row.gaps[0] == (bj(2026, 3, 2), bj(2026, 3, 2, 8))
    assert row.gaps[1] == (bj(2026, 3, 2, 22), bj(2026, 3, 3, 8))
    assert row.gaps[-1] == (bj(2026, 3, 8, 22), bj(2026, 3, 9))
    assert len(row.gaps) == 8


def test_self_service_fills_the_gaps_to_7x24() -> None:
    [row] = cov.coverage({"voice": [VOICE, CONTINUOUS]}, date(2026, 3, 2))
    assert (row.ratio, row.full) == (1.0, True)


def test_an_office_hours_back_office_is_closed_for_spring_festival() -> None:
    [row] = cov.coverage({"billing_support": [CN]}, date(2026, 2, 16))  # 15-23 Feb are off
    assert row.covered_seconds == 0
    assert row.gaps == (cov.week_bounds(date(2026, 2, 16)),)
    [row] = cov.coverage({"billing_support": [CN]}, date(2026, 2, 9))  # Saturday 14 Feb is worked
    assert row.covered_seconds == 6 * 7.5 * 3600


@given(st.lists(st.sampled_from([VOICE, CN, CONTINUOUS, office_calendar(day_hours=hours("00:00-06:00"))]),
                max_size=3),
       st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 12, 1)))
def test_covered_time_and_gaps_make_up_the_week(cals: list[WorkCalendar], day: date) -> None:
    monday = day - timedelta(days=day.weekday())
    [row] = cov.coverage({"k": cals}, monday)
    gap_seconds = sum((b - a).total_seconds() for a, b in row.gaps)
    start, end = cov.week_bounds(monday)
    assert row.covered_seconds + gap_seconds == (end - start).total_seconds()
    assert all(a < b for a, b in row.gaps)
