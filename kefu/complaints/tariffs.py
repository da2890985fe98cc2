"""Tariff advice (资费推荐; pure: no database, no clock): from a customer's usage, the cheapest plan of the
operator's catalogue that covers it, and what the customer would save against what they pay now.

- A plan covers usage when each of its allowances (data, minutes, SMS) is at least the usage; an allowance
  of None is unlimited.
- The usage to cover is, per kind, the highest of the recent months given (USAGE_MONTHS): a plan chosen on
  an average would charge overage in the busier months, and advice that raises the bill is worse than none.
- Among the covering plans the cheapest wins; at the same fee, the larger allowances (data, then minutes,
  then SMS), then the key, so the answer does not depend on the catalogue's order.
- Advice is given only when it saves money: the best plan is not the customer's own and costs less than
  what they pay now (their monthly fee, or ARPU when the caller has nothing better).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

USAGE_MONTHS = 3
INF = float("inf")


@dataclass(frozen=True)
class Plan:
    key: str
    name: str
    monthly_fee: Decimal
    data_gb: float | None = None  # None: unlimited
    minutes: int | None = None
    sms: int | None = None


@dataclass(frozen=True)
class Usage:
    """One month's use (or the usage to cover)."""

    data_gb: float = 0.0
    minutes: int = 0
    sms: int = 0


@dataclass(frozen=True)
class Advice:
    plan: Plan
    monthly_saving: Decimal
    yearly_saving: Decimal


def usage_to_cover(months: Sequence[Usage]) -> Usage:
    """Per kind, the highest of the last USAGE_MONTHS months (the newest last); no months: nothing used."""
    recent = list(months)[-USAGE_MONTHS:]
    if not recent:
        return Usage()
    return Usage(max(m.data_gb for m in recent), max(m.minutes for m in recent), max(m.sms for m in recent))


def _allowance(value: float | None) -> float:
    return INF if value is None else float(value)


def covers(plan: Plan, usage: Usage) -> bool:
    return (_allowance(plan.data_gb) >= usage.data_gb and _allowance(plan.minutes) >= usage.minutes
            and _allowance(plan.sms) >= usage.sms)


def cheapest_covering(plans: Iterable[Plan], usage: Usage) -> Plan | None:
    fitting = [p for p in plans if covers(p, usage)]
    if not fitting:
        return None
    return min(fitting, key=lambda p: (p.monthly_fee, -_allowance(p.data_gb), -_allowance(p.minutes),
                                       -_allowance(p.sms), p.key))


def advise(plans: Iterable[Plan], months: Sequence[Usage], current_fee: Decimal, *,
           current_plan: str | None = None) -> Advice | None:
    """The plan to suggest and the saving, or None when no plan covers the usage or none saves money."""
    best = cheapest_covering(plans, usage_to_cover(months))
    if best is None or best.key == current_plan:
        return None
    saving = (current_fee - best.monthly_fee).quantize(Decimal("0.01"))
    if saving <= 0:
        return None
    return Advice(best, saving, saving * 12)
