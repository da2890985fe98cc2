"""Compensation with authority: a grant within the granter's authority is made at once; above it the request
waits for someone whose authority covers it (approve, or reject with a reason). Authority = the user's
`authority_limit` (yuan) × the customer's segment multiplier (kefu/complaints/customer_segments.py; 1.0 for a
customer without a segment). An attempt beyond the caller's authority is refused (403 `authority_exceeded`),
one beyond a monthly budget of the ticket's unit or a unit above it (kefu/complaints/budgets.py) is refused
(409 `budget_exceeded`); either writes nothing. Services flush,
never commit; event `complaint.compensation_granted` when a compensation is granted. Every request, grant and
rejection is written to the audit log (kefu.org.audit: `complaint.compensation_requested` / `_granted` /
`_rejected`, with the ticket, kind and amount)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.complaints import budgets
from kefu.complaints.models import COMPENSATION_KINDS, Compensation
from kefu.core import events
from kefu.core.auth import Principal
from kefu.core.clock import utcnow
from kefu.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from kefu.org import service as org
from kefu.tickets import service as tickets

MAX_AMOUNT = Decimal("100000")


class AuthorityExceeded(Forbidden):
    code = "authority_exceeded"


class CompensationNotFound(NotFound):
    code = "compensation_not_found"


class NotPending(Conflict):
    code = "compensation_not_pending"


def authority(session: Session, principal: Principal, customer_id: int | None) -> Decimal:
    """The most the principal may grant this customer: their limit × the customer's segment multiplier."""
    from kefu.complaints import customer_segments

    user = org.user(session, principal.user_id) if principal.user_id is not None else None
    if user is None:
        return Decimal(0)
    seg = customer_segments.of_customer(session, customer_id)
    multiplier = Decimal(seg.authority_multiplier) if seg is not None else Decimal(1)
    return (Decimal(user.authority_limit) * multiplier).quantize(Decimal("0.01"))


def _check_amount(kind: str, amount: Decimal) -> None:
    if kind not in COMPENSATION_KINDS:
        raise InvalidInput(f"unknown compensation kind {kind!r}", code="unknown_compensation_kind",
                           details={"field": "kind", "allowed": list(COMPENSATION_KINDS)})
    if not (Decimal(0) < amount <= MAX_AMOUNT) or amount != amount.quantize(Decimal("0.01")):
        raise InvalidInput("the amount must be more than 0 and at most 100000 yuan, in fen",
                           code="invalid_amount", details={"field": "amount"})


def _granted(session: Session, c: Compensation, at: datetime) -> None:
    events.record(session, "complaint.compensation_granted",
                  {"compensation_id": c.id, "ticket_id": c.ticket_id, "customer_id": c.customer_id,
                   "kind": c.kind, "amount": str(c.amount), "decided_by_id": c.decided_by_id},
                  aggregate_type="ticket", aggregate_id=c.ticket_id, org_unit_id=c.org_unit_id, at=at)


def _audit(session: Session, principal: Principal, c: Compensation, action: str, at: datetime) -> None:
    from kefu.org import audit

    details: dict[str, object] = {"ticket_id": c.ticket_id, "customer_id": c.customer_id, "kind": c.kind,
                                  "amount": f"{Decimal(c.amount):.2f}"}
    if c.decision_reason:
        details["reason"] = c.decision_reason
    audit.record(session, f"complaint.compensation_{action}", object_id=c.id, org_unit_id=c.org_unit_id,
                 details=details, actor=principal, at=at)


def grant(session: Session, principal: Principal, ticket_id: int, *, kind: str, amount: Decimal,
          note: str | None = None, request_approval: bool = False, at: datetime | None = None) -> Compensation:
    """Grant within authority; above it, 403 `authority_exceeded` unless `request_approval` (then it waits)."""
    at = at or utcnow()
    ticket = tickets.get_visible(session, principal, ticket_id)
    _check_amount(kind, amount)
    limit = authority(session, principal, ticket.customer_id)
    within = amount <= limit
    if not within and not request_approval:
        raise AuthorityExceeded(f"{amount} yuan is above your authority of {limit} yuan: ask for approval",
                                details={"amount": str(amount), "authority": str(limit)})
    if within:
        budgets.check(session, ticket.org_unit_id, amount, at)
    c = Compensation(ticket_id=ticket.id, customer_id=ticket.customer_id, org_unit_id=ticket.org_unit_id,
                     kind=kind, amount=amount, note=(note or None), requested_by_id=principal.user_id,
                     status="granted" if within else "pending_approval", created_at=at,
                     decided_by_id=principal.user_id if within else None, decided_at=at if within else None)
    session.add(c)
    session.flush()
    if within:
        _granted(session, c, at)
    _audit(session, principal, c, "granted" if within else "requested", at)
    return c


def _pending(session: Session, principal: Principal, compensation_id: int) -> Compensation:
    from kefu.complaints.service import of_visible_ticket

    c = of_visible_ticket(session, principal, Compensation, compensation_id, CompensationNotFound, "compensation")
    if c.status != "pending_approval":
        raise NotPending(f"compensation {compensation_id} is {c.status}", details={"status": c.status})
    return c


def decide(session: Session, principal: Principal, compensation_id: int, *, approve: bool,
           reason: str | None = None, at: datetime | None = None) -> Compensation:
    """Approve (needs authority covering the amount) or reject (needs a reason)."""
    at = at or utcnow()
    c = _pending(session, principal, compensation_id)
    if approve:
        limit = authority(session, principal, c.customer_id)
        if c.amount > limit:
            raise AuthorityExceeded(f"{c.amount} yuan is above your authority of {limit} yuan",
                                    details={"amount": str(c.amount), "authority": str(limit)})
        budgets.check(session, c.org_unit_id, c.amount, at)
    elif not (reason or "").strip():
        raise InvalidInput("a rejection needs a reason", code="reason_required", details={"field": "reason"})
    c.status = "granted" if approve else "rejected"
    c.decided_by_id, c.decided_at, c.decision_reason = principal.user_id, at, (reason or "").strip() or None
    session.flush()
    if approve:
        _granted(session, c, at)
    _audit(session, principal, c, "granted" if approve else "rejected", at)
    return c


def for_ticket(session: Session, ticket_id: int) -> list[Compensation]:
    return list(session.scalars(select(Compensation).where(Compensation.ticket_id == ticket_id)
                                .order_by(Compensation.id)))


def granted_on(session: Session, ticket_ids: Any) -> Decimal:
    """The value granted (status granted) on the tickets `ticket_ids` names (a list, or a SELECT of ids): a
    playbook run's compensation against its budget."""
    total = session.scalar(select(func.coalesce(func.sum(Compensation.amount), 0))
                           .where(Compensation.ticket_id.in_(ticket_ids), Compensation.status == "granted"))
    return Decimal(total or 0)


def pending_visible(session: Session, principal: Principal, limit: int = 200) -> list[Compensation]:
    """Compensations awaiting approval on tickets of the principal's units, oldest first."""
    units = org.visible_unit_ids(session, principal)
    return list(session.scalars(select(Compensation).where(Compensation.status == "pending_approval",
                                                           Compensation.org_unit_id.in_(units))
                                .order_by(Compensation.id).limit(limit)))
