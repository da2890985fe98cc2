"""The weekly `knowledge.reindex` job: every live article indexed again, as a periodic job runs it (once
per tick across processes) and, on PostgreSQL, through a real worker of the job queue."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete, func, select

from kefu.core.config import Settings
from kefu.core.db import Database
from kefu.jobs import defer, queue, registry
from kefu.knowledge import index
from kefu.knowledge.models import IndexEntry
from tests.jobs.test_queue import Worker, needs_postgres, start_worker, wait_until  # noqa: F401 (fixture)
from tests.knowledge.corpus import NOW


def _lose_the_index(db: Database) -> None:
    """What a reindex is for, at its worst: the index rows are gone."""
    with db.unit_of_work() as s:
        s.execute(delete(IndexEntry))


def _indexed(db: Database) -> tuple[int, list[int]]:
    with db.session() as s:
        return (int(s.scalar(select(func.count()).select_from(IndexEntry).where(IndexEntry.live)) or 0),
                index.fulltext_candidates(s, "副卡 扣费", 5))


def test_the_periodic_reindex_indexes_every_live_article_again_once_per_tick(db: Database,
                                                                           corpus: dict[str, int]) -> None:
    registry.load()
    count, found = _indexed(db)
    assert count == len(corpus)
    assert corpus["secondary_fee"] in found
    _lose_the_index(db)
    assert _indexed(db)[0] == 0
    tick = NOW + timedelta(days=1)
    assert registry.run_periodic(db, "knowledge.reindex", tick) is True
    count, found = _indexed(db)
    assert count == len(corpus)
    assert corpus["secondary_fee"] in found
    _lose_the_index(db)
    assert registry.run_periodic(db, "knowledge.reindex", tick) is False  # that tick ran: not again
    assert _indexed(db)[0] == 0


@needs_postgres
def test_a_worker_of_the_job_queue_runs_a_deferred_reindex(db: Database, corpus: dict[str, int], db_url: str,
                                                          tmp_path: Path,
                                                          start_worker: Callable[[Settings], Worker]  # noqa: F811
                                                          ) -> None:
    _lose_the_index(db)
    start_worker(Settings(env="test", data_dir=tmp_path, database_url=db_url, job_queue="procrastinate"))
    with db.unit_of_work() as s:
        defer(s, "knowledge.reindex")
    queue.kick(db)
    wait_until(lambda: _indexed(db)[0] == len(corpus))
    assert corpus["secondary_fee"] in _indexed(db)[1]
