from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kefu.customers.tiers import TIER_RANK, InvalidTierRules, Rule, compute_tier, is_vip, validate_rules

DEFAULT = [Rule("diamond", Decimal("300"), 60), Rule("gold", Decimal("158"), 24),
           Rule("silver", Decimal("88"), 12), Rule("standard", Decimal("0"), 0)]
CATCH_ALL = Rule("standard", Decimal(0), 0)


@pytest.mark.parametrize(("arpu", "tenure", "tier"), [
    ("300.00", 60, "diamond"),
    ("299.99", 60, "gold"),
    ("500.00", 59, "gold"),
    ("158.00", 24, "gold"),
    ("158.00", 23, "silver"),
    ("88.00", 12, "silver"),
    ("1000.00", 11, "standard"),
    ("0.00", 0, "standard"),
])
def test_first_matching_rule_gives_the_tier(arpu: str, tenure: int, tier: str) -> None:
    assert compute_tier(Decimal(arpu), tenure, DEFAULT) == tier


def test_vip_from_the_threshold_up() -> None:
    assert is_vip(Decimal("120.00"), Decimal("120.00")) is True
    assert is_vip(Decimal("119.99"), Decimal("120.00")) is False


def test_valid_rules_are_rounded_to_the_cent() -> None:
    rules = validate_rules([Rule("gold", Decimal("99.995"), 3), Rule("standard", Decimal(0), 0)])
    assert rules == [Rule("gold", Decimal("100.00"), 3), Rule("standard", Decimal("0.00"), 0)]


@pytest.mark.parametrize(("rules", "message"), [
    ([], "at least one tier rule is needed (the catch-all: ARPU 0, tenure 0)"),
    ([Rule("gold", Decimal(100), 0)],
     "the last rule must catch every customer (minimum ARPU 0 and tenure 0), got gold from ARPU 100.00 and "
     "0 months"),
    ([Rule("platinum", Decimal(100), 0), Rule("standard", Decimal(0), 0)],
     "rule 1: unknown tier 'platinum' (one of diamond, gold, silver, standard)"),
    ([Rule("gold", Decimal(-1), 0), CATCH_ALL], "rule 1: minimums must not be negative"),
    ([Rule("gold", Decimal(1), -3), CATCH_ALL], "rule 1: minimums must not be negative"),
    ([CATCH_ALL, Rule("gold", Decimal(100), 0), CATCH_ALL],
     "rule 2 (gold) can never apply: rule 1 (standard) comes first and catches every customer this rule "
     "would"),
    ([Rule("silver", Decimal(50), 0), Rule("gold", Decimal(100), 12), CATCH_ALL],
     "rule 2 (gold) can never apply: rule 1 (silver) comes first and catches every customer this rule would"),
])
def test_invalid_rules_are_refused(rules: list[Rule], message: str) -> None:
    with pytest.raises(InvalidTierRules) as exc:
        validate_rules(rules)
    assert exc.value.message == message
    assert exc.value.code == "invalid_tier_rules"


@st.composite
def descending_rules(draw: st.DrawFn) -> list[Rule]:
    """Rules with thresholds descending in both ARPU and tenure and tiers from best to worst."""
    n = draw(st.integers(min_value=0, max_value=3))
    tiers = draw(st.lists(st.sampled_from(["diamond", "gold", "silver"]), min_size=n, max_size=n))
    tiers.sort(key=lambda t: -TIER_RANK[t])
    arpus = sorted(draw(st.lists(st.integers(1, 100_000), min_size=n, max_size=n, unique=True)), reverse=True)
    tenures = sorted(draw(st.lists(st.integers(0, 240), min_size=n, max_size=n)), reverse=True)
    rules = [Rule(t, Decimal(a) / 100, m) for t, a, m in zip(tiers, arpus, tenures, strict=True)]
    return validate_rules([*rules, Rule("standard", Decimal(0), 0)])


RELAXED = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@RELAXED
@given(descending_rules(), st.integers(0, 200_000), st.integers(0, 200_000), st.integers(0, 300))
def test_more_arpu_never_lowers_the_tier(rules: list[Rule], a: int, b: int, tenure: int) -> None:
    low, high = sorted((Decimal(a) / 100, Decimal(b) / 100))
    assert TIER_RANK[compute_tier(high, tenure, rules)] >= TIER_RANK[compute_tier(low, tenure, rules)]


@RELAXED
@given(descending_rules(), st.integers(0, 200_000), st.integers(0, 300))
def test_valid_rules_give_every_customer_a_tier_of_some_rule(rules: list[Rule], a: int, tenure: int) -> None:
    tier = compute_tier(Decimal(a) / 100, tenure, rules)
    assert tier in {r.tier for r in rules}
