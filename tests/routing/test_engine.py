"""The routing engine by example: priority and aging (C8), capacity (C9), rings, offers, presence, moves."""

from __future__ import annotations

import pytest

from kefu.routing.engine import Engine, decide
from kefu.routing.errors import RoutingConfigError
from kefu.routing.model import (
    AgentPresenceChanged,
    AgentUpdated,
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
    TimeAdvanced,
    WorkCompleted,
)
from kefu.routing.priority import jump_ahead, overtaking_bound, priority_at
from tests.routing.support import agent, engine_with, item, offers

VOICE = QueueConfig("voice", "voice", aging_per_minute=60.0)  # one point per second


def busy_agent_engine(*queues: QueueConfig) -> Engine:
    """One agent for every queue, offline: items wait until the test makes it available."""
    keys = [q.key for q in queues]
    return engine_with(queues, [agent(1, *keys, chat=3, email=3)], available=False)


def available_at(e: Engine, agent_id: int, at: float) -> list[tuple[int, int]]:
    return offers(e.handle(AgentPresenceChanged(agent_id, Presence.AVAILABLE, at)))


# ---------------------------------------------------------------- priority and aging (C8)


def test_c8_priority_is_initial_plus_minutes_waiting_times_acceleration() -> None:
    assert priority_at(4, 1, 180, 100) == 7
    assert priority_at(4, 1, 180, 6) == 6  # capped at the maximum


@pytest.mark.parametrize(("free_at", "first"), [(0.0, 11), (60.0, 10)])
def test_c8_skill_b_is_ahead_at_zero_and_skill_a_after_one_minute(free_at: float, first: int) -> None:
    a = QueueConfig("A", "voice", base_priority=1, aging_per_minute=5)
    b = QueueConfig("B", "voice", base_priority=3, aging_per_minute=1)
    e = busy_agent_engine(a, b)
    e.handle(ItemEnqueued(item(10, "A", 0.0), 0.0))
    e.handle(ItemEnqueued(item(11, "B", 0.0), 0.0))
    e.handle(TimeAdvanced(free_at))
    priorities = {v.item.id: v.priority for v in e.waiting()}
    assert priorities == ({10: 1.0, 11: 3.0} if free_at == 0 else {10: 6.0, 11: 4.0})
    assert available_at(e, 1, free_at) == [(first, 1)]


def test_green_channel_jumps_exactly_the_calls_of_the_last_forty_seconds() -> None:
    assert jump_ahead(40, 60) == 40.0
    e = busy_agent_engine(VOICE)
    e.handle(ItemEnqueued(item(1, "voice", 0.0), 0.0))
    e.handle(ItemEnqueued(item(2, "voice", 30.0), 30.0))
    e.handle(ItemEnqueued(item(3, "voice", 50.0, tier="diamond"), 50.0))  # 40 points: as if it came at 10 s
    order = []
    e.handle(AgentPresenceChanged(1, Presence.AVAILABLE, 60.0))
    for t in (61.0, 62.0, 63.0):
        (offer,) = [d for d in e.open_offers()]
        order.append(offer.item_id)
        e.handle(OfferAccepted(offer.offer_id, t))
        e.handle(WorkCompleted(offer.item_id, t))
    assert order == [1, 3, 2]


def test_equal_priority_is_first_come_first_served() -> None:
    e = busy_agent_engine(VOICE)
    for i, at in enumerate([5.0, 1.0, 3.0, 3.0]):
        e.handle(ItemEnqueued(item(10 + i, "voice", at), 6.0))
    served = []
    e.handle(AgentPresenceChanged(1, Presence.AVAILABLE, 6.0))
    for t in range(7, 11):
        (offer,) = e.open_offers()
        served.append(offer.item_id)
        e.handle(OfferAccepted(offer.offer_id, t))
        e.handle(WorkCompleted(offer.item_id, t))
    assert served == [11, 12, 13, 10]  # by arrival, then id


