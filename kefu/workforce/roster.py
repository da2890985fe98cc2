"""Named agents on a day's shifts, and schedule adherence from their states (pure: no database, no clock).

Assignment. The day's shifts (from the CP-SAT schedule, ``schedule.build_schedule``) are split into one
seat per agent. An agent may take a seat when it lies inside the hours they can work (their earliest
start and latest end, a preference the administrator records) and starts after the rest they are owed
since their previous shift ended. Each agent works at most one shift a day. This is a bipartite matching
between seats and agents; the largest one is found exactly by augmenting paths (Kuhn's algorithm), seats
taken from the earliest start, agents tried from the least available (the fewest seats they could take)
so the flexible ones stay free for the seats only they fit. Seats nobody can take are reported open.

Adherence. During a shift's working time an agent adheres when their routing presence is available or
after-call work (taking work); during its break, when it is anything else (not taking work). Adherence is
the adherent share of the scheduled time elapsed so far; time outside shifts is not counted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

from kefu.workforce.errors import WorkforceInputError
from kefu.workforce.matching import largest_matching

WORKING = frozenset({"available", "after_call_work"})


@dataclass(frozen=True, slots=True)
class Seat:
    """One agent's place on a shift, in minutes from the start of the day."""

    start: int
    end: int
    break_start: int | None = None
    break_end: int | None = None


@dataclass(frozen=True, slots=True)
class Availability:
    """When an agent can work on the day, in minutes from its start (None: no limit)."""

    agent_id: int
    earliest_start: int | None = None
    latest_end: int | None = None
    rested_at: int | None = None  # the rest since their previous shift ends here (may be < 0: no limit today)

    def fits(self, seat: Seat) -> bool:
        earliest = max(self.earliest_start or 0, self.rested_at or 0)
        return seat.start >= earliest and (self.latest_end is None or seat.end <= self.latest_end)


@dataclass(frozen=True, slots=True)
class Roster:
    assigned: list[tuple[int, Seat]]  # (agent id, seat), by seat start
    open: list[Seat]  # seats nobody could take


def seats_of(shifts: Sequence[tuple[Seat, int]]) -> list[Seat]:
    """(shift, agents on it) -> one seat per agent, by start, then the longest first."""
    out = [seat for seat, n in shifts for _ in range(n)]
    return sorted(out, key=lambda s: (s.start, -s.end, s.break_start or 0))


def assign(seats: Sequence[Seat], agents: Sequence[Availability]) -> Roster:
    """The largest assignment of agents to seats (one seat each) within their availability."""
    if len({a.agent_id for a in agents}) != len(agents):
        raise WorkforceInputError("an agent is listed twice")
    fits = {a.agent_id: sum(1 for s in seats if a.fits(s)) for a in agents}
    order = sorted(agents, key=lambda a: (fits[a.agent_id], a.agent_id))
    agent_of_seat = largest_matching(list(seats), {s: [a.agent_id for a in order if a.fits(s)] for s in set(seats)})
    assigned = sorted(((agent_of_seat[i], seats[i]) for i in agent_of_seat), key=lambda p: (p[1].start, p[0]))
    return Roster(assigned, [s for i, s in enumerate(seats) if i not in agent_of_seat])


# ---- adherence ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Planned:
    """One agent's shift in absolute time (timezone-aware)."""

    start: datetime
    end: datetime
    break_start: datetime | None = None
    break_end: datetime | None = None


@dataclass(frozen=True, slots=True)
class Adherence:
    scheduled_seconds: float  # scheduled time elapsed by ``now``
    adherent_seconds: float
    presence: str  # the state at ``now`` (or at the shift's end)
    in_adherence_now: bool | None  # None: outside the shift at ``now``

    @property
    def share(self) -> float | None:
        return self.adherent_seconds / self.scheduled_seconds if self.scheduled_seconds > 0 else None


def _presence_at(states: Sequence[tuple[datetime, str]], at: datetime) -> str:
    current = "offline"
    for t, presence in states:
        if t > at:
            break
        current = presence
    return current


def _should_work(shift: Planned, at: datetime) -> bool:
    brk, brk_end = shift.break_start, shift.break_end
    on_break = brk is not None and brk_end is not None and brk <= at < brk_end
    return shift.start <= at < shift.end and not on_break


def adherence(shift: Planned, states: Sequence[tuple[datetime, str]], now: datetime) -> Adherence:
    """Adherence of one agent to ``shift`` up to ``now`` from their presence changes (time, presence),
    oldest first; before the first change the agent counts as offline."""
    if shift.end <= shift.start:
        raise WorkforceInputError("a shift ends after it starts")
    until = min(now, shift.end)
    if until <= shift.start:  # the shift has not begun
        return Adherence(0.0, 0.0, _presence_at(states, now), None)
    cuts = {shift.start, until}
    for t in (shift.break_start, shift.break_end, *(t for t, _ in states)):
        if t is not None and shift.start < t < until:
            cuts.add(t)
    points = sorted(cuts)
    scheduled = adherent = 0.0
    for a, b in pairwise(points):
        seconds = (b - a).total_seconds()
        working = _should_work(shift, a)
        presence = _presence_at(states, a)
        scheduled += seconds
        if (presence in WORKING) == working:
            adherent += seconds
    last = _presence_at(states, min(now, shift.end - timedelta(microseconds=1)))
    inside = shift.start <= now < shift.end
    now_ok = ((last in WORKING) == _should_work(shift, now)) if inside else None
    return Adherence(scheduled, adherent, last, now_ok)


def team_adherence(rows: Mapping[int, Adherence]) -> float | None:
    """Scheduled-time-weighted adherence of several agents."""
    scheduled = sum(a.scheduled_seconds for a in rows.values())
    return sum(a.adherent_seconds for a in rows.values()) / scheduled if scheduled > 0 else None
