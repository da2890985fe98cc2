"""Consults on the console's live stream: the ticket page (`ticket-<id>`) and the consulted people's
pages (`consults`) refresh when a consult is asked, answered, closed or falls overdue.

Not durable (like the shell's own `web.live`): a notice carries only ids, and a page that missed one
refreshes on its next `hello`.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from kefu.core import pubsub
from kefu.core.events import Event, bus
from kefu.web import live

log = logging.getLogger(__name__)
CONSUMER = "collaboration.live"
EVENTS = ("consult.*", "suggestion.*")


def notices(event: Event) -> list[live.Notice]:
    data = {"event": event.name}
    if event.name.startswith("suggestion."):
        submitter = event.payload.get("submitter_id")
        out = [live.Notice("suggestions", event.name, event.org_unit_id, data)]
        if isinstance(submitter, int):
            out.append(live.Notice("suggestions-mine", event.name, None, data, submitter))
        return out
    ticket_id = event.payload.get("ticket_id")
    out = [live.Notice("consults", event.name, None, data)]
    if isinstance(ticket_id, int):
        out.append(live.Notice(f"ticket-{ticket_id}", event.name, event.org_unit_id, {**data, "ticket_id": ticket_id}))
    return out


def on_event(_session: Session, event: Event) -> None:
    hub = pubsub.current()
    for notice in notices(event):
        try:
            hub.publish(live.CHANNEL, notice.to_message())
        except pubsub.HubUnavailable as exc:
            log.warning("live notice for event %s dropped: %s", event.id, exc)
            return


def register() -> None:
    bus.subscribe(CONSUMER, EVENTS, on_event, durable=False)
