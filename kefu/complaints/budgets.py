"""Monthly compensation budgets per org unit: the most a unit and everything below it may grant in one calendar
month (China time). A grant (or an approval) must fit every budget set on the ticket's unit and on the units
above it for that month; it is refused with 409 `budget_exceeded`, nothing written, when it does not. A unit
without a budget row has no budget limit. Services flush, never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.complaints.models import Budget, Compensation
from kefu.core.auth import Principal
from kefu.core.clock import CHINA, utcnow
from kefu.core.errors import Conflict, InvalidInput
from kefu.org import service as org
from kefu.org.models import OrgUnit

MAX_BUDGET = Decimal("100000000")
CENT = Decimal("0.01")


class BudgetExceeded(Conflict):
    code = "budget_exceeded"


@dataclass(frozen=True)
class BudgetUse:
    unit: OrgUnit
    month: date
    amount: Decimal
    spent: Decimal

    @property
    def left(self) -> Decimal:
        return self.amount - self.spent


def month_of(at: datetime) -> date:
    """The first day of `at`'s month in China time."""
    return at.astimezone(CHINA).date().replace(day=1)


def _month_bounds(month: date) -> tuple[datetime, datetime]:
    nxt = month.replace(year=month.year + 1, month=1) if month.month == 12 else month.replace(month=month.month + 1)
    return (datetime(month.year, month.month, 1, tzinfo=CHINA), datetime(nxt.year, nxt.month, 1, tzinfo=CHINA))


def parse_month(text: str) -> date:
    """"2026-12" → 2026-12-01; 422 `invalid_month` otherwise."""
    try:
        y, m = text.strip().split("-")
        return date(int(y), int(m), 1)
    except ValueError:
        raise InvalidInput(f"{text!r} is not a month (YYYY-MM)", code="invalid_month",
                           details={"field": "month"}) from None


def spent(session: Session, unit: OrgUnit, month: date) -> Decimal:
    """Compensation granted in the month by tickets of the unit and the units below it."""
    start, end = _month_bounds(month)
    total = session.scalar(select(func.coalesce(func.sum(Compensation.amount), 0))
                           .join(OrgUnit, OrgUnit.id == Compensation.org_unit_id)
                           .where(Compensation.status == "granted", OrgUnit.path.startswith(unit.path),
                                  Compensation.decided_at >= start, Compensation.decided_at < end))
    return Decimal(total or 0).quantize(CENT)


def uses(session: Session, unit_ids: list[int], month: date, *, lock: bool = False) -> list[BudgetUse]:
    """The budgets of these units in the month, with what was spent against each, in tree order (`lock`: the
    budget rows stay locked until commit, so two grants cannot both take the last of a budget)."""
    stmt = (select(Budget, OrgUnit).join(OrgUnit, OrgUnit.id == Budget.org_unit_id)
            .where(Budget.org_unit_id.in_(unit_ids), Budget.month == month).order_by(OrgUnit.path))
    found = session.execute(stmt.with_for_update(of=Budget) if lock else stmt).all()
    return [BudgetUse(u, month, Decimal(b.amount).quantize(CENT), spent(session, u, month)) for b, u in found]


def check(session: Session, org_unit_id: int, amount: Decimal, at: datetime) -> None:
    """409 `budget_exceeded` when granting `amount` now for a ticket of this unit would overrun a budget of the
    unit or of a unit above it."""
    unit = org.org_unit(session, org_unit_id)
    above = [int(p) for p in unit.path.strip("/").split("/") if p]
    for use in uses(session, above, month_of(at), lock=True):
        if use.spent + amount > use.amount:
            raise BudgetExceeded(
                f"{amount} yuan would overrun {use.unit.name}'s budget for {use.month:%Y-%m} "
                f"({use.spent} of {use.amount} yuan granted)",
                details={"org_unit_id": use.unit.id, "month": f"{use.month:%Y-%m}", "budget": str(use.amount),
                         "spent": str(use.spent), "amount": str(amount)})


def set_budget(session: Session, principal: Principal, org_unit_id: int, month: date, amount: Decimal,
               *, at: datetime | None = None) -> Budget:
    """Set (or change) a unit's budget for a month; the unit must be in the caller's scope (404 otherwise)."""
    org.check_visible(session, principal, org_unit_id)
    if not (Decimal(0) <= amount <= MAX_BUDGET) or amount != amount.quantize(CENT):
        raise InvalidInput("a budget is 0 to 100,000,000 yuan, in fen", code="invalid_amount",
                           details={"field": "amount"})
    at = at or utcnow()
    b = session.scalars(select(Budget).where(Budget.org_unit_id == org_unit_id, Budget.month == month)).first()
    if b is None:
        b = Budget(org_unit_id=org_unit_id, month=month, amount=amount, set_by_id=principal.user_id, updated_at=at)
        session.add(b)
    else:
        b.amount, b.set_by_id, b.updated_at = amount, principal.user_id, at
    session.flush()
    return b


def visible(session: Session, principal: Principal, month: date) -> list[BudgetUse]:
    return uses(session, org.visible_unit_ids(session, principal), month)
