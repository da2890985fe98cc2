"""The CTI API on a real database: a call becomes an interaction, waits in routing, the agent's state
follows it; duplicates, out-of-order events and bad input."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kefu.core.clock import utcnow
from kefu.core.config import Settings
from kefu.interactions.models import Interaction
from kefu.routing.models import RoutingItem
from kefu.voice.models import CtiEventRow, VoiceCall
from tests.conftest import World
from tests.routing.flow import Flow
from tests.voice.support import event, post, switch_token


@pytest.fixture
def flow(world: World, settings: Settings) -> Flow:
    return Flow(world, settings)


def _item(flow: Flow, interaction_id: int) -> RoutingItem:
    items = [i for i in flow.items() if i.interaction_id == interaction_id]
    assert len(items) == 1
    return items[0]


def test_a_queued_call_is_offered_answered_busy_then_after_call_work(client: TestClient, world: World,
                                                                     flow: Flow) -> None:
    auth = switch_token(world)
    flow.agent("agent_gz")
    t = utcnow().replace(microsecond=0)
    body = post(client, auth, event("C-1", "offered", t, ani="+86 139 1234 0001", dnis="10086", event_id="1"),
                event("C-1", "ivr", t + timedelta(seconds=2), node="root", event_id="2"),
                event("C-1", "queued", t + timedelta(seconds=8), queue="voice", event_id="3"))
    assert body["accepted"] == 3
    assert body["calls"][0]["phase"] == "queued"
    iid = body["calls"][0]["interaction_id"]
    flow.settle()
    item = _item(flow, iid)
    assert (item.queue_key, item.channel, item.state, item.agent_id) == ("voice", "voice", "offered",
                                                                        world.users["agent_gz"])
    post(client, auth, event("C-1", "ringing", t + timedelta(seconds=9), agent="agent_gz", event_id="4"),
         event("C-1", "answered", t + timedelta(seconds=12), agent="agent_gz", event_id="5"))
    flow.settle()
    assert _item(flow, iid).state == "assigned"
    assert [o.state for o in flow.offers()] == ["accepted"]
    assert flow.presence("agent_gz") == "available"  # available without room: busy with the call
    post(client, auth, event("C-1", "ended", t + timedelta(seconds=80), event_id="6",
                             recording_url="https://rec.example/C-1.wav"))
    flow.settle()
    assert _item(flow, iid).state == "completed"
    assert flow.presence("agent_gz") == "after_call_work"  # the hotline queue's wrap-up
    with flow.db.session() as s:
        it = s.get(Interaction, iid)
        assert it is not None
        assert it.customer_id is not None
        assert (it.status, it.outcome, it.agent_id, it.channel) == ("closed", "answered", world.users["agent_gz"],
                                                                    "voice")
    call = client.get("/api/v1/voice/calls/C-1", headers=world.auth("admin")).json()
    assert (call["queue_seconds"], call["talk_seconds"], call["ivr_seconds"]) == (4, 68, 8)
    assert [p["node"] for p in call["ivr_path"]] == ["root"]
    assert call["recording_url"] == "https://rec.example/C-1.wav"
    assert call["ani"] == "+86 139 1234 0001"
    masked = client.get("/api/v1/voice/calls/C-1", headers=world.auth("analyst"))
    assert masked.status_code == 200
    assert masked.json()["ani"] == "139****0001"
    assert client.get("/api/v1/voice/calls/C-1", headers=world.auth("agent_sz")).status_code == 404


def test_duplicates_count_once_and_late_events_correct_the_call(client: TestClient, world: World,
                                                                flow: Flow) -> None:
    auth = switch_token(world)
    t = utcnow().replace(microsecond=0)
    q = event("C-2", "queued", t, queue="voice")
    end = event("C-2", "ended", t + timedelta(seconds=60))
    first = post(client, auth, q, end)
    assert first["calls"][0]["phase"] == "ended"
    again = post(client, auth, end, q)
    assert (again["accepted"], again["duplicates"]) == (0, 2)
    with flow.db.session() as s:
        assert s.scalar(select(func.count()).select_from(CtiEventRow)) == 2
        it = s.scalar(select(Interaction).where(Interaction.external_ref == "cti:C-2"))
        assert it is not None
        assert (it.status, it.outcome, it.customer_id) == ("closed", "abandoned", None)
    post(client, auth, event("C-2", "answered", t + timedelta(seconds=20), agent="agent_sz"))
    with flow.db.session() as s:
        it = s.scalar(select(Interaction).where(Interaction.external_ref == "cti:C-2"))
        call = s.scalar(select(VoiceCall).where(VoiceCall.call_id == "C-2"))
        assert it is not None
        assert call is not None
        assert (it.outcome, it.agent_id) == ("answered", world.users["agent_sz"])
        assert (call.queue_seconds, call.talk_seconds) == (20, 40)
    flow.settle()
    assert not [i for i in flow.items() if i.state in ("waiting", "offered", "assigned")]


def test_an_abandoned_call_leaves_the_queue(client: TestClient, world: World, flow: Flow) -> None:
    auth = switch_token(world)
    t = utcnow().replace(microsecond=0)
    body = post(client, auth, event("C-3", "queued", t))
    flow.settle()
    iid = body["calls"][0]["interaction_id"]
    assert _item(flow, iid).state == "waiting"  # nobody is ready
    post(client, auth, event("C-3", "abandoned", t + timedelta(seconds=30)))
    flow.settle()
    item = _item(flow, iid)
    assert (item.state, item.end_reason) == ("withdrawn", "abandoned")


def test_bad_events_are_refused_whole_and_write_nothing(client: TestClient, world: World) -> None:
    auth = switch_token(world)
    t = utcnow()
    bad = [
        {"events": [event("C-4", "offered", t), event("C-4", "exploded", t)]},
        {"events": [event("C-4", "offered", t.replace(tzinfo=None))]},
        {"events": [event("C-4", "ended", t, recording_url="ftp://x")]},
        {"events": []},
        {"events": [event("", "offered", t)]},
    ]
    for body in bad:
        r = client.post("/api/v1/cti/events", json=body, headers=auth)
        assert r.status_code == 422, body
    with world.db.session() as s:
        assert s.scalar(select(func.count()).select_from(CtiEventRow)) == 0
        assert s.scalar(select(func.count()).select_from(VoiceCall)) == 0
    sms_only = switch_token(world, scopes=["inbound:sms"])
    r = client.post("/api/v1/cti/events", json={"events": [event("C-4", "offered", t)]}, headers=sms_only)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "channel_not_allowed"
    r = client.post("/api/v1/cti/events", json={"events": [event("C-4", "offered", t)]}, headers=world.auth("agent_gz"))
    assert r.status_code == 403
