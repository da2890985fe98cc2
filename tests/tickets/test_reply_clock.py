"""The complaint reply clock (Order No. 35): 15 calendar days, at risk from day 12."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from kefu.tickets import sla

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
offsets = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=60))
# hypothesis wants naive bounds; the values it draws carry UTC.
openings = st.datetimes(
    min_value=datetime(2020, 1, 1),  # noqa: DTZ001
    max_value=datetime(2030, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)


def test_deadline_is_fifteen_calendar_days_to_the_second() -> None:
    c = sla.complaint_clock(T0, now=T0)
    assert c == sla.ReplyClock(
        due_at=datetime(2026, 3, 16, 9, 30, tzinfo=UTC),
        at_risk=False,
        overdue=False,
        remaining=timedelta(days=15),
    )


def test_at_risk_exactly_from_day_twelve_and_overdue_only_after_the_deadline() -> None:
    assert sla.complaint_clock(T0, now=T0 + timedelta(days=12) - timedelta(seconds=1)).at_risk is False
    assert sla.complaint_clock(T0, now=T0 + timedelta(days=12)).at_risk is True
    assert sla.complaint_clock(T0, now=T0 + timedelta(days=15)).overdue is False
    late = sla.complaint_clock(T0, now=T0 + timedelta(days=15, seconds=1))
    assert (late.at_risk, late.overdue, late.remaining) == (True, True, timedelta(seconds=-1))


def test_answer_stops_the_clock_and_a_late_answer_stays_overdue() -> None:
    on_time = sla.complaint_clock(T0, now=T0 + timedelta(days=20), answered_at=T0 + timedelta(days=3))
    assert (on_time.at_risk, on_time.overdue, on_time.remaining) == (False, False, None)
    late = sla.complaint_clock(T0, now=T0 + timedelta(days=20), answered_at=T0 + timedelta(days=16))
    assert (late.at_risk, late.overdue) == (False, True)


@given(openings, offsets)
def test_due_is_opened_plus_reply_days_and_remaining_adds_up(opened: datetime, age: timedelta) -> None:
    c = sla.complaint_clock(opened, now=opened + age)
    assert c.due_at == opened + timedelta(days=15)
    assert c.remaining == c.due_at - (opened + age)
    assert c.at_risk is (age >= timedelta(days=12))
    assert c.overdue is (age > timedelta(days=15))


@given(openings, offsets, offsets)
def test_answered_cases_are_never_at_risk(
    opened: datetime, answer_after: timedelta, extra: timedelta
) -> None:
    answered = opened + answer_after
    c = sla.complaint_clock(opened, now=answered + extra, answered_at=answered)
    assert c.at_risk is False
    assert c.overdue is (answer_after > timedelta(days=15))


@given(openings, offsets, offsets)
def test_overdue_never_goes_back(opened: datetime, a: timedelta, b: timedelta) -> None:
    early, late = sorted([a, b])
    if sla.complaint_clock(opened, now=opened + early).overdue:
        assert sla.complaint_clock(opened, now=opened + late).overdue
