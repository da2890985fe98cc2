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
