"""Escalations and appeals as records linked to the original ticket, and repeat complaints. Services flush,
never commit; event `complaint.appeal_recorded`."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.complaints import appeal_rules as rules
from kefu.complaints.models import Appeal, Classification
from kefu.core import events
from kefu.core.auth import Principal
from kefu.core.clock import ensure_aware, utcnow
from kefu.core.errors import InvalidInput, NotFound
from kefu.tickets import service as tickets
from kefu.tickets.models import Ticket

REPEAT_DAYS = 30


class AppealNotFound(NotFound):
    code = "appeal_not_found"


def _check(source: str | None, outcome: str | None, received: date, accepted: date | None,
           answered: date | None) -> None:
    if source is not None and source not in rules.SOURCES:
        raise InvalidInput(f"unknown appeal source {source!r}", code="unknown_appeal_source",
                           details={"field": "source", "allowed": list(rules.SOURCES)})
    if outcome is not None and outcome not in rules.OUTCOMES:
        raise InvalidInput(f"unknown outcome {outcome!r}", code="unknown_outcome",
                           details={"field": "outcome", "allowed": list(rules.OUTCOMES)})
    if not rules.dates_in_order(received, accepted, answered):
        raise InvalidInput("the dates are out of order: received, then accepted, then answered",
                           code="dates_out_of_order",
                           details={"received_on": str(received), "accepted_on": str(accepted),
                                    "answered_on": str(answered)})


def record(session: Session, principal: Principal, ticket_id: int, *, source: str, received_on: date,
           about_charges: bool = False, reference: str | None = None, accepted_on: date | None = None,
           answered_on: date | None = None, outcome: str | None = None, at: datetime | None = None) -> Appeal:
    at = at or utcnow()
    ticket = tickets.get_visible(session, principal, ticket_id)
    _check(source, outcome, received_on, accepted_on, answered_on)
    opened = ensure_aware(ticket.opened_at).date()
    if received_on < opened:
        raise InvalidInput("an appeal cannot be received before its ticket was opened", code="dates_out_of_order",
                           details={"received_on": str(received_on), "ticket_opened_on": str(opened)})
    last = rules.window_end(opened, about_charges)
    if received_on > last:
        raise InvalidInput(f"received after the appeal window closed on {last}", code="appeal_out_of_window",
                           details={"window_end": str(last), "about_charges": about_charges})
    a = Appeal(ticket_id=ticket.id, org_unit_id=ticket.org_unit_id, source=source, about_charges=about_charges,
               reference=(reference or None), received_on=received_on,
               acceptance_due=rules.acceptance_due(received_on), accepted_on=accepted_on,
               answer_due=rules.answer_due(accepted_on) if accepted_on else None, answered_on=answered_on,
               outcome=outcome, created_by_id=principal.user_id, created_at=at, updated_at=at)
    session.add(a)
    session.flush()
    events.record(session, "complaint.appeal_recorded",
                  {"appeal_id": a.id, "source": source, "received_on": str(received_on),
                   "acceptance_due": str(a.acceptance_due)},
                  aggregate_type="ticket", aggregate_id=ticket.id, org_unit_id=ticket.org_unit_id, at=at)
    return a


def update(session: Session, principal: Principal, appeal_id: int, *, accepted_on: date | None = None,
           answered_on: date | None = None, outcome: str | None = None, at: datetime | None = None) -> Appeal:
    """Record the acceptance, the answer and the outcome (None = unchanged)."""
    from kefu.complaints.service import of_visible_ticket

    a = of_visible_ticket(session, principal, Appeal, appeal_id, AppealNotFound, "appeal")
    accepted = accepted_on if accepted_on is not None else a.accepted_on
    answered = answered_on if answered_on is not None else a.answered_on
    _check(None, outcome, a.received_on, accepted, answered)
    a.accepted_on, a.answered_on = accepted, answered
    a.answer_due = rules.answer_due(accepted) if accepted else None
    if outcome is not None:
        a.outcome = outcome
    a.updated_at = at or utcnow()
    session.flush()
    return a


def for_ticket(session: Session, ticket_id: int) -> list[Appeal]:
    return list(session.scalars(select(Appeal).where(Appeal.ticket_id == ticket_id).order_by(Appeal.id)))


class EarlierSameCategory:
    """For a batch of tickets being classified: the same customer's (or a merged one's) newest other ticket
    of a category opened in the 30 days before each one. The families and their classified tickets of the
    period are read once (two queries); the batch's own classifications are told with `add` as they are made."""

    def __init__(self, session: Session, batch: list[Ticket]) -> None:
        from kefu.customers import service as customers

        mine = [t for t in batch if t.customer_id is not None]
        self.family = {c: set(f) for c, f in customers.families(session, {t.customer_id for t in mine
                                                                            if t.customer_id is not None}).items()}
        self.by_customer: dict[int, list[tuple[datetime, int, str]]] = {}
        if not mine:
            return
        members = set().union(*self.family.values())
        lo = min(ensure_aware(t.opened_at) for t in mine) - timedelta(days=REPEAT_DAYS)
        hi = max(ensure_aware(t.opened_at) for t in mine)
        for tid, cid, opened, category in session.execute(
                select(Ticket.id, Ticket.customer_id, Ticket.opened_at, Classification.predicted_category)
                .join(Classification, Classification.ticket_id == Ticket.id)
                .where(Ticket.customer_id.in_(members), Ticket.opened_at >= lo, Ticket.opened_at <= hi)):
            self.by_customer.setdefault(int(cid or 0), []).append((ensure_aware(opened), tid, category))

    def find(self, ticket: Ticket, category: str) -> int | None:
        if ticket.customer_id is None:
            return None
        opened = ensure_aware(ticket.opened_at)
        since = opened - timedelta(days=REPEAT_DAYS)
        found = max(((at, tid) for cid in self.family.get(ticket.customer_id, {ticket.customer_id})
                     for at, tid, cat in self.by_customer.get(cid, ())
                     if cat == category and tid != ticket.id and since <= at <= opened), default=None)
        return found[1] if found is not None else None

    def add(self, ticket: Ticket, category: str) -> None:
        if ticket.customer_id is not None:
            self.by_customer.setdefault(ticket.customer_id, []).append(
                (ensure_aware(ticket.opened_at), ticket.id, category))


def list_visible(session: Session, principal: Principal, *, open_only: bool = False, limit: int = 200
                 ) -> list[Appeal]:
    """Appeals on tickets of the principal's units, the nearest deadline first (open ones: not answered)."""
    from kefu.org import service as org

    q = select(Appeal).where(Appeal.org_unit_id.in_(org.visible_unit_ids(session, principal)))
    if open_only:
        q = q.where(Appeal.answered_on.is_(None))
    due = func.coalesce(Appeal.answer_due, Appeal.acceptance_due)
    return list(session.scalars(q.order_by(Appeal.answered_on.is_not(None), due, Appeal.id).limit(limit)))
