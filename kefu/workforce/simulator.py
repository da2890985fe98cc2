"""Discrete-event simulation of a contact centre, with replications and 95 % confidence intervals.

Model: calls arrive (replayed, or piecewise-constant Poisson per class and interval); a share of each
class is resolved in the IVR; the rest queue, abandon when their patience runs out before an agent
takes them, or are served. The agent count follows a schedule (count per interval); when it drops,
idle agents leave at once and busy ones finish their call first. Arrivals stop at the horizon; the
system then keeps serving and abandoning, with the last interval's agents (at least one), until it is
empty, so every call gets its true outcome (as ContactCenters' MMC example for its 8-hour day).

Two engines: a general event loop (heapq) with a pluggable :class:`Router`, and for FIFO routing a fast
path: calls in arrival order take the earliest-free agent (heap of free times), start = max(arrival,
free); a call whose patience is shorter than its wait abandons without touching an agent. Starts are
non-decreasing under FIFO, so schedule changes are applied when the next start passes them, removing
the agents that free up first. The two agree on every path (tested).

A third loop, :func:`simulate_day_routed`, hands routing to an :class:`AgentRouter` that knows the
agents one by one (kefu.routing.simulation.EngineRouter runs the routing engine itself: skills, rings,
priorities with aging, capacity, wrap-up). The simulator tells it what happens (arrivals, abandons,
service ends, schedule changes, the router's own timers) and starts the calls it answers with.

Statistics per day follow ContactCenters: service level = served within T / served; g1 = served
within T / (served + abandoned after T); speed of answer = wait of served / served; occupancy = busy
agent time / present agent time within the horizon. Ratios get delta-method CIs, means Student-t CIs.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

import numpy as np
from scipy import stats

from kefu.workforce.errors import WorkforceInputError
from kefu.workforce.history import CallRecord

INF = math.inf


class Distribution(Enum):
    EXPONENTIAL = "exponential"
    LOGNORMAL = "lognormal"


@dataclass(frozen=True, slots=True)
class ServiceTime:
    """Service-time law with the given mean (seconds); ``log_sigma`` is the lognormal's log-sd."""

    mean: float
    kind: Distribution = Distribution.EXPONENTIAL
    log_sigma: float = 1.0

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        if self.kind is Distribution.EXPONENTIAL:
            return rng.exponential(self.mean, size)
        mu = math.log(self.mean) - self.log_sigma**2 / 2
        return rng.lognormal(mu, self.log_sigma, size)


@dataclass(frozen=True, slots=True)
class CallClass:
    """A customer class / queue. Lower ``priority`` is served first under strict priority."""

    name: str
    service: ServiceTime
    patience_mean: float | None = None  # None: infinite patience
    priority: int = 0
    ivr_share: float = 0.0  # share resolved in self-service


@dataclass(frozen=True, slots=True)
class Calls:
    """The calls of one day, sorted by arrival time (seconds from the day's start)."""

    time: np.ndarray
    klass: np.ndarray
    service: np.ndarray
    patience: np.ndarray  # inf for infinite patience
    ivr: np.ndarray  # bool: resolved in the IVR, never queues

    def __len__(self) -> int:
        return len(self.time)


# ---------------------------------------------------------------- arrivals


def _validate_classes(classes: Sequence[CallClass]) -> None:
    if not classes:
        raise WorkforceInputError("at least one call class is needed")
    for c in classes:
        if not (c.service.mean > 0 and math.isfinite(c.service.mean)):
            raise WorkforceInputError(f"class {c.name}: service mean must be > 0")
        if c.patience_mean is not None and not c.patience_mean > 0:
            raise WorkforceInputError(f"class {c.name}: patience mean must be > 0 or None")
        if not 0 <= c.ivr_share <= 1:
            raise WorkforceInputError(f"class {c.name}: ivr_share must lie in [0, 1]")


