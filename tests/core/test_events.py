"""The transactional outbox: recorded with the change, delivered once per consumer, survives a crash."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from kefu.core import events
from kefu.core.db import Database
from kefu.core.events import Event, EventConsumption, OutboxEvent, bus

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Seen:
    def __init__(self) -> None:
        self.calls: list[tuple[str, int, str]] = []

    def handler(self, name: str, *, fail_on: set[int] | None = None):  # type: ignore[no-untyped-def]
        def handle(_session, ev: Event) -> None:  # type: ignore[no-untyped-def]
            if fail_on and ev.id in fail_on:
                raise RuntimeError(f"{name} cannot handle {ev.id}")
            self.calls.append((name, ev.id, ev.name))

        return handle


@pytest.fixture
def seen() -> Iterator[Seen]:
    s = Seen()
    yield s
    for name in ("test_a", "test_b", "test_flaky", "test_notice"):
        bus.unsubscribe(name)


def _record(db: Database, *names: str) -> list[int]:
    with db.unit_of_work() as s:
        evs = [events.record(s, n, {"n": i}, aggregate_type="thing", aggregate_id=i, at=T0)
               for i, n in enumerate(names)]
        s.flush()
        return [e.id for e in evs]


def _pending(db: Database) -> list[int]:
    with db.session() as s:
        return list(s.scalars(select(OutboxEvent.id).where(OutboxEvent.dispatched_at.is_(None))
                              .order_by(OutboxEvent.id)))


def test_event_recorded_in_a_rolled_back_transaction_is_never_stored(db: Database) -> None:
    def failing_change() -> None:
        with db.unit_of_work() as s:
            events.record(s, "test.thing_happened", {"x": 1})
            s.flush()
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError, match="the change failed"):
        failing_change()
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(OutboxEvent)) == 0


def test_each_event_is_delivered_once_to_each_subscribed_consumer(db: Database, seen: Seen) -> None:
    bus.subscribe("test_a", ["test.*"], seen.handler("test_a"))
    bus.subscribe("test_b", ["test.second_happened"], seen.handler("test_b"))
    first, second = _record(db, "test.first_happened", "test.second_happened")

    assert bus.dispatch_pending(db) == 2
    assert bus.dispatch_pending(db) == 0

    assert sorted(seen.calls) == [("test_a", first, "test.first_happened"),
                                  ("test_a", second, "test.second_happened"),
                                  ("test_b", second, "test.second_happened")]
    assert _pending(db) == []
    with db.session() as s:
        rows = s.execute(select(EventConsumption.consumer, EventConsumption.event_id)
                         .where(EventConsumption.consumer.in_(["test_a", "test_b"]))).all()
    assert sorted(rows) == [("test_a", first), ("test_a", second), ("test_b", second)]


def test_consumers_get_a_batch_in_their_order_then_in_the_order_they_subscribed(db: Database, seen: Seen) -> None:
    # routing's intake is subscribed with order -1 so that a new ticket reaches the routing writer before the
    # classifier and the figures have run on the batch
    bus.subscribe("test_a", ["test.*"], seen.handler("test_a"))
    bus.subscribe("test_b", ["test.*"], seen.handler("test_b"), order=-1)
    bus.subscribe("test_notice", ["test.*"], seen.handler("test_notice"))
    first, second = _record(db, "test.first_happened", "test.second_happened")

    assert bus.dispatch_pending(db) == 2

    assert [c for c in seen.calls if c[0].startswith("test_")] == [
        ("test_b", first, "test.first_happened"), ("test_b", second, "test.second_happened"),
        ("test_a", first, "test.first_happened"), ("test_a", second, "test.second_happened"),
        ("test_notice", first, "test.first_happened"), ("test_notice", second, "test.second_happened")]


def test_events_committed_before_a_crash_are_dispatched_by_the_next_process(db_url: str, seen: Seen) -> None:
    crashed = Database(db_url)
    ids = _record(crashed, "test.first_happened", "test.second_happened")
    crashed.dispose()  # the process died after commit, before dispatching
    assert _pending_with(db_url) == ids

    restarted = Database(db_url)
    try:
        bus.subscribe("test_a", ["test.*"], seen.handler("test_a"))
        assert bus.dispatch_pending(restarted) == 2
        assert bus.dispatch_pending(restarted) == 0
        assert _pending(restarted) == []
    finally:
        restarted.dispose()
    assert seen.calls == [("test_a", ids[0], "test.first_happened"),
                          ("test_a", ids[1], "test.second_happened")]


def test_a_consumer_that_handled_an_event_before_a_crash_does_not_handle_it_again(db: Database,
                                                                                  seen: Seen) -> None:
    (ev_id,) = _record(db, "test.first_happened")
    # Consumer a handled it and committed; the process died before the event was marked dispatched.
    with db.unit_of_work() as s:
        s.add(EventConsumption(consumer="test_a", event_id=ev_id, handled_at=T0))
    bus.subscribe("test_a", ["test.*"], seen.handler("test_a"))
    bus.subscribe("test_b", ["test.*"], seen.handler("test_b"))

    assert bus.dispatch_pending(db) == 1

    assert seen.calls == [("test_b", ev_id, "test.first_happened")]
    assert _pending(db) == []


def test_a_failing_consumer_leaves_the_event_pending_and_others_are_not_run_twice(db: Database,
                                                                                   seen: Seen) -> None:
    (ev_id,) = _record(db, "test.first_happened")
    bus.subscribe("test_a", ["test.*"], seen.handler("test_a"))
    bus.subscribe("test_flaky", ["test.*"], seen.handler("test_flaky", fail_on={ev_id}))

    assert bus.dispatch_pending(db) == 0
    assert _pending(db) == [ev_id]
    with db.session() as s:
        ev = s.get(OutboxEvent, ev_id)
        assert ev is not None
        assert ev.attempts == 1
        assert ev.last_error == f"test_flaky: RuntimeError('test_flaky cannot handle {ev_id}')"

    bus.subscribe("test_flaky", ["test.*"], seen.handler("test_flaky"))  # fixed and redeployed
    assert bus.dispatch_pending(db) == 1

    assert seen.calls == [("test_a", ev_id, "test.first_happened"),
                          ("test_flaky", ev_id, "test.first_happened")]
    assert _pending(db) == []


def _pending_with(url: str) -> list[int]:
    other = Database(url)
    try:
        return _pending(other)
    finally:
        other.dispose()


def test_one_failing_event_in_a_batch_holds_back_only_itself(db: Database, seen: Seen) -> None:
    ids = _record(db, "test.one", "test.two", "test.three")
    bus.subscribe("test_a", ["test.*"], seen.handler("test_a"))
    bus.subscribe("test_flaky", ["test.*"], seen.handler("test_flaky", fail_on={ids[1]}))

    assert bus.dispatch_pending(db) == 2
    assert _pending(db) == [ids[1]]
    # every handler ran exactly once per event, the failing one included (its work rolled back)
    assert seen.calls == [("test_a", ids[0], "test.one"), ("test_a", ids[1], "test.two"),
                          ("test_a", ids[2], "test.three"),
                          ("test_flaky", ids[0], "test.one"), ("test_flaky", ids[2], "test.three")]
    with db.session() as s:
        assert sorted(s.execute(select(EventConsumption.consumer, EventConsumption.event_id)).all()) == sorted(
            [("test_a", ids[0]), ("test_a", ids[1]), ("test_a", ids[2]),
             ("test_flaky", ids[0]), ("test_flaky", ids[2])])


def _writer(name: str, *, fail_on: set[int] | None = None):  # type: ignore[no-untyped-def]
    """A database-only handler: it records what it did as an event of its own (rolled back when it fails)."""
    def handle(session, ev: Event) -> None:  # type: ignore[no-untyped-def]
        events.record(session, "done.by", {"consumer": name, "event": ev.id}, at=T0)
        session.flush()
        if fail_on and ev.id in fail_on:
            raise RuntimeError(f"{name} cannot handle {ev.id}")

    return handle


def _done(db: Database) -> list[int]:
    with db.session() as s:
        return sorted(p["event"] for p in s.scalars(select(OutboxEvent.payload).where(OutboxEvent.name == "done.by")))


def test_a_database_only_consumer_handles_a_batch_together_and_a_failure_still_holds_back_only_itself(
        db: Database, seen: Seen) -> None:
    ids = _record(db, "test.one", "test.two", "test.three")
    bus.subscribe("test_a", ["test.*"], _writer("test_a"), db_only=True)
    bus.subscribe("test_flaky", ["test.*"], _writer("test_flaky", fail_on={ids[1]}), db_only=True)

    assert bus.dispatch_pending(db) == 2
    assert [i for i in _pending(db) if i in ids] == [ids[1]]  # (the handlers' own events wait for the next round)
    # test_a's three writes kept; of test_flaky's, the batch's attempt is rolled back whole and the
    # event-by-event run keeps all but the failing event's
    assert _done(db) == sorted([ids[0], ids[1], ids[2], ids[0], ids[2]])
    with db.session() as s:
        assert sorted(s.execute(select(EventConsumption.consumer, EventConsumption.event_id)).all()) == sorted(
            [("test_a", ids[0]), ("test_a", ids[1]), ("test_a", ids[2]),
             ("test_flaky", ids[0]), ("test_flaky", ids[2])])


def test_a_batch_form_handles_the_batch_at_once_and_after_a_failure_the_handler_takes_each_event(
        db: Database, seen: Seen) -> None:
    ids = _record(db, "test.one", "test.two", "test.three")
    batches: list[list[int]] = []

    def together(session, evs: list[Event]) -> None:  # type: ignore[no-untyped-def]
        batches.append([ev.id for ev in evs])
        events.record(session, "done.by", {"consumer": "test_a", "event": 0}, at=T0)
        if len(batches) == 2:
            raise RuntimeError("the second batch fails")

    bus.subscribe("test_a", ["test.*"], _writer("test_a"), db_only=True, batch=together)
    assert bus.dispatch_pending(db) == 3
    assert batches == [ids]
    assert _done(db) == [0]  # one write for the batch, none event by event

    more = _record(db, "test.four", "test.five")
    assert bus.dispatch_pending(db) >= 2
    assert batches == [ids, more]
    # the failed batch form's write is rolled back; the handler then took each event
    assert _done(db) == [0, more[0], more[1]]


def test_a_prefilter_narrows_the_batch_and_the_events_it_drops_count_as_handled(db: Database, seen: Seen) -> None:
    ids = _record(db, "test.one", "test.two", "test.three")
    batches: list[list[int]] = []

    def odd_only(_session, evs: list[Event]) -> list[Event]:  # type: ignore[no-untyped-def]
        batches.append([ev.id for ev in evs])
        return [ev for ev in evs if ev.id != ids[1]]

    bus.subscribe("test_a", ["test.*"], seen.handler("test_a"), prefilter=odd_only)

    assert bus.dispatch_pending(db) == 3
    assert _pending(db) == []
    assert batches == [ids]
    assert seen.calls == [("test_a", ids[0], "test.one"), ("test_a", ids[2], "test.three")]
    with db.session() as s:
        assert sorted(s.scalars(select(EventConsumption.event_id).where(EventConsumption.consumer == "test_a"))) == ids


def test_a_failing_prefilter_leaves_every_event_to_the_handler(db: Database, seen: Seen) -> None:
    ids = _record(db, "test.one", "test.two")

    def broken(session, _evs: list[Event]) -> list[Event]:  # type: ignore[no-untyped-def]
        session.execute(select(func.count()).select_from(OutboxEvent).where(OutboxEvent.id / 0 > 1))
        raise RuntimeError("the prefilter failed")  # (SQLite answers NULL; PostgreSQL refuses)

    bus.subscribe("test_a", ["test.*"], seen.handler("test_a"), prefilter=broken)

    assert bus.dispatch_pending(db) == 2
    assert seen.calls == [("test_a", ids[0], "test.one"), ("test_a", ids[1], "test.two")]


needs_postgres = pytest.mark.skipif(not os.environ.get("KEFU_TEST_DATABASE_URL"),
                                    reason="claiming with SKIP LOCKED is PostgreSQL's (SQLite has one writer)")


@needs_postgres
def test_two_dispatchers_at_once_share_the_events_and_neither_handles_one_twice(db: Database) -> None:
    ids = _record(db, *(f"test.n{i}" for i in range(6)))
    both_busy = threading.Barrier(2, timeout=20)
    first_of_batch = threading.local()
    handled: list[tuple[str, int]] = []
    lock = threading.Lock()

    def handler(_session, ev: Event) -> None:  # type: ignore[no-untyped-def]
        if not getattr(first_of_batch, "met", False):
            first_of_batch.met = True
            # Each dispatcher holds its claimed batch here until the other is inside its own batch too:
            # only possible if the second one skipped the first one's rows instead of waiting for them.
            both_busy.wait()
        with lock:
            handled.append((threading.current_thread().name, ev.id))

    bus.subscribe("test_a", ["test.*"], handler)
    try:
        results: dict[str, int] = {}

        def run(name: str) -> None:
            results[name] = bus.dispatch_pending(db, limit=3)

        threads = [threading.Thread(target=run, args=(n,), name=n) for n in ("one", "two")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        bus.unsubscribe("test_a")

    assert sorted(ev for _, ev in handled) == ids  # every event once
    assert {name for name, _ in handled} == {"one", "two"}
    assert sorted(results.values()) == [3, 3]
    assert _pending(db) == []


@needs_postgres
def test_events_claimed_by_a_dispatcher_that_dies_go_to_the_next_one_at_once(db: Database, seen: Seen) -> None:
    ids = _record(db, "test.first_happened", "test.second_happened")
    bus.subscribe("test_a", ["test.*"], seen.handler("test_a"))
    dying = db.engine.connect()
    claim = dying.begin()
    dying.execute(select(OutboxEvent.id).with_for_update(key_share=True))  # claimed, being delivered

    assert bus.dispatch_pending(db) == 0  # skipped, not waited for
    assert seen.calls == []

    claim.rollback()  # the process died: its connection and locks are gone
    dying.close()
    assert bus.dispatch_pending(db) == 2
    assert seen.calls == [("test_a", ids[0], "test.first_happened"), ("test_a", ids[1], "test.second_happened")]


def test_a_notice_consumer_keeps_no_consumption_rows_and_its_failure_retries_only_itself(
        db: Database, seen: Seen) -> None:
    ids = _record(db, "test.one", "test.two")
    bus.subscribe("test_notice", ["test.*"], seen.handler("test_notice", fail_on={ids[1]}), durable=False)
    bus.subscribe("test_a", ["test.*"], seen.handler("test_a"))

    assert bus.dispatch_pending(db) == 1
    assert _pending(db) == [ids[1]]
    with db.session() as s:
        assert sorted(s.execute(select(EventConsumption.consumer, EventConsumption.event_id)).all()) == [
            ("test_a", ids[0]), ("test_a", ids[1])]
    # The next round repeats the notice that failed; the durable consumer does not run again.
    seen.calls.clear()
    bus.unsubscribe("test_notice")
    bus.subscribe("test_notice", ["test.*"], seen.handler("test_notice"), durable=False)
    assert bus.dispatch_pending(db) == 1
    assert seen.calls == [("test_notice", ids[1], "test.two")]
    assert _pending(db) == []
