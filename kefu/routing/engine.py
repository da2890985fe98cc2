"""The routing engine (ACD): events in, decisions out. Pure: no database, no clock, no I/O.

Two ways in:

* :class:`Engine`, incremental: ``engine.handle(event) -> list[Decision]`` for every event, and
  ``engine.advance(now)`` when ``engine.next_timer()`` is due (offer time-outs, wrap-up ends, rings
  widening, preferred-agent windows and overflow after waiting). The simulator and a single-writer
  service loop use it.
* :func:`decide`, over a snapshot: ``decide(snapshot, events) -> Decided(decisions, snapshot)`` rebuilds
  an engine from what a service loaded, applies the events and the timers due by then, and returns
  the decisions and the state to write back.

Every call leaves the state settled: no available agent with room is left idle while a waiting item
it is eligible for and fits waits (tests/routing/test_engine_properties.py checks this and the other
invariants after every step of random event sequences).

How a service persists and locks around it (PostgreSQL, several processes)
---------------------------------------------------------------------------
The engine decides; the database guarantees. Keep tables for items (state waiting/offered/assigned,
queue, queue_since, enqueued_at, the priority inputs), offers (item, agent, expires_at, state) and
agent state (presence, reason, idle_since, acw_until), and let constraints make the two fatal
mistakes impossible whatever the code does:

* at most one live offer or assignment per item: a unique partial index on offers(item_id) where
  state in ('offered', 'accepted');
* an agent's load within capacity: update agent state with ``... SET load = load + :w WHERE id = :id
  AND load + :w <= capacity AND version = :v`` and treat 0 rows as a lost race (retry).

Then either shape works:

1. One writer. A routing worker takes ``pg_try_advisory_lock(<routing partition>)`` (a province, or
   the whole installation) and runs an :class:`Engine` in memory, fed by the outbox events
   (``routing.*`` from channels, tickets and the agent console) and by ``next_timer()``. Each batch of
   decisions is written in one transaction (offers inserted, items and agents updated, events recorded
   for the console), then the batch's events are marked consumed. A standby worker blocks on the same
   lock and, when it gets it, restores with ``Engine.restore(snapshot)`` from the tables.
2. Decide per request. A request that changes routing state (an agent becomes available, an item
   arrives) opens a transaction, takes ``pg_advisory_xact_lock(<partition>)``, loads the partition's
   snapshot (agents of the queues concerned and their waiting items; an index on
   (queue, state, enqueued_at) keeps it cheap), calls ``decide``, writes the decisions and commits.
   Offers that time out are found by a job with ``expires_at <= now()`` that calls ``decide`` with
   ``OfferTimedOut`` events.

Either way an offer goes out to the agent's console only after its transaction commits (an event in
the same transaction), and an ``OfferAccepted`` that arrives after the offer was revoked is answered
by the engine with ``Ignored``, which the service turns into a 409 for that agent.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from kefu.routing import pool
from kefu.routing.errors import RoutingConfigError
from kefu.routing.model import (
    Agent,
    AgentPresenceChanged,
    AgentState,
    AgentUpdated,
    Assignment,
    Decision,
    EngineConfig,
    Event,
    Ignored,
    ItemEnqueued,
    ItemUpdated,
    ItemWithdrawn,
    MoveSuggested,
    Offer,
    OfferAccepted,
    OfferRejected,
    OfferRevoked,
    OfferTimedOut,
    Overflowed,
    Presence,
    PresenceChanged,
    QueueConfig,
    QueueStateChanged,
    Reach,
    Ring,
    Snapshot,
    TimeAdvanced,
    Waiting,
    WorkCompleted,
    WorkItem,
)
from kefu.routing.priority import SECONDS_PER_MINUTE, initial_priority

_WAITING, _OFFERED, _ASSIGNED = 0, 1, 2
_RING, _PARK_END, _OVERFLOW, _OFFER_END, _ACW_END = 0, 1, 2, 3, 4
_AVAILABLE = Presence.AVAILABLE
_ACW = Presence.AFTER_CALL_WORK
_COMPACT_SLACK = 64


class _Sig(NamedTuple):
    """What decides who may take an item, apart from the ring: items alike share a bucket."""

    queue: str
    need: pool.Requirement
    city: str | None
    province: str | None
    channel: str
    weight: int


_Place = tuple[int, str | None]  # (ring, the items' city where the ring looks at cities, else None)


class _Queue:
    __slots__ = ("buckets", "cfg", "items", "key", "lightest", "open", "places", "rate")

    def __init__(self, cfg: QueueConfig) -> None:
        self.cfg = cfg
        self.key = cfg.key
        self.open = cfg.open
        self.rate = cfg.aging_per_minute
        self.buckets: dict[int, _Bucket] = {}  # the non-empty ones
        self.places: dict[_Place, dict[int, _Bucket]] = {}  # the non-empty ones by (ring, city or None)
        self.lightest = math.inf  # the smallest weight an item of this queue ever had
        self.items: dict[int, _Item] = {}  # waiting here (in a bucket or parked with an agent)


class _Item:
    __slots__ = ("a", "agent", "bucket", "channel", "epoch", "expires", "held", "id", "item", "offer",
                 "offered_at", "p0", "parked", "queue", "queue_since", "rate", "ring", "sig", "slot", "state", "u")

    def __init__(self, item: WorkItem, queue: _Queue) -> None:
        self.item = item
        self.id = item.id
        self.a = item.enqueued_at
        self.state = _WAITING
        self.queue = queue
        self.queue_since = item.enqueued_at
        self.p0 = 0.0
        self.u = 0.0  # 60 p0 - rate a: the order within a queue, fixed while the item waits
        self.rate = 0.0
        self.sig = _Sig(queue.key, (), None, None, item.channel, item.weight)
        self.ring = 0
        self.bucket: _Bucket | None = None
        self.parked: _Agent | None = None
        self.slot = 0  # changes whenever the item leaves a heap: older heap entries are stale
        self.epoch = 0  # changes whenever the item leaves the waiting state: older timers are stale
        self.offer = 0
        self.agent: _Agent | None = None
        self.held = 0  # weight and channel held on the agent, as taken at the offer
        self.channel = item.channel
        self.offered_at = 0.0
        self.expires = 0.0


class _Bucket:
    """Waiting items of one queue with the same requirement, place, channel, weight and ring.

    ``rising``: heap of (-u, a, id, slot, item), items below the ceiling; ``top``: heap of
    (a, id, slot, item), items at the ceiling. Aging never reorders either (kefu/routing/priority.py).
    """

    __slots__ = ("cap60", "channel", "city", "live", "need", "place", "province", "queue", "rate", "ring", "rising",
                 "top", "uid", "weight")

    def __init__(self, uid: int, queue: _Queue, key: _Sig, ring: int, cap60: float) -> None:
        self.uid = uid
        self.queue = queue
        self.need = key.need  # already lowered by the ring's level drop
        self.city = key.city
        self.province = key.province
        self.channel = key.channel
        self.weight = key.weight
        self.ring = ring
        self.place: _Place = (ring, key.city)
        self.rate = queue.rate
        self.cap60 = cap60
        self.rising: list[tuple[float, float, int, int, _Item]] = []
        self.top: list[tuple[float, int, int, _Item]] = []
        self.live = 0

    def head(self, t: float) -> tuple[float, _Item] | None:
        """(60 x priority at t, item) of the best live item; moves items that reached the ceiling."""
        rising, top, rate, cap60 = self.rising, self.top, self.rate, self.cap60
        while rising:
            entry = rising[0]
            item = entry[4]
            if item.slot != entry[3]:
                heapq.heappop(rising)
            elif rate * t - entry[0] >= cap60:
                heapq.heappop(rising)
                heapq.heappush(top, (entry[1], entry[2], entry[3], item))
            else:
                break
        while top:
            capped = top[0]
            if capped[3].slot == capped[2]:
                return cap60, capped[3]
            heapq.heappop(top)
        if rising:
            return rate * t - rising[0][0], rising[0][4]
        return None

    def compact(self) -> None:
        """Drop stale entries when they outnumber the live ones (abandons leave entries behind)."""
        self.rising = [e for e in self.rising if e[4].slot == e[3]]
        self.top = [e for e in self.top if e[3].slot == e[2]]
        heapq.heapify(self.rising)
        heapq.heapify(self.top)


class _Agent:
    __slots__ = ("acw_epoch", "acw_until", "agent", "counts", "elig", "held", "id", "idle_since", "listed",
                 "load", "offers", "parked", "places", "presence", "reason")

    def __init__(self, agent: Agent, presence: Presence, idle_since: float) -> None:
        self.agent = agent
        self.id = agent.id
        self.presence = presence
        self.reason: str | None = None
        self.load = 0
        self.counts: dict[str, int] = {}
        self.idle_since = idle_since
        self.acw_until: float | None = None
        self.acw_epoch = 0
        self.offers: dict[int, _Item] = {}
        self.held: dict[int, _Item] = {}
        self.parked: dict[int, _Item] = {}  # items waiting for this agent as their preferred one
        self.elig: dict[int, bool] = {}  # bucket uid -> eligible (profile rules only)
        self.listed: set[str] = set()  # queues whose index of available agents with room lists it
        self.places: dict[str, list[_Place]] = {}  # per queue: the places of buckets it may take from


@dataclass(frozen=True, slots=True)
class WaitingView:
    item: WorkItem
    queue: str
    queue_since: float
    ring: int
    priority: float
    parked_with: int | None


@dataclass(frozen=True, slots=True)
class AgentView:
    agent: Agent
    presence: Presence
    reason: str | None
    load: int
    counts: dict[str, int]
    idle_since: float
    acw_until: float | None
    offered: tuple[int, ...]  # item ids offered, not yet accepted
    held: tuple[int, ...]  # item ids accepted

    @property
    def status(self) -> str:
        """The presence, or "busy" for an available agent with no room left."""
        if self.presence is _AVAILABLE and self.load >= self.agent.capacity:
            return "busy"
        return self.presence.value


@dataclass(frozen=True, slots=True)
class Decided:
    decisions: list[Decision]
    snapshot: Snapshot


class Engine:
    """The incremental engine. Not thread-safe: one writer at a time (see the module docstring)."""

    def __init__(self, config: EngineConfig, queues: Iterable[QueueConfig], *, now: float = 0.0) -> None:
        self.config = config
        self.now = now
        self._cap60 = config.max_priority * SECONDS_PER_MINUTE
        self._queues: dict[str, _Queue] = {}
        for cfg in queues:
            if cfg.key in self._queues:
                raise RoutingConfigError(f"queue {cfg.key} is configured twice")
            self._queues[cfg.key] = _Queue(cfg)
        _check_overflows(self._queues)
        self._buckets: dict[tuple[_Sig, int], _Bucket] = {}
        self._near: dict[str, list[str]] = {}  # city -> the cities that count it among their neighbours
        for city, around in config.neighbours.items():
            for other in around:
                if other != city:
                    self._near.setdefault(other, []).append(city)
        self._items: dict[int, _Item] = {}
        self._agents: dict[int, _Agent] = {}
        self._avail: dict[str, dict[int, _Agent]] = {key: {} for key in self._queues}
        self._avail_at: dict[tuple[str, str | None], dict[int, _Agent]] = {}  # the same by (queue, agent's city)
        self._offers: dict[int, _Item] = {}
        self._timers: list[tuple[float, int, int, int, int]] = []
        self._timer_seq = 0
        self._next_offer = 1
        self._next_move_check = now + config.move_check_every
        self._dirty_agents: dict[int, _Agent] = {}
        self._dirty_items: dict[int, _Item] = {}
        self._out: list[Decision] = []
        self._handlers: dict[type, Callable[[Any], None]] = {
            ItemEnqueued: self._on_enqueued, ItemUpdated: self._on_updated, ItemWithdrawn: self._on_withdrawn,
            WorkCompleted: self._on_completed, AgentUpdated: self._on_agent, AgentPresenceChanged: self._on_presence,
            OfferAccepted: self._on_accepted, OfferRejected: self._on_rejected, OfferTimedOut: self._on_timed_out,
            QueueStateChanged: self._on_queue_state, TimeAdvanced: _no_op,
        }

    # ------------------------------------------------------------ public

    def handle(self, event: Event) -> list[Decision]:
        """Apply one event (after the timers due before it) and return the decisions it caused.

        An event the configuration cannot take (an item for an unknown queue or on another channel than
        its queue) raises RoutingConfigError before anything changes.
        """
        self._check(event)
        out = self._out = []
        self._run_timers(event.at)
        if event.at > self.now:
            self.now = event.at
        self._handlers[type(event)](event)
        self._run_timers(self.now)  # an item back in line may be past its overflow time already
        self._settle()
        if self.now >= self._next_move_check:
            self._next_move_check = self.now + self.config.move_check_every
            out.extend(self.suggest_moves())
        return out

    def handle_all(self, events: Iterable[Event]) -> list[Decision]:
        decisions: list[Decision] = []
        for event in events:
            decisions.extend(self.handle(event))
        return decisions

    def advance(self, now: float) -> list[Decision]:
        """Let time pass: fire the timers due by ``now``."""
        return self.handle(TimeAdvanced(now))

    def next_timer(self) -> float | None:
        """When the engine next needs ``advance`` (None: nothing pending): the first live timer, or the next
        check for supervisor moves while anything waits (a backlog must be noticed even when nothing else
        happens)."""
        timers = self._timers
        while timers and not self._timer_live(timers[0]):
            heapq.heappop(timers)
        due = timers[0][0] if timers else None
        if any(q.items for q in self._queues.values()):
            due = self._next_move_check if due is None else min(due, self._next_move_check)
        return due

    def queue_config(self, key: str) -> QueueConfig:
        q = self._queues[key]
        return replace(q.cfg, open=q.open)

    def waiting(self) -> list[WaitingView]:
        """Waiting items, best first (priority now, then arrival, then id)."""
        items = [it for q in self._queues.values() for it in q.items.values()]
        items.sort(key=lambda it: (-self._score(it), it.a, it.id))
        return [self._view(it) for it in items]

    def waiting_item(self, item_id: int) -> WaitingView | None:
        it = self._items.get(item_id)
        return self._view(it) if it is not None and it.state == _WAITING else None

    def agent(self, agent_id: int) -> AgentView | None:
        st = self._agents.get(agent_id)
        if st is None:
            return None
        return AgentView(st.agent, st.presence, st.reason, st.load, dict(st.counts), st.idle_since, st.acw_until,
                         tuple(it.id for it in st.offers.values()), tuple(st.held))

    @property
    def next_offer_id(self) -> int:
        """The id the next offer will get (kept by the service, so ids never repeat across restores)."""
        return self._next_offer

    def agent_ids(self) -> list[int]:
        return list(self._agents)

    def open_offers(self) -> list[Offer]:
        return [self._offer_decision(it) for it in self._offers.values()]

    def item_state(self, item_id: int) -> str | None:
        """waiting, offered, assigned, or None when the engine does not hold the item."""
        it = self._items.get(item_id)
        return None if it is None else ("waiting", "offered", "assigned")[it.state]

    def holder(self, item_id: int) -> int | None:
        it = self._items.get(item_id)
        return None if it is None or it.agent is None else it.agent.id

    # ------------------------------------------------------------ snapshot

    def snapshot(self) -> Snapshot:
        queues = tuple(replace(q.cfg, open=q.open) for q in self._queues.values())
        agents = tuple(AgentState(st.agent, st.presence, st.reason, st.idle_since, st.acw_until)
                       for st in self._agents.values())
        waiting = tuple(Waiting(it.item, it.queue.key, it.queue_since, None if it.parked is None else it.parked.id)
                        for q in self._queues.values() for it in q.items.values())
        held: list[Assignment] = []
        for st in self._agents.values():
            for it in st.offers.values():
                held.append(Assignment(it.item, st.id, it.queue.key, it.offer, it.offered_at, it.expires))
            for it in st.held.values():
                held.append(Assignment(it.item, st.id, it.queue.key))
        return Snapshot(self.config, queues, agents, waiting, tuple(held), self.now, self._next_offer)

    @classmethod
    def restore(cls, snapshot: Snapshot) -> tuple[Engine, list[Decision]]:
        """An engine continuing from ``snapshot``, and the decisions settling it needed."""
        engine = cls(snapshot.config, snapshot.queues, now=snapshot.now)
        engine._next_offer = snapshot.next_offer_id
        out = engine._out = []
        for state in snapshot.agents:
            st = engine._add_agent(state.agent, state.presence, state.idle_since)
            st.reason = state.reason
            if state.presence is _ACW and state.acw_until is not None:
                st.acw_until = state.acw_until
                engine._push(state.acw_until, _ACW_END, st.id, st.acw_epoch)
        for held in snapshot.held:
            engine._restore_held(held)
        for agent_state in engine._agents.values():
            engine._refresh(agent_state)
            engine._make_dirty(agent_state)
        for waiting in snapshot.waiting:
            it = _Item(waiting.item, engine._queue(waiting.queue))
            engine._items[it.id] = it
            parked = None if waiting.parked_with is None else engine._agents.get(waiting.parked_with)
            engine._wait(it, it.queue, waiting.queue_since, parked)
        engine._run_timers(engine.now)
        engine._settle()
        return engine, out

    # ------------------------------------------------------------ events

    def _check(self, event: Event) -> None:
        if isinstance(event, ItemEnqueued | ItemUpdated):
            q = self._queue(event.item.queue)
            if event.item.channel != q.cfg.channel:
                raise RoutingConfigError(f"item {event.item.id} is a {event.item.channel} item; queue {q.key} "
                                         f"takes {q.cfg.channel}")
        elif isinstance(event, QueueStateChanged):
            self._queue(event.queue)

    def _on_enqueued(self, event: ItemEnqueued) -> None:
        item = event.item
        if item.id in self._items:
            self._out.append(Ignored(event, "item already routed"))
            return
        it = _Item(item, self._queue(item.queue))
        self._items[it.id] = it
        self._wait(it, it.queue, self.now)

    def _on_updated(self, event: ItemUpdated) -> None:
        it = self._items.get(event.item.id)
        if it is None:
            self._out.append(Ignored(event, "unknown item"))
            return
        queue = self._queue(event.item.queue)
        it.item = replace(event.item, enqueued_at=it.a)
        if it.state == _WAITING:
            self._leave_waiting(it)
            self._wait(it, queue, it.queue_since if queue is it.queue else self.now)

    def _on_withdrawn(self, event: ItemWithdrawn) -> None:
        it = self._items.get(event.item_id)
        if it is None:
            self._out.append(Ignored(event, "unknown item"))
        elif it.state == _WAITING:
            self._leave_waiting(it)
            del self._items[it.id]
        elif it.state == _OFFERED:
            st = self._end_offer(it, "withdrawn")
            del self._items[it.id]
            self._make_dirty(st)
        else:
            self._complete(it)

    def _on_completed(self, event: WorkCompleted) -> None:
        it = self._items.get(event.item_id)
        if it is None or it.state != _ASSIGNED:
            self._out.append(Ignored(event, "item not held by an agent" if it is None else "offer not accepted"))
            return
        self._complete(it)

    def _on_agent(self, event: AgentUpdated) -> None:
        st = self._agents.get(event.agent.id)
        if st is None:
            self._add_agent(event.agent, Presence.OFFLINE, self.now)
            return
        self._unlist(st)
        st.agent = event.agent
        st.elig.clear()
        st.places.clear()
        for it in list(st.parked.values()):
            if not self._may_wait_for(st, it):
                self._unpark(it)
        self._refresh(st)
        self._make_dirty(st)

    def _on_presence(self, event: AgentPresenceChanged) -> None:
        st = self._agents.get(event.agent_id)
        if st is None:
            self._out.append(Ignored(event, "unknown agent"))
            return
        self._set_presence(st, event.presence, event.reason)

    def _on_accepted(self, event: OfferAccepted) -> None:
        it = self._offers.pop(event.offer_id, None)
        if it is None:
            self._out.append(Ignored(event, "offer no longer open"))
            return
        st = it.agent
        assert st is not None
        del st.offers[it.offer]
        st.held[it.id] = it
        it.state = _ASSIGNED

    def _on_rejected(self, event: OfferRejected) -> None:
        self._missed(event, event.offer_id, "rejected")

    def _on_timed_out(self, event: OfferTimedOut) -> None:
        self._missed(event, event.offer_id, "timeout")

    def _on_queue_state(self, event: QueueStateChanged) -> None:
        q = self._queue(event.queue)
        if q.open == event.open:
            return
        q.open = event.open
        if not q.open:
            if q.cfg.overflow_to is not None:
                for it in list(q.items.values()):
                    self._leave_waiting(it)
                    self._wait(it, q, it.queue_since)
            return
        for st in self._avail[q.key].values():
            self._make_dirty(st)

    # ------------------------------------------------------------ waiting

    def _queue(self, key: str) -> _Queue:
        q = self._queues.get(key)
        if q is None:
            raise RoutingConfigError(f"unknown queue {key!r}")
        return q

    def _wait(self, it: _Item, q: _Queue, since: float, parked: _Agent | bool | None = True) -> None:
        """Put ``it`` in line in ``q`` (or where a closed q overflows to), keeping its arrival time.

        ``parked``: True to decide whether it waits for its preferred agent, else the agent it waits
        for (None: nobody), as a restored snapshot says.
        """
        while not q.open and q.cfg.overflow_to is not None:
            target = self._queues[q.cfg.overflow_to]
            self._out.append(Overflowed(it.id, q.key, target.key, "closed", self.now))
            q, since = target, self.now
        cfg = q.cfg
        item = it.item
        it.state = _WAITING
        it.queue = q
        it.queue_since = since
        it.epoch += 1
        it.p0 = initial_priority(item, cfg, self.config.rules, self.config.max_priority)
        it.rate = q.rate
        it.u = it.p0 * SECONDS_PER_MINUTE - q.rate * it.a
        it.sig = _Sig(q.key, pool.requirement(item, cfg), item.city, item.province, item.channel, item.weight)
        it.ring = pool.ring_index(cfg.rings, self.now - it.a)
        q.items[it.id] = it
        if item.weight < q.lightest:  # agents with less room may now fit this queue's items
            q.lightest = item.weight
            for st in self._agents.values():
                if q.key in st.agent.queues:
                    self._refresh(st)
        if it.ring + 1 < len(cfg.rings):
            self._push(it.a + cfg.rings[it.ring + 1].after, _RING, it.id, it.epoch)
        if cfg.overflow_after is not None:
            self._push(since + cfg.overflow_after, _OVERFLOW, it.id, it.epoch)
        preferred = self._preferred(it) if parked is True else parked
        if isinstance(preferred, _Agent):
            it.parked = preferred
            preferred.parked[it.id] = it
            self._push(it.a + cfg.preferred_window, _PARK_END, it.id, it.epoch)
        else:
            self._insert(it)
        self._dirty_items[it.id] = it

    def _preferred(self, it: _Item) -> _Agent | None:
        """The agent this item waits for: preferred, within the window, working and eligible."""
        agent_id = it.item.preferred_agent
        cfg = it.queue.cfg
        if agent_id is None or cfg.preferred_window <= 0 or self.now >= it.a + cfg.preferred_window:
            return None
        st = self._agents.get(agent_id)
        if st is None or st.presence not in (_AVAILABLE, _ACW):
            return None
        return st if self._may_wait_for(st, it) else None

    def _may_wait_for(self, st: _Agent, it: _Item) -> bool:
        """The preferred agent may take the item once its widest ring is reached (skills, place, queue)."""
        sig, cfg = it.sig, it.queue.cfg
        return pool.eligible(st.agent, cfg.key, sig.channel, sig.need, sig.city, sig.province, cfg.rings[-1],
                             self.config.neighbours)

    def _insert(self, it: _Item) -> None:
        key = (_bucket_sig(it.sig, it.queue.cfg.rings[it.ring]), it.ring)
        b = self._buckets.get(key)
        if b is None:
            b = self._buckets[key] = _Bucket(len(self._buckets), it.queue, key[0], it.ring, self._cap60)
        it.slot += 1
        it.bucket = b
        heapq.heappush(b.rising, (-it.u, it.a, it.id, it.slot, it))
        b.live += 1
        if b.live == 1:
            q = it.queue
            q.buckets[b.uid] = b
            place = q.places.get(b.place)
            if place is None:
                place = q.places[b.place] = {}
            place[b.uid] = b

    def _remove(self, it: _Item) -> None:
        """Out of its bucket or its preferred agent's list (still counted as waiting in its queue)."""
        it.slot += 1
        if it.parked is not None:
            del it.parked.parked[it.id]
            it.parked = None
            return
        b = it.bucket
        if b is None:
            return
        it.bucket = None
        b.live -= 1
        if b.live == 0:
            q = it.queue
            del q.buckets[b.uid]
            place = q.places[b.place]
            del place[b.uid]
            if not place:
                del q.places[b.place]
            b.rising.clear()
            b.top.clear()
        elif len(b.rising) + len(b.top) > 2 * b.live + _COMPACT_SLACK:
            b.compact()

    def _leave_waiting(self, it: _Item) -> None:
        self._remove(it)
        del it.queue.items[it.id]
        it.epoch += 1

    def _unpark(self, it: _Item) -> None:
        self._remove(it)
        self._insert(it)
        self._dirty_items[it.id] = it

    def _score(self, it: _Item) -> float:
        s = it.u + it.rate * self.now
        return s if s < self._cap60 else self._cap60

    def _view(self, it: _Item) -> WaitingView:
        return WaitingView(it.item, it.queue.key, it.queue_since, it.ring, self._score(it) / SECONDS_PER_MINUTE,
                           None if it.parked is None else it.parked.id)

    # ------------------------------------------------------------ agents

    def _add_agent(self, agent: Agent, presence: Presence, idle_since: float) -> _Agent:
        st = _Agent(agent, presence, idle_since)
        self._agents[agent.id] = st
        self._refresh(st)
        return st

    def _refresh(self, st: _Agent) -> None:
        """Keep the per-queue index of available agents with room for one more item of the queue (its channel
        below the limit, and room for the lightest weight the queue has seen)."""
        agent = st.agent
        ready = st.presence is _AVAILABLE and st.load < agent.capacity
        counts, limits = st.counts, agent.channels
        for key in agent.queues:
            q = self._queues.get(key)
            if q is None:
                continue
            channel = q.cfg.channel
            lightest = q.lightest if q.lightest < agent.capacity else agent.capacity
            should = (ready and counts.get(channel, 0) < limits.get(channel, 0)
                      and st.load + lightest <= agent.capacity)
            if should == (key in st.listed):
                continue
            at = (key, agent.city)
            if should:
                st.listed.add(key)
                self._avail[key][st.id] = st
                index = self._avail_at.get(at)
                if index is None:
                    index = self._avail_at[at] = {}
                index[st.id] = st
            else:
                st.listed.discard(key)
                del self._avail[key][st.id]
                del self._avail_at[at][st.id]

    def _unlist(self, st: _Agent) -> None:
        for key in st.listed:
            del self._avail[key][st.id]
            del self._avail_at[(key, st.agent.city)][st.id]
        st.listed.clear()

    def _make_dirty(self, st: _Agent) -> None:
        if st.presence is _AVAILABLE:
            self._dirty_agents[st.id] = st

    def _set_presence(self, st: _Agent, presence: Presence, reason: str | None) -> None:
        was = st.presence
        st.presence = presence
        st.reason = reason
        st.acw_epoch += 1
        st.acw_until = None
        if presence is _AVAILABLE:
            if was is not _AVAILABLE:
                st.idle_since = self.now
            self._refresh(st)
            self._make_dirty(st)
            return
        self._refresh(st)
        for it in list(st.offers.values()):
            self._end_offer(it, "agent_unavailable")
        if presence is not _ACW:
            for it in list(st.parked.values()):
                self._unpark(it)

    def _restore_held(self, held: Assignment) -> None:
        st = self._agents.get(held.agent_id)
        if st is None:
            raise RoutingConfigError(f"item {held.item.id} is held by unknown agent {held.agent_id}")
        it = _Item(held.item, self._queue(held.queue))
        self._items[it.id] = it
        it.agent = st
        it.held = pool.weight_on(st.agent, held.item.weight)
        it.channel = held.item.channel
        st.load += it.held
        st.counts[held.item.channel] = st.counts.get(held.item.channel, 0) + 1
        if held.offer_id is None:
            it.state = _ASSIGNED
            st.held[it.id] = it
            return
        it.state = _OFFERED
        it.offer = held.offer_id
        it.offered_at = held.offered_at
        it.expires = held.expires_at
        st.offers[it.offer] = it
        self._offers[it.offer] = it
        self._next_offer = max(self._next_offer, it.offer + 1)
        self._push(it.expires, _OFFER_END, it.offer, 0)

    # ------------------------------------------------------------ offers

    def _offer(self, it: _Item, st: _Agent) -> None:
        self._leave_waiting(it)
        oid = self._next_offer
        self._next_offer += 1
        it.state = _OFFERED
        it.offer = oid
        it.agent = st
        it.held = pool.weight_on(st.agent, it.item.weight)
        it.channel = channel = it.item.channel
        it.offered_at = self.now
        it.expires = self.now + it.queue.cfg.offer_timeout
        st.load += it.held
        st.counts[channel] = st.counts.get(channel, 0) + 1
        st.offers[oid] = it
        self._offers[oid] = it
        self._push(it.expires, _OFFER_END, oid, 0)
        self._refresh(st)
        self._out.append(self._offer_decision(it))

    def _offer_decision(self, it: _Item) -> Offer:
        assert it.agent is not None
        return Offer(it.offer, it.id, it.agent.id, it.queue.key, it.offered_at, it.expires)

    def _release(self, it: _Item) -> _Agent:
        st = it.agent
        assert st is not None
        channel = it.channel
        st.load -= it.held
        st.counts[channel] -= 1
        if not st.counts[channel]:
            del st.counts[channel]
        it.agent = None
        it.held = 0
        return st

    def _end_offer(self, it: _Item, reason: str) -> _Agent:
        """Close an open offer the engine ends itself; the item goes back in line, its place kept."""
        del self._offers[it.offer]
        st = self._release(it)
        del st.offers[it.offer]
        self._out.append(OfferRevoked(it.offer, it.id, st.id, reason, self.now))
        it.offer = 0
        if reason != "withdrawn":
            self._wait(it, it.queue, it.queue_since)
        self._refresh(st)
        return st

    def _missed(self, event: Event, offer_id: int, reason: str) -> None:
        it = self._offers.get(offer_id)
        if it is None:
            self._out.append(Ignored(event, "offer no longer open"))
            return
        st = it.agent
        assert st is not None
        del self._offers[offer_id]
        self._release(it)
        del st.offers[offer_id]
        it.offer = 0
        self._wait(it, it.queue, it.queue_since)
        self._penalise(st)

    def _penalise(self, st: _Agent) -> None:
        if self.config.missed_offer is Presence.NOT_READY and st.presence is _AVAILABLE:
            self._set_presence(st, Presence.NOT_READY, "missed_offer")
            self._out.append(PresenceChanged(st.id, Presence.NOT_READY, "missed_offer", self.now))
        else:
            self._refresh(st)
            self._make_dirty(st)

    def _complete(self, it: _Item) -> None:
        st = self._release(it)
        del st.held[it.id]
        del self._items[it.id]
        st.idle_since = self.now
        wrap_up = it.queue.cfg.wrap_up
        if wrap_up > 0 and st.presence in (_AVAILABLE, _ACW):
            until = self.now + wrap_up
            if st.acw_until is not None and st.acw_until > until:
                until = st.acw_until
            self._set_presence(st, _ACW, "wrap_up")
            st.acw_until = until
            self._push(until, _ACW_END, st.id, st.acw_epoch)
            self._out.append(PresenceChanged(st.id, _ACW, "wrap_up", self.now, until))
            return
        self._refresh(st)
        self._make_dirty(st)

    # ------------------------------------------------------------ timers

    def _push(self, at: float, kind: int, ref: int, epoch: int) -> None:
        self._timer_seq += 1
        heapq.heappush(self._timers, (at, self._timer_seq, kind, ref, epoch))

    def _timer_live(self, timer: tuple[float, int, int, int, int]) -> bool:
        _, _, kind, ref, epoch = timer
        if kind == _OFFER_END:
            return ref in self._offers
        if kind == _ACW_END:
            st = self._agents.get(ref)
            return st is not None and st.acw_epoch == epoch and st.presence is _ACW
        it = self._items.get(ref)
        return it is not None and it.state == _WAITING and it.epoch == epoch

    def _run_timers(self, until: float) -> None:
        timers = self._timers
        while timers and timers[0][0] <= until:
            if timers[0][0] > self.now:
                self.now = timers[0][0]
            while timers and timers[0][0] <= self.now:
                timer = heapq.heappop(timers)
                if self._timer_live(timer):
                    self._fire(timer[2], timer[3])
            self._settle()

    def _fire(self, kind: int, ref: int) -> None:
        if kind == _OFFER_END:
            it = self._offers[ref]
            st = it.agent
            assert st is not None
            self._end_offer(it, "timeout")
            self._penalise(st)
            return
        if kind == _ACW_END:
            st = self._agents[ref]
            self._set_presence(st, _AVAILABLE, None)
            self._out.append(PresenceChanged(st.id, _AVAILABLE, "wrap_up_done", self.now))
            return
        it = self._items[ref]
        cfg = it.queue.cfg
        if kind == _RING:
            it.ring = pool.ring_index(cfg.rings, self.now - it.a)
            if it.ring + 1 < len(cfg.rings):
                self._push(it.a + cfg.rings[it.ring + 1].after, _RING, it.id, it.epoch)
            if it.parked is None:
                self._remove(it)
                self._insert(it)
                self._dirty_items[it.id] = it
        elif kind == _PARK_END:
            if it.parked is not None:
                self._unpark(it)
        else:  # _OVERFLOW
            target = cfg.overflow_to
            assert target is not None
            self._leave_waiting(it)
            self._out.append(Overflowed(it.id, it.queue.key, target, "waited", self.now))
            self._wait(it, self._queues[target], self.now)

    # ------------------------------------------------------------ matching

    def _settle(self) -> None:
        """Offer until no available agent with room has a waiting item it is eligible for and fits.

        Agents whose state changed pick first, each the best item it may take (priority order); then
        items that came into line go to the longest-idle available agent who may take them.
        """
        if self._dirty_agents:
            # least loaded, then longest idle, picks first; an agent that took an item queues up again
            agents = [(st.load, st.idle_since, st.id, st) for st in self._dirty_agents.values()]
            self._dirty_agents.clear()
            heapq.heapify(agents)
            while agents:
                st = heapq.heappop(agents)[3]
                if self._pick_for(st):
                    heapq.heappush(agents, (st.load, st.idle_since, st.id, st))
        if self._dirty_items:
            items = [it for it in self._dirty_items.values() if it.state == _WAITING]
            self._dirty_items.clear()
            items.sort(key=lambda it: (-self._score(it), it.a, it.id))
            for it in items:
                if it.state == _WAITING:
                    self._place(it)

    def _eligible(self, st: _Agent, b: _Bucket) -> bool:
        ok = st.elig.get(b.uid)
        if ok is None:
            q = b.queue
            ring = q.cfg.rings[b.ring]
            ok = st.elig[b.uid] = pool.eligible(st.agent, q.key, b.channel, b.need, b.city, b.province,
                                                Ring(ring.after, 0, ring.reach), self.config.neighbours)
        return ok

    def _pick_for(self, st: _Agent) -> bool:
        """Offer the agent the best waiting item it is eligible for and fits; False when there is none."""
        agent = st.agent
        capacity = agent.capacity
        if st.presence is not _AVAILABLE or st.load >= capacity:
            return False
        t = self.now
        load, counts, limits, elig = st.load, st.counts, agent.channels, st.elig
        best: _Item | None = None
        best_score, best_a, best_id = -math.inf, math.inf, 0
        for key in agent.queues:
            q = self._queues.get(key)
            if q is None or not q.open or not q.buckets:
                continue
            channel = q.cfg.channel
            if counts.get(channel, 0) >= limits.get(channel, 0):
                continue
            places = st.places.get(key)
            if places is None:
                places = st.places[key] = self._places_for(agent, q)
            for place in places:
                buckets = q.places.get(place)
                if buckets is None:
                    continue
                for b in buckets.values():
                    ok = elig.get(b.uid)
                    if ok is None:
                        ok = self._eligible(st, b)
                    if not ok:
                        continue
                    w = b.weight if b.weight < capacity else capacity
                    if load + w > capacity:
                        continue
                    head = b.head(t)
                    if head is None:
                        continue
                    score, it = head
                    if score > best_score or (score == best_score and (it.a < best_a or (it.a == best_a
                                                                                       and it.id < best_id))):
                        best, best_score, best_a, best_id = it, score, it.a, it.id
        for it in st.parked.values():
            if not it.queue.open or not pool.fits(agent, load, counts.get(it.item.channel, 0), it.item.channel,
                                                  it.item.weight):
                continue
            score = self._score(it)
            if score > best_score or (score == best_score and (it.a < best_a or (it.a == best_a
                                                                               and it.id < best_id))):
                best, best_score, best_a, best_id = it, score, it.a, it.id
        if best is None:
            return False
        self._offer(best, st)
        return True

    def _places_for(self, agent: Agent, q: _Queue) -> list[_Place]:
        """Where in queue q the agent may find items: per ring, its own city, the cities it neighbours
        (where the ring reaches neighbours) and the items without a city (or any, from the province on)."""
        places: list[_Place] = []
        city = agent.city
        for r, ring in enumerate(q.cfg.rings):
            places.append((r, None))
            if ring.reach >= Reach.PROVINCE or city is None:
                continue
            places.append((r, city))
            if ring.reach is Reach.NEIGHBOURS:
                places.extend((r, c) for c in self._near.get(city, ()))
        return places

    def _place(self, it: _Item) -> None:
        """Offer a waiting item to the longest-idle available agent eligible for it with room."""
        if not it.queue.open:
            return
        channel, weight = it.item.channel, it.item.weight
        if it.parked is not None:
            st = it.parked
            if st.presence is _AVAILABLE and pool.fits(st.agent, st.load, st.counts.get(channel, 0), channel,
                                                       weight):
                self._offer(it, st)
            return
        b = it.bucket
        assert b is not None
        best: _Agent | None = None
        for candidates in self._candidates(it.queue, b):
            for st in candidates.values():
                ok = st.elig.get(b.uid)
                if ok is None:
                    ok = self._eligible(st, b)
                if not ok or not pool.fits(st.agent, st.load, st.counts.get(channel, 0), channel, weight):
                    continue
                if best is None or (st.load, st.idle_since, st.id) < (best.load, best.idle_since, best.id):
                    best = st
        if best is not None:
            self._offer(it, best)

    def _candidates(self, q: _Queue, b: _Bucket) -> list[dict[int, _Agent]]:
        """The available agents of the queue who sit where the bucket's ring looks: its city (and the
        cities around it where the ring reaches neighbours), or everywhere when it looks at no city."""
        if b.city is None:
            return [self._avail[q.key]]
        cities = [b.city]
        if q.cfg.rings[b.ring].reach is Reach.NEIGHBOURS:
            cities.extend(self.config.neighbours.get(b.city, ()))
        return [index for c in cities if (index := self._avail_at.get((q.key, c)))]

    # ------------------------------------------------------------ supervisor moves

    def suggest_moves(self) -> list[MoveSuggested]:
        """Idle agents who could take a backlogged queue's items if it were added to their profile.

        A queue is backlogged when its oldest item has waited ``move_backlog_wait`` seconds (so no agent
        of the queue can take it: the engine is settled). An agent is idle when available with nothing
        held for ``move_idle_for`` seconds. A suggestion needs the agent's skills and place to meet at
        least one waiting item at the ring it has reached; up to ``move_max_per_queue`` per queue,
        longest idle first, and one queue per agent.
        """
        cfg, now = self.config, self.now
        idle = sorted((st for st in self._agents.values() if st.presence is _AVAILABLE and st.load == 0
                       and not st.offers and now - st.idle_since >= cfg.move_idle_for),
                      key=lambda s: (s.idle_since, s.id))
        if not idle:
            return []
        suggestions: list[MoveSuggested] = []
        taken: set[int] = set()
        for q in self._queues.values():
            if not q.items or not q.open:
                continue
            oldest = min(it.a for it in q.items.values())
            if now - oldest < cfg.move_backlog_wait:
                continue
            signatures = {(it.sig, it.ring) for it in q.items.values()}
            count = 0
            for st in idle:
                if st.id in taken or (q.key in st.agent.queues and st.agent.channels.get(q.cfg.channel, 0) > 0):
                    continue
                if any(self._could_take(st.agent, q, sig, ring) for sig, ring in signatures):
                    suggestions.append(MoveSuggested(st.id, q.key, q.cfg.channel, len(q.items), now - oldest, now))
                    taken.add(st.id)
                    count += 1
                    if count >= min(cfg.move_max_per_queue, len(q.items)):
                        break
        return suggestions

    def _could_take(self, agent: Agent, q: _Queue, sig: _Sig, ring: int) -> bool:
        r = q.cfg.rings[ring]
        return (pool.skills_met(agent, sig.need, r.level_drop)
                and pool.place_met(agent, sig.city, sig.province, r.reach, self.config.neighbours))


