"""WeChat official account: URL verification, signed XML messages and events (plain and safe mode), bad
input refused and kept, replies through the customer-service API of a local fake that checks tokens."""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from pydantic import SecretStr
from sqlalchemy import select
from wechatpy.crypto import WeChatCrypto

from kefu.channels.models import OutboundDelivery
from kefu.core.config import Settings
from kefu.core.events import OutboxEvent
from kefu.customers.models import CustomerIdentity
from kefu.interactions.models import InboundRejection, Message
from tests.channels.fake_wechat import FakeWeChat, serve
from tests.channels.outbox import delivery, jobs_with, retry_at, settle
from tests.channels.support import counts
from tests.conftest import World

TOKEN = "kefu-wx-token"
APPID = "wx1234567890abcdef"
SECRET = "0123456789abcdef0123456789abcdef"
AES_KEY = base64.b64encode(b"k" * 32).decode().rstrip("=")
OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
ACCOUNT = "gh_123456789abc"


@pytest.fixture
def fake() -> Iterator[FakeWeChat]:
    with serve(FakeWeChat(APPID, SECRET, followers={OPENID}, followers_silent={"o_silent"})) as f:
        yield f


@pytest.fixture
def settings(settings: Settings, fake: FakeWeChat) -> Iterator[Settings]:
    s = settings.model_copy(update={"wechat_token": TOKEN, "wechat_aes_key": AES_KEY, "wechat_app_id": APPID,
                                    "wechat_app_secret": SecretStr(SECRET), "wechat_api_base": fake.base,
                                    "outbound_backoff_seconds": 10.0})
    with jobs_with(s):
        yield s


def sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def xml(kind: str, inner: str, *, msg_id: str | None = "6054768590064713728", sender: str = OPENID) -> str:
    mid = f"<MsgId>{msg_id}</MsgId>" if msg_id else ""
    return (f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{sender}]]></FromUserName>"
            f"<CreateTime>1700000000</CreateTime><MsgType><![CDATA[{kind}]]></MsgType>{inner}{mid}</xml>")


def text(content: str, msg_id: str = "6054768590064713728", sender: str = OPENID) -> str:
    return xml("text", f"<Content><![CDATA[{content}]]></Content>", msg_id=msg_id, sender=sender)


def event(name: str, extra: str = "") -> str:
    return xml("event", f"<Event><![CDATA[{name}]]></Event>{extra}", msg_id=None)


def post(client: TestClient, body: str, *, token: str = TOKEN, **query: str) -> Response:
    ts, nonce = str(int(time.time())), "1320562132"
    params = {"signature": sign(token, ts, nonce), "timestamp": ts, "nonce": nonce, "openid": OPENID, **query}
    return client.post("/api/v1/channels/wechat", params=params, content=body.encode(),
                       headers={"Content-Type": "text/xml"})


def test_url_verification_echoes_only_with_the_right_signature(client: TestClient, world: World) -> None:
    ts, nonce = "1409304348", "2084418530"
    ok = client.get("/api/v1/channels/wechat", params={"signature": sign(TOKEN, ts, nonce), "timestamp": ts,
                                                       "nonce": nonce, "echostr": "5837397520665"})
    assert (ok.status_code, ok.text) == (200, "5837397520665")
    bad = client.get("/api/v1/channels/wechat", params={"signature": sign("other", ts, nonce), "timestamp": ts,
                                                        "nonce": nonce, "echostr": "5837397520665"})
    assert bad.status_code == 403
    assert bad.json()["error"]["code"] == "bad_signature"
    assert counts(world.db)["rejections"] == 1


def test_a_text_message_is_stored_and_answered_success_once(client: TestClient, world: World) -> None:
    r = post(client, text("宽带一直掉线，请处理"))
    assert (r.status_code, r.text) == (200, "success")
    again = post(client, text("宽带一直掉线，请处理"))  # WeChat retries when it got no answer in 5 s
    assert (again.status_code, again.text) == (200, "success")
    c = counts(world.db)
    assert (c["customers"], c["interactions"], c["messages"], c["tickets"]) == (1, 1, 1, 1)
    with world.db.session() as s:
        m = s.scalars(select(Message)).one()
        assert (m.channel, m.sender, m.body, m.external_id) == ("wechat", OPENID, "宽带一直掉线，请处理",
                                                                "6054768590064713728")
        assert m.sent_at is not None
        assert int(m.sent_at.timestamp()) == 1700000000
        ident = s.scalars(select(CustomerIdentity)).one()
        assert (ident.kind, ident.value) == ("wechat_openid", OPENID)


