"""One writer round that carries several inputs at once: an offer made and taken back in the same round, a
queue change (an engine restore) between two offers, a rejection and a new offer for the same item. Each
round must commit as a whole, with at most one live offer per item and offer ids that never repeat (the
database's unique indexes would refuse anything else, whatever order the statements go out in)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from kefu.core.config import Settings
from kefu.org import service as org
from kefu.routing import service as routing
from kefu.routing.models import RoutingInput, RoutingItem, RoutingOffer
from tests.conftest import World
from tests.routing.flow import Flow


@pytest.fixture
def flow(world: World, settings: Settings) -> Flow:
    f = Flow(world, settings)
    with f.db.unit_of_work() as s:
        for n in (2, 3):
            u = org.create_user(s, username=f"agent_gz{n}", display_name=f"广州坐席{n}", role="agent",
                                org_unit_id=world.units["gz"])
            world.users[f"agent_gz{n}"] = u.id
    return f


def _one_item_per_agent(flow: Flow, *usernames: str) -> None:
    with flow.db.unit_of_work() as s:
        admin = org.user(s, flow.world.users["admin"])
        assert admin is not None
        principal = org.principal_for(s, admin)
        for name in usernames:
            routing.update_agent(s, principal, flow.world.users[name], channels={"message": 1})
    flow.settle()


def _pending(flow: Flow) -> int:
    with flow.db.session() as s:
        return int(s.scalar(select(func.count()).select_from(RoutingInput)
                            .where(RoutingInput.processed_at.is_(None))) or 0)


def _live_offers_per_item(flow: Flow) -> dict[int, int]:
    with flow.db.session() as s:
        return {item: n for item, n in s.execute(
            select(RoutingOffer.item_id, func.count()).where(RoutingOffer.state.in_(("offered", "accepted")))
            .group_by(RoutingOffer.item_id))}


def test_an_offer_made_and_taken_back_in_one_round_goes_to_the_next_agent(flow: Flow) -> None:
    _one_item_per_agent(flow, "agent_gz", "agent_gz2")
    flow.message("sms", "13812345678", "查一下话费", org_unit_code="GZ")
    flow.settle()
    # One round: A goes ready (offered the item), B goes ready (nothing left for B), A goes offline (the
    # offer is taken back and the item offered to B at once). The item's first offer is written and ended,
    # and its second written, in the same transaction.
    first = flow.agent("agent_gz")
    second = flow.agent("agent_gz2")
    flow.agent("agent_gz", "offline")
    assert _pending(flow) == 3
    flow.writer.run_round()

    offers = flow.offers()
    assert [(o.agent_id, o.state, o.reason) for o in offers] == [
        (first, "revoked", "agent_unavailable"), (second, "offered", None)]
    assert _live_offers_per_item(flow) == {offers[0].item_id: 1}
    (item,) = flow.items()
    assert (item.state, item.agent_id) == ("offered", second)


def test_a_second_agent_missing_in_the_round_hands_the_item_on_without_two_live_offers(flow: Flow) -> None:
    _one_item_per_agent(flow, "agent_gz", "agent_gz2", "agent_gz3")
    flow.message("sms", "13812345678", "查一下话费", org_unit_code="GZ")
    flow.settle()
    # All in one round: A ready (offered the item), A offline (revoked, nobody else), B ready (offered),
    # B on a break (revoked), C ready (offered). Three offers for one item, two taken back, one live.
    a, b, c = (flow.world.users[n] for n in ("agent_gz", "agent_gz2", "agent_gz3"))
    flow.agent("agent_gz")
    flow.agent("agent_gz", "offline")
    flow.agent("agent_gz2")
    flow.agent("agent_gz2", "break", "meal")
    flow.agent("agent_gz3")
    flow.writer.run_round()

    assert [(o.agent_id, o.state, o.reason) for o in flow.offers()] == [
        (a, "revoked", "agent_unavailable"), (b, "revoked", "agent_unavailable"), (c, "offered", None)]
    (item,) = flow.items()
    assert (item.state, item.agent_id) == ("offered", c)


def test_a_queue_change_between_two_offers_of_a_round_keeps_offer_ids_unique(flow: Flow, world: World) -> None:
    _one_item_per_agent(flow, "agent_gz", "agent_gz2")
    flow.message("sms", "13812345678", "查一下话费", org_unit_code="GZ")
    flow.message("sms", "13912345678", "宽带坏了", org_unit_code="GZ")
    flow.settle()
    # One round: A ready (offer n), the messages queue is saved (the engine is rebuilt from the tables in
    # the middle of the round), B ready (offer n + 1, not n again).
    flow.agent("agent_gz")
    with flow.db.unit_of_work() as s:
        q = routing.queue(s, None, "messages")
        routing.save_queue(s, None, routing.QueueSpec(
            key=q.key, name=q.name, name_en=q.name_en, channel=q.channel, org_unit_id=q.org_unit_id,
            base_priority=q.base_priority, aging_per_minute=q.aging_per_minute + 1, rings=q.rings,
            offer_timeout=q.offer_timeout, wrap_up=q.wrap_up, position=q.position))
    flow.agent("agent_gz2")
    flow.writer.run_round()

    offers = flow.offers()
    assert [(o.agent_id, o.state) for o in offers] == [(world.users["agent_gz"], "offered"),
                                                       (world.users["agent_gz2"], "offered")]
    assert offers[1].id == offers[0].id + 1
    with flow.db.session() as s:
        assert sorted(s.scalars(select(RoutingItem.state))) == ["offered", "offered"]
