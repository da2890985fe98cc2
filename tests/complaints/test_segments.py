"""Segments (pure): the correlation-based selection drops what another variable already says, k is chosen by
silhouette and stability, profiles and handling follow from the segment's levels."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from kefu.complaints.segments import Variable, segment, select_variables, strategy

VARS = (Variable("value", "客户价值", "value"), Variable("value_twice", "消费", "value"),
        Variable("calls", "通话时长", "voice"), Variable("complaints", "投诉", "complaints"),
        Variable("flat", "常数", "other"))


def test_a_variable_another_already_says_is_dropped() -> None:
    rng = np.random.default_rng(1)
    v = rng.normal(size=200)
    x = np.column_stack([v, 2 * v + 1, rng.normal(size=200), rng.normal(size=200), np.ones(200)])
    kept, dropped = select_variables(x, VARS)
    assert kept == [0, 2, 3]
    assert dropped["value_twice"] == ("value", 1.0)
    assert dropped["flat"] == ("(constant)", 0.0)


def test_three_clear_groups_give_three_segments_with_fitting_handling() -> None:
    rng = np.random.default_rng(2)
    centers = {"vip": (5, 0, 0), "angry": (0, 0, 5), "talker": (0, 5, 0)}
    rows = []
    for c in centers.values():
        for _ in range(150):
            val, calls, comp = (np.array(c) + rng.normal(scale=0.4, size=3))
            rows.append([val, rng.normal(), calls, comp, 1.0])
    seg = segment(np.array(rows), VARS, ks=range(2, 7))
    assert seg.k == 3
    assert seg.kept == ("value", "value_twice", "calls", "complaints")
    labels = seg.assign(np.array(rows))
    assert sorted(np.bincount(labels).tolist()) == [150, 150, 150]
    by_offer = {s.strategy.offer: s for s in seg.segments}
    assert "minutes" in by_offer
    assert "客户价值高" in by_offer["bill_credit"].profile
    vip = by_offer["bill_credit"]
    assert vip.strategy.priority == "high"
    assert vip.strategy.authority_multiplier > 1.0


@given(st.floats(-3, 3), st.floats(0, 3), st.floats(-3, 3))
def test_more_value_never_lowers_priority_or_authority(value: float, more: float, complaints: float) -> None:
    rank = {"low": 0, "normal": 1, "high": 2, "urgent": 3}
    a = strategy({"value": value, "complaints": complaints}, VARS)
    b = strategy({"value": value + more, "complaints": complaints}, VARS)
    assert rank[b.priority] >= rank[a.priority]
    assert b.authority_multiplier >= a.authority_multiplier
    assert 0.5 <= a.authority_multiplier <= 2.0
