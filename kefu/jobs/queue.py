"""The scaled shape's job queue: procrastinate on PostgreSQL, worked by `kefu worker` processes.

Why procrastinate (and not arq or dramatiq on Redis): the scaled shape runs PostgreSQL already, so jobs
live in the same database as the outbox and the data they act on: deferring a job commits or rolls
back with the change that asked for it, and a job survives anything Redis does (Redis here keeps
nothing on disk). Workers learn of new jobs through LISTEN/NOTIFY (polling every few seconds as a
fallback) and claim them with SKIP LOCKED; periodic jobs are deferred once per tick however many
workers run; failures are retried with backoff; workers heartbeat, so the jobs of a dead one are found
and queued again. It is maintained, typed, and its schema is plain SQL applied by our own migration.

Tasks on the queue:

- `kefu.events.dispatch` (queue `events`): deliver pending outbox events (EventBus.dispatch, batches
  claimed with SKIP LOCKED, so several at once share the work) for up to DISPATCH_SECONDS, then queue
  itself again if events are left. API processes queue it after each commit that recorded events
  (`Kicker`: one waiting at a time, so a burst of commits costs one job); the periodic sweep queues it
  every few seconds for events whose kick was lost (an API process died right after its commit).
- every declared job (kefu.jobs.registry) under its own name and queue; `job.deferred` events are
  turned into queue jobs by the worker's `jobs` consumer, in the consumer's transaction.
- `kefu.jobs.retry_stalled` (queue `maintenance`, every minute): jobs held by a worker that stopped
  heart-beating go back to the queue; `kefu.jobs.prune` (daily) deletes finished jobs after two weeks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from kefu.core import pubsub
from kefu.core.config import Settings
from kefu.core.db import Database
from kefu.core.events import Dispatcher, Event, bus
from kefu.jobs import registry

log = logging.getLogger(__name__)

DISPATCH = "kefu.events.dispatch"
RETRY_STALLED = "kefu.jobs.retry_stalled"
PRUNE = "kefu.jobs.prune"
DISPATCH_SECONDS = 30.0  # one dispatch job's turn; it queues the next if events are left
SWEEP_CRON = "* * * * * */5"  # every 5 s: events whose kick was lost
STALLED_AFTER_SECONDS = 60.0  # a worker without heartbeat for this long is dead (heartbeat every 10 s)
KEEP_FINISHED_HOURS = 14 * 24


class WorkerNeedsPostgres(RuntimeError):
    pass


# ---- deferring: procrastinate's own SQL function, inside the caller's transaction ----

_DEFER = text(
    """
    SELECT procrastinate_defer_jobs_v1(ARRAY[ROW(
        CAST(:queue AS varchar), CAST(:task AS varchar), 0, CAST(NULL AS text), CAST(:qlock AS text),
        CAST(:args AS jsonb), CAST(NULL AS timestamptz))::procrastinate_job_to_defer_v1])
    WHERE CAST(:qlock AS text) IS NULL OR NOT EXISTS (
        SELECT 1 FROM procrastinate_jobs WHERE queueing_lock = CAST(:qlock AS text) AND status = 'todo')
    """
)


def defer_sql(conn: Connection | Session, *, queue: str, task: str, args: dict[str, Any],
              queueing_lock: str | None = None) -> bool:
    """Queue a job in the caller's transaction (its NOTIFY goes out at commit). With a queueing lock,
    nothing is queued (False) while a job with that lock is waiting already."""
    row = conn.execute(_DEFER, {"queue": queue, "task": task, "qlock": queueing_lock,
                                "args": json.dumps(args)}).first()
    return row is not None


def kick(db: Database) -> bool:
    """Ask the workers to dispatch the outbox (no-op while a dispatch job is waiting)."""
    try:
        with db.engine.begin() as c:
            return defer_sql(c, queue="events", task=DISPATCH, args={}, queueing_lock=DISPATCH)
    except IntegrityError:  # another process queued it between our check and our insert
        return False


class Kicker(Dispatcher):
    """API processes of the scaled shape: `wake()` after a commit that recorded events; the thread queues
    the dispatch job (a burst of commits wakes it once), retrying every second while PostgreSQL is away.
    It kicks once when it starts too (events a dead process left), and hourly for good measure."""

    def __init__(self, db: Database, *, retry_seconds: float = 1.0) -> None:
        super().__init__(db, idle_seconds=3600.0)
        self.retry = retry_seconds

    def tick(self) -> None:
        try:
            kick(self.db)
        except SQLAlchemyError as exc:
            log.warning("could not queue event dispatch (retrying): %s", exc)
            self._stop.wait(self.retry)
            self._wake.set()


# ---- the worker ----


def enqueue(session: Session, event: Event) -> None:
    """The worker's `jobs` consumer: a deferred job becomes a queue job, in the consumer's transaction."""
    j = registry.get(str(event.payload["job"]))
    defer_sql(session, queue=j.queue, task=j.name,
              args={"event_id": event.id, "kwargs": event.payload.get("kwargs") or {}})


def conninfo(url: str) -> str:
    """libpq's form of a SQLAlchemy PostgreSQL URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def build_app(db: Database) -> Any:
    """The procrastinate App of a worker: kefu's tasks and every declared job."""
    import procrastinate

    # procrastinate's pool checks each connection before handing it out (a restarted PostgreSQL).
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo(db.url), min_size=1,
                                                                     max_size=4))

    def dispatch(timestamp: int | None = None) -> None:
        _, more = bus.dispatch(db, max_seconds=DISPATCH_SECONDS)
        if more:
            kick(db)

    dispatch_task = app.task(name=DISPATCH, queue="events")(dispatch)
    app.periodic(cron=SWEEP_CRON, periodic_id="sweep", queueing_lock=DISPATCH)(dispatch_task)

    async def retry_stalled(context: Any, timestamp: int | None = None) -> None:
        manager = context.app.job_manager
        for job in await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER_SECONDS):
            log.warning("job %s (%s) was held by a dead worker: queued again", job.id, job.task_name)
            await manager.retry_job(job)

    app.periodic(cron="* * * * *", periodic_id="retry_stalled")(
        app.task(name=RETRY_STALLED, queue="maintenance", pass_context=True)(retry_stalled))

    async def prune(context: Any, timestamp: int | None = None) -> None:
        await context.app.job_manager.delete_old_jobs(nb_hours=KEEP_FINISHED_HOURS, include_failed=True,
                                                      include_cancelled=True, include_aborted=True)

    app.periodic(cron="17 3 * * *", periodic_id="prune")(
        app.task(name=PRUNE, queue="maintenance", pass_context=True)(prune))

    for j in registry.JOBS.values():
        task = app.task(name=j.name, queue=j.queue, pass_context=True, retry=_retry(j.retries))(_runner(db, j))
        if j.cron:
            app.periodic(cron=j.cron, periodic_id=j.name)(task)
    return app


