"""Classification at intake, as the product uses it: classify a new ticket, apply what is sure, keep the rest
as a suggestion, and record the agent's confirmation or correction (labelled data for the next retrain).

Services flush, never commit. Events: `ticket.classified` (routing re-reads the ticket on it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.complaints import classifier
from kefu.complaints.labels import CATEGORIES, TICKET_TYPE_OF, TYPES
from kefu.complaints.models import Classification
from kefu.core import events
from kefu.core.auth import Principal
from kefu.core.clock import utcnow
from kefu.core.db import among
from kefu.core.errors import Conflict, InvalidInput, NotFound
from kefu.tickets import service as tickets
from kefu.tickets.models import PRIORITIES

T = TypeVar("T")
MAX_TEXT = 4_000
CLOSED = ("resolved", "closed", "merged")


class ClassificationNotFound(NotFound):
    code = "classification_not_found"


class UnknownLabel(InvalidInput):
    code = "unknown_label"


class TicketFrozen(Conflict):
    code = "ticket_frozen"


def of_visible_ticket(session: Session, principal: Principal, model: type[T], record_id: int,
                      not_found: type[NotFound], what: str) -> T:
    """A record hanging off a ticket (`ticket_id`), if the principal sees the ticket; `not_found` otherwise
    (a record of a foreign ticket is as absent as a missing one)."""
    row = session.get(model, record_id)
    try:
        if row is None:
            raise NotFound(what)
        tickets.get_visible(session, principal, row.ticket_id)  # type: ignore[attr-defined]
    except NotFound:
        raise not_found(f"{what} {record_id} not found") from None
    return row


def ticket_text(ticket: Any) -> str:
    """What the classifier reads of a ticket: its subject and the customer's first message."""
    parts = [ticket.subject or "", ticket.description or ""]
    text = "\n".join(p for p in parts if p)
    return text[:MAX_TEXT]


def for_ticket(session: Session, ticket_id: int) -> Classification | None:
    return session.scalars(select(Classification).where(Classification.ticket_id == ticket_id)).first()


def classify_ticket(session: Session, ticket_id: int, *, at: datetime | None = None,
                    model: classifier.Model | None = None) -> Classification | None:
    """Classify a ticket once (None if it is gone or was already classified). A ticket that came in from a
    channel (nobody chose its type) gets a confident type and, when it has none, a confident category;
    a complaint so starts its 15-day reply clock; it also takes its customer's segment priority when that
    is higher (kefu/complaints/customer_segments.py). Nothing is applied to a ticket an agent created or
    that is already finished."""
    return classify_tickets(session, [(ticket_id, at or utcnow())], model=model)[0]


