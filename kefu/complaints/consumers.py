"""Every new ticket is classified once, after its creation is committed; every classified ticket's key is
then judged for a surge (durable consumers)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from kefu.complaints import service, surges
from kefu.core.events import Event, bus
from kefu.tickets import service as tickets

CLASSIFY = "complaints.classify"
SURGE = "complaints.surge"


def on_ticket_created(session: Session, event: Event) -> None:
    if event.aggregate_type == "ticket" and event.aggregate_id is not None:
        service.classify_ticket(session, event.aggregate_id, at=event.occurred_at)


def on_ticket_classified(session: Session, event: Event) -> None:
    if event.aggregate_type == "ticket" and event.aggregate_id is not None:
        surges.check(session, event.aggregate_id)


def register() -> None:
    bus.subscribe(CLASSIFY, ("ticket.created",), on_ticket_created, db_only=True,
                  prefilter=tickets.hold_event_tickets)
    bus.subscribe(SURGE, ("ticket.classified",), on_ticket_classified, db_only=True,
                  prefilter=tickets.hold_event_tickets)
