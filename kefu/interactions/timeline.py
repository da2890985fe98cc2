"""The customer's whole history: one timeline of interactions and tickets across every channel.

Entries are interactions (at = when offered; summary = the last message, or the subject) and
tickets (at = when opened; summary = the subject; with status), newest first, covering every
customer merged into this one and only what lies in the principal's org scope. `before` keeps
entries strictly older than a time ("what happened before this contact"); pages are `limit`/`offset`
(a contact and the ticket it opened share their instant, so a time cursor would split them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.core.auth import Principal
from kefu.core.clock import ensure_aware
from kefu.customers import service as customers
from kefu.interactions import service as interactions
from kefu.interactions.models import Interaction
from kefu.org import service as org
from kefu.tickets import service as tickets

SNIPPET_CHARS = 80


@dataclass(frozen=True)
class TimelineEntry:
    kind: str  # "interaction" | "ticket"
    at: datetime
    channel: str | None
    summary: str
    status: str
    customer_id: int | None
    interaction_id: int | None = None
    ticket_id: int | None = None
    direction: str | None = None
    outcome: str | None = None
    ticket_type: str | None = None


def snippet(text: str, chars: int = SNIPPET_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= chars else flat[:chars] + "…"


def customer_timeline(session: Session, principal: Principal, customer_id: int, *, limit: int = 50,
                      before: datetime | None = None, offset: int = 0) -> list[TimelineEntry]:
    """Newest-first entries of the customer (404 outside the principal's scope)."""
    customers.get_visible(session, principal, customer_id)
    before = ensure_aware(before) if before is not None else None
    ids = customers.customer_ids_of(session, customer_id)
    units = org.visible_unit_ids(session, principal)

    q = (select(Interaction).where(Interaction.customer_id.in_(ids), Interaction.org_unit_id.in_(units))
         .order_by(Interaction.offered_at.desc(), Interaction.id.desc()).limit(offset + limit))
    if before is not None:
        q = q.where(Interaction.offered_at < before)
    its = list(session.scalars(q))
    last = interactions.last_messages(session, (i.id for i in its))
    entries = [
        TimelineEntry(kind="interaction", at=ensure_aware(i.offered_at), channel=i.channel,
                      summary=snippet(last[i.id].body) if i.id in last else (i.subject or ""),
                      status=i.status, customer_id=i.customer_id, interaction_id=i.id, ticket_id=i.ticket_id,
                      direction=i.direction, outcome=i.outcome)
        for i in its
    ]
    unit_set = set(units)
    for t in tickets.list_for_customer(session, ids):
        opened = ensure_aware(t.opened_at)
        if t.org_unit_id not in unit_set or (before is not None and opened >= before):
            continue
        entries.append(TimelineEntry(kind="ticket", at=opened, channel=t.channel, summary=t.subject,
                                     status=t.status, customer_id=t.customer_id, ticket_id=t.id,
                                     ticket_type=t.type))
        if sum(e.kind == "ticket" for e in entries) >= offset + limit:
            break  # newest first: the rest are older than anything we can still show
    # Newest first; at the same instant a contact is listed before the ticket it opened.
    entries.sort(key=lambda e: (e.at, e.kind == "interaction", e.interaction_id or e.ticket_id or 0),
                 reverse=True)
    return entries[offset:offset + limit]
