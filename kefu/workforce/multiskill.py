"""Planning for several skills and channels (pure: no database, no clock).

- voice: Erlang C / A per skill (``staffing.required_agents``);
- chat: the same queueing maths over chat *sessions*, an agent holding ``concurrency`` sessions at once;
- e-mail: a backlog with its own service level, every message answered within ``answer_within`` seconds
  of arriving (FIFO); the fewest agents per interval that meet every deadline falling in it;
- named agents: whether the agents on shift, each with their own skills, can cover every skill's
  requirement at once (a bipartite assignment, each agent serving one skill in an interval), and the
  shortfall per skill when they cannot.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kefu.workforce.errors import WorkforceInputError
from kefu.workforce.matching import largest_matching
from kefu.workforce.staffing import StaffingTarget, required_agents

CHANNELS = ("voice", "chat", "email")


@dataclass(frozen=True, slots=True)
class Demand:
    """One skill on one channel: contacts per interval (the day's intervals, in order)."""

    skill: str
    channel: str
    volumes: Sequence[float]
    aht: float  # seconds of agent work per contact (chat: per session)
    target: StaffingTarget | None = None  # voice and chat
    patience: float | None = None  # voice and chat: Erlang A when given
    concurrency: int = 1  # chat sessions an agent holds at once
    answer_within: float | None = None  # e-mail: seconds from arrival to answer

    def check(self) -> None:
        if self.channel not in CHANNELS:
            raise WorkforceInputError(f"channel must be one of {', '.join(CHANNELS)}, got {self.channel!r}")
        if self.aht <= 0 or any(v < 0 for v in self.volumes):
            raise WorkforceInputError(f"{self.skill}/{self.channel}: aht must be > 0 and volumes >= 0")
        if self.channel == "email":
            if self.answer_within is None or self.answer_within <= 0:
                raise WorkforceInputError(f"{self.skill}/email needs answer_within > 0 seconds")
        elif self.target is None:
            raise WorkforceInputError(f"{self.skill}/{self.channel} needs a staffing target")
        if self.concurrency < 1:
            raise WorkforceInputError("concurrency must be >= 1")


def _queued(d: Demand, interval_seconds: float) -> list[int]:
    assert d.target is not None
    out = []
    for v in d.volumes:
        if v <= 0:
            out.append(0)
            continue
        servers = required_agents(v / interval_seconds, d.aht, d.target, patience=d.patience).agents
        out.append(math.ceil(servers / d.concurrency))
    return out


def email_agents(volumes: Sequence[float], aht: float, answer_within: float, interval_seconds: float) -> list[int]:
    """Fewest agents per interval answering every e-mail within ``answer_within`` of its arrival, FIFO,
    e-mails arriving evenly within their interval, work left over carried to the next interval."""
    pending: list[list[float]] = []  # [deadline, work seconds left], oldest first
    out: list[int] = []
    slices = 20  # each interval's arrivals as this many equal parcels, spread over it
    for k, v in enumerate(volumes):
        start = k * interval_seconds
        for j in range(slices):
            if v > 0:
                pending.append([start + (j + 1) * interval_seconds / slices + answer_within, v * aht / slices])
        # a steady pace from now that meets every known deadline: the largest (work due by t) / (t - start)
        # over the pending deadlines (the work is levelled, not left to pile up at its deadline)
        need = 0.0
        done = 0.0
        for deadline, work in pending:
            done += work
            need = max(need, done / max(deadline - start, 1e-9))
        agents = math.ceil(need - 1e-9)
        capacity = agents * interval_seconds
        while pending and capacity > 0:
            take = min(capacity, pending[0][1])
            pending[0][1] -= take
            capacity -= take
            if pending[0][1] <= 1e-9:
                pending.pop(0)
        out.append(agents)
    return out


def required_by_demand(demands: Sequence[Demand], interval_seconds: float) -> dict[tuple[str, str], list[int]]:
    """Agents needed per (skill, channel) and interval."""
    out: dict[tuple[str, str], list[int]] = {}
    for d in demands:
        d.check()
        if d.channel == "email":
            assert d.answer_within is not None
            out[(d.skill, d.channel)] = email_agents(d.volumes, d.aht, d.answer_within, interval_seconds)
        else:
            out[(d.skill, d.channel)] = _queued(d, interval_seconds)
    return out


@dataclass(frozen=True, slots=True)
class Coverage:
    assigned: dict[str, str]  # agent name -> skill it serves
    shortfall: dict[str, int]  # skill -> agents missing


def cover(required: Mapping[str, int], agents: Mapping[str, frozenset[str]]) -> Coverage:
    """Assign named agents (each with their skills) to skills so every skill gets its ``required`` count,
    one skill per agent; the largest coverage possible (augmenting paths), and what is still missing."""
    slots = [(skill, k) for skill, n in sorted(required.items()) for k in range(n)]
    candidates = {skill: [name for name in sorted(agents) if skill in agents[name]] for skill in required}
    agent_of_slot = largest_matching([skill for skill, _ in slots], candidates)
    missing: dict[str, int] = {}
    for i, (skill, _) in enumerate(slots):
        if i not in agent_of_slot:
            missing[skill] = missing.get(skill, 0) + 1
    return Coverage({name: slots[i][0] for i, name in agent_of_slot.items()}, missing)
