"""A caller outside the hotline's service hours leaves a callback request in the IVR (预约回拨): it becomes a
ticket in the voice queue, waits while the queue is closed, and is offered to an agent when it opens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from kefu.core.config import Settings
from kefu.interactions.models import Interaction
from kefu.org import service as org
from kefu.routing import service as routing
from kefu.sla import service as sla
from kefu.tickets.models import Ticket
from kefu.voice import ivr
from kefu.voice.models import VoiceCall
from tests.conftest import World
from tests.routing.flow import Flow, next_local
from tests.voice.support import event, post, switch_token


@pytest.fixture
def flow(world: World, settings: Settings) -> Flow:
    """The hotline queue open 09:00-18:00 (Shanghai); the menu's 9 takes a callback request for it."""
    f = Flow(world, settings)
    with f.db.unit_of_work() as s:
        admin = org.user(s, world.users["admin"])
        assert admin is not None
        cal = sla.save_calendar(s, calendar_id=None, name="热线 9-18", weekly=[["09:00-18:00"]] * 7,
                                zone="Asia/Shanghai", statutory=False, org_unit_id=world.units["province"])
        routing.set_queue_calendar(s, org.principal_for(s, admin), "voice", cal.id)
        ivr.ensure_default_menu(s)
        ivr.save_node(s, ivr.NodeSpec(key="callback", name="非服务时间预约回拨", kind="callback", parent_key="root",
                                      digit="9", queue_key="voice"))
    return f


def _call(client: TestClient, auth: dict[str, str], call_id: str, *nodes: str, ani: str = "+86 139 1234 0001"
          ) -> int:
    t = datetime.now(UTC).replace(microsecond=0)
    evs = [event(call_id, "offered", t, ani=ani, dnis="10086", event_id="1")]
    evs += [event(call_id, "ivr", t + timedelta(seconds=2 + i), node=n, event_id=f"n{i}") for i, n in enumerate(nodes)]
    evs.append(event(call_id, "ended", t + timedelta(seconds=30), event_id="9"))
    body = post(client, auth, *evs)
    return int(body["calls"][0]["interaction_id"])


def test_a_callback_left_outside_service_hours_is_offered_when_the_queue_opens(client: TestClient, world: World,
                                                                              flow: Flow) -> None:
    flow.clock.t = next_local(3)  # 03:00 in Shanghai: the hotline is closed
    agent = flow.agent("agent_gz")
    flow.settle()
    auth = switch_token(world)
    iid = _call(client, auth, "CB-1", "root", "callback")
    flow.settle()

    with flow.db.session() as s:
        ticket = s.scalar(select(Ticket).join(Interaction, Interaction.ticket_id == Ticket.id)
                          .where(Interaction.id == iid))
        assert ticket is not None
        call = s.scalar(select(VoiceCall).where(VoiceCall.call_id == "CB-1"))
        assert call is not None
        assert (ticket.type, ticket.channel, ticket.subject, ticket.customer_id, ticket.assignee_id) == (
            "request", "voice", "预约回拨 +86 139 1234 0001", s.get(Interaction, iid).customer_id, None)
        assert ticket.customer_id is not None
        assert call.phase == "ended"
    (item,) = flow.items()
    assert (item.ticket_id, item.interaction_id, item.queue_key, item.channel, item.state) == (
        ticket.id, None, "voice", "voice", "waiting")
    assert flow.offers() == []  # closed: nobody is offered it, though the agent is ready

    post(client, auth, event("CB-1", "ivr", datetime.now(UTC), node="callback", event_id="n9"))  # the switch again
    flow.settle()
    assert len(flow.items()) == 1  # one request per call

    flow.clock.advance(6.5 * 3600)  # 09:30: open
    flow.settle()
    (offer,) = flow.offers("offered")
    assert (offer.item_id, offer.agent_id, offer.queue_key) == (item.id, agent, "voice")
    flow.answer("agent_gz", offer.id, accept=True)
    flow.settle()
    with flow.db.session() as s:
        got = s.get(Ticket, ticket.id)
        assert got is not None
        assert got.assignee_id == agent  # the agent calls back and resolves it


def test_a_call_that_did_not_choose_the_callback_or_withheld_its_number_leaves_no_request(
        client: TestClient, world: World, flow: Flow) -> None:
    flow.clock.t = next_local(3)
    flow.settle()
    auth = switch_token(world)
    _call(client, auth, "CB-2", "root", "balance")  # self-service only
    _call(client, auth, "CB-3", "root", "callback", ani="")  # no number to call back
    flow.settle()
    assert flow.items() == []
    with flow.db.session() as s:
        assert s.scalars(select(Ticket)).all() == []