def _bucket_sig(sig: _Sig, ring: Ring) -> _Sig:
    """What the ring still looks at: skill levels lowered by its drop, the city only below the province
    reach, the province only below anywhere. Items alike under the ring share a bucket."""
    need = sig.need
    if ring.level_drop:
        need = tuple((skill, level - ring.level_drop) for skill, level in need if level > ring.level_drop)
    city = sig.city if ring.reach < Reach.PROVINCE else None
    province = sig.province if ring.reach < Reach.ANYWHERE else None
    return _Sig(sig.queue, need, city, province, sig.channel, sig.weight)


def _no_op(event: Event) -> None:
    return None


def _check_overflows(queues: dict[str, _Queue]) -> None:
    for q in queues.values():
        seen = {q.key}
        target = q.cfg.overflow_to
        while target is not None:
            nxt = queues.get(target)
            if nxt is None:
                raise RoutingConfigError(f"queue {q.key}: overflow target {target!r} is not a queue")
            if nxt.cfg.channel != q.cfg.channel:
                raise RoutingConfigError(f"queue {q.key}: overflow target {target} is on another channel")
            if target in seen:
                raise RoutingConfigError(f"queue {q.key}: overflows run in a circle through {target}")
            seen.add(target)
            target = nxt.cfg.overflow_to


def decide(snapshot: Snapshot, events: Sequence[Event] = ()) -> Decided:
    """Decide over a loaded snapshot: restore, apply ``events`` (and the timers due), return the result."""
    engine, decisions = Engine.restore(snapshot)
    for event in events:
        decisions.extend(engine.handle(event))
    return Decided(decisions, engine.snapshot())
