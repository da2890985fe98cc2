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


def on_tickets_created(session: Session, batch: list[Event]) -> None:
    """The batch form: the batch's tickets classified together (kefu.complaints.service.classify_tickets)."""
    service.classify_tickets(session, [(ev.aggregate_id, ev.occurred_at) for ev in batch
                                       if ev.aggregate_type == "ticket" and ev.aggregate_id is not None])


def on_ticket_classified(session: Session, event: Event) -> None:
    if event.aggregate_type == "ticket" and event.aggregate_id is not None:
        surges.check(session, event.aggregate_id)


def on_tickets_classified(session: Session, batch: list[Event]) -> None:
    """The batch form: the batch's keys judged together (kefu.complaints.surges.check_many)."""
    surges.check_many(session, [(ev.aggregate_id, None) for ev in batch
                                if ev.aggregate_type == "ticket" and ev.aggregate_id is not None])


def register() -> None:
    bus.subscribe(CLASSIFY, ("ticket.created",), on_ticket_created, db_only=True,
                  prefilter=tickets.hold_event_tickets, batch=on_tickets_created)
    bus.subscribe(SURGE, ("ticket.classified",), on_ticket_classified, db_only=True,
                  prefilter=tickets.hold_event_tickets, batch=on_tickets_classified)
