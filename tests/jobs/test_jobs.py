"""Jobs: declared once, deferred with the change, run once, in process (the embedded shape) on both databases."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from croniter import croniter
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from kefu.core import events
from kefu.core.db import Database
from kefu.core.events import EventConsumption, OutboxEvent, bus
from kefu.jobs import defer, job, registry, schedule
from kefu.jobs.inline import InlineRunner
from kefu.jobs.models import PeriodicRun
from tests.jobs import conftest
from tests.jobs.conftest import runs

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def only_test_jobs(test_jobs: dict[str, registry.Job]) -> None:
    """The knowledge jobs are not what these tests look at (the fixture puts everything back)."""
    for name in [n for n in test_jobs if not n.startswith("test.")]:
        del test_jobs[name]


def test_a_deferred_job_runs_once_after_its_transaction_commits(db: Database) -> None:
    with db.unit_of_work() as s:
        defer(s, "test.record", note="hello")
    assert runs(db) == []  # committed, not yet dispatched

    bus.dispatch_pending(db)
    bus.dispatch_pending(db)

    with db.session() as s:
        deferred_id = s.scalar(select(OutboxEvent.id).where(OutboxEvent.name == registry.DEFERRED))
        consumed = s.scalars(select(EventConsumption.consumer).where(EventConsumption.event_id == deferred_id))
        assert sorted(consumed) == ["jobs"]
    assert runs(db) == [{"note": "hello", "key": f"test.record#{deferred_id}", "attempt": 1}]


def test_a_job_deferred_in_a_rolled_back_transaction_never_runs(db: Database) -> None:
    def failing_change() -> None:
        with db.unit_of_work() as s:
            defer(s, "test.record", note="never")
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError, match="the change failed"):
        failing_change()
    bus.dispatch_pending(db)
    assert runs(db) == []
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(OutboxEvent)) == 0


def test_a_failing_job_leaves_nothing_behind_and_runs_again_until_it_succeeds(db: Database) -> None:
    conftest.FAILING.add("flaky")
    with db.unit_of_work() as s:
        defer(s, "test.record", note="flaky")
    assert bus.dispatch_pending(db) == 0
    assert runs(db) == []  # its work was rolled back with it
    with db.session() as s:
        deferred = s.scalars(select(OutboxEvent).where(OutboxEvent.name == registry.DEFERRED)).one()
        assert (deferred.attempts, deferred.dispatched_at) == (1, None)
        assert deferred.last_error == "jobs: RuntimeError('cannot record flaky')"

    conftest.FAILING.clear()
    assert bus.dispatch_pending(db) == 1
    assert [r["note"] for r in runs(db)] == ["flaky"]


def test_defer_refuses_an_unknown_job_and_arguments_that_are_not_json_and_records_nothing(db: Database) -> None:
    with db.unit_of_work() as s:
        with pytest.raises(registry.UnknownJob, match=r"no job 'test\.nobody'"):
            defer(s, "test.nobody")
        with pytest.raises(ValueError, match="arguments must be JSON values"):
            defer(s, "test.record", note=T0)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(OutboxEvent)) == 0


def test_a_run_that_committed_is_not_repeated_when_the_queue_retries_it(db: Database) -> None:
    with db.unit_of_work() as s:
        ev = events.record(s, registry.DEFERRED, {"job": "test.record", "kwargs": {"note": "once"}})
        s.flush()
        event_id = ev.id

    assert registry.run_deferred(db, "test.record", event_id, {"note": "once"}) is True
    assert registry.run_deferred(db, "test.record", event_id, {"note": "once"}, attempt=2) is False

    assert runs(db) == [{"note": "once", "key": f"test.record#{event_id}", "attempt": 1}]


def test_each_tick_of_a_periodic_job_runs_once_however_many_processes_run_it(db: Database) -> None:
    one, two = InlineRunner(db), InlineRunner(db)
    at = T0.timestamp()

    assert one.run_due(at) == [("test.tick", at)]  # started at 09:00 sharp: that tick is due
    assert two.run_due(at) == []  # the other process started too: the tick ran already
    assert one.run_due(at + 599) == []
    assert two.run_due(at + 1200) == [("test.tick", at + 600), ("test.tick", at + 1200)]
    assert one.run_due(at + 1200) == []

    assert [r["key"] for r in runs(db)] == [f"test.tick@{(T0 + timedelta(minutes=m)).isoformat()}"
                                            for m in (0, 10, 20)]
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(PeriodicRun)) == 3


def test_a_periodic_job_finds_the_last_tick_that_ran_before_its_own(db: Database) -> None:
    """`last_tick`: what a job working on "everything since my last run" starts from (the wall's alerts)."""
    with db.session() as s:
        assert registry.last_tick(s, "test.tick", before=T0) is None  # never ran
    for minutes in (0, 10):
        assert registry.run_periodic(db, "test.tick", T0 + timedelta(minutes=minutes)) is True
    with db.session() as s:
        assert registry.last_tick(s, "test.tick", before=T0 + timedelta(minutes=20)) == T0 + timedelta(minutes=10)
        assert registry.last_tick(s, "test.tick", before=T0 + timedelta(minutes=10)) == T0  # not its own tick
        assert registry.last_tick(s, "test.tick", before=T0) is None
        assert registry.last_tick(s, "test.other", before=T0 + timedelta(hours=1)) is None  # per job


def test_a_periodic_tick_missed_while_no_process_was_up_is_skipped_after_ten_minutes(db: Database) -> None:
    registry.JOBS["test.tick"] = registry.Job("test.tick", conftest.tick, "maintenance", "0 * * * *")  # hourly
    assert InlineRunner(db).run_due(T0.timestamp() + 601) == []  # 09:10:01: the 09:00 run is lost
    assert InlineRunner(db).run_due(T0.timestamp() + 599) == [("test.tick", T0.timestamp())]


def test_the_embedded_server_runs_deferred_jobs_with_no_worker(db: Database, settings: Any) -> None:
    from fastapi.testclient import TestClient

    from kefu.app import create_app

    del registry.JOBS["test.tick"]  # on the real clock it may fall due now; not what this test is about
    app = create_app(settings, db)  # the dispatcher thread starts with the app
    with TestClient(app):
        assert isinstance(app.state.dispatcher, InlineRunner)
        with db.unit_of_work() as s:
            defer(s, "test.record", note="embedded")
        app.state.dispatcher.wake()
        deadline = time.monotonic() + 30
        while not runs(db) and time.monotonic() < deadline:
            time.sleep(0.05)
    assert [r["note"] for r in runs(db)] == ["embedded"]


def test_the_knowledge_expiry_is_a_periodic_job_that_runs_the_expiry_sweep(db: Database) -> None:
    from kefu.knowledge import jobs as knowledge_jobs

    registry.JOBS["knowledge.expire"] = registry.Job("knowledge.expire", knowledge_jobs.expire, "maintenance",
                                                     "5 * * * *")
    tick_at = T0.replace(minute=5)
    assert registry.run_periodic(db, "knowledge.expire", tick_at) is True
    assert registry.run_periodic(db, "knowledge.expire", tick_at) is False


def test_job_declarations_refuse_bad_cron_and_overlong_names() -> None:
    with pytest.raises(ValueError, match="invalid cron expression"):
        job("test.bad", cron="every monday")
    with pytest.raises(ValueError, match="job name too long"):
        job("test." + "x" * 80)


# ---- schedule (pure) ----


CRONS_AND_WINDOWS = st.sampled_from([("*/10 * * * *", 2 * 86_400), ("5 * * * *", 20 * 86_400),
                                      ("30 19 * * 6", 60 * 86_400), ("* * * * * */5", 3_600),
                                      ("0 0 1 * *", 400 * 86_400)])


@settings(max_examples=60, deadline=None)
@given(cron_window=CRONS_AND_WINDOWS, since=st.integers(1_700_000_000, 1_800_000_000), share=st.floats(0, 1))
def test_due_ticks_are_exactly_the_crons_ticks_in_the_window(cron_window: tuple[str, int], since: int,
                                                            share: float) -> None:
    cron, window = cron_window
    until = since + share * window
    ticks = schedule.due_ticks(cron, since, until)
    assert ticks == sorted(set(ticks))
    assert all(since < t <= until for t in ticks)
    assert all(croniter.match(cron, datetime.fromtimestamp(t, UTC)) for t in ticks[:50])
    following = croniter(cron, ticks[-1] if ticks else since).get_next(float)
    assert following > until  # none left out at the end


def test_at_start_only_the_latest_tick_runs_and_only_if_recent() -> None:
    nine = T0.timestamp()
    assert schedule.due_ticks("*/10 * * * *", None, nine + 30) == [nine]
    assert schedule.due_ticks("*/10 * * * *", None, nine + 599) == [nine]
    assert schedule.due_ticks("5 * * * *", None, nine + 30) == []  # 08:05 is 55 minutes ago