def test_an_item_at_the_ceiling_is_passed_by_no_later_arrival() -> None:
    # standard call at 0 s reaches 100 at 100 s; a diamond appeal at risk arrives at 150 s already at 100
    assert overtaking_bound(0, 60, 100) == 100.0
    e = busy_agent_engine(VOICE)
    e.handle(ItemEnqueued(item(1, "voice", 0.0), 0.0))
    e.handle(ItemEnqueued(item(2, "voice", 150.0, tier="diamond", kind="appeal", sla_at_risk=True,
                               repeat_contact=True), 150.0))
    assert {v.item.id: v.priority for v in e.waiting()} == {1: 100.0, 2: 100.0}
    assert available_at(e, 1, 150.0) == [(1, 1)]


def test_strict_priority_without_aging_serves_the_higher_class_first_whatever_the_wait() -> None:
    strict = QueueConfig("voice", "voice", aging_per_minute=0.0)
    e = busy_agent_engine(strict)
    e.handle(ItemEnqueued(item(1, "voice", 0.0), 0.0))
    e.handle(ItemEnqueued(item(2, "voice", 10_000.0, tier="gold"), 10_000.0))
    assert available_at(e, 1, 10_000.0) == [(2, 1)]


def test_an_item_updated_at_risk_moves_ahead_and_keeps_its_arrival_time() -> None:
    e = busy_agent_engine(VOICE)
    e.handle(ItemEnqueued(item(1, "voice", 0.0), 0.0))
    e.handle(ItemEnqueued(item(2, "voice", 10.0), 10.0))
    e.handle(ItemUpdated(item(2, "voice", 99.0, sla_at_risk=True), 12.0))
    view = e.waiting_item(2)
    assert view is not None
    assert view.item.sla_at_risk
    assert view.priority == 22.0  # 20 points + 2 s waited since 10 s, not since 99 s
    assert available_at(e, 1, 12.0) == [(2, 1)]


def test_a_high_priority_ticket_passes_an_ordinary_one_of_the_same_wait_and_not_an_older_one() -> None:
    e = busy_agent_engine(VOICE)  # high: +15 points, 15 s of waiting at one point per second
    e.handle(ItemEnqueued(item(1, "voice", 0.0, ticket_priority="normal"), 0.0))
    e.handle(ItemEnqueued(item(2, "voice", 0.0, ticket_priority="high"), 0.0))
    e.handle(ItemEnqueued(item(3, "voice", 0.0, ticket_priority="urgent"), 0.0))
    assert {v.item.id: v.priority for v in e.waiting()} == {1: 0.0, 2: 15.0, 3: 30.0}
    e2 = busy_agent_engine(VOICE)
    e2.handle(ItemEnqueued(item(1, "voice", 0.0, ticket_priority="normal"), 0.0))
    e2.handle(ItemEnqueued(item(2, "voice", 16.0, ticket_priority="high"), 16.0))
    assert available_at(e2, 1, 16.0) == [(1, 1)]  # 16 s of waiting outweigh the 15 points


# ---------------------------------------------------------------- capacity (C9)


def test_c9_three_cases_of_weight_two_fill_a_capacity_of_six() -> None:
    q = QueueConfig("cases", "email")
    e = engine_with([q], [agent(1, "cases", voice=0, email=10, capacity=6)])
    decisions = e.handle_all(ItemEnqueued(item(i, "cases", 0.0, channel="email", weight=2), 0.0) for i in range(4))
    assert offers(decisions) == [(0, 1), (1, 1), (2, 1)]
    assert e.item_state(3) == "waiting"
    view = e.agent(1)
    assert view is not None
    assert (view.load, view.status) == (6, "busy")


def test_c9_a_call_blocks_all_other_work_and_waits_for_an_empty_agent() -> None:
    cases = QueueConfig("cases", "email")
    calls = QueueConfig("calls", "voice")
    e = engine_with([cases, calls], [agent(1, "cases", "calls", voice=1, email=10, capacity=6)])
    (case_offer,) = [d for d in e.handle(ItemEnqueued(item(1, "cases", 0.0, channel="email", weight=2), 0.0))
                     if isinstance(d, Offer)]
    e.handle(OfferAccepted(case_offer.offer_id, 0.0))
    assert offers(e.handle(ItemEnqueued(item(2, "calls", 1.0), 1.0))) == []  # the call needs all 6 units
    assert offers(e.handle(WorkCompleted(1, 2.0))) == [(2, 1)]
    assert offers(e.handle(ItemEnqueued(item(3, "cases", 3.0, channel="email", weight=2), 3.0))) == []
    view = e.agent(1)
    assert view is not None
    assert view.load == 6