def classify_tickets(session: Session, work: Sequence[tuple[int, datetime]], *,
                     model: classifier.Model | None = None) -> list[Classification | None]:
    """`classify_ticket` for each (ticket, time) in turn, reading what the tickets need with one query a
    table for all of them (their classifications so far, their customers' segments and families, the
    families' earlier classified tickets) instead of about seven queries a ticket."""
    from kefu.complaints import customer_segments
    from kefu.complaints.appeals import EarlierSameCategory

    done = set(session.scalars(select(Classification.ticket_id)
                               .where(among(session, Classification.ticket_id, {tid for tid, _ in work}))))
    todo: list[tuple[int, Any, datetime]] = []
    for i, (ticket_id, at) in enumerate(work):
        ticket = tickets.get(session, ticket_id)
        if ticket is not None and ticket_id not in done:
            done.add(ticket_id)
            todo.append((i, ticket, at))
    out: list[Classification | None] = [None] * len(work)
    if not todo:
        return out
    m = model or classifier.model()
    segs = customer_segments.ensure_many(session, [(t.customer_id, at) for _, t, at in todo])
    earlier = EarlierSameCategory(session, [t for _, t, _ in todo])
    preds = [m.classify(ticket_text(ticket)) for _, ticket, _ in todo]
    # What applies is decided on the ticket as it is under its lock (a customer's message may have changed
    # it since it was read): the tickets with something to apply are locked and read fresh in one
    # statement, and their edits flushed together.
    held = tickets.lock_many(session, [t.id for (_, t, _), p, seg in zip(todo, preds, segs, strict=True)
                                       if _applies(t, p, seg) != _NOTHING])
    applied = {tid: _applies(t, p, seg) for (_, ticket, _), p, seg in zip(todo, preds, segs, strict=True)
               if (t := held.get(tid := ticket.id)) is not None}
    cats = tickets.categories_by_key(session, {c for _, c, _ in applied.values() if c is not None})
    for (i, ticket, at), p, seg in zip(todo, preds, segs, strict=True):
        new_type, new_category, new_priority = applied.get(ticket.id, _NOTHING)
        if (new_type, new_category, new_priority) != _NOTHING:
            tickets.edit(session, held[ticket.id], actor_id=None, type=new_type, category_key=new_category,
                         priority=new_priority, at=at, categories=cats)
        c = Classification(
            repeat_of_id=earlier.find(ticket, p.category),
            ticket_id=ticket.id, org_unit_id=ticket.org_unit_id, predicted_type=p.type,
            type_confidence=round(p.type_confidence, 4), predicted_category=p.category,
            category_confidence=round(p.category_confidence, 4), escalation=p.escalation,
            escalation_terms=list(p.escalation_terms), applied_type=new_type, applied_category=new_category,
            model_version=str(m.info.get("trained_at", ""))[:40],
            status="applied" if (new_type or new_category) else "suggested", created_at=at)
        earlier.add(ticket, p.category)
        session.add(c)
        events.record(session, "ticket.classified",
                      {"type": p.type, "type_confidence": c.type_confidence, "category": p.category,
                       "category_confidence": c.category_confidence, "escalation": p.escalation,
                       "applied_type": new_type, "applied_category": new_category,
                       "repeat_of_id": c.repeat_of_id, "segment": seg.segment if seg is not None else None,
                       "applied_priority": new_priority},
                      aggregate_type="ticket", aggregate_id=ticket.id, org_unit_id=ticket.org_unit_id, at=at)
        out[i] = c
    tickets.flush_edits(session)
    return out


_NOTHING: tuple[None, None, None] = (None, None, None)


def _applies(ticket: Any, p: Any, seg: Any) -> tuple[str | None, str | None, str | None]:
    """What a classification applies to a ticket, (type, category, priority) with None where nothing: only
    at intake (a ticket from a channel, not finished), a sure type to an inquiry, a sure category where it
    has none, the customer's segment priority when it is higher."""
    intake = ticket.created_by_id is None and ticket.status not in CLOSED
    new_type = p.apply_type if intake and ticket.type == "inquiry" else None
    if new_type == ticket.type:
        new_type = None
    new_category = p.apply_category if intake and ticket.category_id is None else None
    new_priority = (seg.priority if intake and seg is not None
                    and PRIORITIES.index(seg.priority) > PRIORITIES.index(ticket.priority) else None)
    return new_type, new_category, new_priority


@dataclass
class CustomerRecord:
    """A customer's complaints as the caller may see them: tickets of the caller's units (of the customer
    and of customers merged into them) that are complaints or appeals or were classified, newest 50."""

    segment: Any
    history: list[Any]
    verdicts: dict[int, Classification]
    appeals: dict[int, list[Any]]
    compensations: list[Any]
    granted: Decimal


def customer_record(session: Session, principal: Principal, customer_id: int) -> CustomerRecord:
    from kefu.complaints import customer_segments
    from kefu.complaints.models import Appeal, Compensation
    from kefu.customers import service as customers
    from kefu.org import service as org

    visible = set(org.visible_unit_ids(session, principal))
    family = customers.customer_ids_of(session, customer_id)
    own = [tk for tk in tickets.list_for_customer(session, family) if tk.org_unit_id in visible]
    ids = [tk.id for tk in own]
    verdicts = {c.ticket_id: c for c in session.scalars(select(Classification)
                                                         .where(Classification.ticket_id.in_(ids)))}
    appeals: dict[int, list[Any]] = {}
    for a in session.scalars(select(Appeal).where(Appeal.ticket_id.in_(ids)).order_by(Appeal.id)):
        appeals.setdefault(a.ticket_id, []).append(a)
    paid = list(session.scalars(select(Compensation).where(Compensation.ticket_id.in_(ids))
                                .order_by(Compensation.created_at.desc(), Compensation.id.desc()).limit(50)))
    return CustomerRecord(
        segment=customer_segments.of_customer(session, customer_id),
        history=[tk for tk in own if tk.type in ("complaint", "appeal") or tk.id in verdicts][:50],
        verdicts=verdicts, appeals=appeals, compensations=paid,
        granted=sum((k.amount for k in paid if k.status == "granted"), Decimal(0)))


