"""Invariants of the routing engine under random event sequences (hypothesis state machine).

After every step: an item is in one place; an agent's load is what it holds and within capacity; no
available agent with room idles while a waiting item it is eligible for and fits waits; rings and
preferred-agent windows are where time says. For every offer: the agent got the best waiting item it
could take (priority, then arrival, then id: FIFO within equal priority), an item that has waited its
bound W is passed by no later arrival, and a new item goes to the least-loaded, longest-idle agent.
Events at the same moment come in every order the machine draws. The oracle recomputes priorities
exactly (fractions) from the published rule, not from the engine's internals.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from kefu.routing import pool
from kefu.routing.engine import Engine
from kefu.routing.model import (
    Agent,
    AgentPresenceChanged,
    AgentUpdated,
    Decision,
    EngineConfig,
    Event,
    ItemEnqueued,
    ItemUpdated,
    ItemWithdrawn,
    Offer,
    OfferAccepted,
    OfferRejected,
    OfferTimedOut,
    Presence,
    QueueConfig,
    QueueStateChanged,
    Reach,
    Ring,
    WorkCompleted,
    WorkItem,
)
from kefu.routing.priority import initial_priority

NEIGHBOURS = {"gz": frozenset({"fs"}), "fs": frozenset({"gz", "sz"})}  # sz is near fs, not fs near sz
PROVINCE_OF = {"gz": "gd", "fs": "gd", "sz": "gd", "hz": "zj"}
CONFIG = EngineConfig(max_priority=100.0, neighbours=NEIGHBOURS, move_check_every=1e12)
QUEUES = {
    "v1": QueueConfig("v1", "voice", skills={"billing": 1}, aging_per_minute=6.0, overflow_to="v2",
                      rings=(Ring(0.0), Ring(10.0, 1), Ring(20.0, 1, Reach.NEIGHBOURS), Ring(30.0, 1, Reach.PROVINCE)),
                      offer_timeout=15.0, wrap_up=5.0, preferred_window=10.0),
    "v2": QueueConfig("v2", "voice", base_priority=5.0, aging_per_minute=60.0, rings=(Ring(0.0, 0, Reach.ANYWHERE),)),
    "c": QueueConfig("c", "webchat", aging_per_minute=0.0, rings=(Ring(0.0), Ring(15.0, 2, Reach.PROVINCE)),
                     offer_timeout=10.0, preferred_window=5.0),
    "t1": QueueConfig("t1", "email", aging_per_minute=3.0, overflow_to="t2", overflow_after=25.0),
    "t2": QueueConfig("t2", "email", aging_per_minute=1.0, base_priority=2.0),
}
WEIGHT = {"voice": 100, "webchat": 34, "email": 20}
AGENT_IDS = (1, 2, 3, 4)
CITIES = ("gz", "fs", "sz", "hz")

agents = st.builds(
    lambda agent_id, queues, billing, vip, voice, chat, email, capacity, city: Agent(
        agent_id, frozenset(queues), {"billing": billing, "vip": vip},
        {"voice": voice, "webchat": chat, "email": email}, capacity, city, PROVINCE_OF[city]),
    st.sampled_from(AGENT_IDS), st.sets(st.sampled_from(sorted(QUEUES)), min_size=1),
    st.integers(0, 3), st.integers(0, 2), st.integers(0, 1), st.integers(0, 3), st.integers(0, 2),
    st.sampled_from([50, 100]), st.sampled_from(CITIES))

item_fields = st.fixed_dictionaries({
    "queue": st.sampled_from(sorted(QUEUES)),
    "billing": st.integers(0, 3),
    "vip": st.integers(0, 2),
    "tier": st.sampled_from([None, "diamond", "gold", "silver"]),
    "kind": st.sampled_from([None, "complaint", "appeal"]),
    "at_risk": st.booleans(),
    "repeat": st.booleans(),
    "city": st.sampled_from([None, *CITIES]),
    "preferred": st.sampled_from([None, None, *AGENT_IDS]),
    "heavy": st.booleans(),
    "late": st.integers(0, 20),
    "extra": st.sampled_from([0, 0, 0, 50, 80, 95]),  # near the ceiling: capped items meet often
})


def make_item(item_id: int, now: int, f: dict[str, object]) -> WorkItem:
    queue = QUEUES[str(f["queue"])]
    skills = {k: int(v) for k, v in (("billing", f["billing"]), ("vip", f["vip"])) if int(v)}  # type: ignore[call-overload]
    city = f["city"]
    weight = WEIGHT[queue.channel] * (2 if f["heavy"] and queue.channel != "voice" else 1)
    return WorkItem(item_id, queue.key, queue.channel, float(now - int(f["late"])), skills, weight,  # type: ignore[call-overload]
                    tier=f["tier"], kind=f["kind"], sla_at_risk=bool(f["at_risk"]),  # type: ignore[arg-type]
                    repeat_contact=bool(f["repeat"]), extra_priority=float(f["extra"]),  # type: ignore[arg-type]
                    city=city,  # type: ignore[arg-type]
                    province=None if city is None else PROVINCE_OF[str(city)],
                    preferred_agent=f["preferred"])  # type: ignore[arg-type]


def exact_priority(view_item: WorkItem, queue: QueueConfig, t: float) -> Fraction:
    p0 = Fraction(initial_priority(view_item, queue, CONFIG.rules, CONFIG.max_priority))
    rate = Fraction(queue.aging_per_minute)
    return min(Fraction(CONFIG.max_priority), p0 + rate * (Fraction(t) - Fraction(view_item.enqueued_at)) / 60)


def key(view_item: WorkItem, queue: QueueConfig, t: float) -> tuple[Fraction, Fraction, int]:
    return exact_priority(view_item, queue, t), -Fraction(view_item.enqueued_at), -view_item.id


def bound(view_item: WorkItem, queue: QueueConfig) -> Fraction | None:
    """W_i in seconds, None without aging."""
    if queue.aging_per_minute == 0:
        return None
    p0 = Fraction(initial_priority(view_item, queue, CONFIG.rules, CONFIG.max_priority))
    return 60 * (Fraction(CONFIG.max_priority) - p0) / Fraction(queue.aging_per_minute)


class RoutingMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.engine = Engine(CONFIG, QUEUES.values())
        self.now = 0
        self.next_id = 1
        self.items: dict[int, WorkItem] = {}  # every item ever enqueued, latest attributes
        self.shrunk: set[int] = set()  # agents whose capacity was cut below what they hold
        self.held_weight: dict[int, int] = {}  # item -> weight it took on its agent when offered

    # ------------------------------------------------------------ driving

    def apply(self, event: Event) -> list[Decision]:
        decisions = self.engine.handle(event)
        self.check_offers(decisions, event)
        return decisions

    @rule(dt=st.integers(1, 12))
    def time_passes(self, dt: int) -> None:
        target = self.now + dt
        while (due := self.engine.next_timer()) is not None and due <= target:
            self.now = int(due)  # every timer falls on a whole second here
            decisions = self.engine.advance(due)
            self.check_offers(decisions, None)
        self.now = target
        self.check_offers(self.engine.advance(float(target)), None)

    @rule(profile=agents)
    def agent_profile(self, profile: Agent) -> None:
        view = self.engine.agent(profile.id)
        if view is not None and (view.load > profile.capacity
                                 or any(n > profile.channels.get(c, 0) for c, n in view.counts.items())):
            self.shrunk.add(profile.id)
        self.apply(AgentUpdated(profile, float(self.now)))

    @rule(agent_id=st.sampled_from(AGENT_IDS),
          presence=st.sampled_from([Presence.AVAILABLE, Presence.AVAILABLE, Presence.BREAK, Presence.OFFLINE,
                                    Presence.AFTER_CALL_WORK]))
    def presence(self, agent_id: int, presence: Presence) -> None:
        self.apply(AgentPresenceChanged(agent_id, presence, float(self.now), "test"))

    @rule(fields=item_fields)
    def enqueue(self, fields: dict[str, object]) -> None:
        it = make_item(self.next_id, self.now, fields)
        self.next_id += 1
        self.items[it.id] = it
        self.apply(ItemEnqueued(it, float(self.now)))

    @precondition(lambda self: self.items)
    @rule(data=st.data())
    def update_item(self, data: st.DataObject) -> None:
        item_id = data.draw(st.sampled_from(sorted(self.items)))
        fields = data.draw(item_fields)
        old = self.items[item_id]
        new = make_item(item_id, self.now, fields)
        if QUEUES[new.queue].channel != old.channel:  # a move keeps the channel
            new = make_item(item_id, self.now, {**fields, "queue": old.queue})
        new = replace(new, enqueued_at=old.enqueued_at)  # the engine keeps the place in line
        self.items[item_id] = new
        self.apply(ItemUpdated(new, float(self.now)))

    @precondition(lambda self: self.items)
    @rule(data=st.data())
    def withdraw(self, data: st.DataObject) -> None:
        self.apply(ItemWithdrawn(data.draw(st.sampled_from(sorted(self.items))), float(self.now)))

    @precondition(lambda self: self.items)
    @rule(data=st.data())
    def complete(self, data: st.DataObject) -> None:
        self.apply(WorkCompleted(data.draw(st.sampled_from(sorted(self.items))), float(self.now)))

    @rule(data=st.data(), answer=st.sampled_from(["accept", "accept", "reject", "timeout"]))
    def answer_offer(self, data: st.DataObject, answer: str) -> None:
        open_offers = self.engine.open_offers()
        offer_id = data.draw(st.sampled_from([o.offer_id for o in open_offers] or [999]))
        at = float(self.now)
        event: Event = (OfferAccepted(offer_id, at) if answer == "accept" else OfferRejected(offer_id, at)
                        if answer == "reject" else OfferTimedOut(offer_id, at))
        self.apply(event)

    @rule(queue=st.sampled_from(sorted(QUEUES)), is_open=st.booleans())
    def queue_state(self, queue: str, is_open: bool) -> None:
        self.apply(QueueStateChanged(queue, is_open, float(self.now)))

    # ------------------------------------------------------------ per-offer checks

    def check_offers(self, decisions: Sequence[Decision], event: Event | None) -> None:
        """Each offer was the best choice when made. Within one call nothing enters the line after the
        first offer (offers come from the final settling), so the line when offer k was made is the line
        now plus the items offered after k, and the agent's load is now's minus its offers from k on."""
        made = [d for d in decisions if isinstance(d, Offer)]
        if not made:
            return
        t = self.engine.now
        line: dict[int, tuple[WorkItem, str, int | None]] = {
            v.item.id: (v.item, v.queue, v.parked_with) for v in self.engine.waiting()}
        for k in range(len(made) - 1, -1, -1):
            offer = made[k]
            view = self.engine.agent(offer.agent_id)
            assert view is not None
            assert view.presence is Presence.AVAILABLE
            agent = view.agent
            later = [o for o in made[k:] if o.agent_id == agent.id]
            load = view.load - sum(pool.weight_on(agent, self.items[o.item_id].weight) for o in later)
            counts = dict(view.counts)
            for o in later:
                counts[self.items[o.item_id].channel] -= 1
            chosen = self.items[offer.item_id]
            queue = QUEUES[offer.queue]
            assert pool.fits(agent, load, counts.get(chosen.channel, 0), chosen.channel, chosen.weight)
            assert load + pool.weight_on(agent, chosen.weight) <= agent.capacity
            preferred_here = (chosen.preferred_agent == agent.id
                              and t < chosen.enqueued_at + queue.preferred_window)
            # the preferred agent, within the window, may take it once its widest ring would let it
            assert pool.item_eligible(agent, chosen, queue, math.inf if preferred_here else t - chosen.enqueued_at,
                                      NEIGHBOURS)
            best = key(chosen, queue, t)
            for other, queue_key, parked in line.values():
                q = QUEUES[queue_key]
                if parked is not None and parked != agent.id:
                    continue
                if parked is None and not pool.item_eligible(agent, other, q, t - other.enqueued_at, NEIGHBOURS):
                    continue
                if not self.engine.queue_config(queue_key).open:
                    continue
                if not pool.fits(agent, load, counts.get(other.channel, 0), other.channel, other.weight):
                    continue
                assert key(other, q, t) < best, (offer, other)
                w = bound(other, q)
                if w is not None and t - other.enqueued_at >= w:  # the aging bound, stated directly
                    assert (chosen.enqueued_at, chosen.id) < (other.enqueued_at, other.id)
            self.held_weight[chosen.id] = pool.weight_on(agent, chosen.weight)
            parked_later = (chosen.preferred_agent == agent.id and t < chosen.enqueued_at + queue.preferred_window)
            line[chosen.id] = (chosen, offer.queue, agent.id if parked_later else None)
        if isinstance(event, ItemEnqueued) and len(made) == 1 and made[0].item_id == event.item.id:
            self.check_longest_idle(made[0])

    def check_longest_idle(self, offer: Offer) -> None:
        """A new item that found agents free went to the least-loaded, longest-idle one who may take it."""
        chosen = self.items[offer.item_id]
        queue = QUEUES[offer.queue]
        t = self.engine.now
        if chosen.preferred_agent is not None and t < chosen.enqueued_at + queue.preferred_window:
            return
        ranks = {}
        for agent_id in self.engine.agent_ids():
            view = self.engine.agent(agent_id)
            assert view is not None
            load = view.load - (pool.weight_on(view.agent, chosen.weight) if agent_id == offer.agent_id else 0)
            count = view.counts.get(chosen.channel, 0) - (1 if agent_id == offer.agent_id else 0)
            if (view.presence is Presence.AVAILABLE
                    and pool.item_eligible(view.agent, chosen, queue, t - chosen.enqueued_at, NEIGHBOURS)
                    and pool.fits(view.agent, load, count, chosen.channel, chosen.weight)):
                ranks[agent_id] = (load, view.idle_since, agent_id)
        assert min(ranks.values())[2] == offer.agent_id

    # ------------------------------------------------------------ invariants

    @invariant()
    def one_place_per_item_and_loads_add_up(self) -> None:
        seen: dict[int, str] = {}
        for v in self.engine.waiting():
            assert v.item.id not in seen
            seen[v.item.id] = "waiting"
        for agent_id in self.engine.agent_ids():
            view = self.engine.agent(agent_id)
            assert view is not None
            load, counts = 0, dict[str, int]()
            for item_id in (*view.offered, *view.held):
                assert item_id not in seen, f"item {item_id} in two places"
                seen[item_id] = f"agent {agent_id}"
                load += self.held_weight[item_id]
                counts[self.items[item_id].channel] = counts.get(self.items[item_id].channel, 0) + 1
            assert counts == view.counts
            assert load == view.load
            if agent_id in self.shrunk:
                if view.load <= view.agent.capacity and all(
                        n <= view.agent.channels.get(c, 0) for c, n in view.counts.items()):
                    self.shrunk.discard(agent_id)
                continue
            assert view.load <= view.agent.capacity
            assert all(n <= view.agent.channels.get(c, 0) for c, n in view.counts.items())
            if view.presence is not Presence.AVAILABLE:
                assert view.offered == ()
        for item_id in self.items:
            state = self.engine.item_state(item_id)
            assert (state is None) == (item_id not in seen)
            assert state != "offered" or self.engine.holder(item_id) is not None

    @invariant()
    def no_eligible_agent_idles_while_an_eligible_item_waits(self) -> None:
        t = self.engine.now
        free = [v for v in (self.engine.agent(a) for a in self.engine.agent_ids())
                if v is not None and v.presence is Presence.AVAILABLE]
        for w in self.engine.waiting():
            if not self.engine.queue_config(w.queue).open:
                continue
            for view in free:
                if w.parked_with is not None and w.parked_with != view.agent.id:
                    continue
                eligible = w.parked_with is not None or pool.item_eligible(
                    view.agent, w.item, QUEUES[w.queue], t - w.item.enqueued_at, NEIGHBOURS)
                fits = pool.fits(view.agent, view.load, view.counts.get(w.item.channel, 0), w.item.channel,
                                 w.item.weight)
                assert not (eligible and fits), (w, view)

    @invariant()
    def rings_windows_and_closed_queues_follow_time(self) -> None:
        t = self.engine.now
        for w in self.engine.waiting():
            q = QUEUES[w.queue]
            assert w.ring == pool.ring_index(q.rings, t - w.item.enqueued_at)
            assert w.priority == float(exact_priority(w.item, q, t))
            if w.parked_with is not None:
                assert w.parked_with == w.item.preferred_agent
                assert t < w.item.enqueued_at + q.preferred_window
            if not self.engine.queue_config(w.queue).open:
                assert q.overflow_to is None
            if q.overflow_after is not None:
                assert t - w.queue_since < q.overflow_after
            assert w.item.channel == q.channel

    @invariant()
    def a_snapshot_restores_the_same_state_with_nothing_to_decide(self) -> None:
        if self.next_id % 7:  # every few items: restoring costs a full rebuild
            return
        snapshot = self.engine.snapshot()
        restored, decisions = Engine.restore(snapshot)
        assert decisions == []
        again = restored.snapshot()
        assert sorted(again.waiting, key=lambda w: w.item.id) == sorted(snapshot.waiting, key=lambda w: w.item.id)
        assert sorted(again.held, key=lambda h: h.item.id) == sorted(snapshot.held, key=lambda h: h.item.id)
        assert again.agents == snapshot.agents


RoutingMachine.TestCase.settings = settings(max_examples=200, stateful_step_count=60, deadline=None,
                                            suppress_health_check=[HealthCheck.too_slow])
TestRoutingInvariants = RoutingMachine.TestCase


# ---------------------------------------------------------------- simultaneous events, every order


@settings(max_examples=60, deadline=None)
@given(setup=st.lists(item_fields, min_size=2, max_size=6), profiles=st.lists(agents, min_size=2, max_size=4),
       batch=st.lists(st.sampled_from(["free", "break", "accept", "reject", "withdraw", "enqueue", "close",
                                       "complete"]), min_size=2, max_size=4),
       order=st.randoms(use_true_random=False))
def test_any_order_of_simultaneous_events_leaves_a_settled_valid_state(
        setup: list[dict[str, object]], profiles: list[Agent], batch: list[str], order: object) -> None:
    machine = RoutingMachine()
    for profile in profiles:
        machine.apply(AgentUpdated(profile, 0.0))
        machine.apply(AgentPresenceChanged(profile.id, Presence.AVAILABLE, 0.0))
    machine.now = 5
    items = [make_item(i + 1, 5, {**f, "late": 0}) for i, f in enumerate(setup)]
    for it in items:
        machine.items[it.id] = it
        machine.apply(ItemEnqueued(it, 5.0))
    machine.now = 6
    engine = machine.engine
    offers_now = engine.open_offers()
    events: list[Event] = []
    for n, kind in enumerate(batch):
        target = items[n % len(items)]
        agent_id = profiles[n % len(profiles)].id
        if kind == "free":
            events.append(AgentPresenceChanged(agent_id, Presence.AVAILABLE, 6.0))
        elif kind == "break":
            events.append(AgentPresenceChanged(agent_id, Presence.BREAK, 6.0))
        elif kind in ("accept", "reject") and offers_now:
            offer_id = offers_now[n % len(offers_now)].offer_id
            events.append(OfferAccepted(offer_id, 6.0) if kind == "accept" else OfferRejected(offer_id, 6.0))
        elif kind == "withdraw":
            events.append(ItemWithdrawn(target.id, 6.0))
        elif kind == "complete":
            events.append(WorkCompleted(target.id, 6.0))
        elif kind == "close":
            events.append(QueueStateChanged(target.queue, False, 6.0))
        else:
            events.append(ItemEnqueued(make_item(100 + n, 6, {**setup[0], "late": 0}), 6.0))
    order.shuffle(events)  # type: ignore[attr-defined]
    machine.items |= {e.item.id: e.item for e in events if isinstance(e, ItemEnqueued)}
    for event in events:
        machine.apply(event)
        machine.one_place_per_item_and_loads_add_up()
        machine.no_eligible_agent_idles_while_an_eligible_item_waits()
        machine.rings_windows_and_closed_queues_follow_time()


# ---------------------------------------------------------------- longest idle


@settings(max_examples=80, deadline=None)
@given(ready_at=st.lists(st.integers(0, 50), min_size=2, max_size=6),
       arrivals=st.lists(st.tuples(st.integers(51, 200), st.sampled_from(["voice", "chat"])), min_size=1,
                         max_size=12))
def test_a_new_item_goes_to_the_least_loaded_longest_idle_agent(ready_at: list[int],
                                                                 arrivals: list[tuple[int, str]]) -> None:
    """Identical agents made ready at random times: each arrival goes to the one idle longest."""
    machine = RoutingMachine()
    for agent_id, _ in enumerate(ready_at):
        machine.apply(AgentUpdated(Agent(agent_id + 1, frozenset({"v2", "c"}), {},
                                         {"voice": 1, "webchat": 2}, 100, "gz", "gd"), 0.0))
    for agent_id, at in sorted(enumerate(ready_at), key=lambda p: p[1]):
        machine.apply(AgentPresenceChanged(agent_id + 1, Presence.AVAILABLE, float(at)))
    for n, (at, kind) in enumerate(sorted(arrivals)):
        queue = "v2" if kind == "voice" else "c"
        it = WorkItem(n + 1, queue, QUEUES[queue].channel, float(at), weight=WEIGHT[QUEUES[queue].channel])
        machine.items[it.id] = it
        machine.now = at
        made = [d for d in machine.apply(ItemEnqueued(it, float(at))) if isinstance(d, Offer)]
        if made:
            machine.check_longest_idle(made[0])
            machine.apply(OfferAccepted(made[0].offer_id, float(at)))


# ---------------------------------------------------------------- rings


@settings(max_examples=150, deadline=None)
@given(profiles=st.lists(agents, min_size=1, max_size=4), fields=item_fields,
       steps=st.lists(st.integers(1, 8), min_size=1, max_size=8))
def test_the_pool_widens_exactly_when_the_rings_say(profiles: list[Agent], fields: dict[str, object],
                                                     steps: list[int]) -> None:
    """One item, agents ready: it is offered the moment a ring makes one of them eligible, not before."""
    machine = RoutingMachine()
    for profile in profiles:
        machine.apply(AgentUpdated(profile, 0.0))
        machine.apply(AgentPresenceChanged(profile.id, Presence.AVAILABLE, 0.0))
    it = make_item(1, 0, {**fields, "late": 0, "preferred": None,
                          "queue": "c" if fields["queue"] in ("c", "t1", "t2") else "v1"})
    machine.items[1] = it
    machine.apply(ItemEnqueued(it, 0.0))
    for dt in steps:
        machine.no_eligible_agent_idles_while_an_eligible_item_waits()
        machine.rings_windows_and_closed_queues_follow_time()
        if machine.engine.item_state(1) != "waiting":
            break
        machine.time_passes(dt)


@settings(max_examples=200, deadline=None)
@given(queue=st.sampled_from(["v1", "c"]), billing=st.integers(0, 3), agent_city=st.sampled_from(CITIES),
       fields=st.lists(item_fields, min_size=1, max_size=4), wait=st.integers(0, 40))
def test_an_agent_coming_free_finds_items_at_every_ring(queue: str, billing: int, agent_city: str,
                                                        fields: list[dict[str, object]], wait: int) -> None:
    """Items of one queue wait while nobody is free and their rings widen; then an agent of the queue
    comes free: it takes one if and only if one has reached a ring that lets it."""
    machine = RoutingMachine()
    profile = Agent(1, frozenset({queue}), {"billing": billing}, {QUEUES[queue].channel: 1}, 100, agent_city,
                    PROVINCE_OF[agent_city])
    machine.apply(AgentUpdated(profile, 0.0))
    for f in fields:
        machine.enqueue({**f, "queue": queue, "preferred": None})
    if wait:
        machine.time_passes(wait)
    machine.apply(AgentPresenceChanged(1, Presence.AVAILABLE, float(machine.now)))
    machine.no_eligible_agent_idles_while_an_eligible_item_waits()
    machine.one_place_per_item_and_loads_add_up()


def test_rings_reach_exactly_the_agents_they_say_in_every_combination() -> None:
    """Every place, skill level and ring of two queues: an idle agent gets the item exactly when its ring
    first lets it, and an agent coming free later gets it exactly if the ring reached by then lets it."""
    checked = 0
    for queue in ("v1", "c"):
        q = QUEUES[queue]
        channel = q.channel
        for agent_city in CITIES:
            for item_city in (None, *CITIES):
                for agent_level in range(4):
                    for item_level in range(4):
                        profile = Agent(1, frozenset({queue}), {"billing": agent_level}, {channel: 1}, 100,
                                        agent_city, PROVINCE_OF[agent_city])
                        it = WorkItem(1, queue, channel, 0.0, {"billing": item_level} if item_level else {},
                                      WEIGHT[channel], city=item_city,
                                      province=None if item_city is None else PROVINCE_OF[item_city])
                        starts = [r.after for r in q.rings]
                        allowed = [pool.item_eligible(profile, it, q, after, NEIGHBOURS) for after in starts]
                        expected = next((after for after, ok in zip(starts, allowed, strict=True) if ok), None)
                        # an idle agent: offered at the first ring that lets it
                        engine = Engine(CONFIG, QUEUES.values())
                        engine.handle(AgentUpdated(profile, 0.0))
                        engine.handle(AgentPresenceChanged(1, Presence.AVAILABLE, 0.0))
                        offered = [d.at for d in engine.handle(ItemEnqueued(it, 0.0)) if isinstance(d, Offer)]
                        while not offered and (due := engine.next_timer()) is not None and due <= 60:
                            offered = [d.at for d in engine.advance(due) if isinstance(d, Offer)]
                        assert (offered[0] if offered else None) == expected, (queue, profile, it)
                        # an agent coming free at w: offered if the ring reached by w lets it
                        for w in range(0, 45, 5):
                            engine = Engine(CONFIG, QUEUES.values())
                            engine.handle(AgentUpdated(profile, 0.0))
                            engine.handle(ItemEnqueued(it, 0.0))
                            engine.advance(float(w))
                            got = [d for d in engine.handle(AgentPresenceChanged(1, Presence.AVAILABLE, float(w)))
                                   if isinstance(d, Offer)]
                            expect = pool.item_eligible(profile, it, q, float(w), NEIGHBOURS)
                            assert bool(got) == expect, (w, profile, it)
                            checked += 1
    assert checked == 2 * 4 * 5 * 4 * 4 * 9


@settings(max_examples=150, deadline=None)
@given(arrivals=st.lists(st.tuples(st.integers(0, 60), st.sampled_from([0, 0, 50, 80, 90, 95])), min_size=2,
                         max_size=10),
       free_at=st.integers(60, 200), queue=st.sampled_from(["v1", "v2", "t2"]))
def test_items_at_the_ceiling_go_in_arrival_order_and_the_rest_by_priority(
        arrivals: list[tuple[int, int]], free_at: int, queue: str) -> None:
    """One agent serves a line in which many items have reached the ceiling, some by waiting and some
    from the start: every pick is the oracle's best (the checks of every offer)."""
    machine = RoutingMachine()
    q = QUEUES[queue]
    machine.apply(AgentUpdated(Agent(1, frozenset({queue}), {"billing": 3}, {q.channel: 1}, 100, "gz", "gd"), 0.0))
    for n, (at, extra) in enumerate(sorted(arrivals)):
        it = WorkItem(n + 1, queue, q.channel, float(at), weight=100, extra_priority=float(extra), city="gz",
                      province="gd")
        machine.items[it.id] = it
        machine.now = at
        machine.apply(ItemEnqueued(it, float(at)))
    machine.time_passes(free_at - machine.now)
    machine.apply(AgentPresenceChanged(1, Presence.AVAILABLE, float(machine.now)))
    served = 0
    while served < len(arrivals):
        open_offers = machine.engine.open_offers()
        if not open_offers:  # wrap-up
            machine.time_passes(1)
            continue
        (offer,) = open_offers
        machine.apply(OfferAccepted(offer.offer_id, float(machine.now)))
        machine.time_passes(1)
        machine.apply(WorkCompleted(offer.item_id, float(machine.now)))
        served += 1
    assert machine.engine.waiting() == []


