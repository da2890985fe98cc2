"""A real day of a call log (Technion "Anonymous Bank" format) replayed through the routing engine.

The day's offered calls keep their real arrival times, service times and (for abandons) queue times.
An answered call's patience is unknown beyond its wait: it is drawn from the day's own empirical patience
law (Kaplan-Meier on queue times, abandons observed and answered calls censored) conditioned on exceeding
its wait (``km_patience``; else the exponential residual of the class's MLE mean). The agents are the ones
the log shows serving, each skilled in the call types they served that day (a call the log shows answered
by no named agent, NO_SERVER, may go to any of them: ``UNNAMED``), on duty in every half-hour in
which they served (an upper bound on the real staffing), or only in the slots the log shows them ready
(``ready_only``) or logged in (``logged_in``: first to last call, split at long gaps). After each call an
agent is not ready for a time drawn from the day's after-call gaps (``after_call``, see after_call_gaps):
the log's service time stops when the customer hangs up, not when the agent can take the next call; the
roster then counts those gaps as ready time (they are charged to the calls, not taken twice). A roster
slot is a head count (kefu.routing.simulation.RosterCrew): an agent who leaves it during a call holds a
place until the call ends.

One voice queue per call type requires its skill; calls are served in the order of their time in queue,
and the bank's priority customers (priority 2) are credited some seconds of waiting at the outset: the
credit the day's own service order shows (history.priority_head_start: 85-90 s from February, none in early
January), the documented 90 s (PRIORITY_HEAD_START) when the day has no pair to tell. Each call type is
credited too, with the credit the service order of the 14 days before shows between calls of different
types (inferred_type_credits, history.type_credits: from mid-January NW about -90 s behind the others,
no other type clearly). Nothing is tuned to the log's service level.

Classes are (call type, customer group), so the service level, ASA and abandonment of each can be
set beside the log's own (the log's priority 0 also marks callers whose id was not recorded because they
did not wait, so the log's own per-group figures are skewed; the total is not).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from kefu.routing.engine import Engine
from kefu.routing.model import Agent, EngineConfig, QueueConfig, Reach, Ring, WorkItem
from kefu.routing.simulation import EngineRouter, RosterCrew
from kefu.workforce.errors import WorkforceInputError
from kefu.workforce.history import (
    CallRecord,
    after_call_spans,
    crossing_pairs,
    handle_time_fit,
    kaplan_meier,
    logged_in_agents,
    priority_head_start,
    ready_agents,
    type_credits,
)
from kefu.workforce.simulator import (
    CallClass,
    Calls,
    Distribution,
    Estimate,
    ServiceTime,
    Staffing,
    Summary,
    ratio_ci,
    replay_arrivals,
    replicate,
)

PRIORITY_CUSTOMER = 2  # the log's priority column: 2 marks the bank's priority customers
#: The bank's rule (the log's documentation): calls are served in the order of their time in queue and a
#: priority customer is credited this many seconds of waiting at the outset. Priority 0 and 1 are regular.
PRIORITY_HEAD_START = 90.0
#: Seconds without a call that end an agent's login (logged_in staffing) and that an after-call gap must
#: stay under to count (longer: a break or the shift's end, which the staffing per interval accounts for).
LONG_GAP = 1800
GROUPS = ("priority", "regular")
#: The days of service order the call types' credits are inferred from (inferred_type_credits). Chosen on
#: February and April 1-10 by how many of each day's crossing pairs the credits of the days before it
#: contradict (of 1,947: none 535; 1 day 349, 3 255, 7 232, 14 230, 28 302, every earlier day 326).
CREDIT_WINDOW_DAYS = 14
#: The replay's engine: no supervisor moves (never checked: a finite period keeps a timer due while a call
#: no agent can take waits with infinite patience, and the day's simulation never ends).
ENGINE_CONFIG = EngineConfig(max_priority=1e6, move_check_every=math.inf)
#: The queue of the calls the log shows answered by no named agent (server NO_SERVER): any agent on the
#: roster may take them, since the log does not say which skill they needed.
UNNAMED = "unnamed"


@dataclass(frozen=True, slots=True)
class ClassReplay:
    name: str
    offered: int  # in the log
    log_service_level: float | None  # answered within T / answered
    log_asa: float | None  # mean queue time of answered calls, seconds
    log_abandon: float  # abandoned / offered
    service_level: Estimate
    asa: Estimate
    abandon: Estimate


@dataclass(frozen=True, slots=True)
class DayReplay:
    day: date
    offered: int
    agents: int  # distinct agents on the roster
    agent_hours: float  # roster intervals x interval length
    classes: list[ClassReplay]
    total: ClassReplay
    unrouted: float  # mean calls per replication no agent could take
    fifo: ClassReplay  # reference: the same calls and head count as one FIFO pool, any agent for any call
    head_start: float  # the priority customers' credit, seconds
    type_credits: dict[str, float]  # each call type's credit (seconds; 0 for the reference type), inferred


def offered_on(records: Sequence[CallRecord], day: date) -> list[CallRecord]:
    """The day's calls that asked for an agent and were answered or abandoned."""
    return [r for r in records if r.day == day and r.queue_arrival is not None and (r.answered or r.abandoned)]


