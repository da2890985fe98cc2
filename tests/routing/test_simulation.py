"""The routing engine in the workforce simulator: it reproduces the FIFO and priority loops call for call,
Erlang C and Erlang A on one skill, Cobham's waits for two priority classes, and NICE's aging case C8."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.routing.engine import Engine
from kefu.routing.model import EngineConfig, QueueConfig, WorkItem
from kefu.routing.simulation import CALLS_QUEUE, EngineRouter, UniformCrew, one_queue_router, voice_agent
from kefu.workforce.erlang import cobham_waits, erlang_a, erlang_c
from kefu.workforce.simulator import (
    CallClass,
    Calls,
    Distribution,
    FifoRouter,
    PriorityRouter,
    ServiceTime,
    Staffing,
    poisson_arrivals,
    ratio_ci,
    replicate,
    simulate_day,
    simulate_day_fifo,
    simulate_day_routed,
)

LAMBDA = 4.2 / 60  # ContactCenters' MMC: 4.2 calls a minute, 2-minute calls, 12 agents
LONG_DAY = 30 * 3600.0  # long enough that starting empty does not matter


def _random_day(seed: int, patience: float | None, lognormal: bool, ivr: float) -> tuple[Calls, list[CallClass]]:
    service = ServiceTime(200.0, Distribution.LOGNORMAL, 0.8) if lognormal else ServiceTime(200.0)
    classes = [CallClass("gold", service, patience, priority=0, ivr_share=ivr),
               CallClass("basic", ServiceTime(100.0), patience, priority=1)]
    rng = np.random.default_rng(seed)
    rates = [[0.02, 0.05, 0.01, 0.03], [0.01, 0.0, 0.02, 0.01]]
    return poisson_arrivals(rng, classes, rates, 1800), classes


def _same_day(a: object, b: object) -> None:
    for name in ("arrived", "ivr", "served", "abandoned", "served_within", "abandoned_after", "class_served",
                 "class_abandoned", "class_served_within"):
        assert getattr(a, name) == getattr(b, name), name
    for name in ("wait_all", "wait_served", "busy_time", "agent_time", "end_time"):
        assert getattr(a, name) == pytest.approx(getattr(b, name), rel=1e-9, abs=1e-6), name


schedules = st.lists(st.integers(min_value=0, max_value=12), min_size=4, max_size=4)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), agents=schedules, patience=st.one_of(st.none(), st.floats(5, 2_000)),
       lognormal=st.booleans(), ivr=st.sampled_from([0.0, 0.3]), aging=st.sampled_from([0.0, 1.0, 60.0]))
def test_one_queue_through_the_engine_is_the_fifo_loop_call_for_call(seed: int, agents: list[int],
                                                                     patience: float | None, lognormal: bool,
                                                                     ivr: float, aging: float) -> None:
    calls, classes = _random_day(seed, patience, lognormal, ivr)
    classes = [CallClass(c.name, c.service, c.patience_mean, 0, c.ivr_share) for c in classes]  # one level
    staffing = Staffing(agents, 1800)
    routed = simulate_day_routed(calls, staffing, 20, classes,
                                 one_queue_router(aging_per_minute=aging)(classes, staffing))
    _same_day(routed, simulate_day(calls, staffing, 20, classes, FifoRouter(classes)))
    assert routed.unrouted == 0
    assert routed.queue_area == pytest.approx(routed.wait_all, rel=1e-9, abs=1e-6)  # Little's law


def test_the_engine_keeps_busy_agents_who_were_to_leave_when_the_schedule_rises_again() -> None:
    """Schedule 8, 7, 0, 1: at the rise to one agent, a busy agent due to leave stays and no fresh agent
    comes, as in the general loop (the fast FIFO path once brought a fresh agent here; it now agrees)."""
    calls, classes = _random_day(5946, 219.95491777907517, True, 0.0)
    classes = [CallClass(c.name, c.service, c.patience_mean, 0, c.ivr_share) for c in classes]
    staffing = Staffing([8, 7, 0, 1], 1800)
    routed = simulate_day_routed(calls, staffing, 20, classes, one_queue_router()(classes, staffing))
    general = simulate_day(calls, staffing, 20, classes, FifoRouter(classes))
    _same_day(routed, general)
    assert (general.served, general.abandoned) == (134, 145)
    assert (simulate_day_fifo(calls, staffing, 20, len(classes)).served, general.served) == (134, 134)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), agents=schedules, patience=st.one_of(st.none(), st.floats(5, 2_000)))
def test_priority_classes_without_aging_are_the_priority_loop_call_for_call(seed: int, agents: list[int],
                                                                             patience: float | None) -> None:
    calls, classes = _random_day(seed, patience, False, 0.0)
    staffing = Staffing(agents, 1800)
    routed = simulate_day_routed(calls, staffing, 20, classes, one_queue_router()(classes, staffing))
    _same_day(routed, simulate_day(calls, staffing, 20, classes, PriorityRouter(classes)))


def test_one_skill_through_the_engine_agrees_with_erlang_c() -> None:
    classes = [CallClass("calls", ServiceTime(120.0), None)]
    s = replicate(lambda rng: poisson_arrivals(rng, classes, [[LAMBDA]], LONG_DAY), Staffing([12], LONG_DAY),
                  classes, replications=10, seed=17, agent_router=one_queue_router(aging_per_minute=60.0))
    m = erlang_c(12, LAMBDA, 120, 20)
    assert s.service_level.contains(m.service_level)
    assert s.mean_wait.contains(m.asa)
    assert s.occupancy.contains(m.occupancy)


def test_one_skill_with_patience_through_the_engine_agrees_with_erlang_a() -> None:
    classes = [CallClass("calls", ServiceTime(120.0), 60.0)]
    s = replicate(lambda rng: poisson_arrivals(rng, classes, [[LAMBDA]], LONG_DAY), Staffing([12], LONG_DAY),
                  classes, replications=10, seed=23, agent_router=one_queue_router(aging_per_minute=60.0))
    m = erlang_a(12, LAMBDA, 120, 60, 20, with_asa=True)
    offered = [d.arrived for d in s.days]
    assert ratio_ci([d.abandoned for d in s.days], offered).contains(m.p_abandon)
    assert ratio_ci([d.served_within for d in s.days], offered).contains(m.service_level)
    assert s.speed_of_answer.contains(m.asa or 0.0)


def test_two_priority_classes_through_the_engine_wait_as_cobham_says() -> None:
    """Gold (30 %) before basic, no aging, 12 agents at 88 % load: per-class waits against Cobham."""
    classes = [CallClass("gold", ServiceTime(120.0), None, priority=0),
               CallClass("basic", ServiceTime(120.0), None, priority=1)]
    total = 0.88 * 12 / 120
    rates = [0.3 * total, 0.7 * total]
    s = replicate(lambda rng: poisson_arrivals(rng, classes, [[rates[0]], [rates[1]]], LONG_DAY),
                  Staffing([12], LONG_DAY), classes, replications=10, seed=29, agent_router=one_queue_router())
    expected = cobham_waits(12, rates, 120)
    # two classes checked at once: 99 % intervals keep the family's error near 2 %
    waits = [ratio_ci([d.class_wait_served[c] for d in s.days], [d.class_served[c] for d in s.days], 0.99)
             for c in (0, 1)]
    assert [e.contains(w) for e, w in zip(waits, expected, strict=True)] == [True, True]
    assert expected[0] < 0.25 * expected[1]  # the classes really differ: the test can tell them apart


# ---------------------------------------------------------------- C8 through the simulator


@pytest.mark.parametrize(("first_call_service", "first_served"), [(1.0, "B"), (61.0, "A")])
def test_c8_aging_decides_who_the_freed_agent_takes(first_call_service: float, first_served: str) -> None:
    """Skill A (initial 1, 5 a minute) and skill B (initial 3, 1 a minute) wait while the one agent
    finishes a first call: B is ahead at once, A after a minute (NICE CXone's example)."""
    queues = [QueueConfig("A", "voice", base_priority=1, aging_per_minute=5),
              QueueConfig("B", "voice", base_priority=3, aging_per_minute=1)]
    classes = [CallClass("A", ServiceTime(50.0)), CallClass("B", ServiceTime(50.0))]
    calls = Calls(time=np.array([0.0, 0.1, 0.2]), klass=np.array([0, 0, 1]),
                  service=np.array([first_call_service, 50.0, 50.0]), patience=np.full(3, np.inf),
                  ivr=np.zeros(3, dtype=bool))

    def item_of(call: int, klass: int, t: float) -> WorkItem:
        return WorkItem(call, "AB"[klass], "voice", t)

    router = EngineRouter(Engine(EngineConfig(move_check_every=1e12), queues), item_of,
                          UniformCrew(lambda i: voice_agent(i, frozenset({"A", "B"}))))
    day = simulate_day_routed(calls, Staffing([1], 3600.0), 20, classes, router)
    waits = {"A": day.class_wait_served[0], "B": day.class_wait_served[1]}
    free = first_call_service
    first, second = (waits["B"], waits["A"]) if first_served == "B" else (waits["A"], waits["B"])
    assert day.served == 3
    assert pytest.approx(first) == free - (0.2 if first_served == "B" else 0.1)
    assert pytest.approx(second) == free + 50.0 - (0.1 if first_served == "B" else 0.2)


# ---------------------------------------------------------------- a named roster is a head count


def _roster_router(agents: int,
                   roster: list[frozenset[int]]) -> Callable[[Sequence[CallClass], Staffing], EngineRouter]:
    from kefu.routing.model import Agent
    from kefu.routing.simulation import CALLS_QUEUE, RosterCrew, class_priority_items

    profiles = [Agent(a, frozenset({CALLS_QUEUE}), channels={"voice": 1}) for a in range(1, agents + 1)]

    def make(classes: Sequence[CallClass], staffing: Staffing) -> EngineRouter:
        queue = QueueConfig(CALLS_QUEUE, "voice")
        return EngineRouter(Engine(EngineConfig(max_priority=1e9, move_check_every=1e18), [queue]),
                            class_priority_items(classes), RosterCrew(profiles, roster))

    return make


def _calls(times: list[float], services: list[float]) -> Calls:
    n = len(times)
    return Calls(np.array(times), np.zeros(n, dtype=int), np.array(services), np.full(n, np.inf),
                 np.zeros(n, dtype=bool))


def test_an_agent_who_leaves_during_a_call_holds_the_place_of_the_one_who_replaces_them() -> None:
    """One agent a minute: A in the first, B in the second. A's call runs to 1:30; the call at 1:01 waits
    for the place A holds until then (29 s), as one FIFO pool of one agent makes it wait. (B was let in
    at 1:00 beside A: two agents at work where the roster lists one, and the call answered at once.)"""
    classes = [CallClass("calls", ServiceTime(60.0))]
    calls = _calls([0.0, 61.0], [90.0, 10.0])
    staffing = Staffing([1, 1], 60)
    routed = simulate_day_routed(calls, staffing, 20, classes, _roster_router(2, [frozenset({1}), frozenset({2})])(
        classes, staffing))
    assert (routed.served, routed.served_within, routed.wait_served) == (2, 1, 29.0)
    _same_day(routed, simulate_day(calls, staffing, 20, classes, FifoRouter(classes)))


def test_an_idle_agent_who_stays_gives_way_while_a_leaver_finishes_a_call() -> None:
    """A and B in the first minute, B alone in the second. A is on a call to 1:30, B idle: the roster's one
    place is A's until then, so the call at 1:01 waits for 1:30 (B takes it), as in one FIFO pool."""
    classes = [CallClass("calls", ServiceTime(60.0))]
    calls = _calls([0.0, 61.0], [90.0, 10.0])
    staffing = Staffing([2, 1], 60)
    routed = simulate_day_routed(calls, staffing, 20, classes,
                                 _roster_router(2, [frozenset({1, 2}), frozenset({2})])(classes, staffing))
    assert routed.wait_served == 29.0
    _same_day(routed, simulate_day(calls, staffing, 20, classes, FifoRouter(classes)))


rosters = st.lists(st.frozensets(st.integers(1, 8), max_size=8), min_size=4, max_size=4).filter(lambda r: bool(r[-1]))


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), roster=rosters, patience=st.one_of(st.none(), st.floats(5, 2_000)))
def test_a_named_roster_on_one_queue_is_the_fifo_pool_of_its_head_count_call_for_call(
        seed: int, roster: list[frozenset[int]], patience: float | None) -> None:
    """Names change at every interval (who leaves, who joins, who comes back), the count is what counts:
    agents alike on one queue serve each call as one FIFO pool of that many agents does."""
    calls, classes = _random_day(seed, patience, True, 0.0)
    classes = [CallClass(c.name, c.service, c.patience_mean, 0, c.ivr_share) for c in classes]
    staffing = Staffing([len(r) for r in roster], 1800)
    routed = simulate_day_routed(calls, staffing, 20, classes, _roster_router(8, roster)(classes, staffing))
    _same_day(routed, simulate_day(calls, staffing, 20, classes, FifoRouter(classes)))
    assert routed.unrouted == 0
    # told where the roster changes, the loop visits those intervals only, with the same day
    changes = [k for k in range(1, len(roster)) if roster[k] != roster[k - 1]]
    sparse = Staffing(staffing.agents, 1800, changes)
    _same_day(simulate_day_routed(calls, sparse, 20, classes, _roster_router(8, roster)(classes, sparse)), routed)


