"""Jobs declared for the tests only, registered for the test that asks for them and removed afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from kefu.core import events
from kefu.core.db import Database
from kefu.core.events import OutboxEvent
from kefu.jobs import JobContext, job, registry

FAILING: set[str] = set()  # notes the `test.record` job refuses, to make it fail on purpose


def record_note(ctx: JobContext, *, note: str) -> None:
    """The job's effect is a row in the database (an outbox event): it commits with the run or not at all."""
    events.record(ctx.session, "test.job_ran", {"note": note, "key": ctx.key, "attempt": ctx.attempt})
    if note in FAILING:
        raise RuntimeError(f"cannot record {note}")


def tick(ctx: JobContext) -> None:
    events.record(ctx.session, "test.job_ran", {"note": "tick", "key": ctx.key}, at=ctx.now)


@pytest.fixture
def declared() -> Iterator[dict[str, registry.Job]]:
    """The process's declared jobs, put back as they were after the test."""
    registry.load()  # every module's declarations are in, so that they are put back too
    saved = dict(registry.JOBS)
    FAILING.clear()
    yield registry.JOBS
    registry.JOBS.clear()
    registry.JOBS.update(saved)
    FAILING.clear()


@pytest.fixture
def test_jobs(declared: dict[str, registry.Job]) -> dict[str, registry.Job]:
    job("test.record", queue="default")(record_note)
    job("test.tick", queue="maintenance", cron="*/10 * * * *")(tick)
    return declared


def runs(db: Database) -> list[dict[str, Any]]:
    with db.session() as s:
        return [dict(p) for p in s.scalars(select(OutboxEvent.payload).where(OutboxEvent.name == "test.job_ran")
                                           .order_by(OutboxEvent.id))]