def _finish(rng: np.random.Generator, classes: Sequence[CallClass], time: np.ndarray, klass: np.ndarray,
            service: np.ndarray | None = None, patience: np.ndarray | None = None) -> Calls:
    """Draw what was not given (service, patience, IVR), per class, and sort by time."""
    n = len(time)
    service_out = np.empty(n) if service is None else service.astype(float)
    patience_out = np.empty(n) if patience is None else patience.astype(float)
    ivr = np.zeros(n, dtype=bool)
    for c_index, c in enumerate(classes):
        mask = klass == c_index
        size = int(mask.sum())
        if service is None:
            service_out[mask] = c.service.draw(rng, size)
        if patience is None:
            patience_out[mask] = INF if c.patience_mean is None else rng.exponential(c.patience_mean, size)
        if c.ivr_share > 0:
            ivr[mask] = rng.random(size) < c.ivr_share
    order = np.argsort(time, kind="stable")
    return Calls(time[order], klass[order], service_out[order], patience_out[order], ivr[order])


def poisson_arrivals(rng: np.random.Generator, classes: Sequence[CallClass],
                     rates: Sequence[Sequence[float]], interval_seconds: float) -> Calls:
    """Piecewise-constant Poisson arrivals: ``rates[c][k]`` calls per second of class c in interval k."""
    _validate_classes(classes)
    lam = np.asarray(rates, dtype=float)
    if lam.ndim != 2 or lam.shape[0] != len(classes) or (lam < 0).any() or not np.isfinite(lam).all():
        raise WorkforceInputError("rates must be one non-negative row of per-interval rates per class")
    counts = rng.poisson(lam * interval_seconds)
    starts = np.arange(lam.shape[1]) * interval_seconds
    time = np.concatenate([np.repeat(starts, row) for row in counts]) if counts.sum() else np.empty(0)
    klass = np.repeat(np.arange(len(classes)), counts.sum(axis=1))
    time = time + rng.random(len(time)) * interval_seconds
    return _finish(rng, classes, time, klass)


def replay_arrivals(rng: np.random.Generator, records: Iterable[CallRecord], classes: Sequence[CallClass],
                    class_of: Callable[[CallRecord], int], *, replay_patience: bool = True,
                    after_call: Sequence[float] | np.ndarray = (),
                    residual: Callable[[np.random.Generator, np.ndarray], np.ndarray] | None = None) -> Calls:
    """One day's offered calls from the log: real arrival and service times.

    Abandoned calls get their class's service law. ``after_call``: each call's service is lengthened by a
    draw from these seconds (the agent's not-ready time after it). With ``replay_patience`` an abandon's
    patience is its queue time and an answered call's is ``residual(rng, waits)`` given the waits, by
    default its queue time plus an exponential residual of its class's mean (memoryless); else patience is
    drawn from the class.
    """
    _validate_classes(classes)
    rows = [r for r in records if r.queue_arrival is not None and (r.answered or r.abandoned)]
    time = np.array([float(r.queue_arrival or 0) for r in rows])
    klass = np.array([class_of(r) for r in rows], dtype=int)
    service = np.array([float(r.ser_time) if r.answered and r.ser_time > 0 else -1.0 for r in rows])
    for c_index, c in enumerate(classes):
        mask = (klass == c_index) & (service < 0)
        service[mask] = c.service.draw(rng, int(mask.sum()))
    if len(after_call):
        service += rng.choice(np.asarray(after_call, dtype=float), len(rows))
    patience = None
    if replay_patience:
        patience = np.array([float(r.q_time) for r in rows])
        answered = np.array([not r.abandoned for r in rows], dtype=bool)
        if residual is not None:
            patience[answered] = residual(rng, patience[answered])
        else:
            for i in np.flatnonzero(answered):
                mean = classes[klass[i]].patience_mean
                patience[i] += INF if mean is None else rng.exponential(mean)
    return _finish(rng, classes, time, klass, service, patience)


# ---------------------------------------------------------------- routing


