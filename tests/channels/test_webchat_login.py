"""Web chat: a visitor logs in with their mobile number (a code sent by SMS through the outbound path), and
then is the customer who wrote by SMS: one customer, one timeline for the agent."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError

from kefu.channels import webchat, webchat_api
from kefu.channels.models import OutboundDelivery
from kefu.core.clock import utcnow
from kefu.core.config import Settings
from kefu.core.db import Database
from kefu.core.events import OutboxEvent
from kefu.customers import linking
from kefu.customers import service as customers_service
from kefu.customers.models import Customer, CustomerIdentity, IdentityLinkCode
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


@contextmanager
def chat(client: TestClient, query: str = "org=GZ") -> Iterator[tuple[Any, dict[str, Any]]]:
    """A widget's connection (the socket and its session frame), closed whatever happens."""
    cm, ws, hello = open_chat(client, query)
    try:
        yield ws, hello
    finally:
        cm.__exit__(None, None, None)


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
    for n in range(3):  # three numbers: one number gets a code a minute at most, whoever asks
        send(ws, type="login", phone=f"1391234000{n + 1}")
        assert until(ws, "login")["state"] == "code_sent"
    send(ws, type="login", phone="13912340004")
    assert until(ws, "error")["code"] == "rate_limited"
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Message).where(Message.channel == "sms")) == 3
    cm.__exit__(None, None, None)


def answer(ws: Any) -> dict[str, Any]:
    """The answer to a login or verify frame: a login frame or an error."""
    for _ in range(10):
        f = json.loads(ws.receive_text())
        if f["type"] in ("login", "error"):
            return dict(f)
    raise AssertionError("no answer")


def _codes(db: Database, phone: str) -> list[IdentityLinkCode]:
    with db.session() as s:
        rows = list(s.scalars(select(IdentityLinkCode).where(IdentityLinkCode.phone == phone)
                              .order_by(IdentityLinkCode.id)))
        s.expunge_all()
        return rows


def _sms_to(world: World, phone: str) -> int:
    settle(world)  # the SMS's delivery is queued by the outbox's consumer
    with world.db.session() as s:
        return s.scalar(select(func.count()).select_from(OutboundDelivery).where(
            OutboundDelivery.channel == "sms", OutboundDelivery.recipient == phone)) or 0


def test_a_number_gets_one_code_a_minute_whichever_visitor_asks(client: TestClient, world: World,
                                                                 db: Database) -> None:
    with chat(client) as (ws1, _):
        send(ws1, type="login", phone="13912340001")
        assert answer(ws1)["state"] == "code_sent"
    for limit in (webchat_api.sessions, webchat_api.logins):  # another process: its own counts of visitors
        limit._log.clear()
    assert _sms_to(world, "+8613912340001") == 1
    before = counts(db)
    with chat(client) as (ws2, _):  # an attacker rotating visitors
        _refused_then_another_number(ws2, db, world, before)


def _refused_then_another_number(ws2: Any, db: Database, world: World, before: dict[str, int]) -> None:
    send(ws2, type="login", phone="139 1234 0001")
    refused = answer(ws2)
    assert (refused["code"], refused["status"]) == ("too_many_codes", 429)
    assert 59 <= refused["retry_after"] <= 60
    wait = refused["retry_after"]
    assert refused["message"] == (f"该号码获取验证码过于频繁，请 {wait} 秒后再试"
                                  f"（too many codes sent to this number; try again in {wait} s）")
    assert len(_codes(db, "+8613912340001")) == 1
    assert _sms_to(world, "+8613912340001") == 1
    assert counts(db) == before  # nothing issued: no code, no SMS, not even the visitor's customer
    send(ws2, type="login", phone="13912340002")  # the limit is the number's, not the visitor's
    assert answer(ws2)["state"] == "code_sent"


def test_a_number_gets_five_codes_an_hour_whichever_visitor_asks(client: TestClient, world: World,
                                                                 db: Database) -> None:
    now = utcnow()
    with db.unit_of_work() as s:  # four codes sent to the number in the last hour, to other visitors
        for n, minutes in enumerate((50, 40, 30, 20)):
            s.add(IdentityLinkCode(kind="webchat", value=f"wc-{n:020x}", phone="+8613912340001", code_hash="0" * 64,
                                   expires_at=now - timedelta(minutes=minutes) + linking.CODE_TTL, attempts=0,
                                   created_at=now - timedelta(minutes=minutes)))
    with chat(client) as (ws1, _):
        send(ws1, type="login", phone="13912340001")
        assert answer(ws1)["state"] == "code_sent"  # the fifth
    with chat(client) as (ws2, _):
        send(ws2, type="login", phone="13912340001")
        refused = answer(ws2)
    assert refused["code"] == "too_many_codes"
    assert 595 <= refused["retry_after"] <= 600  # when the code of 50 minutes ago is an hour old
    assert len(_codes(db, "+8613912340001")) == 5
    assert _sms_to(world, "+8613912340001") == 1