def test_a_schedule_told_its_changes_must_list_every_change_of_count() -> None:
    from kefu.workforce.errors import WorkforceInputError

    assert Staffing([2, 2, 3], 60, [2]).steps() == [2, 3]
    assert Staffing([2, 2, 3], 60).steps() == [1, 2, 3]
    with pytest.raises(WorkforceInputError, match="each count change"):
        Staffing([2, 2, 3], 60, [1])
    with pytest.raises(WorkforceInputError, match="each count change"):
        Staffing([2, 2, 3], 60, [2, 3])


def test_a_call_no_agent_can_take_ends_the_replays_day_unrouted() -> None:
    # the replay's engine: a call of a queue no agent belongs to, with infinite patience, is left waiting
    # and the day ends (with supervisor moves checked every 1e18 s the loop stepped 1e18 s at a time forever)
    from kefu.routing.replay import ENGINE_CONFIG

    queues = [QueueConfig(CALLS_QUEUE, "voice"), QueueConfig("nobody", "voice")]
    classes = [CallClass("a", ServiceTime(60.0)), CallClass("b", ServiceTime(60.0))]
    calls = Calls(np.array([10.0, 20.0]), np.array([0, 1]), np.array([60.0, 60.0]), np.array([np.inf, np.inf]),
                  np.array([False, False]))

    def item_of(call: int, klass: int, t: float) -> WorkItem:
        return WorkItem(call, CALLS_QUEUE if klass == 0 else "nobody", "voice", t)

    staffing = Staffing([1], 1800)
    day = simulate_day_routed(calls, staffing, 20, classes,
                              EngineRouter(Engine(ENGINE_CONFIG, queues), item_of, UniformCrew(voice_agent)))
    assert (day.served, day.unrouted) == (1, 1)