def test_channel_limit_bounds_concurrent_chats_below_capacity() -> None:
    q = QueueConfig("chat", "webchat")
    e = engine_with([q], [agent(1, "chat", voice=0, chat=2)])
    decisions = e.handle_all(ItemEnqueued(item(i, "chat", 0.0, channel="webchat", weight=30), 0.0) for i in range(3))
    assert offers(decisions) == [(0, 1), (1, 1)]


def test_chats_spread_over_agents_least_loaded_first() -> None:
    q = QueueConfig("chat", "webchat")
    e = engine_with([q], [agent(1, "chat", voice=0, chat=3), agent(2, "chat", voice=0, chat=3)], available=False)
    for i in range(4):
        e.handle(ItemEnqueued(item(i, "chat", 0.0, channel="webchat", weight=30), 0.0))
    e.handle(AgentPresenceChanged(2, Presence.AVAILABLE, 1.0))
    decisions = e.handle(AgentPresenceChanged(1, Presence.AVAILABLE, 1.0))
    # agent 2 already took three; agent 1 takes the last
    assert offers(decisions) == [(3, 1)]
    e2 = engine_with([q], [agent(1, "chat", voice=0, chat=3), agent(2, "chat", voice=0, chat=3)])
    decisions = e2.handle_all(ItemEnqueued(item(i, "chat", 0.0, channel="webchat", weight=30), 0.0)
                              for i in range(4))
    assert offers(decisions) == [(0, 1), (1, 2), (2, 1), (3, 2)]


# ---------------------------------------------------------------- bullseye rings


RINGS = (Ring(0.0), Ring(10.0, level_drop=1), Ring(20.0, 1, Reach.NEIGHBOURS), Ring(30.0, 1, Reach.PROVINCE))


def test_rings_widen_skill_level_then_neighbouring_city_then_the_province() -> None:
    q = QueueConfig("billing", "voice", skills={"billing": 3}, rings=RINGS)
    config = EngineConfig(neighbours={"gz": frozenset({"fs"}), "fs": frozenset({"gz"})}, move_check_every=1e12)
    people = [agent(1, "billing", skills={"billing": 2}, city="gz", province="gd"),
              agent(2, "billing", skills={"billing": 3}, city="fs", province="gd"),
              agent(3, "billing", skills={"billing": 3}, city="sz", province="gd"),
              agent(4, "billing", skills={"billing": 3}, city="hz", province="zj")]
    served_by = []
    for leaving in ([], [1], [1, 2], [1, 2, 3]):
        e = engine_with([q], people, config=config)
        for agent_id in leaving:
            e.handle(AgentPresenceChanged(agent_id, Presence.BREAK, 0.0, "lunch"))
        e.handle(ItemEnqueued(item(1, "billing", 0.0, city="gz", province="gd"), 0.0))
        offer = [d for t in (9.0, 10.0, 19.0, 20.0, 29.0, 30.0, 300.0) for d in e.handle(TimeAdvanced(t))
                 if isinstance(d, Offer)]
        served_by.append((offer[0].agent_id, offer[0].at) if offer else None)
    assert served_by == [(1, 10.0), (2, 20.0), (3, 30.0), None]


def test_an_item_without_a_place_is_served_by_the_whole_queue() -> None:
    q = QueueConfig("billing", "voice", rings=RINGS)
    e = engine_with([q], [agent(1, "billing", city="hz", province="zj")])
    assert offers(e.handle(ItemEnqueued(item(1, "billing", 0.0), 0.0))) == [(1, 1)]


# ---------------------------------------------------------------- preferred agent


PREFERRED = QueueConfig("voice", "voice", preferred_window=10.0)