def busiest_day(records: Sequence[CallRecord]) -> date:
    counts: dict[date, int] = defaultdict(int)
    for r in records:
        if r.queue_arrival is not None and (r.answered or r.abandoned):
            counts[r.day] += 1
    if not counts:
        raise WorkforceInputError("no offered call in the log")
    return max(sorted(counts), key=lambda d: counts[d])


def _group(r: CallRecord) -> str:
    return GROUPS[0] if r.priority == PRIORITY_CUSTOMER else GROUPS[1]


def priority_shares(records: Sequence[CallRecord], day: date) -> dict[str, float]:
    """Per call type, the share of priority customers among the calls that queued on the days before
    ``day`` in ``records`` (on ``day`` itself when there are none): the log records the priority of those
    only. A caller answered without queueing is logged priority 0 whoever they are (the log's
    documentation: a system bug left their customer id unrecorded), and whether a caller queues depends on
    the agents free when they call, not on who they are."""
    earlier = [r for r in records if r.day < day and r.q_start is not None and (r.answered or r.abandoned)]
    queued = earlier or [r for r in records if r.day == day and r.q_start is not None
                         and (r.answered or r.abandoned)]
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in queued:
        counts[r.call_type][0] += r.priority == PRIORITY_CUSTOMER
        counts[r.call_type][1] += 1
    return {t: favoured / total for t, (favoured, total) in counts.items()}


def inferred_type_credits(records: Sequence[CallRecord], day: date, *,
                          window: int = CREDIT_WINDOW_DAYS) -> dict[str, float]:
    """Per call type, the waiting credit the service order of the ``window`` days before ``day`` in
    ``records`` shows (``history.type_credits`` on their ``crossing_pairs``; on ``day`` itself when there
    is no earlier day): one day has too few pairs of calls of different types that waited together to
    tell (a few dozen to a few hundred), and the bank's rules changed in January (CREDIT_WINDOW_DAYS)."""
    by_day: dict[date, list[CallRecord]] = defaultdict(list)
    for r in records:
        if r.day <= day:
            by_day[r.day].append(r)
    days = sorted(d for d in by_day if d < day)[-window:] or [day]
    pairs = [p for d in days for p in crossing_pairs(offered_on(by_day[d], d), priority=PRIORITY_CUSTOMER)]
    return type_credits(pairs)


def _log_measures(rows: Sequence[CallRecord], target: float) -> tuple[float | None, float | None, float]:
    answered = [r for r in rows if r.answered]
    abandoned = sum(1 for r in rows if r.abandoned)
    if not answered:
        return None, None, abandoned / len(rows)
    within = sum(1 for r in answered if r.q_time < target)
    return within / len(answered), math.fsum(r.q_time for r in answered) / len(answered), abandoned / len(rows)


