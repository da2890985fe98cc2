"""Declared jobs, `defer`, and how one run happens (the same for the in-process runner and the queue).

See the package docstring (kefu/jobs/__init__.py) for the contract a domain follows.
"""

from __future__ import annotations

import importlib
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kefu.core import domains, events
from kefu.core.clock import utcnow
from kefu.core.config import Settings, get_settings
from kefu.core.db import Database
from kefu.core.events import Event, EventConsumption, bus
from kefu.jobs import schedule
from kefu.jobs.models import PeriodicRun

log = logging.getLogger(__name__)

#: The modules that declare jobs (`@job`) or event consumers: every process that dispatches events or
#: runs jobs imports them (`load`), so that each consumer sees every event. A module's `register()`,
#: if it has one, is called after import. A domain's `jobs.py` and `consumers.py` are found by name
#: (kefu.core.domains); the shell's live updates are named here.
MODULES: tuple[str, ...] = ("kefu.web.live", *domains.module_names("jobs"), *domains.module_names("consumers"))

DEFERRED = "job.deferred"  # the outbox event that `defer` records
CONSUMER = "jobs"  # the outbox consumer that runs (inline) or enqueues (queue) deferred jobs
QUEUES = ("events", "default", "maintenance")  # the queues of kefu's own jobs; a domain may add others
KEEP_PERIODIC_RUNS = timedelta(days=30)


@dataclass(frozen=True)
class JobContext:
    session: Session  # the run's transaction, committed by the runner together with the run's marker
    settings: Settings
    now: datetime  # the tick of a periodic run; when the run started otherwise
    key: str  # the same for every attempt of one run: an idempotency key for outside services
    attempt: int = 1


JobFunction = Callable[..., None]  # fn(ctx: JobContext, **kwargs)


@dataclass(frozen=True)
class Job:
    name: str
    fn: JobFunction
    queue: str = "default"
    cron: str | None = None  # periodic, in UTC
    retries: int = 0  # extra attempts after a failure (on the queue; inline, the outbox retries)


JOBS: dict[str, Job] = {}


class UnknownJob(LookupError):
    pass


def job(name: str, *, queue: str = "default", cron: str | None = None,
        retries: int = 0) -> Callable[[JobFunction], JobFunction]:
    """Declare `fn(ctx, **kwargs)` as the job `name` (periodic with a cron expression in UTC)."""
    if len(f"job:{name}") > 80:
        raise ValueError(f"job name too long: {name!r}")
    if cron is not None and not schedule.valid(cron):
        raise ValueError(f"job {name!r}: invalid cron expression {cron!r}")

    def deco(fn: JobFunction) -> JobFunction:
        JOBS[name] = Job(name, fn, queue, cron, retries)
        return fn

    return deco


def get(name: str) -> Job:
    try:
        return JOBS[name]
    except KeyError:
        raise UnknownJob(f"no job {name!r} is declared in this process (is its module in MODULES?)") from None


def periodic() -> list[Job]:
    return [j for j in JOBS.values() if j.cron]


def defer(session: Session, name: str, **kwargs: Any) -> None:
    """Run job `name` with `kwargs` after the caller's transaction commits (never if it rolls back)."""
    get(name)
    try:
        json.dumps(kwargs)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"job {name!r}: arguments must be JSON values: {exc}") from None
    events.record(session, DEFERRED, {"job": name, "kwargs": kwargs})


def load(extra: Iterable[str] = ()) -> None:
    """Import every module that declares jobs or consumers (idempotent)."""
    for name in (*MODULES, *extra):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            log.debug("job module %s is not installed", name)
            continue
        register = getattr(module, "register", None)
        if callable(register):
            register()


_settings: Settings | None = None


def configure(settings: Settings) -> None:
    """The settings that jobs of this process see (the server's or the worker's)."""
    global _settings
    _settings = settings


def settings() -> Settings:
    return _settings or get_settings()


# ---- one run ----


def run_in(session: Session, j: Job, *, now: datetime, key: str, attempt: int = 1,
           kwargs: dict[str, Any] | None = None) -> None:
    """Call the job inside `session`'s transaction (the caller commits)."""
    j.fn(JobContext(session, settings(), now, key, attempt), **(kwargs or {}))
    session.flush()


def _claim(session: Session, marker: Any) -> bool:
    """Add the run's marker row; False when it is there already (the run happened, or is happening)."""
    sp = session.begin_nested()
    try:
        session.add(marker)
        session.flush()
    except IntegrityError:
        sp.rollback()
        return False
    sp.commit()
    return True


def run_deferred(db: Database, name: str, event_id: int, kwargs: dict[str, Any], *, attempt: int = 1) -> bool:
    """Run a deferred job once for the event that deferred it: the job's work commits with the row
    (`job:<name>`, event id) in `event_consumptions`. False when that run already happened."""
    j = get(name)
    with db.session() as s:
        if not _claim(s, EventConsumption(consumer=f"job:{name}", event_id=event_id, handled_at=utcnow())):
            return False
        run_in(s, j, now=utcnow(), key=f"{name}#{event_id}", attempt=attempt, kwargs=kwargs)
        s.commit()
    return True


def run_periodic(db: Database, name: str, tick: datetime, *, attempt: int = 1) -> bool:
    """Run a periodic job for one tick, once across processes: the job's work commits with the row
    (name, tick) in `periodic_runs`. False when that tick already ran."""
    j = get(name)
    with db.session() as s:
        if not _claim(s, PeriodicRun(job=name, due_at=tick, ran_at=utcnow())):
            return False
        run_in(s, j, now=tick, key=f"{name}@{tick.isoformat()}", attempt=attempt)
        s.execute(delete(PeriodicRun).where(PeriodicRun.job == name, PeriodicRun.due_at < tick - KEEP_PERIODIC_RUNS))
        s.commit()
    return True


def last_tick(session: Session, name: str, *, before: datetime) -> datetime | None:
    """The latest tick before `before` at which periodic job `name` ran and committed (None when no run
    is kept): what a job that works on "what happened since my last run" starts from."""
    return session.scalar(select(func.max(PeriodicRun.due_at)).where(PeriodicRun.job == name,
                                                                     PeriodicRun.due_at < before))


def tick_time(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def run_inline(session: Session, event: Event) -> None:
    """The `jobs` consumer of the embedded shape: run the deferred job in the consumer's transaction,
    whose consumption row is the run's marker."""
    name = str(event.payload["job"])
    run_in(session, get(name), now=utcnow(), key=f"{name}#{event.id}", kwargs=event.payload.get("kwargs") or {})


def use_inline_runs() -> None:
    """Deferred jobs run where the events are dispatched (the default; a queue worker replaces it)."""
    bus.subscribe(CONSUMER, [DEFERRED], run_inline)


use_inline_runs()