def test_the_preferred_agent_gets_the_item_over_the_longest_idle_one() -> None:
    e = engine_with([PREFERRED], [agent(1, "voice"), agent(2, "voice")])
    assert offers(e.handle(ItemEnqueued(item(1, "voice", 0.0, preferred_agent=2), 0.0))) == [(1, 2)]


def test_an_item_waits_for_its_busy_preferred_agent_within_the_window() -> None:
    e = engine_with([PREFERRED], [agent(1, "voice"), agent(2, "voice")])
    (first,) = [d for d in e.handle(ItemEnqueued(item(1, "voice", 0.0), 0.0)) if isinstance(d, Offer)]
    assert first.agent_id == 1  # longest idle by id
    e.handle(OfferAccepted(first.offer_id, 0.0))
    assert offers(e.handle(ItemEnqueued(item(2, "voice", 1.0, preferred_agent=1), 1.0))) == []
    view = e.waiting_item(2)
    assert view is not None
    assert view.parked_with == 1  # agent 2 idles: the item waits for agent 1
    assert offers(e.handle(WorkCompleted(1, 5.0))) == [(2, 1)]


def test_after_the_window_the_item_goes_to_anyone() -> None:
    e = engine_with([PREFERRED], [agent(1, "voice"), agent(2, "voice")])
    (first,) = [d for d in e.handle(ItemEnqueued(item(1, "voice", 0.0), 0.0)) if isinstance(d, Offer)]
    e.handle(OfferAccepted(first.offer_id, 0.0))
    e.handle(ItemEnqueued(item(2, "voice", 1.0, preferred_agent=1), 1.0))
    assert e.next_timer() == 11.0
    assert offers(e.advance(11.0)) == [(2, 2)]


def test_an_offline_preferred_agent_is_not_waited_for() -> None:
    e = engine_with([PREFERRED], [agent(1, "voice"), agent(2, "voice")])
    e.handle(AgentPresenceChanged(1, Presence.OFFLINE, 0.0))
    assert offers(e.handle(ItemEnqueued(item(1, "voice", 0.0, preferred_agent=1), 0.0))) == [(1, 2)]


# ---------------------------------------------------------------- offers


def _two_waiting_then_offer(config: EngineConfig | None = None) -> tuple[Engine, Offer]:
    e = engine_with([VOICE], [agent(1, "voice"), agent(2, "voice")], config=config, available=False)
    e.handle(ItemEnqueued(item(1, "voice", 0.0), 0.0))
    e.handle(ItemEnqueued(item(2, "voice", 1.0), 1.0))
    (offer,) = [d for d in e.handle(AgentPresenceChanged(1, Presence.AVAILABLE, 2.0)) if isinstance(d, Offer)]
    return e, offer


def test_a_rejected_item_keeps_its_place_and_the_agent_goes_not_ready() -> None:
    e, offer = _two_waiting_then_offer()
    assert offer.item_id == 1
    decisions = e.handle(OfferRejected(offer.offer_id, 3.0))
    assert decisions == [PresenceChanged(1, Presence.NOT_READY, "missed_offer", 3.0)]
    view = e.agent(1)
    assert view is not None
    assert (view.presence, view.load) == (Presence.NOT_READY, 0)
    assert offers(e.handle(AgentPresenceChanged(2, Presence.AVAILABLE, 4.0))) == [(1, 2)]  # still first


def test_an_offer_times_out_on_the_engine_timer() -> None:
    e, offer = _two_waiting_then_offer()
    assert offer.expires_at == 22.0
    assert e.next_timer() == 22.0
    decisions = e.advance(22.0)
    assert decisions == [OfferRevoked(offer.offer_id, 1, 1, "timeout", 22.0),
                         PresenceChanged(1, Presence.NOT_READY, "missed_offer", 22.0)]
    assert e.item_state(1) == "waiting"


def test_a_timeout_reported_by_the_service_counts_as_missed() -> None:
    e, offer = _two_waiting_then_offer()
    assert e.handle(OfferTimedOut(offer.offer_id, 10.0)) == [
        PresenceChanged(1, Presence.NOT_READY, "missed_offer", 10.0)]


