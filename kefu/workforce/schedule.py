"""Shifts and breaks from required agents (OR-Tools CP-SAT), coverage report, what-if.

Model (one day, intervals of equal length): an integer variable x[s, L, b] = agents on the shift that
starts at interval s, lasts L intervals (paid) and takes its break of ``break_length`` intervals at
offset b. Coverage c_t = sum of x over shifts working (not on break) at t; under_t >= required_t - c_t.
Minimise  under_weight * sum_t under_t + sum paid intervals.  Optional cap on the number of agents.
Hours per agent are bounded by keeping only shift lengths inside [min_hours, max_hours].
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model

from kefu.workforce.erlang import erlang_a
from kefu.workforce.errors import WorkforceInputError
from kefu.workforce.staffing import StaffingTarget, staff_day


@dataclass(frozen=True, slots=True)
class ShiftRules:
    """Rules in intervals of ``interval_minutes``; break window offsets are from the shift start."""

    interval_minutes: int
    shift_lengths: Sequence[int]  # allowed paid lengths, in intervals
    start_step: int = 1  # shifts start on multiples of this many intervals
    break_length: int = 0  # 0: no break
    break_earliest: int = 0  # earliest break offset
    break_latest: int = 0  # latest break offset
    min_hours: float = 0.0
    max_hours: float = 24.0
    max_agents: int | None = None
    under_weight: int = 1000  # cost of one missing agent-interval vs one paid agent-interval

    def lengths(self) -> list[int]:
        """Allowed lengths that also respect the hours bounds."""
        hours = self.interval_minutes / 60
        kept = [n for n in self.shift_lengths if self.min_hours <= n * hours <= self.max_hours]
        if not kept:
            raise WorkforceInputError("no allowed shift length lies within min_hours..max_hours")
        return kept

    def break_offsets(self, length: int) -> list[int | None]:
        if self.break_length == 0:
            return [None]
        last = min(self.break_latest, length - self.break_length)
        offsets: list[int | None] = list(range(self.break_earliest, last + 1))
        if not offsets:
            raise WorkforceInputError(f"no break window fits a shift of {length} intervals")
        return offsets


@dataclass(frozen=True, slots=True)
class Shift:
    start: int  # interval index
    length: int  # intervals, paid
    break_start: int | None  # interval index of the break, or None
    break_length: int
    agents: int

    def works(self, t: int) -> bool:
        """On shift and not on break at interval t."""
        brk = self.break_start
        on_break = brk is not None and brk <= t < brk + self.break_length
        return self.start <= t < self.start + self.length and not on_break


@dataclass(frozen=True, slots=True)
class Schedule:
    shifts: list[Shift]
    coverage: list[int]
    under: list[int]
    paid_intervals: int
    status: str  # OPTIMAL or FEASIBLE


def _coverage(shifts: Sequence[Shift], horizon: int) -> list[int]:
    return [sum(sh.agents for sh in shifts if sh.works(t)) for t in range(horizon)]


def build_schedule(required: Sequence[int], rules: ShiftRules, *, time_limit: float = 10.0,
                   workers: int = 8) -> Schedule:
    """Shifts and breaks covering ``required`` agents per interval as well as CP-SAT finds in the time."""
    if any(isinstance(r, bool) or not isinstance(r, int) or r < 0 for r in required):
        raise WorkforceInputError("required agents must be integers >= 0")
    if rules.start_step < 1 or rules.break_length < 0 or time_limit <= 0:
        raise WorkforceInputError("start_step >= 1, break_length >= 0 and time_limit > 0 are required")
    horizon = len(required)
    model = cp_model.CpModel()
    cap = max(required, default=0) if rules.max_agents is None else rules.max_agents
    variables: list[tuple[int, int, int | None, cp_model.IntVar]] = []
    covering: list[list[cp_model.IntVar]] = [[] for _ in range(horizon)]
    for length in rules.lengths():
        for start in range(0, horizon - length + 1, rules.start_step):
            for offset in rules.break_offsets(length):
                var = model.new_int_var(0, cap, f"x_{start}_{length}_{offset}")
                brk = None if offset is None else start + offset
                variables.append((start, length, brk, var))
                for t in range(start, start + length):
                    if brk is None or not brk <= t < brk + rules.break_length:
                        covering[t].append(var)
    if not variables:
        raise WorkforceInputError("no shift fits in the day with these rules")
    under = [model.new_int_var(0, r, f"under_{t}") for t, r in enumerate(required)]
    for t in range(horizon):
        model.add(sum(covering[t]) + under[t] >= required[t])
    if rules.max_agents is not None:
        model.add(sum(v for *_, v in variables) <= rules.max_agents)
    paid = sum(length * v for _, length, _, v in variables)
    model.minimize(rules.under_weight * sum(under) + paid)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = workers
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise WorkforceInputError(f"no schedule found ({solver.status_name(status)})")
    shifts = [Shift(s, length, b, rules.break_length, solver.value(v))
              for s, length, b, v in variables if solver.value(v) > 0]
    cover = _coverage(shifts, horizon)
    return Schedule(
        shifts=shifts,
        coverage=cover,
        under=[max(0, r - c) for r, c in zip(required, cover, strict=True)],
        paid_intervals=sum(sh.length * sh.agents for sh in shifts),
        status=solver.status_name(status),
    )


# ---------------------------------------------------------------- coverage report


@dataclass(frozen=True, slots=True)
class IntervalReport:
    calls: float
    required: int
    scheduled: int
    service_level: float
    answer_rate: float
    abandon_rate: float


@dataclass(frozen=True, slots=True)
class CoverageReport:
    intervals: list[IntervalReport]
    service_level: float  # call-weighted over the day
    answer_rate: float
    abandon_rate: float
    calls: float


def coverage_report(
    workload: Sequence[tuple[float, float]],
    interval_seconds: float,
    required: Sequence[int],
    scheduled: Sequence[int],
    *,
    patience: float,
    target_time: float = 20.0,
) -> CoverageReport:
    """Required vs scheduled per interval with Erlang A predictions for the scheduled agents.

    Each interval is taken in steady state; an interval with calls and no agent answers nothing.
    Day totals weight each interval by its calls.
    """
    if not len(workload) == len(required) == len(scheduled):
        raise WorkforceInputError("workload, required and scheduled must have one entry per interval")
    rows: list[IntervalReport] = []
    for (calls, aht), need, have in zip(workload, required, scheduled, strict=True):
        if calls <= 0:
            rows.append(IntervalReport(calls, need, have, 1.0, 1.0, 0.0))
        elif have == 0:
            rows.append(IntervalReport(calls, need, have, 0.0, 0.0, 1.0))
        else:
            m = erlang_a(have, calls / interval_seconds, aht, patience, target_time)
            rows.append(IntervalReport(calls, need, have, m.service_level, 1 - m.p_abandon, m.p_abandon))
    total = math.fsum(r.calls for r in rows)

    def weighted(name: str) -> float:
        if total == 0:
            return math.nan
        return math.fsum(r.calls * getattr(r, name) for r in rows) / total

    return CoverageReport(rows, weighted("service_level"), weighted("answer_rate"), weighted("abandon_rate"),
                          total)


# ---------------------------------------------------------------- plan and what-if


@dataclass(frozen=True, slots=True)
class Plan:
    required: list[int]
    schedule: Schedule
    report: CoverageReport


def plan_day(workload: Sequence[tuple[float, float]], rules: ShiftRules, target: StaffingTarget, *,
             patience: float, time_limit: float = 10.0) -> Plan:
    """Required agents (Erlang A), a schedule covering them, and its predicted service."""
    interval_seconds = rules.interval_minutes * 60
    required = staff_day(workload, interval_seconds, target, patience=patience)
    schedule = build_schedule(required, rules, time_limit=time_limit)
    report = coverage_report(workload, interval_seconds, required, schedule.coverage, patience=patience,
                             target_time=target.target_time)
    return Plan(required, schedule, report)


def what_if(workload: Sequence[tuple[float, float]], rules: ShiftRules, target: StaffingTarget, *,
            patience: float, volume_scale: float = 1.0, aht_scale: float = 1.0,
            new_target: StaffingTarget | None = None, time_limit: float = 10.0) -> Plan:
    """Recompute the plan with volume and AHT scaled and/or another target."""
    if not (volume_scale >= 0 and aht_scale > 0):
        raise WorkforceInputError("volume_scale must be >= 0 and aht_scale > 0")
    scaled = [(calls * volume_scale, aht * aht_scale) for calls, aht in workload]
    return plan_day(scaled, rules, new_target or target, patience=patience, time_limit=time_limit)