def test_the_wait_for_a_numbers_next_code() -> None:
    at = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    minute, hour = timedelta(minutes=1), timedelta(hours=1)

    def wait(*ago: timedelta) -> float:
        return linking.code_wait([at - a for a in ago], at=at, per_window=5, interval=minute)

    assert wait() == 0.0
    assert wait(timedelta(seconds=61)) == 0.0
    assert wait(timedelta(seconds=15)) == 45.0
    assert wait(*(timedelta(minutes=m) for m in (59, 45, 30, 15))) == 0.0
    assert wait(*(timedelta(minutes=m) for m in (59, 45, 30, 15, 2))) == 60.0
    assert wait(*(timedelta(minutes=m) for m in (70, 59, 45, 30, 15, 2))) == 60.0  # older than an hour: gone
    assert wait(*(timedelta(minutes=m) for m in (55, 45, 30, 15, 5))) == 300.0  # the hour's share: 55 min ago + 1 h
    assert wait(*(timedelta(minutes=m) for m in (55, 45, 30, 15, 5, 1))) == 900.0  # six: until two have gone
    assert wait(hour, hour) == 0.0


def _login_code(client: TestClient, world: World, ws: Any, gateway: FakeGateway, phone: str) -> str:
    send(ws, type="login", phone=phone)
    assert answer(ws)["state"] == "code_sent"
    settle(world)
    found = re.search(r"验证码是 (\d{6})", gateway.handsets[-1]["content"])
    assert found is not None
    return found.group(1)


def _linked(db: Database) -> tuple[list[tuple[int, str]], int]:
    """The web chat addresses linked to a customer, and the identity_linked events."""
    with db.session() as s:
        idents = [(i.customer_id, i.value) for i in s.scalars(
            select(CustomerIdentity).where(CustomerIdentity.kind == "webchat").order_by(CustomerIdentity.id))]
        linked = s.scalar(select(func.count()).select_from(OutboxEvent)
                          .where(OutboxEvent.name == "customer.identity_linked")) or 0
        return idents, linked


def test_a_wrong_expired_or_used_code_links_nothing_and_the_right_one_links_once(
        client: TestClient, world: World, db: Database, gateway: FakeGateway) -> None:
    sms_customer = post_inbound(client, world, "sms", message_id="mo-1", sender="13812345678",
                                text="宽带又断了").json()["customer_id"]
    with chat(client) as (ws, hello):
        _wrong_expired_used(client, world, db, gateway, ws, hello["visitor"], sms_customer)


def _wrong_expired_used(client: TestClient, world: World, db: Database, gateway: FakeGateway, ws: Any,
                        visitor: str, sms_customer: int) -> None:
    send(ws, type="message", id="c1", text="在吗")
    until(ws, "ack")
    with db.session() as s:
        shell = webchat.customer_of(s, visitor)
    before = _linked(db)
    assert before == ([(shell, visitor)], 0)
    code = _login_code(client, world, ws, gateway, "13812345678")
    send(ws, type="verify", phone="13812345678", code="000000" if code != "000000" else "111111")
    assert (answer(ws)["code"], _linked(db)) == ("code_rejected", before)
    [row] = _codes(db, "+8613812345678")
    assert (row.attempts, row.used_at) == (1, None)  # the wrong try counts (committed), nothing else
    with db.unit_of_work() as s:  # the code expires
        s.execute(update(IdentityLinkCode).values(expires_at=utcnow() - timedelta(seconds=1)))
    send(ws, type="verify", phone="13812345678", code=code)
    assert (answer(ws)["code"], _linked(db)) == ("code_rejected", before)
    [row] = _codes(db, "+8613812345678")
    assert (row.attempts, row.used_at) == (1, None)  # a dead code is not tried again

    with db.unit_of_work() as s:
        s.execute(update(IdentityLinkCode).values(expires_at=utcnow() + timedelta(minutes=5)))
    send(ws, type="verify", phone="13812345678", code=code)
    assert answer(ws)["state"] == "linked"
    after = _linked(db)
    assert after == ([(sms_customer, visitor)], 1)
    [row] = _codes(db, "+8613812345678")
    assert (row.attempts, row.used_at is not None) == (2, True)
    send(ws, type="verify", phone="13812345678", code=code)  # used: refused, linked once
    assert answer(ws)["code"] == "code_rejected"
    assert _linked(db) == after


def test_a_login_failing_midway_leaves_nothing_half_written(
        client: TestClient, world: World, db: Database, gateway: FakeGateway, settings: Settings,
        monkeypatch: pytest.MonkeyPatch) -> None:
    sms_customer = post_inbound(client, world, "sms", message_id="mo-1", sender="13812345678",
                                text="宽带又断了").json()["customer_id"]
    with chat(client) as (ws, hello):
        send(ws, type="message", id="c1", text="在吗")
        until(ws, "ack")
        code = _login_code(client, world, ws, gateway, "13812345678")
    visitor = webchat.read_token(settings.secret_key.get_secret_value(), hello["token"], now=int(time.time()))
    before = _linked(db)

    def merge_fails(*_: Any, **__: Any) -> None:  # the database goes away in the middle of the link
        raise OperationalError("merge", {}, Exception("server closed the connection unexpectedly"))

    monkeypatch.setattr(customers_service, "merge", merge_fails)
    conv = webchat_api.Conversation(cast(Any, None), settings, db, visitor)
    with pytest.raises(OperationalError):
        conv._finish_login("13812345678", code)
    assert _linked(db) == before
    [row] = _codes(db, "+8613812345678")
    assert (row.attempts, row.used_at) == (0, None)  # the code is not spent: the visitor tries it again
    monkeypatch.undo()
    with chat(client, f"token={hello['token']}") as (ws, _):  # the visitor again
        send(ws, type="verify", phone="13812345678", code=code)
        assert answer(ws)["state"] == "linked"
    assert _linked(db) == ([(sms_customer, visitor.id)], 1)
