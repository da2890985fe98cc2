"""Domain events through a transactional outbox.

`record(session, name, payload)` writes the event in the same transaction as the change it
describes; a rolled-back change records nothing. After commit a dispatcher hands each pending
event to every consumer subscribed to its name. Each (consumer, event) delivery runs in its own
transaction together with a row in `event_consumptions`, whose primary key makes a second delivery
to the same consumer impossible, even with several processes dispatching at once; on PostgreSQL
dispatchers also claim disjoint batches (SKIP LOCKED), so they share the work instead of racing for
it. Events still pending when a process dies are dispatched by the next dispatch (`dispatch_pending`).

Who dispatches depends on the shape (kefu/jobs/runtime.py): the server's own thread (`Dispatcher`,
extended by kefu.jobs.inline.InlineRunner) when embedded, `kefu worker` processes when scaled out.

Event names are past facts: `ticket.created`, `ticket.transitioned`, `message.received`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    bindparam,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Mapped, Session, mapped_column

from kefu.core.clock import utcnow
from kefu.core.db import Base, BigId, Database, UTCDateTime, insert_unless_exists, one_of

log = logging.getLogger(__name__)


class OutboxEvent(Base):
    __tablename__ = "outbox_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(80))
    aggregate_type: Mapped[str | None] = mapped_column(String(40))
    aggregate_id: Mapped[int | None] = mapped_column(BigId)
    org_unit_id: Mapped[int | None] = mapped_column(BigId)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_outbox_events_pending", "dispatched_at", "id"),
        Index("ix_outbox_events_aggregate", "aggregate_type", "aggregate_id"),
    )


class EventConsumption(Base):
    __tablename__ = "event_consumptions"

    consumer: Mapped[str] = mapped_column(String(80), primary_key=True)
    event_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("outbox_events.id", ondelete="CASCADE"), primary_key=True
    )
    handled_at: Mapped[datetime] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class Event:
    id: int
    name: str
    aggregate_type: str | None
    aggregate_id: int | None
    org_unit_id: int | None
    payload: dict[str, Any]
    occurred_at: datetime


Handler = Callable[[Session, Event], None]
BatchHandler = Callable[[Session, list["Event"]], None]
Prefilter = Callable[[Session, list["Event"]], list["Event"]]


@dataclass
class Consumer:
    name: str
    events: frozenset[str]  # names, or "*" for all
    handler: Handler
    # Durable: each event is handled once, in a transaction with its `event_consumptions` row, and the
    # handler's writes commit with it. Not durable: a notice for the here and now (a live console
    # refresh) that nothing is lost by repeating after a crash: no bookkeeping, no transaction; its
    # handler must not write.
    durable: bool = True
    # The handler acts in the database only (it calls nothing outside it): a durable batch then runs in one
    # savepoint, and only if one of its events fails is it run again one savepoint per event, so that the
    # failing event is rolled back alone. (A handler that calls out, sending a message or running a job,
    # keeps one savepoint per event: nothing it did outside is repeated.) Saves two round trips an event.
    db_only: bool = False
    # Narrows a claimed batch to the events the handler would act on, reading what it needs for the whole
    # batch at once (one query instead of one an event); the others count as handled. It may also load
    # what the handler reads into the session (the batch's rows, by primary key).
    prefilter: Callable[[Session, list[Event]], list[Event]] | None = None
    # Delivery order within a batch, lowest first (then the order of subscription): each consumer's share of
    # a batch commits on its own, so a consumer someone waits on (routing's intake: a new ticket to offer)
    # goes before those that only keep figures (analytics) or refine a ticket later (the classifier).
    order: int = 0
    # A db_only handler's batch form: what the handler does for each of the events, done for all of them at
    # once (reading what they need in one query a table instead of one an event). Used where the events are
    # handled together; when one of them fails, the batch is handled again event by event with `handler`.
    batch: BatchHandler | None = None

    def wants(self, event_name: str) -> bool:
        if "*" in self.events or event_name in self.events:
            return True
        return any(p.endswith(".*") and event_name.startswith(p[:-1]) for p in self.events)


def record(session: Session, name: str, payload: dict[str, Any] | None = None, *,
           aggregate_type: str | None = None, aggregate_id: int | None = None,
           org_unit_id: int | None = None, at: datetime | None = None) -> OutboxEvent:
    """Write a domain event in the caller's transaction."""
    ev = OutboxEvent(name=name, aggregate_type=aggregate_type, aggregate_id=aggregate_id,
                     org_unit_id=org_unit_id, payload=payload or {}, occurred_at=at or utcnow(),
                     attempts=0)
    session.add(ev)
    session.info["kefu_has_events"] = True
    return ev