class Router(Protocol):
    """Picks the next waiting call for a free agent."""

    def enqueue(self, call: int, klass: int, arrival: float) -> None: ...

    def withdraw(self, call: int) -> None:
        """The call abandoned; never offer it again."""

    def next_call(self, now: float) -> int | None: ...


class FifoRouter:
    """First come, first served across all classes."""

    def __init__(self, classes: Sequence[CallClass]) -> None:
        self._queue: deque[int] = deque()
        self._gone: set[int] = set()

    def enqueue(self, call: int, klass: int, arrival: float) -> None:
        self._queue.append(call)

    def withdraw(self, call: int) -> None:
        self._gone.add(call)

    def next_call(self, now: float) -> int | None:
        while self._queue:
            call = self._queue.popleft()
            if call in self._gone:
                self._gone.discard(call)
                continue
            return call
        return None


class PriorityRouter:
    """Strict (non-preemptive) priority by class priority, lowest number first; FIFO within a level."""

    def __init__(self, classes: Sequence[CallClass]) -> None:
        self._levels = sorted({c.priority for c in classes})
        self._level_of = [self._levels.index(c.priority) for c in classes]
        self._queues: list[deque[int]] = [deque() for _ in self._levels]
        self._gone: set[int] = set()

    def enqueue(self, call: int, klass: int, arrival: float) -> None:
        self._queues[self._level_of[klass]].append(call)

    def withdraw(self, call: int) -> None:
        self._gone.add(call)

    def next_call(self, now: float) -> int | None:
        for queue in self._queues:
            while queue:
                call = queue.popleft()
                if call in self._gone:
                    self._gone.discard(call)
                    continue
                return call
        return None


RouterFactory = Callable[[Sequence[CallClass]], Router]


# ---------------------------------------------------------------- one day


@dataclass(slots=True)
class DayResult:
    """Counts and sums of one simulated day (waits in seconds)."""

    arrived: int = 0
    ivr: int = 0
    served: int = 0
    abandoned: int = 0
    served_within: int = 0  # wait < T
    abandoned_after: int = 0  # abandoned with wait >= T
    wait_served: float = 0.0
    wait_all: float = 0.0  # waits of served and abandoned calls
    busy_time: float = 0.0  # agent busy time within the horizon
    agent_time: float = 0.0  # present agent time within the horizon
    queue_area: float = math.nan  # integral of the queue length (general engine only)
    end_time: float = 0.0  # when the last call left
    class_served: list[int] = field(default_factory=list)
    class_abandoned: list[int] = field(default_factory=list)
    class_wait: list[float] = field(default_factory=list)  # waits of served and abandoned, per class
    class_served_within: list[int] = field(default_factory=list)
    class_wait_served: list[float] = field(default_factory=list)
    unrouted: int = 0  # calls still waiting at the end: no agent could ever take them (routed loop only)


@dataclass(frozen=True, slots=True)
class Staffing:
    """Agents per interval; the arrival horizon is len(agents) x interval_seconds."""

    agents: Sequence[int]
    interval_seconds: float
    #: the intervals at whose start the schedule changes (the count, or for an agent router who is on
    #: duty); None: every interval. The agent-by-agent loop schedules those only.
    changes: Sequence[int] | None = None

    def __post_init__(self) -> None:
        bad = [a for a in self.agents if isinstance(a, bool) or not isinstance(a, int) or a < 0]
        if not self.agents or bad:
            raise WorkforceInputError("agents must be a non-empty list of integers >= 0")
        if not self.interval_seconds > 0:
            raise WorkforceInputError("interval_seconds must be > 0")
        if self.changes is not None:
            given = set(self.changes)
            if not given <= set(range(1, len(self.agents))) or any(
                    self.agents[k] != self.agents[k - 1] and k not in given for k in range(1, len(self.agents))):
                raise WorkforceInputError("changes must list intervals 1.. of the schedule, each count change")

    def steps(self) -> list[int]:
        """The intervals of ``extended`` at whose start something changes (the one after the horizon too)."""
        last = len(self.agents)
        return list(range(1, last + 1)) if self.changes is None else sorted({*self.changes, last})

    @property
    def horizon(self) -> float:
        return len(self.agents) * self.interval_seconds

    def extended(self) -> list[int]:
        """The schedule plus the count kept after the horizon until the system empties (>= 1)."""
        return [*self.agents, max(1, self.agents[-1])]


