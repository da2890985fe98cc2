"""Live updates of the console: domain events → a hub → each process's broadcaster → Server-Sent Events.

The `web.live` consumer on `kefu.core.events.bus` receives ticket, interaction and message events after
their transaction committed and publishes a small notice on the process's hub (`kefu.core.pubsub`).
Every process that serves the console feeds the notices of the `live` channel into its own
`broadcaster`, which hands them to the open pages of that process. Each open console page holds one
`/console/stream` connection (htmx's SSE extension), subscribed with the org units its user may see;
it gets `inbox` for any change in scope and `ticket-<id>` for a change of that ticket, and htmx
re-fetches the fragment that shows it (debounced: a burst of events costs one request). Notices carry
no data beyond ids: the page asks for what it may see through the normal scoped views. Every
(re)connection starts with `hello`, on which the page refreshes once too, so nothing that happened
while it was connecting or offline is missed.

Embedded, the hub is the process itself: the consumer runs in the in-process job runner and the
notice is a function call. Scaled out, the outbox delivers each event to one worker process, which
PUBLISHes the notice through Redis; every API process SUBSCRIBEs and feeds its own pages. While Redis
is unreachable notices are dropped (the event itself stays delivered: the page state lives in the
database); when an API process is connected to Redis again it sends `hello` to all its pages, which
then refresh and so catch up.

Presence: each open stream is announced in the hub's `console` group (user id, process) and renewed
while it lives, so `connections()` tells, across processes, who has a console open.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from kefu.core import pubsub
from kefu.core.events import Event, bus

log = logging.getLogger("kefu.web.live")

CONSUMER = "web.live"
EVENTS = ("ticket.*", "message.*", "interaction.*", "knowledge.push_published", "routing.*", "analytics.alert_raised",
          "analytics.alert_cleared")
HEARTBEAT_SECONDS = 15.0
QUEUE_SIZE = 100
CHANNEL = "live"  # the hub channel of notices
CONSOLE = "console"  # the hub presence group of open console streams


@dataclass(frozen=True)
class Notice:
    kind: str  # "inbox", "ticket-<id>", "routing" ...
    event: str  # the domain event's name
    org_unit_id: int | None
    data: dict[str, Any] = field(default_factory=dict)
    user_id: int | None = None  # for one user's consoles only (their offers, their presence)

    def to_message(self) -> dict[str, Any]:
        return {"kind": self.kind, "event": self.event, "unit": self.org_unit_id, "data": self.data,
                "user": self.user_id}

    @classmethod
    def from_message(cls, m: dict[str, Any]) -> Notice:
        unit, user = m.get("unit"), m.get("user")
        return cls(str(m["kind"]), str(m["event"]), unit if isinstance(unit, int) else None, dict(m.get("data") or {}),
                   user if isinstance(user, int) else None)


HELLO = Notice("hello", "reconnected", None, {"ok": True})


@dataclass(eq=False)
class Subscription:
    unit_ids: frozenset[int]
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[Notice | None]
    user_id: int | None = None
    key: str = field(default_factory=lambda: uuid.uuid4().hex)

    def wants(self, notice: Notice) -> bool:
        if notice.user_id is not None:
            return notice.user_id == self.user_id
        return notice.org_unit_id is None or notice.org_unit_id in self.unit_ids


class Broadcaster:
    """Fan-out of notices to the console connections of this process (thread-safe publish)."""

    def __init__(self) -> None:
        self._subs: set[Subscription] = set()
        self._lock = threading.Lock()

    @property
    def subscribers(self) -> int:
        return len(self._subs)

    def subscribe(self, unit_ids: frozenset[int], *, user_id: int | None = None) -> Subscription:
        sub = Subscription(unit_ids, asyncio.get_running_loop(), asyncio.Queue(QUEUE_SIZE), user_id)
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
        self._offer_all(None)

    def refresh_all(self) -> None:
        """Tell every page to refresh (`hello`): notices may have been lost (the hub was unreachable)."""
        self._offer_all(HELLO)
        for sub in self.subscriptions():
            announce(sub)

    def subscriptions(self) -> list[Subscription]:
        with self._lock:
            return list(self._subs)

    def _offer_all(self, notice: Notice | None) -> None:
        for sub in self.subscriptions():
            with contextlib.suppress(RuntimeError):
                sub.loop.call_soon_threadsafe(_offer, sub.queue, notice)


def _offer(queue: asyncio.Queue[Notice | None], notice: Notice | None) -> None:
    """Queue a notice for a page (in the page's event loop). A page that cannot keep up (a burst of
    events, a slow connection) gets one `hello` instead of what is queued: it refreshes everything."""
    try:
        queue.put_nowait(notice)
    except asyncio.QueueFull:
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait(None if notice is None else HELLO)


broadcaster = Broadcaster()


def notices_for(event: Event) -> list[Notice]:
    """What the console is told about a domain event: the inbox changed, and which ticket did."""
    data = {"event": event.name}
    if event.name.startswith("routing."):
        return _routing_notices(event, data)
    if event.name.startswith("analytics.alert_"):
        # The wall's alerts (kefu/analytics/alerts.py): the consoles that see the unit re-read theirs.
        return [Notice("wall-alert", event.name, event.org_unit_id, data)]
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


def _routing_notices(event: Event, data: dict[str, Any]) -> list[Notice]:
    """An agent's consoles hear of their own offers and presence (`routing`); supervisors' queue pages of any
    change in their units' queues (`routing-queues`)."""
    out = []
    user = event.payload.get("user_id")
    if isinstance(user, int) and event.name != "routing.move_suggested":
        out.append(Notice("routing", event.name, None, {**data, "offer_id": event.payload.get("offer_id"),
                                                        "ticket_id": event.payload.get("ticket_id")}, user))
    out.append(Notice("routing-queues", event.name, event.org_unit_id, data))
    return out


