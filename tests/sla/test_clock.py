"""SLA clocks: pauses, warnings, breaches and the legal ceiling, with property tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.sla import clock as c
from kefu.sla.calendar import CONTINUOUS, WorkCalendar
from tests.sla.test_calendar import CN, bj

H = 3600.0


def test_pausing_while_waiting_on_the_customer_moves_the_due_time() -> None:
    k = c.start(4 * H, bj(2026, 3, 2, 9))  # Monday 09:00, 4 working hours -> 14:30 (lunch 12:00-13:30)
    assert c.due_at(k, CN) == bj(2026, 3, 2, 14, 30)
    k = c.pause(k, bj(2026, 3, 2, 10), CN)  # 1 h used
    assert c.due_at(k, CN) is None
    assert c.state(k, bj(2026, 3, 5, 10), CN).status == "paused"
    k = c.resume(k, bj(2026, 3, 3, 17))  # Tuesday 17:00: 1 h Tuesday, 2 h Wednesday morning
    assert c.due_at(k, CN) == bj(2026, 3, 4, 11)
    s = c.state(k, bj(2026, 3, 4, 10), CN)
    assert (s.status, s.used, s.remaining) == ("running", 3 * H, H)  # 75 %: below the 80 % warning
    assert c.state(k, bj(2026, 3, 4, 10), CN, warn_ratio=0.75).status == "warning"


def test_warning_and_breach() -> None:
    k = c.start(10 * H, bj(2026, 3, 2, 9))
    assert c.state(k, bj(2026, 3, 2, 16, 30), CN).status == "running"  # 6 h used
    assert c.state(k, bj(2026, 3, 3, 9, 30), CN).status == "warning"  # 8 h = 80 %
    assert c.state(k, bj(2026, 3, 3, 11, 31), CN).status == "breached"  # 7.5 h Monday + 2.5 h
    done = c.stop(k, bj(2026, 3, 3, 10), CN)
    assert c.state(done, bj(2026, 3, 9), CN).status == "met"
    late = c.stop(k, bj(2026, 3, 3, 12), CN)
    assert c.state(late, bj(2026, 3, 3, 12), CN).status == "breached"


def test_the_legal_deadline_caps_a_looser_policy_and_does_not_pause() -> None:
    opened = bj(2026, 2, 10, 10)
    legal = opened + timedelta(days=15)
    k = c.start(20 * 8 * H, opened)  # a careless policy: 20 working days
    s = c.state(k, opened + timedelta(days=1), CN, legal_due=legal)
    assert s.due_at == legal
    paused = c.pause(k, opened + timedelta(days=2), CN)
    assert c.state(paused, legal - timedelta(days=2), CN, legal_due=legal).status == "warning"
    assert c.state(paused, legal + timedelta(seconds=1), CN, legal_due=legal).status == "breached"


def test_a_target_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        c.start(0, bj(2026, 1, 5))


# ---- properties ------------------------------------------------------------------------------

t0 = datetime(2026, 1, 1, tzinfo=UTC)
steps = st.lists(st.tuples(st.sampled_from(["pause", "resume"]), st.integers(min_value=0, max_value=5 * 86400)),
                 max_size=8)


@settings(max_examples=150, deadline=None)
@given(cal=st.sampled_from([CN, CONTINUOUS]), offset=st.integers(min_value=0, max_value=200 * 86400),
       moves=steps, target=st.integers(min_value=60, max_value=30 * 3600),
       tail=st.integers(min_value=0, max_value=10 * 86400))
def test_used_time_is_the_working_time_of_the_running_spans(cal: WorkCalendar, offset: int,
                                                            moves: list[tuple[str, int]], target: int,
                                                            tail: int) -> None:
    at = t0 + timedelta(seconds=offset)
    k = c.start(target, at)
    spans: list[tuple[datetime, datetime]] = []
    running_since: datetime | None = at
    for kind, gap in moves:
        at = at + timedelta(seconds=gap)
        if kind == "pause" and running_since is not None:
            spans.append((running_since, at))
            running_since = None
            k = c.pause(k, at, cal)
        elif kind == "resume" and running_since is None:
            running_since = at
            k = c.resume(k, at)
    now = at + timedelta(seconds=tail)
    if running_since is not None:
        spans.append((running_since, now))
    expected = sum(cal.working_seconds(a, b) for a, b in spans)
    assert c.used_at(k, now, cal) == pytest.approx(expected, abs=1e-3)
    s = c.state(k, now, cal)
    assert s.breached == (expected > target + 1e-3) or abs(expected - target) < 1e-3
    due = c.due_at(k, cal)
    if due is not None:  # running: the due time is exactly where the target is used up
        assert c.used_at(k, due, cal) == pytest.approx(max(target, k.used), abs=1e-3)
