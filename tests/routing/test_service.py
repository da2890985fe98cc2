"""Routing on a real database: tickets become work items, available agents get offers, answers, time-outs,
work taken by hand or finished, the green channel, restores, and the writer's role."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from kefu.core.config import Settings
from kefu.core.errors import InvalidInput
from kefu.customers.models import Customer
from kefu.org import service as org
from kefu.routing import service as routing
from kefu.routing.models import RoutingInput, RoutingItem, RoutingQueue, RoutingRule
from kefu.routing.runner import Leadership, Writer
from kefu.tickets import service as tickets
from kefu.tickets.models import Ticket
from tests.conftest import World
from tests.routing.flow import Flow


@pytest.fixture
def flow(world: World, settings: Settings) -> Flow:
    return Flow(world, settings)


def _ticket(flow: Flow, ticket_id: int | None) -> Ticket:
    assert ticket_id is not None
    with flow.db.session() as s:
        t = s.get(Ticket, ticket_id)
        assert t is not None
        return t


def test_a_wechat_complaint_waits_in_the_complaints_queue_until_an_agent_is_ready(flow: Flow) -> None:
    r = flow.message("wechat", "oWx-c1", "我要投诉！宽带报修三天没人上门", org_unit_code="GZ")
    with flow.db.unit_of_work() as s:  # the complaint is recognised (by an agent, or the classifier)
        tickets.update(s, r.ticket_id or 0, actor_id=None, type="complaint", category_key="broadband.repair")
    flow.settle()

    (item,) = flow.items()
    assert (item.ticket_id, item.queue_key, item.channel, item.kind, item.category, item.state) == (
        r.ticket_id, "complaints", "message", "complaint", "broadband.repair", "waiting")
    assert (item.city, item.province) == ("GZ", "GD")
    assert flow.offers() == []

    agent = flow.agent("agent_gz")
    flow.settle()

    (offer,) = flow.offers()
    assert (offer.item_id, offer.agent_id, offer.state, offer.queue_key) == (item.id, agent, "offered", "complaints")
    assert flow.items()[0].state == "offered"
    assert _ticket(flow, r.ticket_id).assignee_id is None  # not before the agent accepts


def test_accepting_an_offer_gives_the_agent_the_ticket(flow: Flow) -> None:
    agent = flow.agent("agent_gz")
    r = flow.message("sms", "13812345678", "流量包怎么退订", org_unit_code="GZ")
    flow.settle()
    (offer,) = flow.offers("offered")

    flow.answer("agent_gz", offer.id, accept=True)
    flow.settle()

    assert flow.offers()[0].state == "accepted"
    (item,) = flow.items()
    assert (item.state, item.agent_id, item.queue_key) == ("assigned", agent, "messages")
    ticket = _ticket(flow, r.ticket_id)
    assert (ticket.assignee_id, ticket.status) == (agent, "assigned")
    # The ticket's own assignment event comes back to routing: nothing changes, nothing is offered again.
    assert len(flow.offers()) == 1


def test_a_rejected_offer_goes_to_the_next_agent_and_the_first_is_not_ready(flow: Flow, world: World) -> None:
    with flow.db.unit_of_work() as s:  # a second agent in Guangzhou
        u = org.create_user(s, username="agent_gz2", display_name="广州坐席二", role="agent",
                            org_unit_id=world.units["gz"])
        world.users["agent_gz2"] = u.id
    first = flow.agent("agent_gz")
    flow.clock.advance(5)
    second = flow.agent("agent_gz2")
    flow.message("sms", "13812345678", "查一下话费", org_unit_code="GZ")
    flow.settle()
    (offer,) = flow.offers("offered")
    assert offer.agent_id == first  # the longest idle

    flow.answer("agent_gz", offer.id, accept=False)
    flow.settle()

    assert [(o.agent_id, o.state) for o in flow.offers()] == [(first, "rejected"), (second, "offered")]
    assert (flow.presence("agent_gz"), flow.presence("agent_gz2")) == ("not_ready", "available")


def test_an_unanswered_offer_times_out_and_the_item_waits_again(flow: Flow) -> None:
    flow.agent("agent_gz")
    flow.message("sms", "13812345678", "查一下话费", org_unit_code="GZ")
    flow.settle()
    (offer,) = flow.offers("offered")

    assert offer.expires_at is not None
    assert (offer.expires_at - offer.offered_at).total_seconds() == 60  # the messages queue's offer time-out
    flow.clock.past(offer.expires_at)
    flow.settle()

    assert flow.offers()[0].state == "timed_out"
    assert flow.items()[0].state == "waiting"
    assert flow.presence("agent_gz") == "not_ready"
    # Answering after the time-out is refused with a clear conflict, and nothing changes.
    with pytest.raises(routing.OfferNotOpen):
        flow.answer("agent_gz", offer.id, accept=True)


def test_a_ticket_taken_by_hand_leaves_the_queue(flow: Flow, world: World) -> None:
    r = flow.message("sms", "13812345678", "查一下话费", org_unit_code="GZ")
    flow.settle()
    with flow.db.unit_of_work() as s:
        tickets.assign(s, r.ticket_id or 0, assignee_id=world.users["agent_gz"], actor_id=world.users["sup_gd"])
    flow.settle()
    (item,) = flow.items()
    assert (item.state, item.end_reason) == ("withdrawn", "taken")
    flow.agent("agent_gz")
    flow.settle()
    assert flow.offers() == []


def test_finishing_routed_work_frees_the_agent_for_the_next_item(flow: Flow) -> None:
    agent = flow.agent("agent_gz")
    with flow.db.unit_of_work() as s:  # one item at a time, to see the capacity freed
        routing.update_agent(s, _principal(flow, "admin"), agent, channels={"message": 1})
    first = flow.message("sms", "13812345678", "查一下话费", org_unit_code="GZ")
    second = flow.message("sms", "13912345678", "宽带坏了", org_unit_code="GZ")
    flow.settle()
    (offer,) = flow.offers("offered")
    flow.answer("agent_gz", offer.id, accept=True)
    flow.settle()
    assert flow.offers("offered") == []  # full

    with flow.db.unit_of_work() as s:
        tickets.change_status(s, first.ticket_id or 0, "resolved", actor_id=agent, reason="已解答")
    flow.settle()

    items = {i.ticket_id: i for i in flow.items()}
    assert (items[first.ticket_id].state, items[first.ticket_id].end_reason) == ("completed", "resolved")
    (next_offer,) = flow.offers("offered")
    assert next_offer.item_id == items[second.ticket_id].id


def test_the_green_channel_goes_first_and_standard_work_is_not_starved(flow: Flow, world: World) -> None:
    standard = flow.message("sms", "13812345678", "查一下话费", org_unit_code="GZ")
    flow.clock.advance(1)
    diamond = flow.message("sms", "13912345678", "我的套餐有问题", org_unit_code="GZ")
    with flow.db.unit_of_work() as s:
        c = s.scalar(select(Customer).where(Customer.phone == "+8613912345678"))
        assert c is not None
        c.tier = "diamond"
        t = s.get(Ticket, diamond.ticket_id)
        assert t is not None
        t.customer_tier = "diamond"
        tickets.update(s, t.id, actor_id=None, subject="我的套餐有问题（钻石）")  # an update reaches routing
    flow.settle()
    agent = flow.agent("agent_gz")
    with flow.db.unit_of_work() as s:  # one item at a time: which one comes first?
        routing.update_agent(s, _principal(flow, "admin"), agent, channels={"message": 1})
    flow.settle()
    (offer,) = flow.offers("offered")
    by_item = {i.id: i.ticket_id for i in flow.items()}
    assert by_item[offer.item_id] == diamond.ticket_id
    # The standard one is next: accepting and finishing the diamond ticket brings its offer.
    flow.answer("agent_gz", offer.id, accept=True)
    flow.settle()
    with flow.db.unit_of_work() as s:
        tickets.change_status(s, diamond.ticket_id or 0, "resolved", actor_id=agent, reason="已处理")
    flow.settle()
    (second,) = flow.offers("offered")
    assert by_item[second.item_id] == standard.ticket_id


def test_a_restarted_writer_continues_from_the_tables(flow: Flow, world: World) -> None:
    flow.agent("agent_gz")
    flow.message("sms", "13812345678", "查一下话费", org_unit_code="GZ")
    flow.settle()
    (offer,) = flow.offers("offered")

    restarted = Writer(flow.db, clock=flow.clock)  # a new process: no engine in memory
    flow.writer = restarted
    flow.message("sms", "13912345678", "宽带坏了", org_unit_code="GZ")
    flow.settle()
    flow.answer("agent_gz", offer.id, accept=True)
    flow.settle()

    offers = flow.offers()
    assert [o.state for o in offers] == ["accepted", "offered"]  # the second one fits beside the first
    assert offers[1].id == offer.id + 1  # offer ids never repeat across restores


def test_queues_the_engine_would_refuse_are_refused_before_anything_is_stored(flow: Flow, world: World) -> None:
    bad = [
        routing.QueueSpec(key="x", name="X", channel="fax", org_unit_id=world.units["province"]),
        routing.QueueSpec(key="x", name="X", channel="chat", org_unit_id=world.units["province"],
                          aging_per_minute=-1),
        routing.QueueSpec(key="x", name="X", channel="chat", org_unit_id=world.units["province"],
                          rings=({"after": 60, "reach": "province"}, {"after": 30, "reach": "city"})),
        routing.QueueSpec(key="x", name="X", channel="chat", org_unit_id=world.units["province"],
                          overflow_to="voice"),  # another media
    ]
    for spec in bad:
        with pytest.raises(InvalidInput), flow.db.unit_of_work() as s:
            routing.save_queue(s, None, spec)
    with flow.db.session() as s:
        assert s.scalar(select(RoutingQueue).where(RoutingQueue.key == "x")) is None
        assert [r.queue_key for r in s.scalars(select(RoutingRule).order_by(RoutingRule.position))] == [
            "complaints", "voice", "chat", "messages", "tickets"]


def test_only_one_process_holds_the_writers_role(world: World) -> None:
    first, second = Leadership(world.db), Leadership(world.db)
    try:
        assert first.try_acquire()
        assert not second.try_acquire()
        first.release()
        assert second.try_acquire()
    finally:
        first.release()
        second.release()


def test_inputs_are_processed_once_each_in_order(flow: Flow) -> None:
    flow.agent("agent_gz")
    flow.agent("agent_gz", "break", "meal")
    flow.agent("agent_gz")
    flow.settle()
    with flow.db.session() as s:
        rows = list(s.scalars(select(RoutingInput).order_by(RoutingInput.id)))
    assert all(r.processed_at is not None for r in rows)
    assert [r.payload.get("presence") for r in rows if r.kind == "presence"] == ["available", "break", "available"]
    assert flow.presence("agent_gz") == "available"


def _principal(flow: Flow, username: str):  # type: ignore[no-untyped-def]
    with flow.db.session() as s:
        user = org.user(s, flow.world.users[username])
        assert user is not None
        return org.principal_for(s, user)



def test_a_customer_in_a_high_priority_segment_is_offered_before_an_ordinary_one(flow: Flow, world: World) -> None:
    from kefu.complaints.models import CustomerSegment, SegmentModel
    from kefu.core.clock import utcnow
    from kefu.customers import service as customers

    with flow.db.unit_of_work() as s:  # a fitted segmentation put the second customer in a high-priority segment
        plain = customers.create_customer(s, phone="13812345678", org_unit_id=world.units["gz"])
        valued = customers.create_customer(s, phone="13912345678", org_unit_id=world.units["gz"])
        m = SegmentModel(variables=[], kept=[], mean=[], std=[], centroids=[], choice=[], customers=2,
                         fitted_at=utcnow(),
                         segments=[{"index": 0, "priority": "high"}, {"index": 1, "priority": "normal"}])
        s.add(m)
        s.flush()
        for customer, segment, priority in ((valued, 0, "high"), (plain, 1, "normal")):
            s.add(CustomerSegment(customer_id=customer.id, model_id=m.id, segment=segment, priority=priority,
                                  authority_multiplier=1, offer="none", profile=priority, assigned_at=utcnow()))
    ordinary = flow.message("sms", "13812345678", "流量包怎么退订", org_unit_code="GZ")  # same time, first
    high = flow.message("sms", "13912345678", "流量包怎么退订", org_unit_code="GZ")
    flow.settle()
    assert (_ticket(flow, ordinary.ticket_id).priority, _ticket(flow, high.ticket_id).priority) == ("normal", "high")
    items = {i.ticket_id: i for i in flow.items()}
    assert (items[ordinary.ticket_id].ticket_priority, items[high.ticket_id].ticket_priority) == ("normal", "high")
    assert items[ordinary.ticket_id].enqueued_at <= items[high.ticket_id].enqueued_at  # waited as long, or longer
    assert items[ordinary.ticket_id].queue_key == items[high.ticket_id].queue_key
    agent = flow.agent("agent_gz")
    with flow.db.unit_of_work() as s:  # one item at a time: which one comes first?
        routing.update_agent(s, _principal(flow, "admin"), agent, channels={"message": 1})
    flow.settle()
    (offer,) = flow.offers("offered")
    assert offer.item_id == items[high.ticket_id].id


def _billing_needs_a_certificate(flow: Flow, world: World) -> int:
    """Billing gets a course (so it needs a certificate, valid 180 days); the messages queue asks for billing.
    Returns the course's id (its exam: one question, answer 1)."""
    from kefu.core.clock import utcnow
    from kefu.quality.models import CertCourse

    with flow.db.unit_of_work() as s:
        now = utcnow()
        course = CertCourse(key="billing-cert", name="计费上岗认证", skill="billing",
                            org_unit_id=world.units["province"], article_ids=[], pass_percent=50, valid_days=180,
                            active=True, created_at=now, updated_at=now,
                            questions=[{"article_id": 0, "text": "投诉几日内答复？", "options": ["7日", "15日"],
                                        "answer": 1}])
        s.add(course)
        q = s.scalar(select(RoutingQueue).where(RoutingQueue.key == "messages"))
        assert q is not None
        routing.save_queue(s, None, routing.QueueSpec(
            key=q.key, name=q.name, name_en=q.name_en, channel=q.channel, org_unit_id=q.org_unit_id,
            skills={"billing": 2}, weight=q.weight, base_priority=q.base_priority,
            aging_per_minute=q.aging_per_minute, rings=q.rings, offer_timeout=q.offer_timeout))
        s.flush()
        return course.id


