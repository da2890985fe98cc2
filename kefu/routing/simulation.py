"""The routing engine inside the workforce simulator: an :class:`~kefu.workforce.simulator.AgentRouter`.

:class:`EngineRouter` turns the simulator's events into engine events (a call arriving is an
``ItemEnqueued``, an abandon an ``ItemWithdrawn``, a service end a ``WorkCompleted``, a schedule
change presence changes) and the engine's offers into service starts; agents accept every offer at
once. Who is on duty comes from a crew:

* :class:`UniformCrew`: ``count`` identical agents per interval, as the simulator's other loops model
  a schedule. When the count drops, idle agents leave at once and busy ones when they finish
  (the agents that free up first), so on one FIFO queue the engine reproduces ``simulate_day_fifo``
  call for call.
* :class:`RosterCrew`: named agents with their own profiles, on duty in the intervals a roster lists
  (a real day's agents, with the skills the day's log shows them using).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from kefu.routing.engine import Engine
from kefu.routing.model import (
    Agent,
    AgentPresenceChanged,
    AgentUpdated,
    Decision,
    EngineConfig,
    Event,
    ItemEnqueued,
    ItemWithdrawn,
    Offer,
    OfferAccepted,
    Presence,
    QueueConfig,
    WorkCompleted,
    WorkItem,
)
from kefu.workforce.simulator import CallClass, Staffing, Start

ItemOf = Callable[[int, int, float], WorkItem]  # (call, class, arrival) -> the work item


class Crew:
    """Who is on duty; tells the router which presence changes a schedule step or a service end needs."""

    def on_interval(self, interval: int, agents: int, t: float, busy: set[int]) -> list[Event]:
        raise NotImplementedError

    def before_finish(self, agent_id: int, t: float) -> list[Event]:
        return []


class UniformCrew(Crew):
    """``agents`` identical agents made by ``profile(agent_id)``; the schedule says how many."""

    def __init__(self, profile: Callable[[int], Agent]) -> None:
        self.profile = profile
        self.on_duty: set[int] = set()
        self.known = 0
        self.owed = 0  # busy agents to send home when they finish

    def on_interval(self, interval: int, agents: int, t: float, busy: set[int]) -> list[Event]:
        events: list[Event] = []
        staying = len(self.on_duty) - self.owed
        if agents >= staying:
            cancel = min(self.owed, agents - staying)
            self.owed -= cancel
            staying += cancel
            spare = sorted(a for a in range(1, self.known + 1) if a not in self.on_duty and a not in busy)
            while staying < agents:
                if spare:
                    agent_id = spare.pop(0)
                else:
                    self.known += 1
                    agent_id = self.known
                    events.append(AgentUpdated(self.profile(agent_id), t))
                self.on_duty.add(agent_id)
                events.append(AgentPresenceChanged(agent_id, Presence.AVAILABLE, t))
                staying += 1
            return events
        leave = staying - agents
        for agent_id in sorted(self.on_duty - busy, reverse=True)[:leave]:
            self.on_duty.discard(agent_id)
            events.append(AgentPresenceChanged(agent_id, Presence.OFFLINE, t, "shift_end"))
            leave -= 1
        self.owed += leave
        return events

    def before_finish(self, agent_id: int, t: float) -> list[Event]:
        if self.owed and agent_id in self.on_duty:
            self.owed -= 1
            self.on_duty.discard(agent_id)
            return [AgentPresenceChanged(agent_id, Presence.OFFLINE, t, "shift_end")]
        return []


class RosterCrew(Crew):
    """Named agents on duty in the intervals ``roster[k]`` lists; after the horizon the last non-empty
    interval's agents stay until the calls are done.

    The roster is a head count as well as a list of names: at no time do more agents work than the
    interval lists, except that a call is never cut short. An agent who leaves in the middle of a call
    finishes it and holds one of the interval's places until then; meanwhile an agent who joins waits
    (``pending``) for a place, and an agent of the roster who is idle, or frees first, gives way. Without
    this, every change of names at an interval's start would add the leavers' calls to the count, and the
    finer the intervals the more agents would work at once (the same head count then served faster with
    skills than as one FIFO pool without). With one queue and agents alike, this is the FIFO pool's head
    count exactly, call for call.
    """

    def __init__(self, profiles: Sequence[Agent], roster: Sequence[frozenset[int]]) -> None:
        self.profiles = {a.id: a for a in profiles}
        self.roster = list(roster)
        self.on_duty: set[int] = set()  # available to the engine (busy or not)
        self.finishing: set[int] = set()  # left the roster during a call, offline, still serving
        self.pending: list[int] = []  # on the roster, waiting for a place
        self.places = 0  # agents the current interval lists
        self.wanted: frozenset[int] | None = None
        self.introduced = False

    def on_interval(self, interval: int, agents: int, t: float, busy: set[int]) -> list[Event]:
        events: list[Event] = []
        if not self.introduced:
            self.introduced = True
            events.extend(AgentUpdated(a, t) for a in self.profiles.values())
        wanted = self._wanted(interval)
        if wanted == self.wanted:
            return events
        self.wanted = wanted
        self.places = len(wanted)
        back = self.finishing & wanted  # left earlier during a call, on the roster again: still busy
        self.finishing -= back
        events.extend(AgentPresenceChanged(agent_id, Presence.AVAILABLE, t) for agent_id in sorted(back))
        staying = (self.on_duty & wanted) | back
        for agent_id in sorted(self.on_duty - wanted):
            events.append(AgentPresenceChanged(agent_id, Presence.OFFLINE, t, "shift_end"))
            if agent_id in busy:
                self.finishing.add(agent_id)
        self.on_duty = staying & busy  # a call is never cut short
        # idle agents who stay come first, then the newcomers, as places allow; the rest wait
        idle = sorted(staying - busy)
        self.pending = idle + sorted(wanted - staying)
        admitted = self._admit(t)
        gave_way = set(self.pending)
        events.extend(AgentPresenceChanged(a, Presence.OFFLINE, t, "no_place") for a in idle if a in gave_way)
        events.extend(e for e in admitted if e.agent_id not in staying)
        return events

    def _admit(self, t: float) -> list[AgentPresenceChanged]:
        events: list[AgentPresenceChanged] = []
        while self.pending and len(self.on_duty) + len(self.finishing) < self.places:
            agent_id = self.pending.pop(0)
            self.on_duty.add(agent_id)
            events.append(AgentPresenceChanged(agent_id, Presence.AVAILABLE, t))
        return events

    def before_finish(self, agent_id: int, t: float) -> list[Event]:
        if agent_id in self.finishing:
            self.finishing.discard(agent_id)
            return list(self._admit(t))
        if agent_id in self.on_duty and len(self.on_duty) + len(self.finishing) > self.places:
            # more at work than the roster lists (leavers finishing calls): the first free gives way
            self.on_duty.discard(agent_id)
            self.pending.insert(0, agent_id)
            return [AgentPresenceChanged(agent_id, Presence.OFFLINE, t, "no_place")]
        return []

    def _wanted(self, interval: int) -> frozenset[int]:
        if interval < len(self.roster):
            return self.roster[interval]
        return next((r for r in reversed(self.roster) if r), frozenset(self.profiles))


@dataclass
class EngineRouter:
    """Routes the simulator's calls through a routing engine; offers are accepted at once."""

    engine: Engine
    item_of: ItemOf
    crew: Crew
    agent_of: dict[int, int] = field(default_factory=dict)  # call in service -> agent

    def _run(self, events: Sequence[Event]) -> list[Start]:
        starts: list[Start] = []
        for event in events:
            self._starts(self.engine.handle(event), starts)
        return starts

    def _starts(self, decisions: list[Decision], starts: list[Start]) -> None:
        for d in decisions:
            if isinstance(d, Offer):
                self.engine.handle(OfferAccepted(d.offer_id, d.at))
                self.agent_of[d.item_id] = d.agent_id
                starts.append((d.item_id, d.agent_id))

    def staff(self, interval: int, agents: int, t: float) -> list[Start]:
        busy = set(self.agent_of.values())
        return self._run(self.crew.on_interval(interval, agents, t, busy))

    def arrive(self, call: int, klass: int, t: float) -> list[Start]:
        return self._run([ItemEnqueued(self.item_of(call, klass, t), t)])

    def abandon(self, call: int, t: float) -> list[Start]:
        return self._run([ItemWithdrawn(call, t)])

    def finish(self, call: int, t: float) -> list[Start]:
        agent_id = self.agent_of.pop(call)
        return self._run([*self.crew.before_finish(agent_id, t), WorkCompleted(call, t)])

    def advance(self, t: float) -> list[Start]:
        starts: list[Start] = []
        self._starts(self.engine.advance(t), starts)
        return starts

    def next_timer(self) -> float | None:
        return self.engine.next_timer()


