"""Handoffs: a link from an IVR node or an agent, opened and completed by the customer, or returned by a
call; the supervisor wall's figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from kefu.core.clock import utcnow
from kefu.core.events import bus
from kefu.handoffs import tokens
from kefu.handoffs.models import Handoff
from kefu.interactions.models import Interaction, Message
from kefu.jobs import registry
from kefu.routing import service as routing
from kefu.voice import ivr
from tests.channels.support import post_inbound
from tests.conftest import World
from tests.voice.support import event, post, switch_token

SECRET = b"s3cret"


def test_tokens_are_signed_and_expire() -> None:
    now = datetime(2026, 12, 6, 10, tzinfo=UTC)
    t = tokens.sign(SECRET, 42, now + timedelta(hours=1))
    assert tokens.verify(SECRET, t, now=now) == 42
    with pytest.raises(tokens.TokenExpired):
        tokens.verify(SECRET, t, now=now + timedelta(hours=2))
    forged = t.replace("42.", "43.", 1)
    for bad in (forged, t + "x", "abc", tokens.sign(b"other", 42, now + timedelta(hours=1))):
        with pytest.raises(tokens.TokenInvalid):
            tokens.verify(SECRET, bad, now=now)
    stretched = tokens.sign(SECRET, 42, now + timedelta(hours=1)).split(".")
    with pytest.raises(tokens.TokenInvalid):
        tokens.verify(SECRET, f"{stretched[0]}.{int(stretched[1]) + 3600}.{stretched[2]}", now=now)


def _handoff(world: World) -> Handoff:
    with world.db.session() as s:
        rows = list(s.scalars(select(Handoff)))
    assert len(rows) == 1
    return rows[0]


def _token_from_link(world: World, h: Handoff) -> str:
    with world.db.session() as s:
        body = s.scalar(select(Message.body).where(Message.interaction_id == h.link_interaction_id))
    assert body is not None
    assert "/h/" in body
    return body.split("/h/")[1].split()[0]


def test_an_ivr_handoff_node_sends_an_sms_link_the_customer_opens_and_completes(client: TestClient,
                                                                                world: World) -> None:
    with world.db.unit_of_work() as s:
        routing.ensure_defaults(s, world.units["province"])
        ivr.ensure_default_menu(s)
    auth = switch_token(world)
    t = utcnow().replace(microsecond=0)
    post(client, auth, event("H-1", "offered", t, ani="13912340001"), event("H-1", "ivr", t, node="root"),
         event("H-1", "ivr", t + timedelta(seconds=5), node="broadband"),
         event("H-1", "ended", t + timedelta(seconds=30)))
    post(client, auth, event("H-1", "ivr", t + timedelta(seconds=5), node="broadband"))  # a duplicate: no 2nd link
    h = _handoff(world)
    assert (h.source, h.from_channel, h.to_channel, h.ivr_node, h.status) == ("ivr", "voice", "sms", "broadband",
                                                                              "offered")
    with world.db.session() as s:
        link = s.get(Interaction, h.link_interaction_id)
        assert link is not None
        assert (link.channel, link.direction) == ("sms", "outbound")
    token = _token_from_link(world, h)
    page = client.get(f"/h/{token}")
    assert page.status_code == 200
    assert "宽带报修" in page.text
    assert _handoff(world).status == "opened"
    done = client.post(f"/h/{token}/complete")
    assert done.status_code == 200
    assert "已办结" in done.text
    h = _handoff(world)
    assert h.status == "completed"
    assert h.completed_at is not None
    assert client.get("/h/1.99999999999.AAAA").status_code == 404


def test_an_agent_sends_a_wechat_link_and_a_call_back_returns_it(client: TestClient, world: World) -> None:
    registry.load()
    post_inbound(client, world, "sms", message_id="s1", sender="13912340002", text="a")
    post_inbound(client, world, "wechat", message_id="w1", sender="oWx-2", text="b")
    r = client.post("/api/v1/identity-links", json={"kind": "wechat_openid", "value": "oWx-2",
                                                    "phone": "13912340002", "evidence": "binding"},
                    headers=world.auth("admin"))
    cid = r.json()["customer_id"]
    no_app = client.post("/api/v1/handoffs", json={"customer_id": cid, "to_channel": "app", "task": "套餐变更"},
                         headers=world.auth("agent_gz"))
    assert no_app.status_code == 409
    assert no_app.json()["error"]["code"] == "no_address"
    r = client.post("/api/v1/handoffs", json={"customer_id": cid, "to_channel": "wechat", "task": "套餐变更"},
                    headers=world.auth("agent_gz"))
    assert r.status_code == 201
    assert r.json()["status"] == "offered"
    bus.dispatch_pending(world.db)
    auth = switch_token(world)
    post(client, auth, event("H-2", "offered", utcnow(), ani="+86 139 1234 0002"))
    bus.dispatch_pending(world.db)
    h = _handoff(world)
    assert h.status == "returned"
    assert h.returned_at is not None
    token = _token_from_link(world, h)
    late = client.post("/api/v1/handoffs/complete", json={"token": token}, headers=world.auth("admin"))
    assert late.status_code == 409


def test_the_wall_reads_rate_direction_effect_and_minutes_saved(client: TestClient, world: World) -> None:
    with world.db.unit_of_work() as s:
        routing.ensure_defaults(s, world.units["province"])
        ivr.ensure_default_menu(s)
    auth = switch_token(world)
    t = utcnow().replace(microsecond=0) - timedelta(minutes=30)
    # two answered calls of 120 and 240 s, then a caller who takes the broadband link
    post(client, auth, event("A-1", "queued", t, ani="13800000001"),
         event("A-1", "answered", t + timedelta(seconds=10), agent="agent_gz"),
         event("A-1", "ended", t + timedelta(seconds=130)),
         event("A-2", "queued", t, ani="13800000002"),
         event("A-2", "answered", t + timedelta(seconds=20), agent="agent_gz"),
         event("A-2", "ended", t + timedelta(seconds=260)),
         event("A-3", "ivr", t + timedelta(seconds=300), node="broadband", ani="13800000003"),
         event("A-3", "ended", t + timedelta(seconds=320)))
    token = _token_from_link(world, _handoff(world))
    done = client.post("/api/v1/handoffs/complete", json={"token": token}, headers=world.auth("admin"))
    assert done.status_code == 200
    assert done.json()["saved_seconds"] == 180.0
    q = {"start": (t - timedelta(hours=1)).isoformat(), "end": (utcnow() + timedelta(hours=1)).isoformat()}
    assert client.get("/api/v1/handoffs/stats", params=q, headers=world.auth("agent_gz")).status_code == 403
    wall = client.get("/api/v1/handoffs/stats", params=q, headers=world.auth("sup_gd")).json()
    assert (wall["calls"], wall["offered"], wall["completed"], wall["returned"]) == (3, 1, 1, 0)
    assert wall["handoff_rate"] == pytest.approx(1 / 3)
    assert wall["hotline_minutes_saved"] == 3.0
    assert [(d["from_channel"], d["to_channel"], d["completion_rate"]) for d in wall["directions"]] == [
        ("voice", "sms", 1.0)]
    bad = client.get("/api/v1/handoffs/stats", params={"start": q["end"], "end": q["start"]},
                     headers=world.auth("sup_gd"))
    assert bad.status_code == 422
