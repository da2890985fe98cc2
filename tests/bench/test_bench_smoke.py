"""Tiny runs of the benches' logic: they count what they did. Speed is never asserted here."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from kefu.bench import inbox, ingest
from kefu.bench.common import fresh_database, percentile

PG_URL = os.environ.get("KEFU_TEST_DATABASE_URL")
DB = "postgres" if PG_URL else "sqlite"
PG_ADMIN = (
    make_url(PG_URL).set(database="postgres").render_as_string(hide_password=False)
    if PG_URL
    else ingest.PG_ADMIN_URL
)


def test_ingest_posts_every_message_through_a_live_server_and_reports_counts() -> None:
    lines: list[str] = []
    result = ingest.run(
        db=DB, clients=2, messages=12, workers=1, max_seconds=120, echo=lines.append, pg_admin_url=PG_ADMIN
    )
    assert result.sent == 12
    assert result.accepted == 12
    assert result.errors == 0
    assert len(result.latencies_ms) == 12
    assert sum(result.statuses.values()) == 12
    assert result.per_second > 0
    assert "12/12 messages accepted" in lines[-1]
    assert "errors 0" in lines[-1]
    # then the outbox drained: every message's events dispatched, the CPU in all counted
    assert (result.drained, result.pending_left) == (True, 0)
    assert result.total_server_cpu_s >= result.server_cpu_s
    assert "outbox drained" in lines[-1]


def test_inbox_seeds_the_tickets_asked_for_and_times_every_case() -> None:
    from kefu.core.db import Database
    from kefu.tickets.models import Ticket

    with fresh_database(DB, pg_admin_url=PG_ADMIN) as url:
        seeded = inbox.seed(url, 300)
        db = Database(url)
        with db.session() as s:
            assert s.scalar(select(func.count()).select_from(Ticket)) == 300
            statuses = set(s.scalars(select(Ticket.status).distinct()))
        db.dispose()
        results = inbox.time_service(url, seeded, runs=2)
    assert len(results) == 3 * len(inbox.CASES)
    assert all(len(r.ms) == 2 for r in results)
    admin_all = next(r for r in results if r.role == "admin" and r.case.startswith("default"))
    assert admin_all.total == 300
    assert admin_all.items == 50
    agent_all = next(r for r in results if r.role == "agent" and r.case.startswith("default"))
    assert agent_all.total < 300  # an agent sees their city only
    assert {"new", "closed"} <= statuses


@pytest.mark.parametrize(
    ("values", "p", "expected"),
    [
        ([], 50, 0.0),
        ([5.0], 99, 5.0),
        ([1.0, 2.0, 3.0, 4.0], 50, 2.0),
        ([float(i) for i in range(1, 101)], 99, 99.0),
        ([float(i) for i in range(1, 101)], 50, 50.0),
    ],
)
def test_percentile_is_nearest_rank(values: list[float], p: float, expected: float) -> None:
    assert percentile(values, p) == expected