def test_image_voice_location_become_messages_and_events_open_nothing(client: TestClient, world: World) -> None:
    assert post(client, xml("image", "<PicUrl><![CDATA[http://mmbiz.qpic.cn/x.jpg]]></PicUrl>"
                                     "<MediaId><![CDATA[media_1]]></MediaId>", msg_id="1")).status_code == 200
    assert post(client, xml("voice", "<MediaId><![CDATA[media_2]]></MediaId><Format><![CDATA[amr]]></Format>"
                                     "<Recognition><![CDATA[查话费]]></Recognition>", msg_id="2")).status_code == 200
    assert post(client, xml("location", "<Location_X>23.134521</Location_X><Location_Y>113.358803</Location_Y>"
                                        "<Scale>20</Scale><Label><![CDATA[广州市天河区]]></Label>",
                            msg_id="3")).status_code == 200
    for body in (event("subscribe"), event("unsubscribe"),
                 event("CLICK", "<EventKey><![CDATA[HUMAN_AGENT]]></EventKey>"),
                 event("SCAN", "<EventKey><![CDATA[123]]></EventKey><Ticket><![CDATA[TICKET]]></Ticket>")):
        r = post(client, body)
        assert (r.status_code, r.text) == (200, "success")
    with world.db.session() as s:
        bodies = list(s.scalars(select(Message.body).order_by(Message.id)))
        assert bodies == ["[图片] http://mmbiz.qpic.cn/x.jpg", "[语音 media_2] 查话费",
                          "[位置] 广州市天河区 (23.134521, 113.358803)"]
        evs = [e.payload for e in s.scalars(select(OutboxEvent).where(OutboxEvent.name == "channel.event")
                                            .order_by(OutboxEvent.id))]
        assert [(e["event"], e.get("key"), e.get("scene")) for e in evs] == [
            ("subscribe", None, None), ("unsubscribe", None, None), ("click", "HUMAN_AGENT", None),
            ("scan", None, "123")]
        assert all(e["sender"] == OPENID for e in evs)
    assert counts(world.db)["tickets"] == 1


