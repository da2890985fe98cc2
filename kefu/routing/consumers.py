"""Tickets into routing: an outbox consumer that turns ticket events into routing inputs.

Durable, so any dispatching process may run it (the inputs are written in the consumer's transaction,
once per event). The single writer reconciles each input against the ticket as it is when it reads it,
so the order in which several dispatchers deliver the events does not matter.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from kefu.core.events import Event, bus
from kefu.routing import service

CONSUMER = "routing.intake"
EVENTS = ("ticket.created", "ticket.updated", "ticket.assigned", "ticket.transitioned", "ticket.merged",
          "ticket.transferred",
          "ticket.classified")


def on_event(session: Session, event: Event) -> None:
    if event.aggregate_type == "ticket" and event.aggregate_id is not None:
        service.submit(session, "ticket", {"ticket_id": event.aggregate_id, "event": event.name},
                       at=event.occurred_at)


def on_events(session: Session, events: list[Event]) -> None:
    """`on_event` of a batch: its inputs in one INSERT."""
    service.submit_many(session, "ticket", [({"ticket_id": ev.aggregate_id, "event": ev.name}, ev.occurred_at)
                                            for ev in events
                                            if ev.aggregate_type == "ticket" and ev.aggregate_id is not None])


CERTIFICATES = "routing.certificates"


def on_certificate(session: Session, event: Event) -> None:
    """A certificate issued may make its holder eligible for a queue asking for its skill, one revoked
    ineligible: the writer reads the agent's profile again (kefu.routing.store.agent_profiles). One that
    ends by time needs no event: the writer watches the expiries itself (kefu.routing.runner)."""
    from kefu.routing.models import RoutingAgent

    if event.aggregate_type == "user" and event.aggregate_id is not None \
            and session.get(RoutingAgent, event.aggregate_id) is not None:
        service.submit(session, "agent", {"user_id": event.aggregate_id}, at=event.occurred_at)


def register() -> None:
    # first in each batch: a new ticket reaches the writer before the classifier and the figures have run
    # (the classification's own event brings the ticket back when it changed its type or category)
    bus.subscribe(CONSUMER, EVENTS, on_event, db_only=True, order=-1, batch=on_events)
    bus.subscribe(CERTIFICATES, ("certificate.issued", "certificate.revoked"), on_certificate, db_only=True)