def test_agents_can_stay_ready_after_a_missed_offer() -> None:
    e, offer = _two_waiting_then_offer(EngineConfig(missed_offer=Presence.AVAILABLE, move_check_every=1e12))
    decisions = e.handle(OfferRejected(offer.offer_id, 3.0))
    assert offers(decisions) == [(1, 1)]  # back in rotation, and item 1 is still first in line


def test_an_agent_going_on_break_hands_its_open_offer_back() -> None:
    e, offer = _two_waiting_then_offer()
    e.handle(AgentPresenceChanged(2, Presence.AVAILABLE, 2.0))  # agent 2 takes item 2
    e.handle(ItemEnqueued(item(3, "voice", 2.5), 2.5))
    decisions = e.handle(AgentPresenceChanged(1, Presence.BREAK, 3.0, "lunch"))
    assert decisions == [OfferRevoked(offer.offer_id, 1, 1, "agent_unavailable", 3.0)]
    assert [v.item.id for v in e.waiting()] == [1, 3]


def test_an_abandoned_call_frees_the_agent_it_was_offered_to() -> None:
    e, offer = _two_waiting_then_offer()
    decisions = e.handle(ItemWithdrawn(1, 3.0))
    assert decisions[0] == OfferRevoked(offer.offer_id, 1, 1, "withdrawn", 3.0)
    assert offers(decisions) == [(2, 1)]
    assert e.item_state(1) is None


@pytest.mark.parametrize("first_withdrawn", [True, False])
def test_accept_and_abandon_at_the_same_moment_leave_one_consistent_outcome(first_withdrawn: bool) -> None:
    e, offer = _two_waiting_then_offer()
    events: list[Event] = [ItemWithdrawn(1, 3.0), OfferAccepted(offer.offer_id, 3.0)]
    decisions = e.handle_all(events if first_withdrawn else events[::-1])
    view = e.agent(1)
    assert view is not None
    assert e.item_state(1) is None
    # either way agent 1 is offered item 2 next: withdrawn before acceptance, or accepted and hung up
    assert (view.load, view.offered, view.held) == (100, (2,), ())
    assert (Ignored(events[1], "offer no longer open") in decisions) is first_withdrawn


def test_settled_offers_and_unknown_items_are_ignored_and_change_nothing() -> None:
    e, offer = _two_waiting_then_offer()
    e.handle(OfferAccepted(offer.offer_id, 3.0))
    before = e.snapshot()
    for event in (OfferAccepted(offer.offer_id, 3.0), OfferRejected(offer.offer_id, 3.0),
                  WorkCompleted(2, 3.0), WorkCompleted(99, 3.0), ItemWithdrawn(99, 3.0),
                  ItemEnqueued(item(1, "voice", 0.0), 3.0), AgentPresenceChanged(42, Presence.AVAILABLE, 3.0)):
        (decision,) = e.handle(event)
        assert isinstance(decision, Ignored)
        assert decision.event == event
    assert e.snapshot() == before


# ---------------------------------------------------------------- wrap-up, presence


def test_wrap_up_after_a_call_holds_the_agent_then_frees_it_on_the_timer() -> None:
    q = QueueConfig("voice", "voice", wrap_up=30.0)
    e = engine_with([q], [agent(1, "voice")])
    (offer,) = [d for d in e.handle(ItemEnqueued(item(1, "voice", 0.0), 0.0)) if isinstance(d, Offer)]
    e.handle(OfferAccepted(offer.offer_id, 1.0))
    e.handle(ItemEnqueued(item(2, "voice", 5.0), 5.0))
    assert e.handle(WorkCompleted(1, 100.0)) == [
        PresenceChanged(1, Presence.AFTER_CALL_WORK, "wrap_up", 100.0, 130.0)]
    assert e.next_timer() == 130.0
    decisions = e.advance(130.0)
    assert decisions[0] == PresenceChanged(1, Presence.AVAILABLE, "wrap_up_done", 130.0)
    assert offers(decisions) == [(2, 1)]