def test_safe_mode_messages_are_decrypted_and_a_forged_one_refused(client: TestClient, world: World) -> None:
    crypto = WeChatCrypto(TOKEN, AES_KEY, APPID)
    ts, nonce = str(int(time.time())), "98765"
    envelope = crypto.encrypt_message(text("密文消息", msg_id="77"), nonce, ts)
    import xmltodict

    fields = xmltodict.parse(envelope)["xml"]
    body = (f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
            f"<Encrypt><![CDATA[{fields['Encrypt']}]]></Encrypt></xml>")
    query = {"signature": sign(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce, "encrypt_type": "aes",
             "msg_signature": fields["MsgSignature"]}
    r = client.post("/api/v1/channels/wechat", params=query, content=body.encode())
    assert (r.status_code, r.text) == (200, "success")
    forged = client.post("/api/v1/channels/wechat", params={**query, "msg_signature": "0" * 40},
                         content=body.replace(fields["Encrypt"][:8], "AAAAAAAA").encode())
    assert forged.status_code == 403
    c = counts(world.db)
    assert (c["messages"], c["tickets"], c["rejections"]) == (1, 1, 1)
    with world.db.session() as s:
        assert s.scalar(select(Message.body)) == "密文消息"


@pytest.mark.parametrize(("body", "token", "status", "reason"), [
    (text("hi"), "wrong-token", 403, "bad_signature"),
    ("<xml><FromUserName>x</FromUserName><MsgType>text", TOKEN, 400, "bad_payload: malformed WeChat XML"),
    ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><xml>&e;</xml>', TOKEN, 400, "bad_payload: XML with"),
    (text("x", msg_id="", sender=OPENID).replace("<MsgId></MsgId>", ""), TOKEN, 400, "bad_payload: WeChat message"),
    (text("x", msg_id="not-a-number"), TOKEN, 400, "bad_payload: malformed WeChat XML: invalid literal"),
])
def test_bad_input_is_refused_kept_and_creates_nothing(client: TestClient, world: World, body: str, token: str,
                                                       status: int, reason: str) -> None:
    r = post(client, body, token=token)
    assert r.status_code == status
    c = counts(world.db)
    assert (c["customers"], c["messages"], c["tickets"], c["rejections"]) == (0, 0, 0, 1)
    with world.db.session() as s:
        rej = s.scalars(select(InboundRejection)).one()
        assert (rej.channel, rej.status_code) == ("wechat", status)
        assert rej.reason.startswith(reason)
        assert rej.org_unit_id == world.units["gz"]


def _reply(client: TestClient, world: World, body: str) -> int:
    with world.db.session() as s:
        iid = s.scalar(select(Message.interaction_id).order_by(Message.id.desc()).limit(1))
    r = client.post(f"/api/v1/interactions/{iid}/messages", json={"body": body}, headers=world.auth("agent_gz"))
    assert r.status_code == 201, r.text
    mid: int = r.json()["id"]
    return mid


def test_replies_go_through_the_customer_service_api_with_a_valid_token(client: TestClient, world: World,
                                                                        fake: FakeWeChat) -> None:
    post(client, text("查一下话费"))
    first = _reply(client, world, "您本月话费 58 元")
    settle(world)
    assert fake.sent == [{"touser": OPENID, "msgtype": "text", "text": {"content": "您本月话费 58 元"}}]
    assert delivery(world, first).status == "sent"

    fake.expire_tokens()  # the cached token expired: 42001, a new token, the send goes through once
    second = _reply(client, world, "还有其他问题吗？")
    settle(world)
    assert [m["text"]["content"] for m in fake.sent] == ["您本月话费 58 元", "还有其他问题吗？"]
    assert (delivery(world, second).status, fake.token_fetches) == ("sent", 2)

    fake.busy = 1  # system busy: retried later
    third = _reply(client, world, "再见")
    settle(world)
    d = delivery(world, third)
    assert (d.status, d.last_error) == ("queued", "WeChat API -1: system error")
    assert d.next_attempt_at is not None
    retry_at(world, d.next_attempt_at)
    assert delivery(world, third).status == "sent"
    assert len(fake.sent) == 3


def test_a_reply_outside_the_48_hour_window_fails_for_good(client: TestClient, world: World,
                                                          fake: FakeWeChat) -> None:
    post(client, text("在吗", sender="o_silent", msg_id="9"))
    mid = _reply(client, world, "您好")
    settle(world)
    d = delivery(world, mid)
    assert (d.status, d.attempts) == ("failed", 1)
    assert d.last_error == "WeChat API 45015: response out of time limit or subscription is canceled"
    with world.db.session() as s:
        assert s.scalar(select(OutboundDelivery.recipient)) == "o_silent"
    assert fake.sent == []


def test_refused_callbacks_of_one_address_are_kept_up_to_the_limit_then_answered_429(client: TestClient,
                                                                                   world: World) -> None:
    """Forged callbacks (no token: anyone can send them) are refused and kept for inspection, but one address
    gets only `webhook_refusals_per_ip_per_minute` of them kept a minute; beyond, 429 and nothing stored.
    The provider's good callbacks from the same address are never held up."""
    state = client.app.state  # type: ignore[attr-defined]
    state.settings = state.settings.model_copy(update={"webhook_refusals_per_ip_per_minute": 3})
    if time.time() % 60 > 50:  # the count is per minute: keep the test inside one
        time.sleep(61 - time.time() % 60)
    codes = [post(client, text(f"伪造{i}", msg_id=str(7000 + i)), token="forged").status_code for i in range(5)]
    assert codes == [403, 403, 403, 429, 429]
    r = client.get("/api/v1/channels/wechat", params={"signature": "x", "timestamp": "1", "nonce": "2",
                                                      "echostr": "e"})
    assert (r.status_code, r.json()["error"]["code"]) == (429, "too_many_refusals")
    assert post(client, text("查一下话费")).status_code == 200  # signed: accepted as ever
    c = counts(world.db)
    assert (c["rejections"], c["messages"], c["customers"]) == (3, 1, 1)