def on_event(_session: Session, event: Event) -> None:
    """The `web.live` consumer: publish the event's notices to every process (through the hub)."""
    hub = pubsub.current()
    for notice in notices_for(event):
        try:
            hub.publish(CHANNEL, notice.to_message())
        except pubsub.HubUnavailable as exc:
            # Pages catch up with `hello` when their process reaches the hub again; the event is done.
            log.warning("live notice for event %s dropped: %s", event.id, exc)
            return


def register() -> None:
    """Subscribe the broadcaster to the event bus (idempotent)."""
    bus.subscribe(CONSUMER, EVENTS, on_event, durable=False)


def _relay(message: dict[str, Any]) -> None:
    broadcaster.publish(Notice.from_message(message))


def connect(hub: pubsub.Hub) -> Callable[[], None]:
    """Feed this process's open pages from `hub`'s notices; returns the function that stops it."""
    return hub.subscribe(CHANNEL, _relay, on_reconnect=broadcaster.refresh_all)


# ---- presence of open streams ----

PRESENCE_TTL = 3 * HEARTBEAT_SECONDS


@dataclass(frozen=True)
class Connection:
    """An open console stream somewhere in the installation."""

    key: str
    user_id: int | None
    process: str


def announce(sub: Subscription, *, ttl: float = PRESENCE_TTL) -> None:
    try:
        pubsub.current().announce(CONSOLE, sub.key, {"user_id": sub.user_id, "process": pubsub.PROCESS_ID},
                                  ttl=ttl)
    except pubsub.HubUnavailable as exc:
        log.debug("presence of stream %s not announced: %s", sub.key, exc)


def withdraw(sub: Subscription) -> None:
    try:
        pubsub.current().withdraw(CONSOLE, sub.key)
    except pubsub.HubUnavailable as exc:
        log.debug("presence of stream %s not withdrawn (it lapses): %s", sub.key, exc)


def connections() -> list[Connection]:
    """Every open console stream of every process (raises pubsub.HubUnavailable)."""
    return sorted(
        (Connection(key, info.get("user_id"), str(info.get("process", "")))
         for key, info in pubsub.current().members(CONSOLE).items()),
        key=lambda c: c.key,
    )


def online_user_ids() -> set[int]:
    """The users who have a console open, in any process."""
    return {c.user_id for c in connections() if c.user_id is not None}


connect(pubsub.local())


def sse(kind: str, data: dict[str, Any]) -> str:
    return f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def stream(
    sub: Subscription, is_disconnected: Any, *, heartbeat: float = HEARTBEAT_SECONDS
) -> AsyncIterator[str]:
    """The SSE body of one subscription: notices as they come, a comment line as heartbeat. The stream
    is announced as present while it lives (renewed every heartbeat) and withdrawn when it ends."""
    try:
        await asyncio.to_thread(announce, sub, ttl=3 * heartbeat)
        renew_at = time.monotonic() + heartbeat
        yield "retry: 3000\n\n"
        yield sse("hello", {"ok": True})
        while True:
            if time.monotonic() >= renew_at:
                await asyncio.to_thread(announce, sub, ttl=3 * heartbeat)
                renew_at = time.monotonic() + heartbeat
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
        withdraw(sub)  # not awaited: a closing generator may not get to resume