def defer(session: Session, name: str, payload: dict[str, Any] | None = None, *,
          aggregate_type: str | None = None, aggregate_id: int | None = None,
          org_unit_id: int | None = None, at: datetime | None = None) -> None:
    """`record` for hot paths written with Core statements: the event is kept on the session and
    written, with every other event deferred in the same transaction, by one multi-row INSERT in
    `write_deferred` (which the hot path calls before it commits; a commit without it writes them
    too, see `_write_deferred_before_commit`). Events keep the order in which they were deferred."""
    pending: list[dict[str, Any]] = session.info.setdefault(_DEFERRED, [])
    pending.append({"name": name, "aggregate_type": aggregate_type, "aggregate_id": aggregate_id,
                    "org_unit_id": org_unit_id, "payload": payload or {}, "occurred_at": at or utcnow(),
                    "attempts": 0})
    session.info["kefu_has_events"] = True


def write_deferred(session: Session) -> int:
    """Write the session's deferred events (one INSERT); returns how many."""
    pending: list[dict[str, Any]] = session.info.pop(_DEFERRED, [])
    if pending:
        session.flush()  # events recorded through the ORM earlier in the transaction come first
        session.connection().execute(insert(OutboxEvent), pending)
    return len(pending)


_DEFERRED = "kefu_deferred_events"


@sa_event.listens_for(Session, "before_commit")
def _write_deferred_before_commit(session: Session) -> None:
    if session.info.get(_DEFERRED):
        write_deferred(session)


@sa_event.listens_for(Session, "after_rollback")
def _drop_deferred_after_rollback(session: Session) -> None:
    session.info.pop(_DEFERRED, None)


MAX_ATTEMPTS = 10


