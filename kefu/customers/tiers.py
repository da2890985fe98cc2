"""Tier rules as data, and the decisions made from them. Pure: no database, no clock.

Rules are ordered; a customer gets the tier of the first rule whose ARPU and tenure minimums both
hold. The last rule must be the catch-all (ARPU 0, tenure 0), and no rule may be unreachable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from kefu.core.errors import InvalidInput

TIERS = ("diamond", "gold", "silver", "standard")
# Higher is better; used to say whether a change is an upgrade and in property tests.
TIER_RANK = {"standard": 0, "silver": 1, "gold": 2, "diamond": 3}
MAX_RULES = 20
MAX_ARPU = Decimal("99999999.99")  # Numeric(10, 2)
CENT = Decimal("0.01")


class InvalidTierRules(InvalidInput):
    code = "invalid_tier_rules"


@dataclass(frozen=True)
class Rule:
    tier: str
    min_arpu: Decimal
    min_tenure_months: int

    def matches(self, arpu: Decimal, tenure_months: int) -> bool:
        return arpu >= self.min_arpu and tenure_months >= self.min_tenure_months


def money(value: Decimal | int | float | str) -> Decimal:
    """A yuan amount rounded to the cent, as stored (Numeric(10, 2))."""
    try:
        d = Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise InvalidInput(f"'{value}' is not an amount") from None
    if not d.is_finite():
        raise InvalidInput(f"'{value}' is not an amount")
    return d


def validate_rules(rules: Sequence[Rule]) -> list[Rule]:
    """The rules, amounts rounded to the cent, or InvalidTierRules naming the first problem."""
    if not rules:
        raise InvalidTierRules("at least one tier rule is needed (the catch-all: ARPU 0, tenure 0)")
    if len(rules) > MAX_RULES:
        raise InvalidTierRules(f"at most {MAX_RULES} tier rules, got {len(rules)}")
    out: list[Rule] = []
    for i, r in enumerate(rules, start=1):
        if r.tier not in TIERS:
            raise InvalidTierRules(f"rule {i}: unknown tier '{r.tier}' (one of {', '.join(TIERS)})",
                                   details={"rule": i})
        arpu = money(r.min_arpu)
        if arpu < 0 or r.min_tenure_months < 0:
            raise InvalidTierRules(f"rule {i}: minimums must not be negative", details={"rule": i})
        if arpu > MAX_ARPU:
            raise InvalidTierRules(f"rule {i}: minimum ARPU above {MAX_ARPU}", details={"rule": i})
        rule = Rule(r.tier, arpu, int(r.min_tenure_months))
        for j, earlier in enumerate(out, start=1):
            if earlier.min_arpu <= rule.min_arpu and earlier.min_tenure_months <= rule.min_tenure_months:
                what = "the catch-all" if i == len(rules) else "this rule"
                raise InvalidTierRules(
                    f"rule {i} ({rule.tier}) can never apply: rule {j} ({earlier.tier}) comes first and "
                    f"catches every customer {what} would", details={"rule": i, "shadowed_by": j})
        out.append(rule)
    last = out[-1]
    if last.min_arpu != 0 or last.min_tenure_months != 0:
        raise InvalidTierRules(
            "the last rule must catch every customer (minimum ARPU 0 and tenure 0), "
            f"got {last.tier} from ARPU {last.min_arpu} and {last.min_tenure_months} months",
            details={"rule": len(out)})
    return out


def compute_tier(arpu: Decimal, tenure_months: int, rules: Sequence[Rule]) -> str:
    """The tier of the first rule that matches; "standard" if none does (valid rules always match)."""
    for rule in rules:
        if rule.matches(arpu, tenure_months):
            return rule.tier
    return "standard"


def is_vip(arpu: Decimal, threshold: Decimal) -> bool:
    """VIP from the threshold up (the setting is the minimum ARPU, `vip_min_arpu`)."""
    return arpu >= threshold
