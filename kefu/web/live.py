"""Live updates of the console: domain events → an in-process broadcaster → Server-Sent Events.

The `web.live` consumer on `kefu.core.events.bus` receives ticket, interaction and message events after
their transaction committed (the outbox dispatcher's thread) and hands a small notice to the
`broadcaster`. Each open console page holds one `/console/stream` connection (htmx's SSE extension),
subscribed with the org units its user may see; it gets `inbox` for any change in scope and
`ticket-<id>` for a change of that ticket, and htmx re-fetches the fragment that shows it (debounced:
a burst of events costs one request). Notices carry no data beyond ids: the page asks for what it may
see through the normal scoped views. Every (re)connection starts with `hello`, on which the page
refreshes once too, so nothing that happened while it was connecting or offline is missed.

Scaled out (several API processes behind a load balancer, ARCHITECTURE.md): the outbox delivers each
event to one process only, so this in-process broadcaster must be swapped for Redis pub/sub — the
consumer PUBLISHes the notice on a channel, every process SUBSCRIBEs and feeds its own local
subscribers. The interface (`publish`, `subscribe`) stays as it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from kefu.core.events import Event, bus

log = logging.getLogger("kefu.web.live")

CONSUMER = "web.live"
EVENTS = ("ticket.*", "message.*", "interaction.*", "knowledge.push_published")
HEARTBEAT_SECONDS = 15.0
QUEUE_SIZE = 100


@dataclass(frozen=True)
class Notice:
    kind: str  # "inbox" or "ticket-<id>"
    event: str  # the domain event's name
    org_unit_id: int | None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(eq=False)
class Subscription:
    unit_ids: frozenset[int]
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[Notice | None]

    def wants(self, notice: Notice) -> bool:
        return notice.org_unit_id is None or notice.org_unit_id in self.unit_ids


class Broadcaster:
    """Fan-out of notices to the console connections of this process (thread-safe publish)."""

    def __init__(self) -> None:
        self._subs: set[Subscription] = set()
        self._lock = threading.Lock()

    @property
    def subscribers(self) -> int:
        return len(self._subs)

    def subscribe(self, unit_ids: frozenset[int]) -> Subscription:
        sub = Subscription(unit_ids, asyncio.get_running_loop(), asyncio.Queue(QUEUE_SIZE))
        with self._lock:
            self._subs.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            self._subs.discard(sub)

    def publish(self, notice: Notice) -> int:
        """Queue a notice for every subscriber that may see it; returns how many. Callable from any thread."""
        with self._lock:
            targets = [s for s in self._subs if s.wants(notice)]
        for sub in targets:
            with contextlib.suppress(RuntimeError):  # the subscriber's loop has closed
                sub.loop.call_soon_threadsafe(_offer, sub.queue, notice)
        return len(targets)

    def close_all(self) -> None:
        with self._lock:
            subs = list(self._subs)
        for sub in subs:
            with contextlib.suppress(RuntimeError):
                sub.loop.call_soon_threadsafe(_offer, sub.queue, None)


def _offer(queue: asyncio.Queue[Notice | None], notice: Notice | None) -> None:
    with contextlib.suppress(asyncio.QueueFull):  # a stalled page misses notices; it refreshes on the next
        queue.put_nowait(notice)


broadcaster = Broadcaster()


def notices_for(event: Event) -> list[Notice]:
    """What the console is told about a domain event: the inbox changed, and which ticket did."""
    data = {"event": event.name}
    if event.name == "knowledge.push_published":
        # Every open console re-reads its own user's unacknowledged pushes (a cheap, per-user query).
        return [Notice("knowledge-push", event.name, None, data)]
    ticket_id = event.aggregate_id if event.aggregate_type == "ticket" else event.payload.get("ticket_id")
    out = [Notice("inbox", event.name, event.org_unit_id, data)]
    if isinstance(ticket_id, int):
        out.append(
            Notice(f"ticket-{ticket_id}", event.name, event.org_unit_id, {**data, "ticket_id": ticket_id})
        )
        into = event.payload.get("into_id") if event.name == "ticket.merged" else None
        if isinstance(into, int):
            out.append(Notice(f"ticket-{into}", event.name, None, {**data, "ticket_id": into}))
    return out


def on_event(_session: Session, event: Event) -> None:
    for notice in notices_for(event):
        broadcaster.publish(notice)


def register() -> None:
    """Subscribe the broadcaster to the event bus (idempotent)."""
    bus.subscribe(CONSUMER, EVENTS, on_event)


def sse(kind: str, data: dict[str, Any]) -> str:
    return f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def stream(
    sub: Subscription, is_disconnected: Any, *, heartbeat: float = HEARTBEAT_SECONDS
) -> AsyncIterator[str]:
    """The SSE body of one subscription: notices as they come, a comment line as heartbeat."""
    try:
        yield "retry: 3000\n\n"
        yield sse("hello", {"ok": True})
        while True:
            try:
                notice = await asyncio.wait_for(sub.queue.get(), timeout=heartbeat)
            except TimeoutError:
                if await is_disconnected():
                    return
                yield ": heartbeat\n\n"
                continue
            if notice is None:
                return
            yield sse(notice.kind, notice.data)
    finally:
        broadcaster.unsubscribe(sub)
