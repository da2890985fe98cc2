"""SLA clocks: a target of working time that runs, pauses (waiting on the customer) and stops. Pure.

A clock keeps the working time it has already used (`used`, seconds, on its calendar) and, while running,
the instant it last (re)started. So pausing never loses time and a paused clock has no due time:
`due_at` is where the remaining working time runs out if the clock keeps running from `running_since`.

`state(clock, now, cal, ...)` says where a clock stands: met (stopped in time), breached (stopped late or
past due), warning (running and `warn_ratio` of its target used), running, paused. A legal deadline (the
15 calendar days of a complaint reply) is a ceiling no policy loosens: `legal_due` caps the due time and
counts even while the clock is paused, because the law's clock does not pause.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from kefu.sla.calendar import WorkCalendar

RUNNING, PAUSED, STOPPED = "running", "paused", "stopped"


@dataclass(frozen=True)
class Clock:
    target: float  # seconds of working time
    started_at: datetime
    used: float = 0.0  # working seconds used before `running_since` (or in total once paused/stopped)
    running_since: datetime | None = None
    stopped_at: datetime | None = None

    @property
    def phase(self) -> str:
        if self.stopped_at is not None:
            return STOPPED
        return RUNNING if self.running_since is not None else PAUSED


def start(target: float, at: datetime) -> Clock:
    if target <= 0:
        raise ValueError("an SLA target must be positive")
    return Clock(target=target, started_at=at, running_since=at)


def used_at(clock: Clock, now: datetime, cal: WorkCalendar) -> float:
    if clock.running_since is None or clock.stopped_at is not None:
        return clock.used
    return clock.used + cal.working_seconds(clock.running_since, now)


def pause(clock: Clock, at: datetime, cal: WorkCalendar) -> Clock:
    if clock.phase != RUNNING:
        return clock
    at = max(at, clock.running_since) if clock.running_since else at
    return replace(clock, used=used_at(clock, at, cal), running_since=None)


def resume(clock: Clock, at: datetime) -> Clock:
    if clock.phase != PAUSED:
        return clock
    return replace(clock, running_since=at)


def stop(clock: Clock, at: datetime, cal: WorkCalendar) -> Clock:
    if clock.phase == STOPPED:
        return clock
    return replace(clock, used=used_at(clock, at, cal), running_since=None, stopped_at=at)


def due_at(clock: Clock, cal: WorkCalendar) -> datetime | None:
    """When the target runs out if the clock keeps running (None while paused or stopped)."""
    if clock.phase != RUNNING or clock.running_since is None:
        return None
    left = clock.target - clock.used
    if left <= 0:
        return clock.running_since
    return cal.add_working(clock.running_since, left)


@dataclass(frozen=True)
class ClockState:
    status: str  # running | paused | warning | breached | met
    phase: str
    used: float
    remaining: float  # working seconds left (negative once past the target)
    due_at: datetime | None  # the effective due time (capped by the legal deadline), None while paused
    breached: bool
    warning: bool


def effective_due(policy_due: datetime | None, legal_due: datetime | None) -> datetime | None:
    if policy_due is None:
        return legal_due
    if legal_due is None:
        return policy_due
    return min(policy_due, legal_due)


def state(clock: Clock, now: datetime, cal: WorkCalendar, *, warn_ratio: float = 0.8,
          legal_due: datetime | None = None) -> ClockState:
    used = used_at(clock, now, cal)
    due = effective_due(due_at(clock, cal), legal_due if clock.phase != STOPPED else None)
    end = clock.stopped_at if clock.stopped_at is not None else now
    legal_late = legal_due is not None and end > legal_due
    breached = used > clock.target or legal_late or (due is not None and now > due and clock.phase != STOPPED)
    remaining = clock.target - used
    if due is not None and clock.phase == RUNNING:
        remaining = min(remaining, cal.working_seconds(now, due) if due > now else -(now - due).total_seconds())
    if clock.phase == STOPPED:
        status = "breached" if breached else "met"
        return ClockState(status, STOPPED, used, remaining, None, breached, False)
    warning = not breached and (used >= warn_ratio * clock.target or (
        legal_due is not None and due is not None and now >= legal_due - _legal_warning(legal_due, clock)))
    if breached:
        status = "breached"
    elif warning:
        status = "warning"
    else:
        status = clock.phase
    return ClockState(status, clock.phase, used, remaining, due, breached, warning)


def _legal_warning(legal_due: datetime, clock: Clock) -> timedelta:
    # The last fifth of the legal window (day 12 of 15), as the complaint clock in kefu/tickets/sla.py.
    return (legal_due - clock.started_at) / 5