def test_an_agent_ends_wrap_up_early_by_going_available() -> None:
    q = QueueConfig("voice", "voice", wrap_up=30.0)
    e = engine_with([q], [agent(1, "voice")])
    (offer,) = [d for d in e.handle(ItemEnqueued(item(1, "voice", 0.0), 0.0)) if isinstance(d, Offer)]
    e.handle(OfferAccepted(offer.offer_id, 1.0))
    e.handle(WorkCompleted(1, 10.0))
    e.handle(ItemEnqueued(item(2, "voice", 11.0), 11.0))
    assert offers(e.handle(AgentPresenceChanged(1, Presence.AVAILABLE, 12.0))) == [(2, 1)]
    assert e.advance(31.0) == []  # the old wrap-up timer (40 s) is void; the offer runs to 32 s


# ---------------------------------------------------------------- queues closed, overflow


def test_a_closed_queue_overflows_new_and_waiting_items_keeping_their_arrival() -> None:
    day = QueueConfig("day", "voice", overflow_to="night")
    night = QueueConfig("night", "voice")
    e = engine_with([day, night], [agent(1, "day"), agent(2, "night")], available=False)
    e.handle(ItemEnqueued(item(1, "day", 0.0), 0.0))
    assert e.handle(QueueStateChanged("day", False, 5.0)) == [Overflowed(1, "day", "night", "closed", 5.0)]
    assert e.handle(ItemEnqueued(item(2, "day", 6.0), 6.0)) == [Overflowed(2, "day", "night", "closed", 6.0)]
    assert [(v.item.id, v.queue, v.item.enqueued_at) for v in e.waiting()] == [(1, "night", 0.0), (2, "night", 6.0)]
    assert available_at(e, 2, 7.0) == [(1, 2)]


def test_a_closed_queue_without_overflow_holds_its_items_until_it_opens() -> None:
    q = QueueConfig("tickets", "email")
    e = engine_with([q], [agent(1, "tickets", voice=0, email=1)])
    e.handle(QueueStateChanged("tickets", False, 0.0))
    assert e.handle(ItemEnqueued(item(1, "tickets", 1.0, channel="email", weight=20), 1.0)) == []
    assert offers(e.handle(QueueStateChanged("tickets", True, 2.0))) == [(1, 1)]


def test_items_overflow_after_waiting_too_long() -> None:
    first = QueueConfig("first", "voice", overflow_to="second", overflow_after=30.0)
    second = QueueConfig("second", "voice")
    e = engine_with([first, second], [agent(1, "first"), agent(2, "second")], available=False)
    e.handle(AgentPresenceChanged(2, Presence.AVAILABLE, 0.0))
    e.handle(ItemEnqueued(item(1, "first", 0.0), 0.0))
    assert e.next_timer() == 30.0
    decisions = e.advance(30.0)
    assert decisions[0] == Overflowed(1, "first", "second", "waited", 30.0)
    assert offers(decisions) == [(1, 2)]


@pytest.mark.parametrize(("queues", "message"), [
    ([QueueConfig("a", "voice", overflow_to="nowhere")], "not a queue"),
    ([QueueConfig("a", "voice", overflow_to="b"), QueueConfig("b", "email")], "another channel"),
    ([QueueConfig("a", "voice", overflow_to="b"), QueueConfig("b", "voice", overflow_to="a")], "circle"),
    ([QueueConfig("a", "voice"), QueueConfig("a", "voice")], "twice"),
])
def test_a_configuration_that_cannot_run_is_refused(queues: list[QueueConfig], message: str) -> None:
    with pytest.raises(RoutingConfigError, match=message):
        Engine(EngineConfig(), queues)