def _retry(retries: int) -> Any:
    import procrastinate

    return procrastinate.RetryStrategy(max_attempts=retries, exponential_wait=2) if retries else False


def _runner(db: Database, j: registry.Job) -> Any:
    def run(context: Any, *, event_id: int | None = None, kwargs: dict[str, Any] | None = None,
            timestamp: int | None = None) -> None:
        attempt = int(context.job.attempts) + 1
        if timestamp is not None:
            registry.run_periodic(db, j.name, registry.tick_time(timestamp), attempt=attempt)
        elif event_id is not None:
            registry.run_deferred(db, j.name, event_id, kwargs or {}, attempt=attempt)
        else:
            raise ValueError(f"job {j.name}: neither a tick nor a deferring event")

    run.__name__ = run.__qualname__ = j.name.replace(".", "_")
    return run


def prepare_worker(settings: Settings, *, concurrency: int, imports: Iterable[str] = ()) -> tuple[Any, Database]:
    """Everything a worker process needs before it runs: jobs and consumers loaded, the hub installed,
    deferred jobs routed to the queue, the procrastinate App built."""
    url = settings.effective_database_url
    if make_url(url).get_backend_name() != "postgresql":
        raise WorkerNeedsPostgres(
            "kefu worker needs PostgreSQL (KEFU_DATABASE_URL=postgresql+psycopg://...); the embedded shape "
            "(SQLite) runs its jobs inside `kefu serve`")
    registry.configure(settings)
    registry.load(imports)
    if settings.redis_url:
        pubsub.install(pubsub.from_settings(settings))
    else:
        log.warning("KEFU_REDIS_URL is not set: live updates published by this worker reach no console")
    bus.subscribe(registry.CONSUMER, [registry.DEFERRED], enqueue)
    db = Database(url, pool_size=concurrency + 2, max_overflow=2 * concurrency)
    return build_app(db), db


async def supervise(app: Any, *, concurrency: int, queues: list[str] | None, name: str | None = None,
                    stop: asyncio.Event | None = None, install_signals: bool = True,
                    retry_seconds: float = 1.0) -> None:
    """Run the worker until `stop` (or SIGTERM / SIGINT); when it fails (PostgreSQL restarted, a
    connection died), start it again after a pause, with a new connection pool."""
    loop = asyncio.get_running_loop()
    # Synchronous jobs run in threads: one per concurrent job.
    loop.set_default_executor(ThreadPoolExecutor(max_workers=concurrency + 2, thread_name_prefix="kefu-job"))
    stop = stop or asyncio.Event()
    if install_signals:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
    pause = retry_seconds
    while not stop.is_set():
        started = loop.time()
        try:
            async with app.open_async():
                run = asyncio.create_task(app.run_worker_async(
                    concurrency=concurrency, queues=queues, name=name, install_signal_handlers=False,
                    delete_jobs="successful", fetch_job_polling_interval=1.0))
                stopping = asyncio.create_task(stop.wait())
                await asyncio.wait({run, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if not run.done():
                    run.cancel()  # procrastinate stops gracefully: running jobs finish first
                    with contextlib.suppress(asyncio.CancelledError):
                        await run
                    return
                stopping.cancel()
                run.result()
                log.warning("the worker stopped by itself; starting it again")
        except Exception as exc:
            log.warning("the worker failed (%s: %s); starting it again in %.1f s", type(exc).__name__, exc, pause)
        if loop.time() - started > 30:
            pause = retry_seconds
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=pause)
        pause = min(pause * 2, 10.0)


def run_worker(settings: Settings, *, concurrency: int = 4, queues: list[str] | None = None,
               name: str | None = None, imports: Iterable[str] = ()) -> None:
    """`kefu worker`: run jobs from the queues (all when None) until SIGTERM / SIGINT."""
    app, db = prepare_worker(settings, concurrency=concurrency, imports=imports)
    stop_routing = None
    if settings.routing_writer:
        from kefu.routing import runtime as routing


        def dispatch_soon() -> None:
            kick(db)

        stop_routing = routing.start(db, on_commit=dispatch_soon)
    try:
        asyncio.run(supervise(app, concurrency=concurrency, queues=queues, name=name))
    finally:
        if stop_routing is not None:
            stop_routing()
        db.dispose()
        pubsub.current().close()
