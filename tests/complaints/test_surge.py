"""The surge detector (pure): properties that hold for any counts, and the obvious cases."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.complaints.surge import SurgeConfig, judge, poisson_tail, scan

START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
CFG = SurgeConfig()


def test_poisson_tail() -> None:
    assert poisson_tail(0, 3.0) == 1.0
    assert abs(poisson_tail(1, 2.0) - (1 - 2.718281828 ** -2)) < 1e-6


def test_a_wave_after_a_quiet_month_is_one_alert() -> None:
    quiet = [1 if h % 24 in (9, 14, 20) else 0 for h in range(28 * 24)]
    wave = [8] * 12
    alerts = scan(quiet + wave + [0] * 48, START)
    assert len(alerts) == 1
    assert alerts[0].at == START + timedelta(hours=28 * 24 + 2)  # 16 in its first two hours
    assert alerts[0].verdict.observed >= CFG.min_count


@given(level=st.integers(min_value=0, max_value=30), weeks=st.integers(min_value=5, max_value=8))
@settings(max_examples=30, deadline=None)
def test_a_steady_weekly_pattern_never_alerts(level: int, weeks: int) -> None:
    week = [level * (1 + (h % 24 in range(9, 18))) for h in range(168)]
    assert scan(week * weeks, START) == []


@given(st.lists(st.integers(min_value=0, max_value=40), min_size=30, max_size=900))
@settings(max_examples=60, deadline=None)
def test_alerts_are_never_closer_than_the_suppression(counts: list[int]) -> None:
    alerts = scan(counts, START)
    for a, b in itertools.pairwise(alerts):
        assert b.at - a.at >= timedelta(hours=CFG.suppress_hours)
    for a in alerts:
        v = a.verdict
        assert v.observed >= CFG.min_count
        assert v.ratio >= CFG.min_ratio
        assert v.p_value < CFG.alpha


@given(history=st.lists(st.integers(min_value=0, max_value=20), max_size=400),
       window=st.lists(st.integers(min_value=0, max_value=30), min_size=6, max_size=6),
       extra=st.integers(min_value=0, max_value=50), hour=st.integers(min_value=0, max_value=5),
       slot=st.integers(0, 167))
@settings(max_examples=80, deadline=None)
def test_more_complaints_in_the_window_never_remove_a_surge(history: list[int], window: list[int], extra: int,
                                                             hour: int, slot: int) -> None:
    more = list(window)
    more[hour] += extra
    if judge(history, window, slot).surge:
        assert judge(history, more, slot).surge


@given(counts=st.lists(st.integers(min_value=0, max_value=15), min_size=200, max_size=600),
       weeks=st.integers(min_value=1, max_value=3))
@settings(max_examples=30, deadline=None)
def test_moving_by_whole_weeks_moves_the_alerts(counts: list[int], weeks: int) -> None:
    a = scan(counts, START)
    b = scan(counts, START + timedelta(weeks=weeks))
    assert [x.at + timedelta(weeks=weeks) for x in a] == [x.at for x in b]
