"""The scaled shape survives its faults: a killed worker, a restarted PostgreSQL, a dropped Redis.

One private scaled shape (its own PostgreSQL cluster and redis-server, 2 API processes, 2 workers) runs
`kefu bench faults` with a small load; each test checks one phase's invariants: every message sent was
acknowledged and stored once, every event dispatched and delivered once, and the live path came back by
itself. Slow (about a minute and a half for the module), bounded by the bench's own limits.
"""

from __future__ import annotations

import pytest

from kefu.bench import faults
from kefu.scaled.local import postgres_bin, redis_server_bin

pytestmark = pytest.mark.skipif(postgres_bin() is None or redis_server_bin() is None,
                                reason="needs PostgreSQL server binaries and redis-server to start private ones")


@pytest.fixture(scope="module")
def phases() -> dict[str, faults.PhaseResult]:
    lines: list[str] = []
    results = faults.run(faults=faults.FAULTS, api=2, workers=2, clients=2, seconds=6, outage=2, concurrency=2,
                         echo=lines.append)
    assert sum("<-- INVARIANT BROKEN" in line for line in lines) == 0
    assert [r.fault for r in results] == list(faults.FAULTS)
    return {r.fault: r for r in results}


def assert_nothing_lost_nothing_twice(r: faults.PhaseResult) -> None:
    assert r.sent > 0
    assert r.acknowledged == r.sent  # clients retried until acknowledged; nothing was refused
    assert r.stored == r.stored_distinct == r.acknowledged  # each acknowledged message stored, once
    assert r.events > 0
    assert r.dispatched == r.events  # every event of the phase dispatched ...
    assert r.deliveries == r.delivered_events == r.events  # ... and delivered to the consumer exactly once
    assert r.drain_s is not None
    assert r.lost == r.duplicate_messages == r.duplicate_deliveries == 0
    assert r.ok


def test_without_a_fault_every_message_and_event_goes_through_once(phases: dict[str, faults.PhaseResult]) -> None:
    r = phases["none"]
    assert_nothing_lost_nothing_twice(r)
    assert r.probes_ok == len(r.probes) > 0


def test_a_killed_worker_loses_nothing_and_its_work_is_done_once_by_the_others(
    phases: dict[str, faults.PhaseResult],
) -> None:
    r = phases["worker"]
    assert_nothing_lost_nothing_twice(r)
    assert r.recovery_s is not None


def test_a_restarted_postgresql_loses_nothing_and_service_resumes_by_itself(
    phases: dict[str, faults.PhaseResult],
) -> None:
    r = phases["postgres"]
    assert_nothing_lost_nothing_twice(r)
    assert r.recovery_s is not None  # live notices flow again without anybody restarting anything


def test_a_dropped_redis_loses_no_message_or_event_and_live_updates_come_back(
    phases: dict[str, faults.PhaseResult],
) -> None:
    r = phases["redis"]
    assert_nothing_lost_nothing_twice(r)
    assert r.recovery_s is not None
