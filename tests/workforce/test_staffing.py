"""Staffing searches, shrinkage and whole days."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.workforce.erlang import erlang_a, erlang_c, p_wait_at_most
from kefu.workforce.errors import WorkforceInputError
from kefu.workforce.staffing import (
    StaffingTarget,
    gmr_p_wait,
    halfin_whitt_p_wait,
    required_agents,
    scheduled_agents,
    square_root_beta,
    staff_day,
)

C1_RATE = 100 / 1800
EIGHTY_TWENTY = StaffingTarget(service_level=0.8, target_time=20)


def test_c1_needs_14_agents_and_20_scheduled_at_30_percent_shrinkage() -> None:
    result = required_agents(C1_RATE, 180, EIGHTY_TWENTY)
    assert result.agents == 14
    assert scheduled_agents(result.agents, 0.3) == 20
    assert scheduled_agents(14, "0.3") == 20
    assert scheduled_agents(14, Fraction(3, 10)) == 20


def test_c4_erlang_a_staffs_13_where_erlang_c_staffs_14() -> None:
    assert required_agents(C1_RATE, 180, EIGHTY_TWENTY, patience=300).agents == 13


def test_shrinkage_rounds_up_exactly() -> None:
    assert scheduled_agents(0, 0.5) == 0
    assert scheduled_agents(7, 0) == 7
    assert scheduled_agents(10, 0.35) == 16  # 15.38 -> 16
    assert scheduled_agents(13, 0.35) == 20  # 13 / 0.65 = 20 exactly


def test_shrinkage_of_one_is_refused() -> None:
    with pytest.raises(WorkforceInputError, match="shrinkage"):
        scheduled_agents(14, 1)


def test_combined_constraints_take_the_strictest() -> None:
    both = StaffingTarget(service_level=0.8, target_time=20, max_occupancy=0.6)
    assert required_agents(C1_RATE, 180, both).agents == 17  # ceil(10 / 0.6)
    asa = StaffingTarget(max_asa=5.0)
    n = required_agents(C1_RATE, 180, asa).agents
    assert erlang_c(n, C1_RATE, 180, 0).asa <= 5.0 < erlang_c(n - 1, C1_RATE, 180, 0).asa


def test_abandonment_cap_under_erlang_a() -> None:
    n = required_agents(C1_RATE, 180, StaffingTarget(max_abandon=0.01), patience=300).agents
    assert erlang_a(n, C1_RATE, 180, 300, 20).p_abandon <= 0.01
    assert erlang_a(n - 1, C1_RATE, 180, 300, 20).p_abandon > 0.01


@pytest.mark.parametrize(
    ("target", "patience", "message"),
    [
        (StaffingTarget(max_asa=0), None, "ASA of 0"),
        (StaffingTarget(max_abandon=0), 300.0, "max_abandon"),
        (StaffingTarget(max_abandon=0.05), None, "needs a patience"),
        (StaffingTarget(service_level=1.0), None, "between 0 and 1"),
        (StaffingTarget(service_level=0.0), None, "between 0 and 1"),
        (StaffingTarget(service_level=1.5), 300.0, "between 0 and 1"),
        (StaffingTarget(max_occupancy=0), None, "max_occupancy"),
        (StaffingTarget(), None, "at least one target"),
    ],
)
def test_impossible_or_malformed_targets_raise(target: StaffingTarget, patience: float | None,
                                               message: str) -> None:
    with pytest.raises(WorkforceInputError, match=message):
        required_agents(C1_RATE, 180, target, patience=patience)


def test_negative_rate_is_refused() -> None:
    with pytest.raises(WorkforceInputError, match="arrival_rate"):
        required_agents(-1, 180, EIGHTY_TWENTY)


def test_twenty_thousand_erlangs_is_staffed_minimally() -> None:
    rate = 20_000 / 180
    for patience in (None, 300.0):
        n = required_agents(rate, 180, EIGHTY_TWENTY, patience=patience).agents
        evaluate = (lambda k: erlang_c(k, rate, 180, 20)) if patience is None else (
            lambda k: erlang_a(k, rate, 180, 300, 20))
        assert evaluate(n).service_level >= 0.8 > evaluate(n - 1).service_level


@settings(max_examples=120, deadline=None)
@given(load=st.floats(min_value=0.05, max_value=3_000), aht=st.floats(min_value=10, max_value=900),
       level=st.floats(min_value=0.05, max_value=0.99), target_time=st.floats(min_value=0, max_value=300),
       patience=st.one_of(st.none(), st.floats(min_value=5, max_value=3_600)))
def test_required_agents_is_the_least_that_meets_the_target(
    load: float, aht: float, level: float, target_time: float, patience: float | None
) -> None:
    target = StaffingTarget(service_level=level, target_time=target_time)
    result = required_agents(load / aht, aht, target, patience=patience)
    assert result.metrics.service_level >= level
    n = result.agents
    if n > (math.floor(load) + 1 if patience is None else 1):
        below = (erlang_c(n - 1, load / aht, aht, target_time) if patience is None
                 else erlang_a(n - 1, load / aht, aht, patience, target_time))
        assert below.service_level < level


def test_staff_day_equals_interval_by_interval_search() -> None:
    day = [(0.0, 180.0)] + [(calls, 200.0) for calls in (50, 120, 400, 400, 2_000, 900, 3)]
    expected = [0] + [required_agents(c / 1800, 200, EIGHTY_TWENTY).agents for c, _ in day[1:]]
    assert staff_day(day, 1800, EIGHTY_TWENTY) == expected
    expected_a = [0] + [required_agents(c / 1800, 200, EIGHTY_TWENTY, patience=120).agents
                        for c, _ in day[1:]]
    assert staff_day(day, 1800, EIGHTY_TWENTY, patience=120) == expected_a


def test_staff_day_refuses_negative_volume() -> None:
    with pytest.raises(WorkforceInputError, match="arrivals"):
        staff_day([(-1.0, 180.0)], 1800, EIGHTY_TWENTY)


def test_the_square_root_helpers_are_public_and_agree_with_the_exact_formulas() -> None:
    # Halfin-Whitt at beta -> 0 waits surely; large beta hardly ever; a large centre is close to Erlang C
    assert halfin_whitt_p_wait(1e-9) == pytest.approx(1.0)
    assert halfin_whitt_p_wait(3.0) < 0.01
    load = 400.0
    n = int(load + 1.0 * math.sqrt(load))
    exact = erlang_c(n, load / 180, 180, 0).p_wait
    assert halfin_whitt_p_wait((n - load) / math.sqrt(load)) == pytest.approx(exact, abs=0.02)
    # GMR with patience = AHT (r = 1) is close to Erlang A's P(wait) at the same staffing
    a_exact = erlang_a(n, load / 180, 180, 180, 0).p_wait
    assert gmr_p_wait((n - load) / math.sqrt(load), 1.0) == pytest.approx(a_exact, abs=0.02)
    with pytest.raises(WorkforceInputError):
        halfin_whitt_p_wait(0.0)
    # beta: the approximation's n for 80 % in 20 s lands within an agent or two of the exact least n
    target = StaffingTarget(service_level=0.8, target_time=20)
    beta = square_root_beta(load, 180, target)
    assert abs(load + beta * math.sqrt(load) - required_agents(load / 180, 180, target).agents) <= 2
    # P(wait <= t): Erlang C's service level; Erlang A counts callers who gave up within t as done waiting
    assert p_wait_at_most(n, load / 180, 180, 20) == erlang_c(n, load / 180, 180, 20).service_level
    within = p_wait_at_most(n, load / 180, 180, 20, patience=180)
    assert erlang_a(n, load / 180, 180, 180, 20).service_level <= within <= 1
    assert p_wait_at_most(10, 1.0, 20, 5) == 0.0  # 20 Erlangs on 10 agents: the queue never ends