def _class_law(rows: Sequence[CallRecord], fallback: Sequence[CallRecord], name: str) -> CallClass:
    """Lognormal service (fitted on the class's answered calls, else the day's) and exponential patience."""
    try:
        fit = handle_time_fit(rows)
    except WorkforceInputError:
        fit = handle_time_fit(fallback)
    exposure = math.fsum(float(r.q_time) for r in rows)
    abandons = sum(1 for r in rows if r.abandoned)
    patience = exposure / abandons if abandons and exposure > 0 else None
    return CallClass(name, ServiceTime(fit.lognormal_mean, Distribution.LOGNORMAL, max(fit.lognormal_sigma, 1e-3)),
                     patience)


def after_call_gaps(rows: Sequence[CallRecord], *, within: int = LONG_GAP) -> list[float]:
    """Each agent's time from the end of a call to the start of their next one, observed where a call they
    could take (of a type they served that day) was waiting when the first ended: a ready agent would
    have taken it at once, so the gap is the agent's not-ready time after a call (wrap-up, the ring of
    the next call, a pause). Gaps of ``within`` seconds or more are left out (the agent's shift or a long
    break, which the staffing per interval accounts for). kefu.workforce.history.after_call_spans."""
    return [float(b - a) for _, a, b in after_call_spans(rows, within=within)]


def patience_survival(rows: Sequence[CallRecord]) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier estimate of the patience of the day's offered calls: an abandon's queue time is an
    observed patience, an answered call's a censored one. (times, survival just after each time)."""
    times, survival = kaplan_meier([(float(r.q_time), r.abandoned) for r in rows])
    return np.array(times), np.array(survival)


def residual_patience(rng: np.random.Generator, waited: np.ndarray, times: np.ndarray,
                      surv: np.ndarray) -> np.ndarray:
    """Patience of calls known to have waited ``waited`` without abandoning, drawn from the Kaplan-Meier
    law conditioned on exceeding the wait (infinite beyond its last observed abandon, or on a day without
    abandons)."""
    if not len(times):
        return np.full(len(waited), math.inf)
    def s_at(t: np.ndarray) -> np.ndarray:
        k = np.searchsorted(times, t, side="right")
        return np.where(k > 0, surv[np.maximum(k - 1, 0)], 1.0)

    target = rng.random(len(waited)) * s_at(waited)
    # the first event time whose survival falls to the target or below (survival is non-increasing)
    k = np.searchsorted(-surv, -target, side="left")
    out = np.where(k < len(times), times[np.minimum(k, len(times) - 1)], math.inf)
    return np.maximum(out, waited + 1e-9)


