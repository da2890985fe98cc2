"""The operator's plan catalogue (kept by an administrator: /console/complaints/plans) and tariff advice for a
customer from it (the choice itself is pure: kefu/complaints/tariffs.py). Services flush, never commit.

The usage comes from the agent, who reads it in the billing system (kefu keeps the customer's consumption
mix, not their volumes): per kind, the busiest of the last months. What the customer pays now defaults to
their ARPU, and their plan is the catalogue plan whose key or name is the customer's `plan`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.complaints import tariffs
from kefu.complaints.models import TariffPlan
from kefu.core.clock import utcnow
from kefu.core.errors import InvalidInput

KEY_RE = re.compile(r"^[a-z0-9_-]{1,40}$")
MAX_FEE = Decimal("100000")


class InvalidPlan(InvalidInput):
    code = "invalid_plan"


class InvalidUsage(InvalidInput):
    code = "invalid_usage"


@dataclass(frozen=True)
class PlanSpec:
    key: str
    name: str
    monthly_fee: Decimal
    data_gb: float | None = None
    minutes: int | None = None
    sms: int | None = None
    name_en: str | None = None
    active: bool = True


def catalogue(session: Session, *, active_only: bool = False) -> list[TariffPlan]:
    q = select(TariffPlan).order_by(TariffPlan.active.desc(), TariffPlan.monthly_fee, TariffPlan.key)
    if active_only:
        q = q.where(TariffPlan.active.is_(True))
    return list(session.scalars(q))


def save_plan(session: Session, spec: PlanSpec, *, actor_id: int | None, at: datetime | None = None) -> TariffPlan:
    """Create a plan or change one (by key), checked before anything is written."""
    if not KEY_RE.match(spec.key):
        raise InvalidPlan("a plan key is 1-40 lower-case letters, digits, '-' or '_'", details={"field": "key"})
    name = spec.name.strip()
    if not name or len(name) > 100:
        raise InvalidPlan("a plan needs a name (at most 100 characters)", details={"field": "name"})
    if not Decimal(0) <= spec.monthly_fee <= MAX_FEE or spec.monthly_fee != spec.monthly_fee.quantize(Decimal("0.01")):
        raise InvalidPlan("the monthly fee is 0 to 100000 yuan, to the fen", details={"field": "monthly_fee"})
    for field in ("data_gb", "minutes", "sms"):
        value = getattr(spec, field)
        if value is not None and not 0 <= value <= 1_000_000:
            raise InvalidPlan(f"{field} is 0 or more (empty: unlimited)", details={"field": field})
    row = session.scalar(select(TariffPlan).where(TariffPlan.key == spec.key))
    if row is None:
        row = TariffPlan(key=spec.key)
        session.add(row)
    row.name, row.name_en = name, (spec.name_en or "").strip()[:100] or None
    row.monthly_fee, row.data_gb, row.minutes, row.sms = spec.monthly_fee, spec.data_gb, spec.minutes, spec.sms
    row.active, row.updated_at, row.updated_by_id = spec.active, at or utcnow(), actor_id
    session.flush()
    return row


def _plan(row: TariffPlan) -> tariffs.Plan:
    return tariffs.Plan(row.key, row.name, Decimal(row.monthly_fee), row.data_gb, row.minutes, row.sms)


@dataclass(frozen=True)
class AdviceFor:
    """What the advice was asked with and what it found (None: nothing covers the usage and saves money)."""

    usage: tariffs.Usage
    current_fee: Decimal
    current_plan: TariffPlan | None
    advice: tariffs.Advice | None
    covering: int  # active plans that cover the usage
    plan: TariffPlan | None = None  # the advised plan's catalogue row (None without advice)


def customer_of_ticket(session: Session, principal: Any, ticket_id: int | None) -> Any | None:
    """The customer of a ticket the principal may see (404 otherwise), resolved through merges; None without."""
    from kefu.customers import service as customers
    from kefu.tickets import service as tickets

    if ticket_id is None:
        return None
    ticket = tickets.get_visible(session, principal, ticket_id)
    if ticket.customer_id is None:
        return None
    return customers.resolve(session, customers.get(session, ticket.customer_id))


def current_plan(session: Session, customer: Any | None, *, rows: list[TariffPlan] | None = None
                 ) -> TariffPlan | None:
    """The catalogue plan the customer is on: the one whose key or name is their `plan` (among `rows`, the
    catalogue read already, when given)."""
    label = (getattr(customer, "plan", None) or "").strip()
    if not label:
        return None
    return next((p for p in (catalogue(session) if rows is None else rows) if label in (p.key, p.name)), None)


def advise(session: Session, usage: tariffs.Usage, *, current_fee: Decimal | None, customer: Any | None = None
           ) -> AdviceFor:
    """Tariff advice for this usage (the busiest recent month) over the active catalogue: what the customer pays
    now is `current_fee`, else their plan's fee, else their ARPU."""
    if usage.data_gb < 0 or usage.minutes < 0 or usage.sms < 0:
        raise InvalidUsage("usage is 0 or more", details={"field": "usage"})
    rows = catalogue(session)  # read once: the customer's plan, the plans on sale and the advised one's row
    mine = current_plan(session, customer, rows=rows)
    if current_fee is None:
        current_fee = Decimal(mine.monthly_fee) if mine is not None else Decimal(getattr(customer, "arpu", 0) or 0)
    if current_fee < 0:
        raise InvalidUsage("what the customer pays is 0 or more", details={"field": "current_fee"})
    active = [_plan(p) for p in rows if p.active]
    advice = tariffs.advise(active, [usage], current_fee, current_plan=mine.key if mine is not None else None)
    chosen = next((p for p in rows if p.key == advice.plan.key), None) if advice is not None else None
    return AdviceFor(usage, current_fee, mine, advice, sum(tariffs.covers(p, usage) for p in active), chosen)