def _new_result(n_classes: int) -> DayResult:
    return DayResult(class_served=[0] * n_classes, class_abandoned=[0] * n_classes,
                     class_wait=[0.0] * n_classes, class_served_within=[0] * n_classes,
                     class_wait_served=[0.0] * n_classes)


def _record_outcome(res: DayResult, klass: int, wait: float, served: bool, target: float) -> None:
    res.wait_all += wait
    res.class_wait[klass] += wait
    if served:
        res.served += 1
        res.class_served[klass] += 1
        res.wait_served += wait
        res.class_wait_served[klass] += wait
        if wait < target:
            res.served_within += 1
            res.class_served_within[klass] += 1
    else:
        res.abandoned += 1
        res.class_abandoned[klass] += 1
        if wait >= target:
            res.abandoned_after += 1


def simulate_day_fifo(calls: Calls, staffing: Staffing, target_time: float, n_classes: int = 1) -> DayResult:
    """Fast path for FIFO routing: earliest-free-agent recursion with patience and a schedule."""
    res = _new_result(n_classes)
    horizon, width = staffing.horizon, staffing.interval_seconds
    counts = staffing.extended()
    free: list[float] = [0.0] * counts[0]
    change = 1
    overtime = 0.0
    leaving: list[float] = []  # free times of agents whose shift ended while they were on a call
    times, services, patiences = calls.time.tolist(), calls.service.tolist(), calls.patience.tolist()
    classes, ivr = calls.klass.tolist(), calls.ivr.tolist()
    heapreplace, heappush, heappop = heapq.heapreplace, heapq.heappush, heapq.heappop
    last_change = len(counts)
    end = 0.0
    for i in range(len(times)):
        if ivr[i]:
            res.ivr += 1
            continue
        a = times[i]
        while True:
            f = free[0] if free else INF
            start = a if a > f else f
            if change < last_change and change * width <= start:
                tau = change * width
                delta = counts[change] - counts[change - 1]
                if delta > 0:
                    # Staff is a head count: agents who left a shift but are still finishing a call stay
                    # on (the last to finish first), as in the general engine; the rest start fresh.
                    leaving = sorted((g for g in leaving if g > tau), reverse=True)
                    for g in leaving[:delta]:
                        heappush(free, g)
                        if tau < horizon:
                            overtime -= min(g, horizon) - tau
                    for _ in range(delta - len(leaving[:delta])):
                        heappush(free, tau)
                    leaving = leaving[delta:]
                for _ in range(-delta):
                    gone = heappop(free)
                    if gone > tau:
                        leaving.append(gone)
                        if tau < horizon:
                            overtime += min(gone, horizon) - tau
                change += 1
                continue
            break
        wait = start - a
        patience = patiences[i]
        if wait > patience:
            _record_outcome(res, classes[i], patience, False, target_time)
            end = max(end, a + patience)
            continue
        done = start + services[i]
        heapreplace(free, done)
        end = max(end, done)
        if start < horizon:
            res.busy_time += (done if done < horizon else horizon) - start
        _record_outcome(res, classes[i], wait, True, target_time)
    res.arrived = len(times)
    res.agent_time = sum(staffing.agents) * width + overtime
    res.end_time = end
    return res


_END, _STAFF, _ABANDON = 0, 1, 2


