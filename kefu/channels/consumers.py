"""`message.sent` → an outbound delivery, queued in the consumer's transaction, and its first attempt
deferred as a job (kefu.channels.jobs)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from kefu import jobs
from kefu.channels import outbound
from kefu.core.events import Event, bus

CONSUMER = "channels.outbound"


def on_message_sent(session: Session, event: Event) -> None:
    message_id = event.payload.get("message_id")
    if not isinstance(message_id, int):
        return
    to = event.payload.get("to")
    kind = event.payload.get("kind") if event.payload.get("notice") else None
    link = event.payload.get("link")
    d = outbound.enqueue(session, message_id=message_id, recipient=to if isinstance(to, str) else None,
                         at=event.occurred_at, notice_kind=str(kind or "notice")[:32] if event.payload.get("notice")
                         else None, link=link[:1024] if isinstance(link, str) and link else None)
    if d is not None:
        jobs.defer(session, "channels.deliver", delivery_id=d.id)


def register() -> None:
    bus.subscribe(CONSUMER, ("message.sent",), on_message_sent)