def _roster(
    rows: Sequence[CallRecord], interval: int, ready_only: bool = False, logged_in: int | None = None,
    after_call: int | None = None,
) -> tuple[list[Agent], list[frozenset[int]], list[str]]:
    """The day's agents (ids by name), their skills (the call types they served) and who served when
    (``ready_only``: who was ready when, kefu.workforce.history.ready_agents, with the not-ready time after
    calls shorter than ``after_call`` seconds counted as ready when the replay charges it to the calls;
    ``logged_in``: who was logged in, kefu.workforce.history.logged_in_agents)."""
    names = sorted({r.server for r in rows if r.answered and r.server is not None})
    ids = {name: k + 1 for k, name in enumerate(names)}
    skills: dict[int, set[str]] = defaultdict(set)
    slots: list[set[int]] = [set() for _ in range(86_400 // interval)]
    for r in rows:
        if r.answered and r.server is not None and r.ser_start is not None:
            agent_id = ids[r.server]
            skills[agent_id].add(r.call_type)
            end = min(86_399, r.ser_start + max(r.ser_time - 1, 0))
            for k in range(r.ser_start // interval, end // interval + 1):
                slots[k].add(agent_id)
    if logged_in is not None:
        ready = logged_in_agents(rows, interval, gap_seconds=logged_in)
        slots = [{ids[name] for name, on in ready.items() if on[k]} for k in range(len(slots))]
    elif ready_only:
        ready = ready_agents(rows, interval, after_call_within=after_call)
        slots = [{ids[name] for name, on in ready.items() if on[k]} for k in range(len(slots))]
    types = sorted({r.call_type for r in rows})
    agents = [Agent(agent_id, frozenset({*skills[agent_id], UNNAMED}), {t: 1 for t in skills[agent_id]}, {"voice": 1})
              for agent_id in sorted(skills)]
    return agents, [frozenset(s) for s in slots], types


def replay_day(records: Sequence[CallRecord], day: date, *, replications: int = 10, seed: int = 0,
               target_time: float = 20.0, interval_minutes: int = 30, aging_per_minute: float = 60.0,
               widen_after: float | None = None, ready_only: bool = False, after_call: bool = True,
               km_patience: bool = True, logged_in: int | None = None,
               head_start: float | None = None, slot_seconds: int | None = None,
               wrap_up_present: bool = True, unrecorded_priority: bool = True,
               type_credit: bool = True) -> DayReplay:
    """Replay ``day`` through the engine ``replications`` times; per-class measures beside the log's.

    ``widen_after`` adds a bullseye ring: after that many seconds any agent on duty may take any call.
    ``ready_only`` staffs each interval with the agents the log shows ready then (not merely on duty);
    ``logged_in`` (seconds) with those logged in, a gap that long ending a login. ``after_call`` keeps an
    agent not ready after each call for a gap drawn from the day's after-call gaps; ``km_patience`` draws
    answered calls' patience from the day's Kaplan-Meier law (else an exponential residual).
    ``head_start``: the priority customers' credit in seconds; None: the one the day's service order shows.
    ``slot_seconds`` (else ``interval_minutes``): the staffing slot. ``wrap_up_present``: with ``after_call``
    and ``ready_only``, the not-ready time after calls counts as ready in the roster, since the replay
    charges it to the calls (False takes it from the agents twice, as before). ``unrecorded_priority``:
    each call the log shows answered without queueing (its priority unrecorded, logged 0) is a priority
    customer with the share ``priority_shares`` gives for its type, drawn per replication; the classes
    stay the log's labels, so each is set beside the log's own figures for it. ``type_credit``: each call
    type is credited the waiting the earlier days' service order shows (``inferred_type_credits``).
    """
    rows = offered_on(records, day)
    if not rows:
        raise WorkforceInputError(f"no offered call on {day}")
    if head_start is None:
        estimated = priority_head_start(rows, priority=PRIORITY_CUSTOMER)
        head_start = PRIORITY_HEAD_START if estimated is None else estimated
    credit = head_start
    credits = inferred_type_credits(records, day) if type_credit else {}
    floor = min(credits.values(), default=0.0)  # the engine's priorities: only differences matter
    type_extra = {t: (credits.get(t, 0.0) - floor) * aging_per_minute / 60 for t in {r.call_type for r in rows}}
    interval = slot_seconds or interval_minutes * 60
    agents, roster, types = _roster(rows, interval, ready_only, logged_in,
                                    (logged_in or LONG_GAP) if after_call and wrap_up_present else None)
    if not agents:
        raise WorkforceInputError(f"no answered call on {day}: no agent to replay with")
    keys = [(t, g) for t in types for g in GROUPS if any(r.call_type == t and _group(r) == g for r in rows)]
    index = {key: k for k, key in enumerate(keys)}
    by_class: dict[int, list[CallRecord]] = defaultdict(list)
    for r in rows:
        by_class[index[(r.call_type, _group(r))]].append(r)
    classes = [_class_law(by_class[k], rows, f"{t}/{g}") for k, (t, g) in enumerate(keys)]
    rings = (Ring(0.0),) if widen_after is None else (Ring(0.0), Ring(widen_after, 1, Reach.ANYWHERE))
    queues = [*(QueueConfig(t, "voice", skills={t: 1}, aging_per_minute=aging_per_minute, rings=rings)
                for t in types), QueueConfig(UNNAMED, "voice", aging_per_minute=aging_per_minute)]
    everyone = frozenset({*types, UNNAMED})
    if widen_after is not None:  # a widened ring reaches agents only through queues they belong to
        agents = [Agent(a.id, everyone, a.skills, a.channels) for a in agents]
    config = ENGINE_CONFIG

    labelled = np.array([_group(r) == GROUPS[0] for r in rows])
    unknown = np.array([r.answered and r.q_start is None for r in rows]) if unrecorded_priority else None
    shares = priority_shares(records, day)
    share = np.array([shares.get(r.call_type, 0.0) for r in rows])
    arrival_order = np.argsort(np.array([float(r.queue_arrival or 0) for r in rows]), kind="stable")
    favoured = [labelled[arrival_order]]  # the priority customers of the replication running, by call

    def draw_favoured(rng: np.random.Generator) -> None:
        out = labelled.copy()
        if unknown is not None:
            out[unknown] = rng.random(int(unknown.sum())) < share[unknown]
        favoured[0] = out[arrival_order]

    unnamed = np.array([r.answered and r.server is None for r in rows])[arrival_order]

    def item_of(call: int, klass: int, t: float) -> WorkItem:
        call_type, _ = keys[klass]
        extra = (credit * aging_per_minute / 60 if favoured[0][call] else 0.0) + type_extra[call_type]
        return WorkItem(call, UNNAMED if unnamed[call] else call_type, "voice", t, extra_priority=extra)

    def router(_: Sequence[CallClass], __: Staffing) -> EngineRouter:
        return EngineRouter(Engine(config, queues), item_of, RosterCrew(agents, roster))

    staffing = Staffing([len(r) for r in roster], float(interval),
                        [k for k in range(1, len(roster)) if roster[k] != roster[k - 1]])

    gaps = np.array(after_call_gaps(rows, within=logged_in or LONG_GAP)) if after_call else np.zeros(0)
    km = patience_survival(rows) if km_patience else None

    def km_residual(rng: np.random.Generator, waited: np.ndarray) -> np.ndarray:
        assert km is not None
        return residual_patience(rng, waited, *km)

    def calls(rng: np.random.Generator) -> Calls:
        # in arrival order (stable), as ``favoured`` is
        day_calls = replay_arrivals(rng, rows, classes, lambda r: index[(r.call_type, _group(r))], after_call=gaps,
                                    residual=None if km is None else km_residual)
        draw_favoured(rng)
        return day_calls

    summary = replicate(calls, staffing, classes, replications=replications, seed=seed, target_time=target_time,
                        agent_router=router)
    pooled = replicate(calls, staffing, classes, replications=replications, seed=seed, target_time=target_time)
    out = []
    for k, (t, g) in enumerate(keys):
        sl, asa, ab = _log_measures(by_class[k], target_time)
        out.append(ClassReplay(f"{t}/{g}", len(by_class[k]), sl, asa, ab, summary.class_service_level[k],
                               summary.class_speed_of_answer[k], summary.class_abandon_rate[k]))
    sl, asa, ab = _log_measures(rows, target_time)

    def total(name: str, s: Summary) -> ClassReplay:
        offered = [d.arrived - d.ivr for d in s.days]
        return ClassReplay(name, len(rows), sl, asa, ab, s.service_level, s.speed_of_answer,
                           ratio_ci([d.abandoned for d in s.days], offered))

    return DayReplay(day, len(rows), len(agents), sum(len(r) for r in roster) * interval / 3600, out,
                     total("all", summary), float(np.mean([d.unrouted for d in summary.days])),
                     total("all, FIFO pool", pooled), credit, credits)