def _certify(flow: Flow, username: str, course_id: int, *, at: datetime | None = None) -> Any:
    from kefu.quality import certification as cert

    with flow.db.unit_of_work() as s:
        _, got = cert.take(s, _principal(flow, username), course_id, [1], at=at)
        assert got is not None
        s.expunge(got)
        return got


def _waiting_message(flow: Flow, text: str, sender: str = "13812345678") -> RoutingItem:
    r = flow.message("sms", sender, text, org_unit_code="GZ")
    flow.settle()
    (item,) = [i for i in flow.items() if i.ticket_id == r.ticket_id]
    return item


def test_a_queue_asking_for_a_certified_skill_is_offered_only_to_agents_holding_a_valid_certificate(
        flow: Flow, world: World) -> None:
    course_id = _billing_needs_a_certificate(flow, world)
    agent = flow.agent("agent_gz")  # billing level 3, but no certificate yet
    item = _waiting_message(flow, "流量包怎么退订")
    assert (item.queue_key, item.state) == ("messages", "waiting")
    assert flow.offers() == []

    _certify(flow, "agent_gz", course_id)  # the agent passes the exam: the certificate makes them eligible
    flow.settle()
    (offer,) = flow.offers("offered")
    assert (offer.item_id, offer.agent_id) == (item.id, agent)


