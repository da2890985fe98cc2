"""Tickets into SLA clocks: created tickets get their clocks, moves pause, resume, stop or restart them.
Customers' messages as answers to satisfaction surveys.

Both consumers act in the database only, and read what a batch needs once (`prefilter`): the batch's
tickets, policies and categories; which tickets have clocks; which customers have a survey waiting. Events
that would change nothing (a move of a ticket without clocks, a message of a customer who was asked
nothing) are not handled one by one."""

from __future__ import annotations

from sqlalchemy.orm import Session

from kefu.core.events import Event, bus
from kefu.sla import service

_RESOLVED = "resolved"


def _clock_events(session: Session, events: list[Event]) -> list[Event]:
    from kefu.tickets import service as tickets

    mine = [ev for ev in events if ev.aggregate_type == "ticket" and ev.aggregate_id is not None]
    if not mine:
        return []
    ids = {int(ev.aggregate_id) for ev in mine if ev.aggregate_id is not None}
    tickets.hold(session, ids)
    service.hold_for_batch(session)
    created = {ev.aggregate_id for ev in mine if ev.name == "ticket.created"}
    clocked = service.tickets_with_clocks(session, ids)
    return [ev for ev in mine if ev.aggregate_id in created or ev.aggregate_id in clocked]


@bus.consumer("sla.clocks", "ticket.created", "ticket.transitioned", "ticket.merged", db_only=True,
              prefilter=_clock_events)
def on_ticket(session: Session, event: Event) -> None:
    if event.aggregate_type != "ticket" or event.aggregate_id is None:
        return
    if event.name == "ticket.created":
        service.start_for_ticket(session, event.aggregate_id, at=event.occurred_at)
    else:
        service.sync_ticket(session, event.aggregate_id, at=event.occurred_at)


def _survey_events(session: Session, events: list[Event]) -> list[Event]:
    """A resolution (a survey may be sent), and the messages of customers with a survey waiting; once a
    ticket of the batch is resolved, every later message too (its survey may be sent by then)."""
    from kefu.sla import surveys

    resolutions = [ev for ev in events if ev.name == "ticket.transitioned" and ev.payload.get("to") == _RESOLVED
                   and ev.aggregate_id is not None]
    first_resolved = min((ev.id for ev in resolutions), default=None)
    messages = [ev for ev in events if ev.name == "message.received"
                and ev.payload.get("customer_id") is not None and ev.payload.get("message_id") is not None]
    waiting = surveys.customers_awaiting(session, {int(ev.payload["customer_id"]) for ev in messages})
    kept = {ev.id for ev in resolutions} | {
        ev.id for ev in messages
        if int(ev.payload["customer_id"]) in waiting or (first_resolved is not None and ev.id > first_resolved)}
    return [ev for ev in events if ev.id in kept]


@bus.consumer("sla.surveys", "ticket.transitioned", "message.received", db_only=True, prefilter=_survey_events)
def on_survey_event(session: Session, event: Event) -> None:
    from kefu.interactions.models import Message
    from kefu.sla import surveys

    if event.name == "ticket.transitioned":
        if event.payload.get("to") == _RESOLVED and event.aggregate_id is not None:
            surveys.send_for_ticket(session, event.aggregate_id, at=event.occurred_at)
        return
    customer_id, message_id = event.payload.get("customer_id"), event.payload.get("message_id")
    if customer_id is None or message_id is None:
        return
    msg = session.get(Message, message_id)
    if msg is not None:
        surveys.on_customer_message(session, customer_id=int(customer_id), body=msg.body, at=event.occurred_at)


def _next_response_events(session: Session, events: list[Event]) -> list[Event]:
    """The batch's tickets read at once; a customer's message is handled only on a ticket that had its first
    reply and is not finished (on any other, `service.on_customer_message` does nothing)."""
    from kefu.tickets import service as tickets

    ids = {ev.payload["ticket_id"] for ev in events if isinstance(ev.payload.get("ticket_id"), int)}
    held = {t.id: t for t in tickets.hold(session, ids)}
    kept = []
    for ev in events:
        ticket_id = ev.payload.get("ticket_id")
        if not isinstance(ticket_id, int):
            continue
        t = held.get(ticket_id)
        if ev.name == "message.received" and (t is None or t.first_reply_at is None or t.status in service.STOPPING):
            continue
        kept.append(ev)
    return kept


@bus.consumer("sla.next_response", "message.received", "message.sent", db_only=True,
              prefilter=_next_response_events)
def on_message(session: Session, event: Event) -> None:
    """A customer's message starts the ticket's next-response clock; an agent's reply (not a notice) stops it."""
    ticket_id = event.payload.get("ticket_id")
    if not isinstance(ticket_id, int):
        return
    if event.name == "message.received":
        service.on_customer_message(session, ticket_id, at=event.occurred_at)
    elif event.payload.get("author_id") is not None and not event.payload.get("notice"):
        service.on_agent_message(session, ticket_id, at=event.occurred_at)
