"""A call from a customer with a recent handoff: the handoff is returned (the customer came back to the
hotline instead of finishing in the other channel)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from kefu.core.config import get_settings
from kefu.core.events import Event, bus
from kefu.handoffs import service

CONSUMER = "handoffs.returns"


def on_event(session: Session, event: Event) -> None:
    p = event.payload or {}
    if p.get("channel") == "voice" and p.get("direction") == "inbound" and p.get("customer_id"):
        service.customer_called(session, int(p["customer_id"]), at=event.occurred_at,
                                window_hours=get_settings().handoff_return_hours)


def register() -> None:
    bus.subscribe(CONSUMER, ("interaction.opened",), on_event, db_only=True)