def test_an_agent_whose_certificate_runs_out_is_no_longer_offered_the_queue_s_work_without_a_restart(
        flow: Flow, world: World) -> None:
    course_id = _billing_needs_a_certificate(flow, world)
    agent = flow.agent("agent_gz")
    got = _certify(flow, "agent_gz", course_id)
    flow.settle()
    assert flow.writer.next_timer() == got.expires_at.timestamp()  # the writer wakes when it ends
    before = _waiting_message(flow, "流量包怎么退订")
    (offer,) = flow.offers("offered")
    assert (offer.item_id, offer.agent_id) == (before.id, agent)
    flow.answer("agent_gz", offer.id, accept=True)
    flow.settle()

    engine = flow.writer.engine
    flow.clock.t = got.expires_at.timestamp() + 1  # the same engine, one second after the certificate's end
    flow.settle()
    assert flow.writer.engine is engine  # no restore: the writer saw the end by itself
    view = engine.agent(agent) if engine is not None else None
    assert view is not None
    assert "billing" not in view.agent.skills
    after = _waiting_message(flow, "套餐外流量怎么收费", "13912345678")  # another customer
    assert (after.queue_key, after.state) == ("messages", "waiting")
    assert [o.id for o in flow.offers("offered")] == []

    _certify(flow, "agent_gz", course_id, at=datetime.fromtimestamp(flow.clock.t, UTC))  # certified again
    flow.settle()
    (offer,) = flow.offers("offered")
    assert (offer.item_id, offer.agent_id) == (after.id, agent)


def test_revoking_a_certificate_stops_its_holder_being_offered_the_queue_s_work_at_once(
        flow: Flow, world: World) -> None:
    from kefu.core.events import OutboxEvent
    from kefu.quality import certification as cert

    course_id = _billing_needs_a_certificate(flow, world)
    agent = flow.agent("agent_gz")
    got = _certify(flow, "agent_gz", course_id)
    flow.settle()
    with flow.db.unit_of_work() as s:
        cert.revoke(s, _principal(flow, "admin"), got.id)
        cert.revoke(s, _principal(flow, "admin"), got.id)  # again: nothing more
    with flow.db.session() as s:
        [ev] = s.scalars(select(OutboxEvent).where(OutboxEvent.name == "certificate.revoked")).all()
        assert (ev.aggregate_id, ev.payload["certificate_id"], ev.payload["skill"]) == (agent, got.id, "billing")
    flow.settle()
    engine = flow.writer.engine
    view = engine.agent(agent) if engine is not None else None
    assert view is not None
    assert "billing" not in view.agent.skills
    item = _waiting_message(flow, "流量包怎么退订")
    assert (item.queue_key, item.state) == ("messages", "waiting")
    assert flow.offers() == []
