"""Weibo (fans-service push) and QQ (bot webhook, Ed25519) callbacks in their own formats: URL checks,
private messages stored, a public Weibo mention flagged (舆情) with its ticket raised, a QQ group mention
flagged; bad signatures and malformed payloads refused, kept, and creating nothing."""

from __future__ import annotations

import hashlib
import json

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from kefu.channels import config, qq
from kefu.core.clock import utcnow
from kefu.core.config import Settings
from kefu.core.events import OutboxEvent
from kefu.interactions.models import InboundRejection, Message
from kefu.tickets.models import Ticket
from tests.channels.support import counts
from tests.conftest import World

WB_SECRET = "weibo-app-secret-gd"
QQ_SECRET = "naOC0ocQE3shWLAfffVLB1rhYPG7"


@pytest.fixture
def accounts(world: World, settings: Settings) -> None:
    with world.db.unit_of_work() as s:
        config.save(s, settings, org_unit_id=world.units["province"], channel="weibo",
                    form={"weibo_app_secret": WB_SECRET}, actor_id=None, at=utcnow())
        config.save(s, settings, org_unit_id=world.units["province"], channel="im",
                    form={"qq_app_id": "102000001", "qq_bot_secret": QQ_SECRET}, actor_id=None, at=utcnow())


def weibo(client: TestClient, doc: dict[str, object] | str, *, secret: str = WB_SECRET) -> Response:
    ts, nonce = "1700000000", "9527"
    sig = hashlib.sha1("".join(sorted([secret, ts, nonce])).encode()).hexdigest()
    body = doc if isinstance(doc, str) else json.dumps(doc, ensure_ascii=False)
    return client.post("/api/v1/channels/weibo", params={"signature": sig, "timestamp": ts, "nonce": nonce,
                                                          "org": "GZ"}, content=body.encode())


def qq_post(client: TestClient, doc: dict[str, object], *, secret: str = QQ_SECRET) -> Response:
    body = json.dumps(doc, ensure_ascii=False).encode()
    ts = "1725442341"
    return client.post("/api/v1/channels/qq", params={"org": "GZ"}, content=body,
                       headers={"X-Signature-Ed25519": qq.sign(secret, ts.encode() + body),
                                "X-Signature-Timestamp": ts, "Content-Type": "application/json"})


PRIVATE = {"type": "text", "receiver_id": 1902538057, "sender_id": 2489518277,
           "created_at": "Mon Jul 16 18:09:20 +0800 2012", "text": "你好，我的宽带坏了", "data": {"key": "4000000001"}}
MENTION = {"type": "mention", "receiver_id": 1902538057, "sender_id": 3311223344,
           "created_at": "Tue Jul 17 09:00:00 +0800 2012", "text": "@某运营商客服 骚扰电话一天十几个，没人管吗？",
           "data": {"subtype": "status", "key": "4789123456789012"}}


def test_weibo_url_check_and_a_private_message(client: TestClient, world: World, accounts: None) -> None:
    ts, nonce = "1700000000", "1"
    sig = hashlib.sha1("".join(sorted([WB_SECRET, ts, nonce])).encode()).hexdigest()
    ok = client.get("/api/v1/channels/weibo", params={"signature": sig, "timestamp": ts, "nonce": nonce,
                                                      "echostr": "abc", "org": "GZ"})
    assert (ok.status_code, ok.text) == (200, "abc")
    r = weibo(client, PRIVATE)
    assert (r.status_code, r.text) == (200, "success")
    with world.db.session() as s:
        m = s.scalars(select(Message)).one()
        assert (m.channel, m.sender, m.body, m.external_id) == ("weibo", "2489518277", "你好，我的宽带坏了",
                                                                "text:4000000001")
        t = s.scalars(select(Ticket)).one()
        assert (t.org_unit_id, t.priority) == (world.units["gz"], "normal")
        assert s.scalar(select(OutboxEvent).where(OutboxEvent.name == "channel.public_mention")) is None


