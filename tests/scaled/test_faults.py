"""The scaled shape survives its faults: a killed worker, a restarted PostgreSQL, a dropped Redis.

One private scaled shape (its own PostgreSQL cluster and redis-server, 2 API processes, 2 workers) runs
`kefu bench faults` with a small load, and every phase is checked: each message sent was acknowledged
and stored once, each event dispatched and delivered once, and the live path came back by itself.
One test for the whole run (about a minute; bounded by the bench's own limits), so that parallel test
workers do not start the shape twice.
"""

from __future__ import annotations

import pytest

from kefu.bench import faults
from kefu.scaled.local import postgres_bin, redis_server_bin

pytestmark = pytest.mark.skipif(postgres_bin() is None or redis_server_bin() is None,
                                reason="needs PostgreSQL server binaries and redis-server to start private ones")


def assert_nothing_lost_nothing_twice(r: faults.PhaseResult) -> None:
    where = f"phase {r.fault}: {r.summary()}"
    assert r.sent > 0, where
    assert r.acknowledged == r.sent, where  # clients posted again until acknowledged; nothing was refused
    assert r.stored == r.stored_distinct == r.acknowledged, where  # each acknowledged message stored, once
    assert r.events > 0, where
    assert r.dispatched == r.events, where  # every event of the phase dispatched ...
    assert r.deliveries == r.delivered_events == r.events, where  # ... and delivered to the consumer once
    assert r.drain_s is not None, where
    assert r.lost == r.duplicate_messages == r.duplicate_deliveries == 0, where
    assert r.probes_ok > 0, where


def test_a_killed_worker_a_restarted_postgresql_and_a_dropped_redis_lose_nothing_and_do_nothing_twice() -> None:
    lines: list[str] = []
    results = faults.run(faults=faults.FAULTS, api=2, workers=2, clients=2, seconds=6, outage=2, concurrency=2,
                         echo=lines.append)

    assert [r.fault for r in results] == ["none", "worker", "postgres", "redis"]
    for r in results:
        assert_nothing_lost_nothing_twice(r)
    none, worker, postgres, redis = results
    assert none.probes_ok == len(none.probes)  # without a fault every live notice arrives
    assert none.recovery_s is None  # nothing to recover from
    # service came back by itself after each fault: a message posted after the repair reached a page live
    assert worker.recovery_s is not None
    assert postgres.recovery_s is not None
    assert redis.recovery_s is not None
    assert "workers started again by the supervisor: 1" in lines, "\n".join(lines)  # the killed one only
    assert not [line for line in lines if "INVARIANT BROKEN" in line]
