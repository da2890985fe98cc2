"""The scaled shape's queue (procrastinate on PostgreSQL): kicks, a real worker, live notices through Redis."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from kefu.core import pubsub
from kefu.core.config import Settings
from kefu.core.db import Database
from kefu.core.events import OutboxEvent, bus
from kefu.jobs import defer, queue, registry
from tests.conftest import PG_URL, World
from tests.core.test_pubsub import Inbox, wait_listening
from tests.jobs.conftest import runs

needs_postgres = pytest.mark.skipif(not PG_URL, reason="the job queue lives in PostgreSQL")
WAIT = 60.0


def wait_until(what: Callable[[], bool], *, seconds: float = WAIT) -> None:
    deadline = time.monotonic() + seconds
    while not what():
        assert time.monotonic() < deadline, "the worker did not get there in time"
        time.sleep(0.05)


def queued(db: Database, task: str, status: str = "todo") -> int:
    with db.session() as s:
        return int(s.scalar(text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = :t AND status = :s"),
                            {"t": task, "s": status}) or 0)


@pytest.fixture
def scaled_settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(env="test", data_dir=tmp_path, database_url=db_url, job_queue="procrastinate")


@dataclass
class Worker:
    thread: threading.Thread
    loop: asyncio.AbstractEventLoop
    stop: asyncio.Event


@pytest.fixture
def start_worker() -> Iterator[Callable[[Settings], Worker]]:
    """`kefu worker` in a thread of this process (signals are the main thread's, so it is stopped by event)."""
    started: list[tuple[Worker, Database]] = []
    previous_hub = pubsub.current()

    def start(settings: Settings) -> Worker:
        app, wdb = queue.prepare_worker(settings, concurrency=2)
        ready = threading.Event()
        box: dict[str, Any] = {}

        def run() -> None:
            async def main() -> None:
                box["loop"], box["stop"] = asyncio.get_running_loop(), asyncio.Event()
                ready.set()
                await queue.supervise(app, concurrency=2, queues=None, stop=box["stop"], install_signals=False)

            asyncio.run(main())

        t = threading.Thread(target=run, name="test-worker", daemon=True)
        t.start()
        assert ready.wait(10)
        w = Worker(t, box["loop"], box["stop"])
        started.append((w, wdb))
        return w

    yield start
    for w, wdb in started:
        w.loop.call_soon_threadsafe(w.stop.set)
        w.thread.join(timeout=30)
        wdb.dispose()
    registry.use_inline_runs()
    if pubsub.current() is not previous_hub:
        pubsub.current().close()
        pubsub.install(previous_hub)


def test_the_worker_needs_postgresql(tmp_path: Path) -> None:
    sqlite = Settings(env="test", data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/k.sqlite3")
    with pytest.raises(queue.WorkerNeedsPostgres, match="kefu worker needs PostgreSQL"):
        queue.prepare_worker(sqlite, concurrency=1)
    assert bus.consumers[registry.CONSUMER].handler is registry.run_inline  # nothing was switched over


@needs_postgres
def test_a_kick_queues_one_dispatch_job_while_one_is_waiting(db: Database) -> None:
    assert queue.kick(db) is True
    assert queue.kick(db) is False
    assert queue.kick(db) is False
    assert queued(db, queue.DISPATCH) == 1


@needs_postgres
def test_an_api_process_of_the_scaled_shape_kicks_the_workers_instead_of_dispatching(
    db: Database, world: World, scaled_settings: Settings
) -> None:
    from kefu.app import create_app

    app = create_app(scaled_settings, db)
    with TestClient(app) as client:
        assert isinstance(app.state.dispatcher, queue.Kicker)
        r = client.post("/api/v1/inbound/sms", headers=world.auth("admin"),
                        json={"message_id": "k-1", "sender": "13800138001", "text": "话费", "org_unit_code": "GZ"})
        assert r.status_code == 201
        wait_until(lambda: queued(db, queue.DISPATCH) == 1, seconds=20)
    with db.session() as s:  # nobody dispatched in the API process
        assert s.scalar(select(func.count()).select_from(OutboxEvent).where(OutboxEvent.dispatched_at.is_(None))) > 0


@needs_postgres
def test_the_worker_registers_every_job_and_its_periodic_schedule(
    db: Database, declared: dict[str, registry.Job]
) -> None:
    app = queue.build_app(db)
    assert {queue.DISPATCH, queue.RETRY_STALLED, queue.PRUNE, "knowledge.expire", "knowledge.reindex"} <= set(app.tasks)
    schedules = {name: pt.cron for (name, _), pt in app.periodic_registry.periodic_tasks.items()}
    # the queue's own schedules, and every periodic job a domain declares (with the cron it declares)
    assert schedules == {queue.DISPATCH: "* * * * * */5", queue.RETRY_STALLED: "* * * * *", queue.PRUNE: "17 3 * * *",
                         **{j.name: j.cron for j in registry.periodic()}}
    assert (schedules["knowledge.expire"], schedules["knowledge.reindex"]) == ("5 * * * *", "30 19 * * 6")
    assert app.tasks["knowledge.expire"].queue == "maintenance"


@needs_postgres
def test_a_worker_dispatches_the_outbox_and_runs_the_jobs_deferred_in_it(
    db: Database, scaled_settings: Settings, start_worker: Callable[[Settings], Worker],
    test_jobs: dict[str, registry.Job],
) -> None:
    del test_jobs["test.tick"]  # on the real clock it may fall due now; not what this test is about
    start_worker(scaled_settings)
    with db.unit_of_work() as s:
        defer(s, "test.record", note="on the queue")
    queue.kick(db)  # what the API process does after its commit

    wait_until(lambda: [r["note"] for r in runs(db)] == ["on the queue"])
    with db.session() as s:
        deferred_id = s.scalar(select(OutboxEvent.id).where(OutboxEvent.name == registry.DEFERRED))
        consumers = sorted(s.scalars(text("SELECT consumer FROM event_consumptions WHERE event_id = :e"),
                                     {"e": deferred_id}))
    assert consumers == ["job:test.record", "jobs"]  # enqueued once, run once
    assert runs(db)[0]["key"] == f"test.record#{deferred_id}"


@needs_postgres
def test_live_notices_from_the_workers_dispatch_reach_every_api_process_through_redis(
    db: Database, world: World, tmp_path: Path, db_url: str, redis_url: str, redis_prefix: str,
    start_worker: Callable[[Settings], Worker],
) -> None:
    from kefu.channels import inbound
    from kefu.web import live

    settings = Settings(env="test", data_dir=tmp_path, database_url=db_url, job_queue="procrastinate",
                        redis_url=redis_url, redis_prefix=redis_prefix)
    api = pubsub.RedisHub(redis_url, prefix=redis_prefix)  # an API process's hub
    got = Inbox()
    api.subscribe(live.CHANNEL, got)
    try:
        start_worker(settings)
        wait_listening(api, live.CHANNEL, 1)
        with db.unit_of_work() as s:
            inbound.receive(s, settings, "sms", inbound.InboundMessage(
                message_id="live-1", sender="13800138002", text="宽带断了", org_unit_code="GZ"))
        queue.kick(db)
        assert got.wait_for(lambda: any(m["kind"] == "inbox" for m in got.messages))
    finally:
        api.close()
    assert {m["unit"] for m in got.messages} == {world.units["gz"]}


def test_a_server_refuses_the_job_queue_without_postgresql(tmp_path: Path) -> None:
    from kefu.jobs.runtime import start_in_server

    settings = Settings(env="test", data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/k.sqlite3",
                        job_queue="procrastinate")
    db = Database(settings.effective_database_url)
    try:
        with pytest.raises(RuntimeError, match="KEFU_JOB_QUEUE=procrastinate needs PostgreSQL"):
            start_in_server(settings, db)
    finally:
        db.dispose()