@dataclass
class EventBus:
    consumers: dict[str, Consumer] = field(default_factory=dict)

    def subscribe(self, name: str, events: Iterable[str], handler: Handler, *, durable: bool = True,
                  db_only: bool = False, prefilter: Prefilter | None = None, order: int = 0,
                  batch: BatchHandler | None = None) -> None:
        self.consumers[name] = Consumer(name, frozenset(events), handler, durable, db_only, prefilter, order,
                                        batch)

    def consumer(self, name: str, *events: str, durable: bool = True, db_only: bool = False,
                 prefilter: Prefilter | None = None, order: int = 0,
                 batch: BatchHandler | None = None) -> Callable[[Handler], Handler]:
        def deco(fn: Handler) -> Handler:
            self.subscribe(name, events, fn, durable=durable, db_only=db_only, prefilter=prefilter, order=order,
                           batch=batch)
            return fn

        return deco

    def unsubscribe(self, name: str) -> None:
        self.consumers.pop(name, None)

    def dispatch_pending(self, db: Database, *, limit: int = 500) -> int:
        """Deliver every pending event once to each subscribed consumer. Returns events completed."""
        return self.dispatch(db, limit=limit)[0]

    def dispatch(self, db: Database, *, limit: int = 500, max_seconds: float | None = None) -> tuple[int, bool]:
        """Deliver pending events in batches until none is left (or `max_seconds` passed). Returns the
        events completed and whether it stopped for time with events left.

        Each consumer gets a batch of events in one transaction (its consumption rows and whatever its
        handler writes commit together); a failing handler is rolled back alone (see `_deliver`).

        Several processes may dispatch at once and share the work. On PostgreSQL each claims its batch
        with `SELECT ... FOR NO KEY UPDATE SKIP LOCKED` in a transaction that stays open while the batch
        is delivered: the others skip those rows and take the next ones, and since the lock ends with
        the claiming connection, a dispatcher that dies mid-batch hands its events over at once. (NO KEY:
        the consumption rows' foreign key takes KEY SHARE on the same rows, which must not wait.) On
        SQLite writers take turns anyway; there the primary key of `event_consumptions` alone keeps two
        processes from handling an event twice."""
        done = 0
        deadline = None if max_seconds is None else time.monotonic() + max_seconds
        while True:
            completed, claimed = self._dispatch_batch(db, limit)
            done += completed
            if completed == 0 or claimed < limit:
                return done, False
            if deadline is not None and time.monotonic() >= deadline:
                return done, True

    def _dispatch_batch(self, db: Database, limit: int) -> tuple[int, int]:
        pending = (select(*_EVENT_COLUMNS)
                   .where(OutboxEvent.dispatched_at.is_(None), OutboxEvent.attempts < MAX_ATTEMPTS)
                   .order_by(OutboxEvent.id).limit(limit))
        if db.dialect == "postgresql":
            with db.session() as claim:
                rows = claim.execute(pending.with_for_update(skip_locked=True, key_share=True)).all()
                batch = [_event(r) for r in rows]
                return self._deliver_batch(db, batch, claim), len(batch)
        with db.session() as s:
            batch = [_event(r) for r in s.execute(pending)]
        with db.session() as s:
            return self._deliver_batch(db, batch, s), len(batch)

    def _deliver_batch(self, db: Database, batch: list[Event], outcome: Session) -> int:
        """Hand `batch` to every consumer that wants its events, then record the outcome through the
        session `outcome` and commit: dispatched, or one more attempt with the error. Returns events done."""
        if not batch:
            return 0
        failures: dict[int, str] = {}
        for c in sorted(self.consumers.values(), key=lambda c: c.order):
            wanted = [ev for ev in batch if c.wants(ev.name)]
            if wanted:
                for event_id, error in self._deliver(db, c, wanted).items():
                    failures.setdefault(event_id, error)
        ok = [ev.id for ev in batch if ev.id not in failures]
        if ok:
            outcome.execute(_dispatched_statement(db.dialect), {"ids": ok, "now": utcnow()})
        for event_id, error in failures.items():
            outcome.execute(update(OutboxEvent).where(OutboxEvent.id == event_id)
                            .values(attempts=OutboxEvent.attempts + 1, last_error=error))
        outcome.commit()
        return len(ok)

    def has_pending(self, db: Database) -> bool:
        """Whether any event still waits for dispatch (the periodic sweep's question)."""
        with db.session() as s:
            return s.scalar(select(OutboxEvent.id).where(OutboxEvent.dispatched_at.is_(None),
                                                         OutboxEvent.attempts < MAX_ATTEMPTS).limit(1)) is not None

    def _deliver(self, db: Database, c: Consumer, events: list[Event]) -> dict[int, str]:
        """Hand ``events`` to ``c``; returns the errors by event id.

        A durable consumer gets them in one transaction: one statement claims the events' consumption
        rows (events another process claimed meanwhile are skipped), then the handler runs on each event
        in a savepoint, so a failing event is rolled back alone (its consumption row removed, so it is
        tried again later) and reported while the others commit together. A handler runs once per event."""
        if not c.durable:
            return self._notify(db, c, events)
        failures: dict[int, str] = {}
        with db.session(write=True) as s:
            claimed = _claim(s, c.name, [ev.id for ev in events])
            todo = _narrowed(s, c, [ev for ev in events if ev.id in claimed])
            if c.db_only and len(todo) > 1 and _handle_together(s, c, todo):
                todo = []
            for ev in todo:
                sp = s.begin_nested()
                try:
                    c.handler(s, ev)
                    s.flush()
                    sp.commit()
                except Exception as exc:  # a consumer failing must not lose the event
                    sp.rollback()
                    s.execute(delete(EventConsumption).where(EventConsumption.consumer == c.name,
                                                             EventConsumption.event_id == ev.id))
                    log.exception("consumer %s failed on event %s", c.name, ev.id)
                    failures[ev.id] = f"{c.name}: {exc!r}"[:2000]
            s.commit()
        return failures

    def _notify(self, db: Database, c: Consumer, events: list[Event]) -> dict[int, str]:
        failures: dict[int, str] = {}
        with db.session() as s:
            for ev in events:
                try:
                    c.handler(s, ev)
                except Exception as exc:
                    log.exception("consumer %s failed on event %s", c.name, ev.id)
                    failures[ev.id] = f"{c.name}: {exc!r}"[:2000]
            s.rollback()  # a notice writes nothing
        return failures


