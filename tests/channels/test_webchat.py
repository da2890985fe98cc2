"""Web chat over its WebSocket as the widget speaks it: a visitor opens a chat, writes, the agent's reply
comes back live and again after a reconnect; tokens, limits and bad frames refused; the token core."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.websockets import WebSocketDisconnect

from kefu.channels import webchat, webchat_api
from kefu.channels.models import OutboundDelivery
from kefu.core.db import Database
from kefu.interactions.models import Interaction, Message
from kefu.tickets.models import Ticket
from tests.channels.outbox import jobs_with, settle
from tests.channels.support import counts, rejections
from tests.conftest import World

SECRET = "test-secret-for-webchat"


@pytest.fixture(autouse=True)
def _fresh_limits() -> None:
    for w in (webchat_api.sessions, webchat_api.messages, webchat_api.frames):
        w._log.clear()


def frame(ws: Any) -> dict[str, Any]:
    got: dict[str, Any] = json.loads(ws.receive_text())
    return got


def until(ws: Any, kind: str) -> dict[str, Any]:
    for _ in range(10):
        f = frame(ws)
        if f["type"] == kind:
            return f
    raise AssertionError(f"no {kind} frame")


def open_chat(client: TestClient, query: str = "org=GZ") -> tuple[Any, Any, dict[str, Any]]:
    cm = client.websocket_connect(f"/api/v1/webchat/ws?{query}")
    ws = cm.__enter__()
    return cm, ws, frame(ws)


def test_a_visitor_writes_and_the_agents_reply_arrives_live_and_after_a_reconnect(
        client: TestClient, world: World, db: Database) -> None:
    cm, ws, hello = open_chat(client)
    assert hello["type"] == "session"
    assert hello["visitor"].startswith("wc-")
    visitor, token = hello["visitor"], hello["token"]
    ws.send_text(json.dumps({"type": "sync", "after": 0}))
    assert until(ws, "messages")["items"] == []
    ws.send_text(json.dumps({"type": "message", "id": "c1", "text": "  请问副卡怎么办理？  "}))
    ack = until(ws, "ack")
    assert ack["id"] == "c1"
    mine = until(ws, "messages")["items"]
    assert [(m["id"], m["direction"], m["body"], m["client_id"]) for m in mine] == [
        (ack["message_id"], "inbound", "请问副卡怎么办理？", "c1")]
    with db.session() as s:
        msg = s.get(Message, ack["message_id"])
        assert msg is not None
        it = s.get(Interaction, msg.interaction_id)
        assert it is not None
        assert (msg.channel, msg.sender, msg.external_id) == ("webchat", visitor, f"{visitor}:c1")
        assert it.org_unit_id == world.units["gz"]
        ticket = s.get(Ticket, it.ticket_id)
        assert ticket is not None
        assert ticket.org_unit_id == world.units["gz"]
        interaction_id = it.id

    with jobs_with(client.app.state.settings):  # type: ignore[attr-defined]
        r = client.post(f"/api/v1/interactions/{interaction_id}/messages",
                        json={"body": "您好，带上身份证到营业厅即可。"}, headers=world.auth("agent_gz"))
        assert r.status_code == 201, r.text
        reply_id = r.json()["id"]
        settle(world)
    pushed = until(ws, "messages")["items"]
    assert [(m["id"], m["direction"], m["body"]) for m in pushed] == [
        (reply_id, "outbound", "您好，带上身份证到营业厅即可。")]
    with db.session() as s:
        d = s.scalar(select(OutboundDelivery).where(OutboundDelivery.message_id == reply_id))
        assert d is not None
        assert (d.status, d.recipient) == ("sent", visitor)
    ws.send_text(json.dumps({"type": "seen", "upto": reply_id}))
    ws.send_text(json.dumps({"type": "sync", "after": reply_id}))  # a round trip: the seen frame was handled
    assert until(ws, "messages")["items"] == []
    with db.session() as s:
        d = s.scalar(select(OutboundDelivery).where(OutboundDelivery.message_id == reply_id))
        assert d is not None
        assert d.status == "delivered"
    cm.__exit__(None, None, None)

    # the page reloads: the same token, the whole conversation again, and a resent message is stored once
    cm, ws, again = open_chat(client, f"token={token}")
    assert (again["type"], again["visitor"]) == ("session", visitor)
    ws.send_text(json.dumps({"type": "sync", "after": 0}))
    items = until(ws, "messages")["items"]
    assert [m["direction"] for m in items] == ["inbound", "outbound"]
    before = counts(db)
    ws.send_text(json.dumps({"type": "message", "id": "c1", "text": "请问副卡怎么办理？"}))
    assert until(ws, "ack")["message_id"] == ack["message_id"]
    assert counts(db) == before
    cm.__exit__(None, None, None)


def test_a_forged_or_expired_token_is_refused(client: TestClient) -> None:
    good = webchat.issue_token("another-secret", webchat.Visitor("wc-00", "GZ", 1))
    for token in (good, "garbage", good[:-2] + "xx"):
        with client.websocket_connect(f"/api/v1/webchat/ws?token={token}") as ws:
            assert frame(ws)["code"] == "bad_token"
            with pytest.raises(WebSocketDisconnect) as exc:
                ws.receive_text()
            assert exc.value.code == 4401


def test_token_core_round_trips_and_refuses_alterations() -> None:
    v = webchat.Visitor("wc-0123456789abcdef0123", "GZ", 1_000_000)
    token = webchat.issue_token(SECRET, v)
    assert webchat.read_token(SECRET, token, now=1_000_000 + 3600) == v
    with pytest.raises(webchat.BadToken, match="expired"):
        webchat.read_token(SECRET, token, now=1_000_000 + webchat.TOKEN_DAYS * 86400 + 1)
    with pytest.raises(webchat.BadToken, match="signature"):
        webchat.read_token("other", token, now=1_000_000)
    other_body = webchat.issue_token("other", webchat.Visitor(v.id, "SZ", v.issued)).split(".")[0]
    forged = other_body + "." + token.split(".")[1]
    with pytest.raises(webchat.BadToken, match="signature"):
        webchat.read_token(SECRET, forged, now=1_000_000)


def test_rate_window_allows_the_limit_per_window_and_forgets_old_keys() -> None:
    w = webchat.Window(2, 60.0, max_keys=2)
    assert [w.allow("a", t) for t in (0.0, 1.0, 2.0)] == [True, True, False]
    assert w.retry_after("a", 2.0) == 58.0
    assert w.allow("a", 60.5) is True  # the first has left the window
    w.allow("b", 61.0)
    w.allow("c", 62.0)
    assert list(w._log) == ["b", "c"]


def test_new_chats_from_one_address_are_limited(client: TestClient, world: World) -> None:
    for _ in range(webchat.SESSIONS_PER_MINUTE):
        with client.websocket_connect("/api/v1/webchat/ws?org=GZ") as ws:
            got = frame(ws)
            assert got["type"] == "session", got
    with client.websocket_connect("/api/v1/webchat/ws?org=GZ") as ws:
        refused = frame(ws)
        assert (refused["code"], refused["retry_after"] > 0) == ("rate_limited", True)
        with pytest.raises(WebSocketDisconnect) as exc:
            ws.receive_text()
        assert exc.value.code == 4429


def test_messages_beyond_the_per_minute_limit_are_refused_and_not_stored(client: TestClient, world: World,
                                                                        db: Database) -> None:
    with client.websocket_connect("/api/v1/webchat/ws?org=GZ") as ws:
        assert frame(ws)["type"] == "session"
        for i in range(webchat.MESSAGES_PER_MINUTE):
            ws.send_text(json.dumps({"type": "message", "id": f"m{i}", "text": f"第{i}条"}))
            assert until(ws, "ack")["id"] == f"m{i}"
        before = counts(db)
        ws.send_text(json.dumps({"type": "message", "id": "over", "text": "再来一条"}))
        refused = until(ws, "error")
        assert (refused["code"], refused["id"]) == ("rate_limited", "over")
        assert counts(db) == before


def test_unknown_org_unit_is_refused(client: TestClient, world: World) -> None:
    with client.websocket_connect("/api/v1/webchat/ws?org=NOPE") as ws:
        assert frame(ws)["code"] == "unknown_org_unit"
        with pytest.raises(WebSocketDisconnect) as exc:
            ws.receive_text()
        assert exc.value.code == 4404


@pytest.mark.parametrize(("payload", "code"), [
    ("not json", "malformed_frame"),
    (json.dumps({"type": "message", "id": "a b", "text": "x"}), "invalid_client_id"),
    (json.dumps({"type": "message", "id": "ok", "text": "   "}), "body_required"),
    (json.dumps({"type": "message", "id": "ok", "text": "含\u0000字符"}), "nul_character"),
])
def test_bad_frames_are_answered_kept_and_create_nothing(client: TestClient, world: World, db: Database,
                                                        payload: str, code: str) -> None:
    with client.websocket_connect("/api/v1/webchat/ws?org=GZ") as ws:
        assert frame(ws)["type"] == "session"
        before = counts(db)
        ws.send_text(payload)
        assert until(ws, "error")["code"] == code
    after = counts(db)
    assert after == {**before, "rejections": before["rejections"] + 1}
    kept = rejections(db)[-1]
    assert (kept.channel, kept.reason.split(":")[0]) == ("webchat", code)


def test_a_frame_above_the_limit_closes_the_chat_and_is_kept(client: TestClient, world: World, db: Database) -> None:
    limit = webchat.frame_limit(client.app.state.settings)  # type: ignore[attr-defined]
    with client.websocket_connect("/api/v1/webchat/ws?org=GZ") as ws:
        assert frame(ws)["type"] == "session"
        before = counts(db)
        ws.send_text(json.dumps({"type": "message", "id": "big", "text": "长" * limit}))
        assert until(ws, "error")["code"] == "message_too_large"
        with pytest.raises(WebSocketDisconnect) as exc:
            ws.receive_text()
        assert exc.value.code == 1009
    assert counts(db) == {**before, "rejections": before["rejections"] + 1}
