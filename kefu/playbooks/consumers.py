"""Playbooks listen to complaint surges (started automatically) and tell open consoles about their runs.

`playbooks.surge` is durable: each `complaint.surge_detected` is handled once, in the consumer's transaction
(kefu.playbooks.service.on_surge). `playbooks.tickets` is durable too: each `ticket.created` links the new
ticket to the active runs it concerns and starts the keyword and threshold playbooks it sets off
(kefu.playbooks.service.on_ticket_created). `playbooks.live` is not (a notice carries ids only; pages refresh on
`hello` when they missed one).
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from kefu.core import pubsub
from kefu.core.events import Event, bus
from kefu.web import live

log = logging.getLogger(__name__)


def on_surge(session: Session, event: Event) -> None:
    from kefu.playbooks import service

    service.on_surge(session, event.payload, at=event.occurred_at)


def on_ticket_created(session: Session, event: Event) -> None:
    from kefu.playbooks import service

    if event.aggregate_id is not None:
        service.on_ticket_created(session, int(event.aggregate_id), at=event.occurred_at)


def ticket_events(session: Session, events: list[Event]) -> list[Event]:
    """The batch's new tickets, unless no run is active and no keyword or threshold playbook either (then
    none of them is handled: nothing would be linked or started); their tickets read at once."""
    from kefu.playbooks import service
    from kefu.tickets import service as tickets

    if not service.links_tickets(session):
        return []
    return tickets.hold_event_tickets(session, events)


def on_run_event(_session: Session, event: Event) -> None:
    hub = pubsub.current()
    for kind in ("playbooks", f"playbook-run-{event.aggregate_id}"):
        try:
            hub.publish(live.CHANNEL, live.Notice(kind, event.name, None, {"event": event.name})
                        .to_message())
        except pubsub.HubUnavailable as exc:
            log.warning("live notice for event %s dropped: %s", event.id, exc)
            return


def register() -> None:
    bus.subscribe("playbooks.surge", ("complaint.surge_detected",), on_surge)
    bus.subscribe("playbooks.tickets", ("ticket.created",), on_ticket_created, db_only=True,
                  prefilter=ticket_events)
    bus.subscribe("playbooks.live", ("playbook.*",), on_run_event, durable=False)
