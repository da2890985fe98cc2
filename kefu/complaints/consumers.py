"""Every new ticket is classified once, after its creation is committed (durable consumer)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from kefu.complaints import service
from kefu.core.events import Event, bus

CLASSIFY = "complaints.classify"


def on_ticket_created(session: Session, event: Event) -> None:
    if event.aggregate_type == "ticket" and event.aggregate_id is not None:
        service.classify_ticket(session, event.aggregate_id, at=event.occurred_at)


def register() -> None:
    bus.subscribe(CLASSIFY, ("ticket.created",), on_ticket_created)