@pytest.mark.parametrize(("fields", "message"), [
    ({"rings": (Ring(5.0),)}, "first ring"),
    ({"rings": (Ring(0.0, 1), Ring(10.0, 0))}, "only widen"),
    ({"aging_per_minute": -1.0}, "aging"),
    ({"overflow_after": 30.0}, "overflow_after"),
    ({"skills": {"billing": 0}}, "levels"),
])
def test_a_queue_that_cannot_run_is_refused(fields: dict[str, object], message: str) -> None:
    with pytest.raises(RoutingConfigError, match=message):
        QueueConfig("q", "voice", **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(("event", "message"), [
    (ItemEnqueued(item(9, "nope", 30.0), 30.0), "unknown queue"),
    (ItemEnqueued(item(9, "voice", 30.0, channel="email", weight=20), 30.0), "email item; queue voice takes voice"),
    (ItemUpdated(item(2, "nope", 1.0), 30.0), "unknown queue"),
    (QueueStateChanged("nope", False, 30.0), "unknown queue"),
])
def test_an_event_the_configuration_cannot_take_is_refused_and_changes_nothing(event: Event, message: str) -> None:
    e, offer = _two_waiting_then_offer()  # an offer due to time out at 22 s: the refusal comes first
    before = e.snapshot()
    with pytest.raises(RoutingConfigError, match=message):
        e.handle(event)
    assert e.snapshot() == before
    assert e.open_offers() == [offer]


# ---------------------------------------------------------------- supervisor moves


def test_a_live_move_to_the_chat_queue_takes_chats_at_once() -> None:
    voice = QueueConfig("voice", "voice")
    chat = QueueConfig("chat", "webchat")
    e = engine_with([voice, chat], [agent(1, "voice")])
    for i in range(3):
        e.handle(ItemEnqueued(item(i, "chat", 0.0, channel="webchat", weight=30), 0.0))
    decisions = e.handle(AgentUpdated(agent(1, "voice", "chat", chat=2), 1.0))
    assert offers(decisions) == [(0, 1), (1, 1)]


def test_the_engine_suggests_moving_an_idle_voice_agent_to_a_chat_backlog() -> None:
    voice = QueueConfig("voice", "voice")
    chat = QueueConfig("chat", "webchat", skills={"chat": 1})
    config = EngineConfig(move_backlog_wait=60.0, move_idle_for=60.0, move_check_every=30.0)
    e = engine_with([voice, chat], [agent(1, "voice", skills={"chat": 1}), agent(2, "voice"),
                                    agent(3, "chat", voice=0, chat=1, skills={"chat": 1})], config=config)
    decisions = e.handle_all(ItemEnqueued(item(i, "chat", 0.0, channel="webchat", weight=30), 0.0) for i in range(3))
    e.handle_all(OfferAccepted(d.offer_id, 0.0) for d in decisions if isinstance(d, Offer))
    assert [d for d in e.advance(30.0) if isinstance(d, MoveSuggested)] == []  # nobody waited 60 s yet
    suggestions = [d for d in e.advance(60.0) if isinstance(d, MoveSuggested)]
    # agent 3 is busy with a chat; agent 2 lacks the chat skill
    assert suggestions == [MoveSuggested(1, "chat", "webchat", 2, 60.0, 60.0)]


# ---------------------------------------------------------------- snapshot


def test_deciding_over_a_snapshot_gives_what_the_incremental_engine_gives() -> None:
    q = QueueConfig("voice", "voice", rings=RINGS, wrap_up=5.0, preferred_window=10.0)
    config = EngineConfig(move_check_every=1e12)
    people = [agent(i, "voice", skills={"billing": i}, city="gz", province="gd") for i in (1, 2, 3)]
    e = engine_with([q], people, config=config, available=False)
    e.handle(AgentPresenceChanged(1, Presence.AVAILABLE, 0.0))
    for i in range(6):
        e.handle(ItemEnqueued(item(i, "voice", float(i), skills={"billing": 1 + i % 3}, city="gz",
                                   province="gd", preferred_agent=2 if i == 4 else None), float(i)))
    snapshot = e.snapshot()
    events: list[Event] = [AgentPresenceChanged(3, Presence.AVAILABLE, 7.0), OfferRejected(1, 8.0),
              AgentPresenceChanged(2, Presence.AVAILABLE, 9.0), TimeAdvanced(40.0)]
    incremental = e.handle_all(events)
    decided = decide(snapshot, events)
    assert decided.decisions == incremental
    assert decided.snapshot == e.snapshot()
    restored, settling = Engine.restore(e.snapshot())
    assert settling == []
    assert restored.snapshot() == e.snapshot()