def _narrowed(session: Session, c: Consumer, events: list[Event]) -> list[Event]:
    """The events of the batch the consumer's handler acts on (all of them without a prefilter, or when
    the prefilter fails: the handler then decides, event by event)."""
    if c.prefilter is None or not events:
        return events
    sp = session.begin_nested()
    try:
        kept = c.prefilter(session, events)
        sp.commit()
        return kept
    except Exception:
        sp.rollback()
        log.exception("prefilter of consumer %s failed; handling the batch event by event", c.name)
        return events


def _handle_together(session: Session, c: Consumer, events: list[Event]) -> bool:
    """Run the handler on every event (its batch form on all of them) in one savepoint; False (and nothing
    kept) if one of them failed."""
    sp = session.begin_nested()
    try:
        if c.batch is not None:
            c.batch(session, events)
        else:
            for ev in events:
                c.handler(session, ev)
        session.flush()
        sp.commit()
        return True
    except Exception:
        sp.rollback()
        return False


@lru_cache(maxsize=2)
def _claim_statement(dialect: str) -> Any:
    """INSERT the consumption rows ON CONFLICT DO NOTHING RETURNING the events claimed. On PostgreSQL the
    rows come from one array of event ids (INSERT ... SELECT unnest): one statement text whatever the
    batch's size, three parameters instead of three a row."""
    if dialect == "postgresql":
        from sqlalchemy import func
        from sqlalchemy.dialects.postgresql import ARRAY
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        rows = select(bindparam("consumer", type_=String), func.unnest(bindparam("event_ids", type_=ARRAY(BigInteger))),
                      bindparam("handled_at", type_=UTCDateTime))
        return (pg_insert(EventConsumption).from_select(["consumer", "event_id", "handled_at"], rows)
                .on_conflict_do_nothing(index_elements=["consumer", "event_id"])
                .returning(EventConsumption.event_id))
    return insert_unless_exists(dialect, EventConsumption, "consumer", "event_id").returning(EventConsumption.event_id)


def _claim(session: Session, consumer: str, event_ids: list[int]) -> set[int]:
    """Insert the consumption rows of these events for `consumer`, in one statement; returns the events
    claimed now (not those already handled, by this process before or another one meanwhile)."""
    conn = session.connection()
    now = utcnow()
    if conn.dialect.name == "postgresql":
        rows = conn.execute(_claim_statement("postgresql"),
                            {"consumer": consumer, "event_ids": event_ids, "handled_at": now})
    else:
        rows = conn.execute(_claim_statement(conn.dialect.name),
                            [{"consumer": consumer, "event_id": i, "handled_at": now} for i in event_ids])
    return {r[0] for r in rows}


@lru_cache(maxsize=2)
def _dispatched_statement(dialect: str) -> Any:
    return (update(OutboxEvent).where(one_of(dialect, OutboxEvent.id, "ids"))
            .values(dispatched_at=bindparam("now")))


_EVENT_COLUMNS = (OutboxEvent.id, OutboxEvent.name, OutboxEvent.aggregate_type, OutboxEvent.aggregate_id,
                  OutboxEvent.org_unit_id, OutboxEvent.payload, OutboxEvent.occurred_at)


def _event(row: Any) -> Event:
    return Event(row[0], row[1], row[2], row[3], row[4], dict(row[5] or {}), row[6])


bus = EventBus()


class Dispatcher:
    """A thread woken after each commit that recorded events (and every `idle_seconds`); each round it
    runs `tick()`: here, dispatch what is pending. The embedded shape's job runner and the scaled shape's
    queue kicker (kefu.jobs) are this thread with another `tick()`."""

    def __init__(self, db: Database, event_bus: EventBus = bus, *, idle_seconds: float = 2.0,
                 coalesce_seconds: float = 0.01) -> None:
        self.db = db
        self.bus = event_bus
        self.idle = idle_seconds
        # After a wake-up, wait this long before dispatching, so that a burst of commits is dispatched in
        # one round (each round has a fixed cost); live updates are this much later.
        self.coalesce = coalesce_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="kefu-dispatcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=10)

    def tick(self) -> None:
        """One round of the thread: dispatch what is pending."""
        self.bus.dispatch_pending(self.db)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:
                log.exception("event dispatch failed")
            if self._wake.wait(self.idle) and self.coalesce > 0:
                self._stop.wait(self.coalesce)
            self._wake.clear()