def offer_for_ticket(session: Session, ticket: Any, c: Classification | None, seg: Any) -> tuple[str, str]:
    """The fitting offer for this ticket (kefu/complaints/offers.py): its category (the agent's, else the
    classifier's), the customer's consumption mix, the segment's offer."""
    from kefu.complaints.offers import fitting_offer
    from kefu.customers import service as customers

    cats = tickets.categories_by_id(session)
    category = (cats[ticket.category_id].key.split(".")[0] if ticket.category_id in cats
                else (c.final_category or c.predicted_category) if c is not None else None)
    customer = customers.get(session, ticket.customer_id) if ticket.customer_id is not None else None
    shares = {"voice": customer.share_voice, "data": customer.share_data} if customer is not None else {}
    return fitting_offer(category, shares, seg.offer if seg is not None else None)


def get_visible(session: Session, principal: Principal, ticket_id: int) -> Classification:
    tickets.get_visible(session, principal, ticket_id)  # 404 outside the principal's scope
    c = for_ticket(session, ticket_id)
    if c is None:
        raise ClassificationNotFound(f"ticket {ticket_id} has not been classified")
    return c


def review(session: Session, principal: Principal, ticket_id: int, *, type: str, category: str,
           escalation: bool, at: datetime | None = None) -> Classification:
    """The agent's verdict: the labels as they should be. The same as predicted is a confirmation, anything
    else a correction; the ticket takes the type (when a ticket has it) and the category."""
    at = at or utcnow()
    c = get_visible(session, principal, ticket_id)  # scope first: a foreign ticket is 404 whatever the body
    if type not in TYPES:
        raise UnknownLabel(f"unknown type {type!r}", details={"field": "type", "allowed": list(TYPES)})
    if category not in CATEGORIES:
        raise UnknownLabel(f"unknown category {category!r}", details={"field": "category",
                                                                      "allowed": list(CATEGORIES)})
    ticket = tickets.get_visible(session, principal, ticket_id)
    if ticket.status == "merged":
        raise TicketFrozen(f"ticket {ticket_id} was merged", details={"merged_into_id": ticket.merged_into_id})
    same = (type, category, escalation) == (c.predicted_type, c.predicted_category, c.escalation)
    ticket_type = TICKET_TYPE_OF.get(type)
    tickets.update(session, ticket.id, actor_id=principal.user_id,
                   type=ticket_type if ticket_type and ticket_type != ticket.type and ticket.type != "appeal"
                   else None,
                   category_key=category, at=at)
    c.status = "confirmed" if same else "corrected"
    c.final_type, c.final_category, c.final_escalation = type, category, escalation
    c.reviewed_by_id, c.reviewed_at = principal.user_id, at
    session.flush()
    return c


def reviewed_examples(session: Session) -> list[tuple[str, str, str, str, bool]]:
    """(key, text, type, category, escalation) of every reviewed ticket: the agents' labels for retraining."""
    from kefu.tickets.models import Ticket

    rows = session.execute(
        select(Classification, Ticket).join(Ticket, Ticket.id == Classification.ticket_id)
        .where(Classification.status.in_(("confirmed", "corrected"))).order_by(Classification.id)).all()
    return [(f"ticket:{c.id}", ticket_text(t), c.final_type or c.predicted_type,
             c.final_category or c.predicted_category, bool(c.final_escalation)) for c, t in rows]
