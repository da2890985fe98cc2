"""A day of a call log replayed through the routing engine: per-class measures beside the log's."""

from __future__ import annotations

from datetime import date

import pytest

from kefu.routing.replay import busiest_day, offered_on, replay_day
from kefu.workforce.errors import WorkforceInputError
from kefu.workforce.history import parse_call_log, read_call_log
from tests.conftest import shared_data
from tests.workforce.support import make_log

DAY = date(1999, 3, 1)


def test_a_day_of_the_log_replays_with_the_log_measures_beside_it() -> None:
    records = parse_call_log(make_log(DAY, 2, per_hour=20, seed=4)).records
    rows = offered_on(records, DAY)
    replay = replay_day(records, DAY, replications=4, seed=1)
    assert replay.offered == len(rows)
    assert [c.name for c in replay.classes] == ["PS/priority"]  # the made-up log has one type, priority 2
    (ps,) = replay.classes
    answered = [r for r in rows if r.answered]
    assert ps.offered == len(rows)
    assert ps.log_service_level == sum(1 for r in answered if r.q_time < 20) / len(answered)
    assert ps.log_abandon == sum(1 for r in rows if r.abandoned) / len(rows)
    assert ps.log_asa == sum(r.q_time for r in answered) / len(answered)
    assert 0 <= ps.service_level.mean <= 1
    assert 0 <= ps.abandon.mean <= 1
    assert replay.unrouted == 0
    assert replay.agents == 3  # MICHAL, BASCH, ANAT
    assert replay.total.offered == len(rows)


def test_a_day_without_calls_is_refused() -> None:
    records = parse_call_log(make_log(DAY, 1)).records
    with pytest.raises(WorkforceInputError, match="no offered call"):
        replay_day(records, date(1999, 3, 9))


@pytest.mark.realdata
def test_the_busiest_july_day_replays_through_the_engine() -> None:
    log = shared_data("callcenter-anonymous-bank", "07_July.txt")
    records = read_call_log([log]).records
    day = busiest_day(records)
    replay = replay_day(records, day, replications=2, seed=0)
    assert sum(c.offered for c in replay.classes) == replay.offered == len(offered_on(records, day))
    assert replay.unrouted < 0.01 * replay.offered
    assert all(0 <= c.service_level.mean <= 1 for c in replay.classes if c.service_level.mean == c.service_level.mean)