@settings(max_examples=150, deadline=None)
@given(capacity=st.sampled_from([50, 100]), limits=st.tuples(st.integers(0, 1), st.integers(0, 3), st.integers(0, 5)),
       stream=st.lists(st.tuples(st.sampled_from(["v2", "c", "t2"]), st.booleans()), min_size=1, max_size=12),
       agent_first=st.booleans())
def test_an_agent_never_takes_more_than_its_capacity_or_channel_limits(
        capacity: int, limits: tuple[int, int, int], stream: list[tuple[str, bool]], agent_first: bool) -> None:
    machine = RoutingMachine()
    voice, chat, email = limits
    profile = Agent(1, frozenset({"v2", "c", "t2"}), {}, {"voice": voice, "webchat": chat, "email": email}, capacity,
                    "gz", "gd")
    machine.apply(AgentUpdated(profile, 0.0))
    if agent_first:
        machine.apply(AgentPresenceChanged(1, Presence.AVAILABLE, 0.0))
    for queue, heavy in stream:
        machine.enqueue({"queue": queue, "billing": 0, "vip": 0, "tier": None, "kind": None, "at_risk": False,
                         "repeat": False, "city": "gz", "preferred": None, "heavy": heavy, "late": 0, "extra": 0})
        machine.one_place_per_item_and_loads_add_up()
    machine.apply(AgentPresenceChanged(1, Presence.AVAILABLE, 0.0))
    machine.one_place_per_item_and_loads_add_up()
    machine.no_eligible_agent_idles_while_an_eligible_item_waits()
