"""Tickets into SLA clocks: created tickets get their clocks, moves pause, resume, stop or restart them."""

from __future__ import annotations

from sqlalchemy.orm import Session

from kefu.core.events import Event, bus
from kefu.sla import service


@bus.consumer("sla.clocks", "ticket.created", "ticket.transitioned", "ticket.merged")
def on_ticket(session: Session, event: Event) -> None:
    if event.aggregate_type != "ticket" or event.aggregate_id is None:
        return
    if event.name == "ticket.created":
        service.start_for_ticket(session, event.aggregate_id, at=event.occurred_at)
    else:
        service.sync_ticket(session, event.aggregate_id, at=event.occurred_at)


@bus.consumer("sla.surveys", "ticket.transitioned", "message.received")
def on_survey_event(session: Session, event: Event) -> None:
    from kefu.interactions.models import Message
    from kefu.sla import surveys

    if event.name == "ticket.transitioned":
        if event.payload.get("to") == "resolved" and event.aggregate_id is not None:
            surveys.send_for_ticket(session, event.aggregate_id, at=event.occurred_at)
        return
    customer_id, message_id = event.payload.get("customer_id"), event.payload.get("message_id")
    if customer_id is None or message_id is None:
        return
    msg = session.get(Message, message_id)
    if msg is not None:
        surveys.on_customer_message(session, customer_id=int(customer_id), body=msg.body, at=event.occurred_at)


@bus.consumer("sla.next_response", "message.received", "message.sent")
def on_message(session: Session, event: Event) -> None:
    """A customer's message starts the ticket's next-response clock; an agent's reply (not a notice) stops it."""
    ticket_id = event.payload.get("ticket_id")
    if not isinstance(ticket_id, int):
        return
    if event.name == "message.received":
        service.on_customer_message(session, ticket_id, at=event.occurred_at)
    elif event.payload.get("author_id") is not None and not event.payload.get("notice"):
        service.on_agent_message(session, ticket_id, at=event.occurred_at)