def simulate_day(calls: Calls, staffing: Staffing, target_time: float, classes: Sequence[CallClass],
                 router: Router) -> DayResult:
    """General event loop: service ends, staffing changes and abandonments on a heap; arrivals in order."""
    res = _new_result(len(classes))
    horizon, width = staffing.horizon, staffing.interval_seconds
    counts = staffing.extended()
    heap: list[tuple[float, int, int]] = [(k * width, _STAFF, k) for k in range(1, len(counts))]
    heapq.heapify(heap)
    times, services, patiences = calls.time.tolist(), calls.service.tolist(), calls.patience.tolist()
    klass, ivr = calls.klass.tolist(), calls.ivr.tolist()
    waiting = bytearray(len(times))
    staffed, busy, queued = counts[0], 0, 0
    now = 0.0
    present_area = busy_area = queue_area = 0.0
    i, n = 0, len(times)

    def start_service(call: int, t: float) -> None:
        nonlocal busy, queued
        waiting[call] = 0
        busy += 1
        heapq.heappush(heap, (t + services[call], _END, call))
        _record_outcome(res, klass[call], t - times[call], True, target_time)

    while i < n or heap:
        if i < n and (not heap or times[i] < heap[0][0]):
            t, kind, call = times[i], -1, i
            i += 1
        else:
            t, kind, call = heapq.heappop(heap)
        if now < horizon:  # integrate present and busy agents within the horizon
            span = min(t, horizon) - now
            present_area += max(staffed, busy) * span
            busy_area += busy * span
        queue_area += queued * (t - now)
        now = t
        if kind == -1:
            if ivr[call]:
                res.ivr += 1
            elif busy < staffed:
                start_service(call, t)
            else:
                waiting[call] = 1
                queued += 1
                router.enqueue(call, klass[call], t)
                if patiences[call] < INF:
                    heapq.heappush(heap, (t + patiences[call], _ABANDON, call))
            continue
        if kind == _ABANDON:
            if waiting[call]:
                waiting[call] = 0
                queued -= 1
                router.withdraw(call)
                res.end_time = t
                _record_outcome(res, klass[call], patiences[call], False, target_time)
            continue
        if kind == _END:
            busy -= 1
            res.end_time = t
        else:
            staffed = counts[call]
        while busy < staffed and queued:
            nxt = router.next_call(t)
            if nxt is None:
                break
            queued -= 1
            start_service(nxt, t)
    res.arrived = n
    res.busy_time, res.agent_time, res.queue_area = busy_area, present_area, queue_area
    return res


# ---------------------------------------------------------------- routing agent by agent

Start = tuple[int, int]  # (call, agent): the router started this call with this agent


class AgentRouter(Protocol):
    """Routes calls to individual agents; every method returns the calls it starts now."""

    def staff(self, interval: int, agents: int, t: float) -> list[Start]:
        """Interval ``interval`` of the schedule begins (``agents`` wanted; after the horizon the last
        count, at least one)."""

    def arrive(self, call: int, klass: int, t: float) -> list[Start]: ...

    def abandon(self, call: int, t: float) -> list[Start]: ...

    def finish(self, call: int, t: float) -> list[Start]: ...

    def advance(self, t: float) -> list[Start]:
        """The router's own timer (``next_timer``) is due."""

    def next_timer(self) -> float | None: ...


AgentRouterFactory = Callable[[Sequence[CallClass], Staffing], AgentRouter]


