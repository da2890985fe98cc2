"""Web chat: a visitor logs in with their mobile number (a code sent by SMS through the outbound path), and
then is the customer who wrote by SMS: one customer, one timeline for the agent."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import func, select

from kefu.channels import webchat, webchat_api
from kefu.core.config import Settings
from kefu.core.db import Database
from kefu.customers.models import Customer, CustomerIdentity
from kefu.interactions.models import Message
from tests.channels.fake_sms import FakeGateway, serve
from tests.channels.outbox import jobs_with, settle
from tests.channels.support import counts, post_inbound
from tests.channels.test_webchat import open_chat, until
from tests.conftest import World


@pytest.fixture(autouse=True)
def _fresh_limits() -> None:
    for w in (webchat_api.sessions, webchat_api.messages, webchat_api.frames, webchat_api.logins):
        w._log.clear()


@pytest.fixture
def gateway() -> Iterator[FakeGateway]:
    with serve(FakeGateway("gw-secret")) as g:
        yield g


@pytest.fixture
def settings(settings: Settings, gateway: FakeGateway) -> Iterator[Settings]:
    s = settings.model_copy(update={"sms_gateway_url": gateway.url, "sms_gateway_token": SecretStr("gw-secret")})
    with jobs_with(s):
        yield s


def send(ws: Any, **frame: Any) -> None:
    ws.send_text(json.dumps(frame, ensure_ascii=False))


def test_a_visitor_who_logs_in_with_their_number_is_the_customer_who_wrote_by_sms(
        client: TestClient, world: World, db: Database, gateway: FakeGateway) -> None:
    r = post_inbound(client, world, "sms", message_id="mo-1", sender="13812345678", text="宽带又断了")
    assert r.status_code in (200, 201), r.text
    sms_customer = r.json()["customer_id"]
    cm, ws, hello = open_chat(client)
    visitor = hello["visitor"]
    send(ws, type="sync", after=0)
    send(ws, type="message", id="c1", text="我刚才发过短信，宽带的事")
    until(ws, "ack")
    with db.session() as s:
        shell = webchat.customer_of(s, visitor)
    assert shell is not None
    assert shell != sms_customer  # an anonymous visitor: a customer of its own

    send(ws, type="login", phone="138 1234 5678")
    sent = until(ws, "login")
    assert (sent["state"], sent["phone"]) == ("code_sent", "138****5678")
    settle(world)  # the code goes out through the SMS adapter
    [sms] = gateway.handsets
    assert sms["mobile"] == "13812345678"
    found = re.search(r"验证码是 (\d{6})", sms["content"])
    assert found is not None
    code = found.group(1)

    send(ws, type="verify", phone="13812345678", code="000000" if code != "000000" else "111111")
    wrong = until(ws, "error")
    assert (wrong["code"], wrong["tries_left"]) == ("code_rejected", 4)
    send(ws, type="verify", phone="13812345678", code=code)
    assert until(ws, "login")["state"] == "linked"
    with db.session() as s:
        assert webchat.customer_of(s, visitor) == sms_customer
        ident = s.scalars(select(CustomerIdentity).where(CustomerIdentity.kind == "webchat")).one()
        assert (ident.customer_id, ident.value) == (sms_customer, visitor)
        merged = s.get(Customer, shell)
        assert merged is not None
        assert merged.merged_into_id == sms_customer

    send(ws, type="message", id="c2", text="现在能帮我看看吗")
    ack = until(ws, "ack")
    assert [m["id"] for m in until(ws, "messages")["items"]] == [ack["message_id"]]
    with db.session() as s:
        m = s.get(Message, ack["message_id"])
        assert m is not None
        assert m.channel == "webchat"
    # the agent sees one customer: the SMS, the chat before and after the login, the code's SMS on one timeline
    r = client.get(f"/api/v1/customers/{sms_customer}/timeline", headers=world.auth("admin"))
    assert r.status_code == 200, r.text
    channels = sorted((e["channel"], e["direction"]) for e in r.json()["items"] if e["kind"] == "interaction")
    assert channels == [("sms", "inbound"), ("sms", "outbound"), ("webchat", "inbound"), ("webchat", "inbound")]
    send(ws, type="sync", after=0)  # and the visitor still sees the whole conversation
    assert [m["body"] for m in until(ws, "messages")["items"]] == ["我刚才发过短信，宽带的事", "现在能帮我看看吗"]
    cm.__exit__(None, None, None)


@pytest.mark.parametrize(("phone", "code"), [("010-12345678", "invalid_phone"), ("+1 202 555 0143", "invalid_phone"),
                                             ("12345", "invalid_phone")])
def test_only_a_chinese_mobile_number_gets_a_code(client: TestClient, world: World, db: Database,
                                                  gateway: FakeGateway, phone: str, code: str) -> None:
    cm, ws, _ = open_chat(client)
    before = counts(db)
    send(ws, type="login", phone=phone)
    assert until(ws, "error")["code"] == code
    settle(world)
    assert gateway.handsets == []
    assert counts(db) == before
    cm.__exit__(None, None, None)


def test_a_visitor_may_ask_for_three_codes_in_ten_minutes(client: TestClient, world: World, db: Database) -> None:
    cm, ws, _ = open_chat(client)
    for _ in range(3):
        send(ws, type="login", phone="13912340001")
        assert until(ws, "login")["state"] == "code_sent"
    send(ws, type="login", phone="13912340001")
    assert until(ws, "error")["code"] == "rate_limited"
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Message).where(Message.channel == "sms")) == 3
    cm.__exit__(None, None, None)