def test_a_public_weibo_mention_is_flagged_and_raised_once(client: TestClient, world: World, accounts: None) -> None:
    assert weibo(client, MENTION).text == "success"
    assert weibo(client, MENTION).text == "success"  # the platform pushes again: nothing twice
    with world.db.session() as s:
        t = s.scalars(select(Ticket)).one()
        assert t.priority == "high"
        assert t.subject.startswith("微博公开提及")
        flags = s.scalars(select(OutboxEvent).where(OutboxEvent.name == "channel.public_mention")).all()
        assert [(f.payload["channel"], f.payload["public"], f.payload["media"], f.payload["key"],
                 f.payload["ticket_id"]) for f in flags] == [("weibo", True, True, "4789123456789012", t.id)]
    assert counts(world.db)["messages"] == 1


@pytest.mark.parametrize(("body", "secret", "status", "reason"), [
    (PRIVATE, "wrong-secret", 403, "bad_signature"),
    ("not json", WB_SECRET, 400, "bad_payload: Weibo push is not JSON"),
    ({"type": "text", "text": "无发送者"}, WB_SECRET, 400, "bad_payload: Weibo push without"),
    ({**PRIVATE, "text": ""}, WB_SECRET, 400, "bad_payload: Weibo text without text"),
])
def test_weibo_bad_input_is_refused_kept_and_creates_nothing(client: TestClient, world: World, accounts: None,
                                                             body: dict[str, object] | str, secret: str, status: int,
                                                             reason: str) -> None:
    r = weibo(client, body, secret=secret)
    assert r.status_code == status
    c = counts(world.db)
    assert (c["customers"], c["messages"], c["tickets"], c["rejections"]) == (0, 0, 0, 1)
    with world.db.session() as s:
        rej = s.scalars(select(InboundRejection)).one()
        assert (rej.channel, rej.status_code) == ("weibo", status)
        assert rej.reason.startswith(reason)


def test_weibo_without_a_configured_account_is_404(client: TestClient, world: World) -> None:
    assert weibo(client, PRIVATE).status_code == 404


def test_qq_url_check_is_answered_with_the_signed_token(client: TestClient, world: World, accounts: None) -> None:
    r = qq_post(client, {"op": 13, "d": {"plain_token": "Arq0D5A61EgUu4OxUvOp", "event_ts": "1725442341"}})
    assert r.status_code == 200
    got = r.json()
    assert got["plain_token"] == "Arq0D5A61EgUu4OxUvOp"
    qq.key_of(QQ_SECRET).public_key().verify(bytes.fromhex(got["signature"]), b"1725442341Arq0D5A61EgUu4OxUvOp")
    assert counts(world.db)["messages"] == 0


def test_qq_private_message_and_group_mention(client: TestClient, world: World, accounts: None) -> None:
    r = qq_post(client, {"op": 0, "id": "C2C_MESSAGE_CREATE:1", "t": "C2C_MESSAGE_CREATE", "d": {
        "author": {"user_openid": "E4F4AEA33253A2797FB897C50B81D7ED"}, "content": "话费怎么查？",
        "id": "ROBOT1.0_aaa", "timestamp": "2023-11-06T13:37:18+08:00"}})
    assert (r.status_code, r.json()) == (200, {"op": 12})
    r = qq_post(client, {"op": 0, "id": "GROUP_AT_MESSAGE_CREATE:2", "t": "GROUP_AT_MESSAGE_CREATE", "d": {
        "author": {"member_openid": "M1"}, "content": " 群里好多人宽带都断了", "group_openid": "G1",
        "id": "ROBOT1.0_bbb", "timestamp": "2023-11-06T13:40:00+08:00"}})
    assert r.status_code == 200
    with world.db.session() as s:
        rows = s.execute(select(Message.channel, Message.sender, Message.body).order_by(Message.id)).all()
        assert [tuple(r) for r in rows] == [("im", "E4F4AEA33253A2797FB897C50B81D7ED", "话费怎么查？"),
                                           ("im", "M1", "群里好多人宽带都断了")]
        flag = s.scalars(select(OutboxEvent).where(OutboxEvent.name == "channel.public_mention")).one()
        assert (flag.payload["subtype"], flag.payload["public"], flag.payload["raised_priority"]) == ("group", False,
                                                                                                      False)


def test_qq_forged_signature_is_refused_and_kept(client: TestClient, world: World, accounts: None) -> None:
    r = qq_post(client, {"op": 0, "t": "C2C_MESSAGE_CREATE", "d": {}}, secret="another-bot-secret-000000000")
    assert r.status_code == 403
    c = counts(world.db)
    assert (c["messages"], c["rejections"]) == (0, 1)