def simulate_day_routed(calls: Calls, staffing: Staffing, target_time: float, classes: Sequence[CallClass],
                        router: AgentRouter) -> DayResult:
    """Event loop where ``router`` decides which agent takes which call, and when.

    Same events and statistics as :func:`simulate_day`; at equal times: service ends and schedule
    changes first, then the router's timers, then abandons (a call answered at the moment its patience
    runs out is answered, as in the other loops), then arrivals. A call no agent may ever take stays
    waiting and is counted in ``unrouted``.
    """
    res = _new_result(len(classes))
    horizon, width = staffing.horizon, staffing.interval_seconds
    counts = staffing.extended()
    heap: list[tuple[float, int, int]] = [(k * width, _STAFF, k) for k in staffing.steps()]
    heapq.heapify(heap)
    times, services, patiences = calls.time.tolist(), calls.service.tolist(), calls.patience.tolist()
    klass, ivr = calls.klass.tolist(), calls.ivr.tolist()
    waiting = bytearray(len(times))
    staffed, busy, queued = counts[0], 0, 0
    now = 0.0
    present_area = busy_area = queue_area = 0.0
    i, n = 0, len(times)

    def begin(starts: list[Start], t: float) -> None:
        nonlocal busy, queued
        for call, _ in starts:
            if not waiting[call]:
                raise WorkforceInputError(f"the router started call {call}, which is not waiting")
            waiting[call] = 0
            queued -= 1
            busy += 1
            heapq.heappush(heap, (t + services[call], _END, call))
            _record_outcome(res, klass[call], t - times[call], True, target_time)

    begin(router.staff(0, counts[0], 0.0), 0.0)
    while True:
        timer = router.next_timer()
        t_heap = heap[0][0] if heap else INF
        t_timer = INF if timer is None else timer
        t_arrival = times[i] if i < n else INF
        t = min(t_heap, t_timer, t_arrival)
        if t == INF:
            break
        if t_heap == t and heap[0][1] == _ABANDON and t_timer == t:
            t_heap = INF  # the router's timers at this moment come before abandons
        if now < horizon:
            span = min(t, horizon) - now
            present_area += max(staffed, busy) * span
            busy_area += busy * span
        queue_area += queued * (t - now)
        now = t
        if t_heap == t:
            _, kind, ref = heapq.heappop(heap)
            if kind == _END:
                busy -= 1
                res.end_time = t
                begin(router.finish(ref, t), t)
            elif kind == _STAFF:
                staffed = counts[ref]
                begin(router.staff(ref, staffed, t), t)
            elif waiting[ref]:  # _ABANDON
                waiting[ref] = 0
                queued -= 1
                res.end_time = t
                _record_outcome(res, klass[ref], patiences[ref], False, target_time)
                begin(router.abandon(ref, t), t)
        elif t_timer == t:
            begin(router.advance(t), t)
        else:
            call = i
            i += 1
            if ivr[call]:
                res.ivr += 1
                continue
            waiting[call] = 1
            queued += 1
            if patiences[call] < INF:
                heapq.heappush(heap, (t + patiences[call], _ABANDON, call))
            begin(router.arrive(call, klass[call], t), t)
    res.arrived = n
    res.unrouted = queued
    res.busy_time, res.agent_time, res.queue_area = busy_area, present_area, queue_area
    return res


# ---------------------------------------------------------------- replications


@dataclass(frozen=True, slots=True)
class Estimate:
    mean: float
    low: float
    high: float

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


@dataclass(frozen=True, slots=True)
class Summary:
    replications: int
    arrived: Estimate
    served: Estimate
    abandoned: Estimate
    served_within: Estimate
    service_level: Estimate  # served within T / served
    service_level_g1: Estimate  # served within T / (served + abandoned after T)
    answer_rate: Estimate  # served / offered (offered = arrived - ivr)
    speed_of_answer: Estimate  # mean wait of served, seconds
    mean_wait: Estimate  # mean wait of all offered calls, seconds
    occupancy: Estimate
    class_mean_wait: list[Estimate]
    days: list[DayResult]
    class_service_level: list[Estimate] = field(default_factory=list)  # served within T / served
    class_speed_of_answer: list[Estimate] = field(default_factory=list)  # mean wait of served, seconds
    class_abandon_rate: list[Estimate] = field(default_factory=list)  # abandoned / offered


