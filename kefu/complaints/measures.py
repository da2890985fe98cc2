"""The regulator's measures per month or quarter (China time), by province or city:

- complaints per 10,000 customers: complaint and appeal tickets opened (merged tickets not counted);
- repeat rate: complaints marked as repeats at classification (same customer, same category, 30 days) /
  classified complaints;
- escalation rate: complaints of the period with an escalation or appeal on record (complaint_appeals) /
  complaints;
- appeals per million customers (the MIIT measure): escalations and appeals received in the period.

Customers are those not merged into another whose unit is in the province or city, as of now (kefu keeps no
history of customer counts). `figures` is the pure part (counts in, rates out); `measures` reads the
database. Exposed as `GET /api/v1/complaints/measures` and the console page /console/complaints/measures;
kefu/analytics may call `measures` for its reports.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.core.clock import CHINA
from kefu.core.errors import InvalidInput

Period = Literal["month", "quarter"]
Level = Literal["province", "city"]


@dataclass(frozen=True)
class Measure:
    period: str  # "2026-12" or "2026Q4"
    org_unit_id: int
    unit: str
    customers: int
    complaints: int
    classified: int
    repeats: int
    escalated: int  # complaints of the period with an appeal on record
    appeals: int  # appeals received in the period

    @property
    def per_10k(self) -> float | None:
        return round(self.complaints * 10_000 / self.customers, 2) if self.customers else None

    @property
    def repeat_rate(self) -> float | None:
        return round(self.repeats / self.classified, 4) if self.classified else None

    @property
    def escalation_rate(self) -> float | None:
        return round(self.escalated / self.complaints, 4) if self.complaints else None

    @property
    def appeals_per_million(self) -> float | None:
        return round(self.appeals * 1_000_000 / self.customers, 1) if self.customers else None


def period_of(day: date, period: Period) -> str:
    return f"{day:%Y-%m}" if period == "month" else f"{day.year}Q{(day.month - 1) // 3 + 1}"


def periods(start: date, end: date, period: Period) -> list[str]:
    """The periods from start's to end's, in order."""
    out: list[str] = []
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        p = period_of(date(y, m, 1), period)
        if p not in out:
            out.append(p)
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def figures(keys: Iterable[str], units: dict[int, str], customers: Counter[int], complaints: Counter[tuple[str, int]],
            classified: Counter[tuple[str, int]], repeats: Counter[tuple[str, int]],
            escalated: Counter[tuple[str, int]], appeals: Counter[tuple[str, int]]) -> list[Measure]:
    """One Measure per (period, unit), periods in order, units in the order given."""
    return [Measure(p, u, name, customers[u], complaints[p, u], classified[p, u], repeats[p, u], escalated[p, u],
                    appeals[p, u]) for p in keys for u, name in units.items()]


def _local(at: datetime) -> date:
    return at.astimezone(CHINA).date()


def measures(session: Session, unit_ids: list[int], *, start: date, end: date, period: Period = "month",
             level: Level = "province") -> list[Measure]:
    """The measures of the provinces (or cities) among `unit_ids` (the caller's visible units), every period
    from start to end (days, China time, both included)."""
    from kefu.complaints.models import Appeal, Classification
    from kefu.customers.models import Customer
    from kefu.org.models import OrgUnit
    from kefu.tickets.models import Ticket

    if end < start or (end - start).days > 3 * 366 or start.year < 1970 or end.year > 9998:
        raise InvalidInput("the end must be on or after the start, at most three years later, from 1970 on",
                           code="invalid_range", details={"start": str(start), "end": str(end)})
    visible = set(unit_ids)
    all_units = list(session.scalars(select(OrgUnit).order_by(OrgUnit.path)))
    chosen = {u.id: u.name for u in all_units if u.kind == level and u.id in visible}
    owner: dict[int, int] = {}  # unit → its province / city among the chosen
    for u in all_units:
        for part in u.path.strip("/").split("/"):
            if part and int(part) in chosen:
                owner[u.id] = int(part)
    lo = datetime(start.year, start.month, start.day, tzinfo=CHINA)
    hi = datetime.combine(end, datetime.max.time(), tzinfo=CHINA)

    customers: Counter[int] = Counter()
    for unit_id, n in session.execute(select(Customer.org_unit_id, func.count()).where(
            Customer.merged_into_id.is_(None)).group_by(Customer.org_unit_id)):
        if unit_id in owner:
            customers[owner[unit_id]] += int(n)
    complaints: Counter[tuple[str, int]] = Counter()
    classified: Counter[tuple[str, int]] = Counter()
    repeats: Counter[tuple[str, int]] = Counter()
    escalated: Counter[tuple[str, int]] = Counter()
    rows = session.execute(
        select(Ticket.id, Ticket.org_unit_id, Ticket.opened_at, Classification.id, Classification.repeat_of_id)
        .outerjoin(Classification, Classification.ticket_id == Ticket.id)
        .where(Ticket.type.in_(("complaint", "appeal")), Ticket.status != "merged", Ticket.opened_at >= lo,
               Ticket.opened_at <= hi))
    keyed: dict[int, tuple[str, int]] = {}
    for tid, unit_id, opened, cid, repeat_of in rows:
        if unit_id not in owner:
            continue
        key = (period_of(_local(opened), period), owner[unit_id])
        keyed[tid] = key
        complaints[key] += 1
        classified[key] += cid is not None
        repeats[key] += repeat_of is not None
    if keyed:
        with_appeal = set(session.scalars(select(Appeal.ticket_id).where(Appeal.ticket_id.in_(list(keyed)))))
        for tid in with_appeal:
            escalated[keyed[tid]] += 1
    appeals: Counter[tuple[str, int]] = Counter()
    for unit_id, received in session.execute(select(Appeal.org_unit_id, Appeal.received_on).where(
            Appeal.received_on >= start, Appeal.received_on <= end)):
        if unit_id in owner:
            appeals[period_of(received, period), owner[unit_id]] += 1
    return figures(periods(start, end, period), chosen, customers, complaints, classified, repeats, escalated,
                   appeals)
