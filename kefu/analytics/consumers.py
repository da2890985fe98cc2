"""The summary tables kept from events (kefu/analytics/summary.py): every event that can change a contact
(opened, answered, ended, corrected by the switch, put in a routing queue, its ticket classified) has its
interaction observed again. Observing is idempotent, so a redelivered event changes nothing."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.core.events import Event, bus

INTERACTION_EVENTS = ("interaction.opened", "interaction.updated", "interaction.closed", "message.sent")
ROUTING_EVENTS = ("routing.offered", "routing.offer_accepted", "routing.overflowed")
TICKET_EVENTS = ("ticket.classified",)


def interactions_of(session: Session, event: Event) -> list[int]:
    """The interactions whose contact the event may have changed."""
    from kefu.interactions.models import Interaction
    from kefu.routing.models import RoutingItem

    if event.name in INTERACTION_EVENTS:
        iid = event.aggregate_id if event.aggregate_type == "interaction" else event.payload.get("interaction_id")
        return [int(iid)] if iid is not None else []
    if event.name in ROUTING_EVENTS:
        item = event.payload.get("item_id")
        if item is None:
            return []
        iid = session.scalar(select(RoutingItem.interaction_id).where(RoutingItem.id == int(item)))
        return [int(iid)] if iid is not None else []
    if event.name in TICKET_EVENTS and event.aggregate_type == "ticket" and event.aggregate_id is not None:
        return list(session.scalars(select(Interaction.id).where(Interaction.ticket_id == event.aggregate_id)))
    return []


@bus.consumer("analytics.summaries", *INTERACTION_EVENTS, *ROUTING_EVENTS, *TICKET_EVENTS)
def on_contact_event(session: Session, event: Event) -> None:
    from kefu.analytics import summary

    ids = interactions_of(session, event)
    if ids:
        summary.observe(session, ids)