def mean_ci(values: Sequence[float], level: float = 0.95) -> Estimate:
    """Student-t confidence interval for the mean."""
    x = np.asarray(values, dtype=float)
    m = float(x.mean())
    if len(x) < 2:
        return Estimate(m, -INF, INF)
    half = float(stats.t.ppf(0.5 + level / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))
    return Estimate(m, m - half, m + half)


def ratio_ci(num: Sequence[float], den: Sequence[float], level: float = 0.95) -> Estimate:
    """sum(num)/sum(den) with a delta-method Student-t interval (ContactCenters' function of means)."""
    x, y = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    if y.sum() == 0:
        return Estimate(math.nan, math.nan, math.nan)
    r = float(x.sum() / y.sum())
    if len(x) < 2:
        return Estimate(r, -INF, INF)
    residual = x - r * y
    half = float(stats.t.ppf(0.5 + level / 2, len(x) - 1) * residual.std(ddof=1)
                 / (math.sqrt(len(x)) * y.mean()))
    return Estimate(r, r - half, r + half)


def summarise(days: Sequence[DayResult]) -> Summary:
    """Point estimates and 95 % intervals over replications."""
    def col(name: str) -> list[float]:
        return [float(getattr(d, name)) for d in days]

    offered = [d.arrived - d.ivr for d in days]
    n_classes = len(days[0].class_wait)
    class_wait = [ratio_ci([d.class_wait[c] for d in days],
                           [d.class_served[c] + d.class_abandoned[c] for d in days])
                  for c in range(n_classes)]
    return Summary(
        replications=len(days),
        arrived=mean_ci(col("arrived")),
        served=mean_ci(col("served")),
        abandoned=mean_ci(col("abandoned")),
        served_within=mean_ci(col("served_within")),
        service_level=ratio_ci(col("served_within"), col("served")),
        service_level_g1=ratio_ci(col("served_within"), [d.served + d.abandoned_after for d in days]),
        answer_rate=ratio_ci(col("served"), offered),
        speed_of_answer=ratio_ci(col("wait_served"), col("served")),
        mean_wait=ratio_ci(col("wait_all"), offered),
        occupancy=ratio_ci(col("busy_time"), col("agent_time")),
        class_mean_wait=class_wait,
        days=list(days),
        class_service_level=[ratio_ci([d.class_served_within[c] for d in days], [d.class_served[c] for d in days])
                             for c in range(n_classes)],
        class_speed_of_answer=[ratio_ci([d.class_wait_served[c] for d in days], [d.class_served[c] for d in days])
                               for c in range(n_classes)],
        class_abandon_rate=[ratio_ci([d.class_abandoned[c] for d in days],
                                     [d.class_served[c] + d.class_abandoned[c] for d in days])
                            for c in range(n_classes)],
    )


def replicate(
    make_calls: Callable[[np.random.Generator], Calls],
    staffing: Staffing,
    classes: Sequence[CallClass],
    *,
    replications: int = 30,
    seed: int = 0,
    target_time: float = 20.0,
    router: RouterFactory | None = None,
    agent_router: AgentRouterFactory | None = None,
) -> Summary:
    """Run ``replications`` independent days; FIFO (``router`` None) uses the fast path.

    ``agent_router`` routes agent by agent instead (:func:`simulate_day_routed`), a fresh router per day.
    """
    if router is not None and agent_router is not None:
        raise WorkforceInputError("give a router or an agent router, not both")
    if replications < 2:
        raise WorkforceInputError("at least 2 replications are needed for a confidence interval")
    _validate_classes(classes)
    days: list[DayResult] = []
    for stream in np.random.SeedSequence(seed).spawn(replications):
        calls = make_calls(np.random.default_rng(stream))
        if agent_router is not None:
            days.append(simulate_day_routed(calls, staffing, target_time, classes, agent_router(classes, staffing)))
        elif router is None:
            days.append(simulate_day_fifo(calls, staffing, target_time, len(classes)))
        else:
            days.append(simulate_day(calls, staffing, target_time, classes, router(classes)))
    return summarise(days)
