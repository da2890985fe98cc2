"""`kefu bench replay`: each day's service level in the log beside the replay's, and the error in points."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from kefu.routing.replay import offered_on
from kefu.workforce import bench, history
from tests.workforce.support import make_log


def test_replay_reports_each_days_log_and_replayed_service_level(tmp_path: Path) -> None:
    (tmp_path / "03_March.txt").write_text("\n".join(make_log(date(1999, 3, 1), 2, per_hour=6)) + "\n")
    rows = bench.replay_days(tmp_path, month="03", days=1, replications=2)
    assert [r.day for r in rows] == [date(1999, 3, 1)]
    (r,) = rows
    records = history.read_call_log([tmp_path / "03_March.txt"]).records
    offered = offered_on(records, r.day)
    answered = [c for c in offered if c.answered]
    assert r.offered == len(offered)
    assert r.log_service_level == pytest.approx(sum(1 for c in answered if c.q_time < 20) / len(answered))
    assert r.agents == 3  # the servers of the log
    assert r.error_points == pytest.approx(100 * (r.predicted - r.log_service_level))
    text = bench.replay_report(rows, 1.0)
    assert text.splitlines()[1].startswith("1999-03-01")
    assert "1 days: mean absolute error" in text
    with pytest.raises(FileNotFoundError, match="no call log 04_"):
        bench.replay_days(tmp_path, month="04")


def test_ready_agents_are_on_duty_and_not_idle_while_a_call_of_theirs_waits() -> None:
    from tests.workforce.support import HEADER, row

    day = date(1999, 3, 1)
    lines = [
        HEADER,
        row(1, day, 36_000 - 6, outcome="AGENT", service=300, server="ANAT"),  # serves 10:00-10:05
        row(2, day, 36_600 - 6, outcome="HANG", queue=600),  # waits 10:10-10:20 while ANAT is idle
    ]
    records = history.parse_call_log(lines).records
    ready = history.ready_agents(records, 300)
    assert list(ready) == ["ANAT"]
    on = [k for k, v in enumerate(ready["ANAT"]) if v]
    assert on == [120, 121, 124, 125]  # 10:00-10:10 and 10:20-10:30 of the half-hour she served in


def test_the_not_ready_time_after_a_call_is_ready_time_when_the_replay_charges_it_to_the_calls() -> None:
    from tests.workforce.support import HEADER, row

    day = date(1999, 3, 1)
    lines = [
        HEADER,
        row(1, day, 36_000 - 6, outcome="AGENT", service=300, server="ANAT"),  # serves 10:00-10:05
        row(2, day, 36_240 - 6, outcome="AGENT", queue=90, service=60, server="ANAT"),  # waits 10:04-10:05:30
    ]
    records = history.parse_call_log(lines).records

    def slot(hms: tuple[int, int, int]) -> int:  # the 10-second slot of a clock time
        return (hms[0] * 3600 + hms[1] * 60 + hms[2]) // 10

    away = [k for k in range(slot((10, 0, 0)), slot((10, 10, 0))) if not history.ready_agents(records, 10)["ANAT"][k]]
    # 10:05:00-10:05:30 idle while call 2 waited: not ready; with the gap charged to call 1, ready
    assert away == [slot((10, 5, 0)), slot((10, 5, 10)), slot((10, 5, 20))]
    charged = history.ready_agents(records, 10, after_call_within=1800)["ANAT"]
    assert all(charged[slot((10, 0, 0)):slot((10, 10, 0))])
    assert history.after_call_spans(records, within=1800) == [("ANAT", 36_300, 36_330)]
    assert history.after_call_spans(records, within=30) == []


def _with_priority(line: str, priority: int) -> str:
    fields = line.split("\t")
    fields[3] = str(priority)
    return "\t".join(fields)


def test_after_call_gaps_are_taken_only_where_a_call_of_the_agents_waited() -> None:
    from kefu.routing.replay import after_call_gaps
    from tests.workforce.support import HEADER, row

    day = date(1999, 3, 1)
    lines = [
        HEADER,
        row(1, day, 36_000 - 6, outcome="AGENT", service=300, server="ANAT"),  # 10:00:00-10:05:00
        row(2, day, 36_240 - 6, outcome="AGENT", queue=90, service=60, server="ANAT"),  # waits 10:04-10:05:30
        row(3, day, 37_200 - 6, outcome="AGENT", service=60, server="ANAT"),  # 10:20: nothing waited before
        row(4, day, 37_200 - 6, outcome="AGENT", service=600, server="BASCH"),  # 10:20-10:30
        row(5, day, 37_500 - 6, outcome="AGENT", queue=400, service=60, server="BASCH"),  # waits 10:25-10:31:40
        row(6, day, 45_000 - 6, outcome="AGENT", queue=5, service=60, server="BASCH"),
    ]
    records = history.parse_call_log(lines).records
    # ANAT came back 30 s after call 1 while call 2 waited; BASCH 100 s after call 4 while call 5 waited;
    # ANAT's 13.5 idle minutes after call 2 saw no call waiting, BASCH's 3.5 hours are past the long gap
    assert sorted(after_call_gaps(records)) == [30.0, 100.0]
    assert after_call_gaps(records, within=100) == [30.0]


def test_patience_is_the_days_kaplan_meier_law_beyond_each_answered_calls_wait() -> None:
    import numpy as np

    from kefu.routing.replay import patience_survival, residual_patience
    from tests.workforce.support import HEADER, row

    day = date(1999, 3, 1)
    lines = [HEADER,
             row(1, day, 36_000, outcome="HANG", queue=10), row(2, day, 36_100, outcome="HANG", queue=30),
             row(3, day, 36_200, outcome="AGENT", queue=20, service=60, server="ANAT"),
             row(4, day, 36_400, outcome="AGENT", queue=40, service=60, server="ANAT")]
    times, surv = patience_survival(history.parse_call_log(lines).records)
    assert times.tolist() == [10.0, 30.0]
    assert surv.tolist() == [0.75, 0.375]  # 1 of 4 at risk hung up at 10 s, 1 of 2 at 30 s
    rng = np.random.default_rng(0)
    after_20 = residual_patience(rng, np.full(4000, 20.0), times, surv)
    # beyond 20 s the law has S(20) = 0.75: half of it ends at 30 s, the rest never abandons
    assert set(after_20.tolist()) == {30.0, float("inf")}
    assert float(np.mean(after_20 == 30.0)) == pytest.approx(0.5, abs=0.03)
    from_0 = residual_patience(rng, np.zeros(4000), times, surv)
    assert float(np.mean(from_0 == 10.0)) == pytest.approx(0.25, abs=0.03)
    assert float(np.mean(from_0 == 30.0)) == pytest.approx(0.375, abs=0.03)


def test_logged_in_runs_from_first_to_last_call_and_a_long_gap_is_a_logout() -> None:
    from tests.workforce.support import HEADER, row

    day = date(1999, 3, 1)
    lines = [HEADER,
             row(1, day, 36_000 - 6, outcome="AGENT", service=300, server="ANAT"),  # 10:00-10:05
             row(2, day, 37_200 - 6, outcome="AGENT", service=300, server="ANAT"),  # 10:20-10:25
             row(3, day, 41_400 - 6, outcome="AGENT", service=300, server="ANAT")]  # 11:30-11:35: 65 min later
    logged = history.logged_in_agents(history.parse_call_log(lines).records, 300, gap_seconds=1800)
    assert [k for k, on in enumerate(logged["ANAT"]) if on] == [120, 121, 122, 123, 124, 138]


@pytest.mark.parametrize(("later", "first"), [(60, "PS/priority"), (120, "PS/regular")])
def test_priority_customers_are_credited_the_given_seconds_in_the_queue(later: int, first: str) -> None:
    from kefu.routing.replay import replay_day
    from tests.workforce.support import HEADER, row

    day = date(1999, 3, 1)
    lines = [HEADER,
             _with_priority(row(1, day, 36_000 - 6, outcome="AGENT", service=600, server="ANAT"), 1),  # 10:00-10:10
             _with_priority(row(2, day, 36_300 - 6, outcome="AGENT", queue=360, service=60, server="ANAT"), 1),
             row(3, day, 36_300 + later - 6, outcome="AGENT", queue=300 - later, service=60, server="ANAT")]
    records = history.parse_call_log(lines).records
    rep = replay_day(records, day, replications=2, after_call=False, head_start=90.0)
    assert rep.head_start == 90.0
    asa = {c.name: c.asa.mean for c in rep.classes}
    # ANAT frees at 10:10, when the regular call 2 has waited 300 s and the priority one 300 - later s plus
    # the 90 credited; the regular class's mean also holds call 1, answered at once
    if first == "PS/priority":
        assert asa == {"PS/priority": 300.0 - later, "PS/regular": 360.0 / 2}
    else:
        assert asa == {"PS/priority": 360.0 - later, "PS/regular": 300.0 / 2}


def _queued(call_id: int, joined: int, answered: int, priority: int, call_type: str = "PS") -> history.CallRecord:
    return history.CallRecord(call_id, call_id, None, priority, call_type, date(1999, 3, 1), joined - 6, joined,
                              joined, answered - joined, history.Outcome.AGENT, answered, 60, "ANAT")


def test_the_priority_credit_is_the_one_the_days_service_order_shows() -> None:
    rows = [
        _queued(1, 0, 100, 0),  # regular, waits 0-100
        _queued(2, 10, 60, 1),  # regular, waits 10-60
        _queued(3, 30, 50, 2),  # priority, 30 s after call 1 and 20 s after call 2: answered before both
        _queued(4, 80, 120, 2),  # priority, 80 s after call 1 (call 2 gone): answered after it
    ]
    # pairs (seconds later, priority first): (20, yes), (30, yes), (80, no); a credit of 31 s to 80 s
    # contradicts none: the smallest is the estimate
    assert history.priority_head_start(rows) == 31.0
    others = [
        _queued(5, 40, 45, 2, "NE"),  # another type's queue: no pair with the PS calls
        history.CallRecord(6, 6, None, 2, "PS", date(1999, 3, 1), 29, 35, 35, 50, history.Outcome.HANG,
                           None, 0, None),  # abandoned: never answered, no pair
    ]
    assert history.priority_head_start(rows + others) == 31.0
    # taking priority 1 for the favoured group: call 2 overtook call 1, 10 s ahead of it
    assert history.priority_head_start(rows, priority=1) == 11.0
    assert history.priority_head_start(rows[:2]) is None  # no priority call at all
    # a priority call that waited behind one joined earlier: no credit fits better than none
    assert history.priority_head_start([_queued(1, 0, 30, 0), _queued(2, 5, 40, 2)]) == 0.0


def test_the_replay_credits_priority_customers_what_the_days_log_shows() -> None:
    from kefu.routing.replay import PRIORITY_HEAD_START, replay_day
    from tests.workforce.support import HEADER, row

    day = date(1999, 3, 1)
    # in the log a priority call 120 s behind a waiting regular one was answered first: credit 121 s
    lines = [HEADER,
             _with_priority(row(1, day, 36_000 - 6, outcome="AGENT", service=600, server="ANAT"), 1),
             _with_priority(row(2, day, 36_300 - 6, outcome="AGENT", queue=360, service=60, server="ANAT"), 1),
             row(3, day, 36_420 - 6, outcome="AGENT", queue=180, service=60, server="ANAT")]
    records = history.parse_call_log(lines).records
    rep = replay_day(records, day, replications=2, after_call=False)
    assert rep.head_start == 121.0
    assert {c.name: c.asa.mean for c in rep.classes} == {"PS/priority": 180.0, "PS/regular": 360.0 / 2}
    # a day with no pair to tell: the documented credit
    alone = replay_day(history.parse_call_log(lines[:2]).records, day, replications=2, after_call=False)
    assert alone.head_start == PRIORITY_HEAD_START


def test_replay_bench_takes_the_staffing_slot_in_seconds_and_refuses_one_that_does_not_divide_the_half_hour(
    tmp_path: Path,
) -> None:
    from typer.testing import CliRunner

    from kefu.cli import app

    (tmp_path / "03_March.txt").write_text("\n".join(make_log(date(1999, 3, 1), 2, per_hour=6)) + "\n")
    args = ["bench", "replay", "--data", str(tmp_path), "--month", "03", "--days", "1", "--replications", "2"]
    out = CliRunner().invoke(app, [*args, "--slot-seconds", "60"])
    assert out.exit_code == 0, out.output
    assert out.output.splitlines()[1].startswith("1999-03-01")
    assert out.output.splitlines()[0].endswith("credit s  type credits s")
    assert out.output.splitlines()[1].endswith("  -")  # one day of one type: no type credited
    without = CliRunner().invoke(app, [*args, "--no-type-credit"])
    assert without.exit_code == 0, without.output
    refused = CliRunner().invoke(app, [*args, "--slot-seconds", "7"])
    assert refused.exit_code == 2
    assert "7 does not divide 1800" in refused.output


def test_a_caller_answered_at_once_in_the_log_is_a_priority_customer_by_the_share_history_shows() -> None:
    """The log writes priority 0 for every caller it answered without queueing (their id went unrecorded).
    History: every caller who queued the day before was a priority customer. On the replayed day, with one
    agent, call 3 (answered at once in the log, priority 0) waits in the replay beside call 2 (regular,
    queued a minute before it) and, credited the documented 90 s, goes first."""
    from kefu.routing.replay import priority_shares, replay_day
    from tests.workforce.support import HEADER, row

    before, day = date(1999, 2, 28), date(1999, 3, 1)
    lines = [
        HEADER,
        row(1, before, 36_000 - 6, outcome="AGENT", queue=30, service=60, server="ANAT"),
        row(2, day, 36_000 - 6, outcome="AGENT", service=600, server="ANAT"),  # 10:00-10:10, at once
        _with_priority(row(3, day, 36_060 - 6, outcome="AGENT", queue=540, service=300, server="ANAT"), 1),
        _with_priority(row(4, day, 36_120 - 6, outcome="AGENT", service=60, server="ANAT"), 0),
    ]
    records = history.parse_call_log(lines).records
    assert priority_shares(records, day) == {"PS": 1.0}
    assert priority_shares(records, before) == {"PS": 1.0}  # no earlier day: the day's own queued calls
    assert priority_shares(records[1:], day) == {"PS": 0.0}  # the day's own: call 3, regular

    # call 4 first at 10:10 (waited 480 s), then call 3 (600 s); without it, call 3 (540 s), call 4 (780 s)
    rep = replay_day(records, day, replications=2, after_call=False)
    assert rep.head_start == 90.0
    assert rep.total.asa.mean == (0 + 600 + 480) / 3
    unrecorded = replay_day(records, day, replications=2, after_call=False, unrecorded_priority=False)
    assert unrecorded.total.asa.mean == (0 + 540 + 780) / 3


def _of_type(line: str, call_type: str) -> str:
    fields = line.split("\t")
    fields[4] = call_type
    return "\t".join(fields)


def test_a_call_the_log_shows_answered_by_no_named_agent_goes_to_any_agent_on_the_roster() -> None:
    from kefu.routing.replay import replay_day
    from tests.workforce.support import HEADER, row

    day = date(1999, 3, 1)
    # ANAT serves PS only; a TT call answered at once by no named agent (NO_SERVER) at 10:05, while she is
    # on duty and idle: the log does not say which skill it needed, so she takes it (before, it waited for
    # an agent skilled in TT, and no one on the day was)
    lines = [HEADER,
             row(1, day, 36_000 - 6, outcome="AGENT", service=60, server="ANAT"),  # 10:00-10:01
             _of_type(row(2, day, 36_300 - 6, outcome="AGENT", service=30), "TT"),  # 10:05, NO_SERVER
             row(3, day, 36_600 - 6, outcome="AGENT", service=60, server="ANAT")]  # 10:10-10:11
    records = history.parse_call_log(lines).records
    assert records[1].server is None
    assert records[1].answered
    rep = replay_day(records, day, replications=2, after_call=False, slot_seconds=1, ready_only=True)
    assert rep.unrouted == 0.0
    assert {c.name: (c.service_level.mean, c.asa.mean) for c in rep.classes} == {
        "PS/priority": (1.0, 0.0), "TT/priority": (1.0, 0.0)}


def test_replay_arrivals_lengthen_each_service_by_an_after_call_draw_and_take_the_given_patience_law() -> None:
    import numpy as np

    from kefu.workforce.simulator import CallClass, ServiceTime, replay_arrivals
    from tests.workforce.support import HEADER, row

    day = date(1999, 3, 1)
    lines = [HEADER,
             row(1, day, 36_100 - 6, outcome="AGENT", queue=30, service=200, server="ANAT"),  # joins 10:01:40
             row(2, day, 36_000 - 6, outcome="HANG", queue=50),  # joins 10:00, abandons after 50 s
             row(3, day, 36_050 - 6, outcome="AGENT", service=100, server="ANAT")]  # answered at once
    records = history.parse_call_log(lines).records
    classes = [CallClass("PS", ServiceTime(120.0), patience_mean=60.0)]
    calls = replay_arrivals(np.random.default_rng(0), records, classes, lambda r: 0, after_call=[7.0],
                            residual=lambda rng, waited: waited + 5.0)
    assert calls.time.tolist() == [36_000.0, 36_050.0, 36_100.0]
    assert calls.service[1:].tolist() == [107.0, 207.0]  # the abandon's service is drawn from its class, + 7
    assert calls.service[0] > 7.0
    assert calls.patience.tolist() == [50.0, 5.0, 35.0]  # an abandon's is its queue time


def _episodes(newer_first: bool, episodes: int = 10, *, day: date = date(1999, 3, 1),
              newer_priority: int = 1) -> list[history.CallRecord]:
    """``episodes`` times a PS call joins, a TT call joins 10 s later while it waits, and ANAT (who serves
    both) answers the TT call first when ``newer_first``, else the PS call."""
    out = []
    for k in range(episodes):
        base = 1_000 * k + 36_000
        first, second = (base + 30, base + 40) if newer_first else (base + 40, base + 30)
        ps = _queued(2 * k + 1, base, second, 1)
        tt = _queued(2 * k + 2, base + 10, first, newer_priority, "TT")
        out += [replace(ps, day=day), replace(tt, day=day)]
    return out


def test_a_call_type_that_overtakes_in_the_log_is_inferred_a_priority_class_and_none_without_overtaking() -> None:
    overtaking = history.crossing_pairs(_episodes(True))
    assert overtaking == [history.CrossingPair("PS", "TT", 10, True)] * 10
    # TT first every time 10 s behind a PS call: a credit of 11 s is the smallest none contradicts; PS,
    # first by name of the two types in most pairs, is the reference
    assert history.type_credits(overtaking) == {"PS": 0.0, "TT": 11.0}
    in_order = history.crossing_pairs(_episodes(False))
    assert len(in_order) == 10
    assert history.type_credits(in_order) == {"PS": 0.0, "TT": 0.0}
    # three overtakes are not clear evidence (a sign test at 1 %: 1/8 by chance)
    assert history.type_credits(history.crossing_pairs(_episodes(True, 3))) == {"PS": 0.0, "TT": 0.0}
    # a TT call of a priority customer overtaking a regular PS call: the customers' own credit, no pair
    assert history.crossing_pairs(_episodes(True, newer_priority=2)) == []
    # an agent who never served PS had no choice: no pair
    assert history.crossing_pairs([replace(r, server="BASCH") if r.call_type == "TT" else r
                                   for r in _episodes(True)]) == []
    # the reference is the type in most pairs: a type behind it gets a negative credit
    behind = history.crossing_pairs([replace(r, call_type="NW" if r.call_type == "PS" else "PS")
                                     for r in _episodes(True)])
    other = history.crossing_pairs([replace(r, call_type="IN" if r.call_type == "PS" else "PS")
                                    for r in _episodes(False, 2)])
    assert history.type_credits(behind + other) == {"PS": 0.0, "NW": -11.0, "IN": 0.0}


def test_the_replay_credits_each_call_type_what_the_earlier_days_service_order_shows() -> None:
    from kefu.routing.replay import inferred_type_credits, replay_day
    from tests.workforce.support import HEADER, row

    before, day = date(1999, 2, 28), date(1999, 3, 1)
    earlier = _episodes(True, day=before)  # TT overtook PS ten times the day before: TT +11 s
    # the day: ANAT on a call until 10:10; a PS call waits from 10:00:00, a TT call from 10:00:05
    lines = [HEADER, row(1, day, 35_400 - 6, outcome="AGENT", service=1_200, server="ANAT"),
             row(2, day, 36_000 - 6, outcome="AGENT", queue=600, service=60, server="ANAT"),
             row(3, day, 36_005 - 6, outcome="AGENT", queue=655, service=60, server="ANAT")]
    lines[3] = lines[3].replace("\tPS\t", "\tTT\t")
    records = earlier + history.parse_call_log(lines).records
    assert inferred_type_credits(records, day) == {"PS": 0.0, "TT": 11.0}
    assert inferred_type_credits(records, before) == {"PS": 0.0, "TT": 11.0}  # no earlier day: its own
    rep = replay_day(records, day, replications=2, after_call=False)
    assert rep.type_credits == {"PS": 0.0, "TT": 11.0}
    # TT, credited 11 s, is 6 s ahead of the PS call that joined 5 s before it: answered first at 10:00
    asa = {c.name: c.asa.mean for c in rep.classes}
    assert asa == {"PS/priority": 600.0 / 2 + 60 / 2, "TT/priority": 595.0}
    off = replay_day(records, day, replications=2, after_call=False, type_credit=False)
    assert off.type_credits == {}
    assert {c.name: c.asa.mean for c in off.classes} == {"PS/priority": 600.0 / 2, "TT/priority": 595.0 + 60}
