"""A real day of a call log (Technion "Anonymous Bank" format) replayed through the routing engine.

The day's offered calls keep their real arrival times, service times and (for abandons) queue times;
an answered call's patience is its queue time plus an exponential residual with the class's mean
patience, estimated from the day by the exponential MLE (as in benchmarks/workforce_reallog.py). The
agents are the ones the log shows serving, on duty in every half-hour in which they served (an upper
bound on the real staffing: one call in an interval counts the whole interval), each skilled in the
call types they served that day. One voice queue per call type requires its skill; the bank's
priority customers (priority 2) get the gold tier, the green channel. Nothing is tuned to the log.

Classes are (call type, customer group), so the service level, ASA and abandonment of each can be
set beside the log's own.
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
from kefu.workforce.history import CallRecord, handle_time_fit, ready_agents
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
GROUPS = ("priority", "regular")


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


def _roster(rows: Sequence[CallRecord], interval: int,
            ready_only: bool = False) -> tuple[list[Agent], list[frozenset[int]], list[str]]:
    """The day's agents (ids by name), their skills (the call types they served) and who served when
    (``ready_only``: who was ready when, kefu.workforce.history.ready_agents)."""
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
    if ready_only:
        ready = ready_agents(rows, interval)
        slots = [{ids[name] for name, on in ready.items() if on[k]} for k in range(len(slots))]
    types = sorted({r.call_type for r in rows})
    agents = [Agent(agent_id, frozenset(skills[agent_id]), {t: 1 for t in skills[agent_id]}, {"voice": 1})
              for agent_id in sorted(skills)]
    return agents, [frozenset(s) for s in slots], types


def replay_day(records: Sequence[CallRecord], day: date, *, replications: int = 10, seed: int = 0,
               target_time: float = 20.0, interval_minutes: int = 30, aging_per_minute: float = 60.0,
               widen_after: float | None = None, ready_only: bool = False) -> DayReplay:
    """Replay ``day`` through the engine ``replications`` times; per-class measures beside the log's.

    ``widen_after`` adds a bullseye ring: after that many seconds any agent on duty may take any call.
    ``ready_only`` staffs each interval with the agents the log shows ready then (not merely on duty).
    """
    rows = offered_on(records, day)
    if not rows:
        raise WorkforceInputError(f"no offered call on {day}")
    interval = interval_minutes * 60
    agents, roster, types = _roster(rows, interval, ready_only)
    if not agents:
        raise WorkforceInputError(f"no answered call on {day}: no agent to replay with")
    keys = [(t, g) for t in types for g in GROUPS if any(r.call_type == t and _group(r) == g for r in rows)]
    index = {key: k for k, key in enumerate(keys)}
    by_class: dict[int, list[CallRecord]] = defaultdict(list)
    for r in rows:
        by_class[index[(r.call_type, _group(r))]].append(r)
    classes = [_class_law(by_class[k], rows, f"{t}/{g}") for k, (t, g) in enumerate(keys)]
    rings = (Ring(0.0),) if widen_after is None else (Ring(0.0), Ring(widen_after, 1, Reach.ANYWHERE))
    queues = [QueueConfig(t, "voice", skills={t: 1}, aging_per_minute=aging_per_minute, rings=rings)
              for t in types]
    everyone = frozenset(types)
    if widen_after is not None:  # a widened ring reaches agents only through queues they belong to
        agents = [Agent(a.id, everyone, a.skills, a.channels) for a in agents]
    config = EngineConfig(max_priority=1e6, move_check_every=1e18)

    def item_of(call: int, klass: int, t: float) -> WorkItem:
        call_type, group = keys[klass]
        return WorkItem(call, call_type, "voice", t, tier="gold" if group == GROUPS[0] else None)

    def router(_: Sequence[CallClass], __: Staffing) -> EngineRouter:
        return EngineRouter(Engine(config, queues), item_of, RosterCrew(agents, roster))

    staffing = Staffing([len(r) for r in roster], float(interval))

    def calls(rng: np.random.Generator) -> Calls:
        return replay_arrivals(rng, rows, classes, lambda r: index[(r.call_type, _group(r))])

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
                     total("all, FIFO pool", pooled))

