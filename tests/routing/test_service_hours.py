"""Service hours per queue: a queue with a working calendar (kefu.sla's) closes outside its hours and opens
within them, on the writer's clock; while closed, its overflow queue takes its work; a queue closed by hand
stays closed whatever the calendar says."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from kefu.core.config import Settings
from kefu.core.events import OutboxEvent
from kefu.org import service as org
from kefu.routing import service as routing
from kefu.routing import store
from kefu.sla import service as sla
from tests.conftest import World
from tests.routing.flow import Flow, next_local


@pytest.fixture
def flow(world: World, settings: Settings) -> Flow:
    f = Flow(world, settings)
    province = world.units["province"]
    with f.db.unit_of_work() as s:
        admin = org.user(s, world.users["admin"])
        assert admin is not None
        principal = org.principal_for(s, admin)
        routing.save_queue(s, None, routing.QueueSpec(key="messages_night", name="夜间短信", name_en="Night messages",
                                                      channel="message", org_unit_id=province, position=9))
        q = routing.queue(s, None, "messages")
        routing.save_queue(s, None, routing.QueueSpec(
            key=q.key, name=q.name, name_en=q.name_en, channel=q.channel, org_unit_id=q.org_unit_id,
            base_priority=q.base_priority, aging_per_minute=q.aging_per_minute, rings=q.rings,
            offer_timeout=q.offer_timeout, wrap_up=q.wrap_up, position=q.position, overflow_to="messages_night"))
        cal = sla.save_calendar(s, calendar_id=None, name="白班 9-18", weekly=[["09:00-18:00"]] * 7,
                                zone="Asia/Shanghai", statutory=False, org_unit_id=province)
        routing.set_queue_calendar(s, principal, "messages", cal.id)
    return f


def test_outside_its_hours_a_queue_overflows_and_within_them_it_keeps_its_work(flow: Flow) -> None:
    flow.clock.t = next_local(3)  # 03:00 in Shanghai: the messages queue is closed
    agent = flow.agent("agent_gz")
    flow.settle()
    flow.message("sms", "13812345678", "流量包怎么退订", org_unit_code="GZ")
    flow.settle()

    (night,) = flow.items()
    assert (night.entry_queue_key, night.queue_key, night.state, night.agent_id) == (
        "messages", "messages_night", "offered", agent)
    (offer,) = flow.offers("offered")
    flow.answer("agent_gz", offer.id, accept=True)
    flow.settle()

    flow.clock.advance(6.5 * 3600)  # 09:30: open
    flow.settle()
    flow.message("sms", "13912345678", "宽带怎么办理", org_unit_code="GZ")
    flow.settle()
    day = flow.items()[1]
    assert (day.entry_queue_key, day.queue_key, day.state, day.agent_id) == ("messages", "messages", "offered", agent)

    flow.clock.advance(9 * 3600)  # 18:30: closed again
    flow.settle()
    with flow.db.session() as s:
        changes = [e.payload for e in s.scalars(select(OutboxEvent).where(
            OutboxEvent.name == "routing.queue_state_changed").order_by(OutboxEvent.id))]
    # (closed already when the writer rebuilt its engine at 03:00, from the calendar: nothing changed then)
    assert [(c["queue"], c["open"]) for c in changes] == [("messages", True), ("messages", False)]


def test_a_queue_closed_by_hand_stays_closed_within_its_hours(flow: Flow, world: World) -> None:
    flow.clock.t = next_local(10)  # within hours
    with flow.db.unit_of_work() as s:
        admin = org.user(s, world.users["admin"])
        assert admin is not None
        routing.set_queue_open(s, org.principal_for(s, admin), "messages", False)
        assert not store.queue_open(s, routing.queue(s, None, "messages"), datetime.fromtimestamp(flow.clock.t, UTC))
    flow.agent("agent_gz")
    flow.message("sms", "13812345678", "流量包怎么退订", org_unit_code="GZ")
    flow.settle()
    (item,) = flow.items()
    assert item.queue_key == "messages_night"  # closed: its overflow queue has it
    with flow.db.unit_of_work() as s:
        admin = org.user(s, world.users["admin"])
        assert admin is not None
        routing.set_queue_open(s, org.principal_for(s, admin), "messages", True)
    flow.settle()
    flow.message("sms", "13912345678", "宽带怎么办理", org_unit_code="GZ")
    flow.settle()
    assert flow.items()[1].queue_key == "messages"


REPLY = "您好，人工服务时间为每天 9:00-18:00，我们将在上班后第一时间回复您。"


def test_a_text_contact_outside_hours_gets_the_queues_reply_once_and_waits(flow: Flow) -> None:
    from kefu.interactions.models import Message

    with flow.db.unit_of_work() as s:
        q = routing.queue(s, None, "messages")
        routing.save_queue(s, None, routing.QueueSpec(
            key=q.key, name=q.name, name_en=q.name_en, channel=q.channel, org_unit_id=q.org_unit_id,
            base_priority=q.base_priority, aging_per_minute=q.aging_per_minute, rings=q.rings,
            offer_timeout=q.offer_timeout, position=q.position, after_hours_reply=f"  {REPLY} "))
    flow.clock.t = next_local(22)  # 22:00: closed, and nowhere to overflow
    flow.agent("agent_gz")
    first = flow.message("sms", "13812345678", "流量包怎么退订", org_unit_code="GZ")
    flow.settle()
    flow.message("sms", "13812345678", "在吗？", org_unit_code="GZ")  # the same conversation, still closed
    flow.settle()

    (item,) = flow.items()
    assert (item.ticket_id, item.queue_key, item.state) == (first.ticket_id, "messages", "waiting")
    with flow.db.session() as s:
        sent = list(s.scalars(select(Message).where(Message.direction == "outbound")))
        events = [e.payload for e in s.scalars(select(OutboxEvent).where(OutboxEvent.name == "message.sent"))]
    assert [(m.body, m.interaction_id, m.channel) for m in sent] == [(REPLY, first.interaction_id, "sms")]
    assert [(e["kind"], e["to"], e["notice"]) for e in events] == [("after_hours", "+8613812345678", True)]

    flow.clock.advance(11 * 3600)  # 09:00 the next day: open, the agent gets the waiting work
    flow.settle()
    assert flow.items()[0].state == "offered"


def test_only_text_queues_answer_outside_hours(flow: Flow, world: World) -> None:
    from kefu.core.errors import InvalidInput

    for channel, reply in (("voice", REPLY), ("message", "长" * 501)):
        with pytest.raises(InvalidInput), flow.db.unit_of_work() as s:
            routing.save_queue(s, None, routing.QueueSpec(key="x", name="X", channel=channel,
                                                          org_unit_id=world.units["province"],
                                                          after_hours_reply=reply))