# ---------------------------------------------------------------- ready-made set-ups

CALLS_QUEUE = "calls"


def class_priority_items(classes: Sequence[CallClass], *, queue: str = CALLS_QUEUE,
                         step: float = 10.0) -> ItemOf:
    """Every class in one voice queue; a class ``step`` points above the next lower one
    (``CallClass.priority``: lower is served first)."""
    levels = sorted({c.priority for c in classes})
    extra = [step * (len(levels) - 1 - levels.index(c.priority)) for c in classes]

    def item_of(call: int, klass: int, t: float) -> WorkItem:
        return WorkItem(call, queue, "voice", t, extra_priority=extra[klass])

    return item_of


def voice_agent(agent_id: int, queues: frozenset[str] = frozenset({CALLS_QUEUE})) -> Agent:
    return Agent(agent_id, queues, channels={"voice": 1})


def one_queue_router(*, aging_per_minute: float = 0.0, step: float = 10.0,
                     config: EngineConfig | None = None) -> Callable[[Sequence[CallClass], Staffing], EngineRouter]:
    """A factory for ``replicate(agent_router=...)``: one voice queue, identical agents, class priority
    levels ``step`` points apart, aging at ``aging_per_minute`` (0: strict priority classes)."""
    engine_config = config or EngineConfig(max_priority=1e9, move_check_every=1e18)

    def make(classes: Sequence[CallClass], staffing: Staffing) -> EngineRouter:
        queue = QueueConfig(CALLS_QUEUE, "voice", aging_per_minute=aging_per_minute)
        return EngineRouter(Engine(engine_config, [queue]), class_priority_items(classes, step=step),
                            UniformCrew(voice_agent))

    return make
