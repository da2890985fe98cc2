"""Shift scheduling with CP-SAT, coverage report and what-if."""

from __future__ import annotations

import math

import pytest

from kefu.workforce.errors import WorkforceInputError
from kefu.workforce.schedule import ShiftRules, build_schedule, coverage_report, plan_day, what_if
from kefu.workforce.staffing import StaffingTarget

RULES = ShiftRules(interval_minutes=30, shift_lengths=[8, 16], start_step=1, break_length=1,
                   break_earliest=3, break_latest=5)


def test_schedule_covers_requirement_with_breaks_inside_their_window() -> None:
    required = [0, 2, 3, 3, 4, 4, 3, 3, 2, 2, 1, 0]
    schedule = build_schedule(required, RULES, time_limit=5)
    assert schedule.under == [0] * len(required)
    assert all(c >= r for c, r in zip(schedule.coverage, required, strict=True))
    for shift in schedule.shifts:
        assert shift.break_start is not None
        assert 3 <= shift.break_start - shift.start <= 5
        assert shift.start + shift.length <= len(required)
    assert schedule.paid_intervals == sum(s.length * s.agents for s in schedule.shifts)


def test_agent_cap_leaves_under_coverage_instead_of_failing() -> None:
    rules = ShiftRules(interval_minutes=30, shift_lengths=[8], max_agents=2)
    schedule = build_schedule([5] * 8, rules, time_limit=5)
    assert sum(s.agents for s in schedule.shifts) == 2
    assert schedule.under == [3] * 8


def test_hours_bounds_filter_shift_lengths() -> None:
    rules = ShiftRules(interval_minutes=30, shift_lengths=[4, 8, 16], min_hours=3, max_hours=5)
    assert rules.lengths() == [8]
    with pytest.raises(WorkforceInputError, match="min_hours"):
        ShiftRules(interval_minutes=30, shift_lengths=[4], min_hours=3).lengths()


def test_coverage_report_weights_day_totals_by_calls() -> None:
    workload = [(0.0, 180.0), (100.0, 180.0), (300.0, 180.0)]
    report = coverage_report(workload, 1800, [0, 13, 36], [0, 13, 30], patience=300)
    quiet, c4, short = report.intervals
    assert quiet.calls == 0
    assert c4.service_level == pytest.approx(0.858178, abs=5e-7)  # published case C4
    assert short.abandon_rate > c4.abandon_rate
    assert report.service_level == pytest.approx((100 * c4.service_level + 300 * short.service_level) / 400)
    assert report.answer_rate + report.abandon_rate == pytest.approx(1.0)


def test_interval_without_agents_answers_nothing() -> None:
    report = coverage_report([(10.0, 180.0)], 1800, [2], [0], patience=300)
    assert (report.service_level, report.answer_rate, report.abandon_rate) == (0.0, 0.0, 1.0)


def test_plan_and_what_if_scale_with_volume() -> None:
    workload = [(20.0 + 40 * math.sin(math.pi * t / 12) ** 2, 240.0) for t in range(12)]
    target = StaffingTarget(service_level=0.8, target_time=20)
    plan = plan_day(workload, RULES, target, patience=120, time_limit=5)
    assert plan.schedule.under == [0] * 12
    assert plan.report.service_level >= 0.8
    busier = what_if(workload, RULES, target, patience=120, volume_scale=1.5, time_limit=5)
    assert all(b >= a for a, b in zip(plan.required, busier.required, strict=True))
    assert sum(busier.required) > sum(plan.required)
    stricter = what_if(workload, RULES, target, patience=120,
                       new_target=StaffingTarget(service_level=0.95, target_time=20), time_limit=5)
    assert sum(stricter.required) > sum(plan.required)


def test_mismatched_lengths_are_refused() -> None:
    with pytest.raises(WorkforceInputError, match="one entry per interval"):
        coverage_report([(1.0, 1.0)], 1800, [1, 2], [1], patience=60)
