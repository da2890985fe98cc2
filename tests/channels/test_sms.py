"""SMS over an HTTP gateway: MO messages (long ones reassembled), submissions split above 70 Chinese
characters, delivery reports per message id, retries; the split and the header as pure functions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr
from sqlalchemy import func, select

from kefu.channels import sms
from kefu.channels.models import SmsFragment
from kefu.core.config import Settings
from kefu.interactions.models import InboundRejection, Message
from tests.channels.fake_sms import FakeGateway, serve
from tests.channels.outbox import delivery, jobs_with, retry_at, settle
from tests.channels.support import counts
from tests.conftest import World

LONG = "尊敬的客户：您好！您反映的宽带故障已经处理完毕，维修人员已更换光猫，请您重启设备后再试。" * 2


@pytest.fixture
def gateway() -> Iterator[FakeGateway]:
    with serve(FakeGateway("gw-secret")) as g:
        yield g


@pytest.fixture
def settings(settings: Settings, gateway: FakeGateway) -> Iterator[Settings]:
    s = settings.model_copy(update={"sms_gateway_url": gateway.url, "sms_gateway_token": SecretStr("gw-secret"),
                                    "outbound_backoff_seconds": 5.0})
    with jobs_with(s):
        yield s


def mo(client: TestClient, world: World, *messages: dict[str, Any], who: str = "admin") -> Any:
    return client.post("/api/v1/channels/sms/mo", json={"messages": list(messages)}, headers=world.auth(who))


def test_mo_messages_are_stored_once(client: TestClient, world: World) -> None:
    r = mo(client, world, {"msg_id": "mo-1", "mobile": "13812345678", "content": "查询话费",
                           "time": "2026-12-06T10:00:00+08:00"})
    assert (r.status_code, r.json()) == (202, {"stored": 1, "duplicates": 0})
    r = mo(client, world, {"msg_id": "mo-1", "mobile": "13812345678", "content": "查询话费"})
    assert r.json() == {"stored": 0, "duplicates": 1}
    with world.db.session() as s:
        m = s.scalars(select(Message)).one()
        assert (m.sender, m.body, m.channel) == ("+8613812345678", "查询话费", "sms")
    assert client.post("/api/v1/channels/sms/mo", json={"messages": []}).status_code == 401


def test_a_concatenated_sms_is_reassembled_in_any_order(client: TestClient, world: World) -> None:
    parts = sms.split(LONG)
    assert len(parts) == 2
    second = {"msg_id": "mo-b", "mobile": "13812345678", "content": parts[1],
              "concat": {"ref": 7, "total": 2, "seq": 2}}
    first = {"msg_id": "mo-a", "mobile": "13812345678", "content": parts[0],
             "concat": {"ref": 7, "total": 2, "seq": 1}}
    assert mo(client, world, second).json() == {"stored": 0, "duplicates": 0}
    assert mo(client, world, second).json() == {"stored": 0, "duplicates": 0}  # a repeated part
    assert counts(world.db)["messages"] == 0
    assert mo(client, world, first).json() == {"stored": 1, "duplicates": 0}
    with world.db.session() as s:
        m = s.scalars(select(Message)).one()
        assert (m.body, m.external_id) == (LONG, "mo-a")
        assert s.scalar(select(func.count()).select_from(SmsFragment)) == 0


@pytest.mark.parametrize("body", [b"{", b'{"messages": [{"mobile": "138"}]}', b'{"messages": [{"msg_id": "x", '
                                  b'"mobile": "12", "content": "hi"}]}'])
def test_bad_gateway_posts_are_refused_kept_and_create_nothing(client: TestClient, world: World, body: bytes) -> None:
    r = client.post("/api/v1/channels/sms/mo", content=body,
                    headers={**world.auth("admin"), "Content-Type": "application/json"})
    assert r.status_code in (400, 422)
    c = counts(world.db)
    assert (c["messages"], c["customers"], c["rejections"]) == (0, 0, 1)
    with world.db.session() as s:
        assert s.scalars(select(InboundRejection.channel)).one() == "sms"


def test_a_long_reply_is_split_sent_and_delivered_when_every_part_is(client: TestClient, world: World,
                                                                     gateway: FakeGateway) -> None:
    r = mo(client, world, {"msg_id": "mo-1", "mobile": "13812345678", "content": "宽带坏了"})
    with world.db.session() as s:
        iid = s.scalar(select(Message.interaction_id))
    gateway.down = 1
    sent = client.post(f"/api/v1/interactions/{iid}/messages", json={"body": LONG}, headers=world.auth("agent_gz"))
    assert sent.status_code == 201
    mid = sent.json()["id"]
    settle(world)
    d = delivery(world, mid)
    assert (d.status, d.last_error) == ("queued", 'SMS gateway 503: {"error": "busy"}')
    assert d.next_attempt_at is not None
    retry_at(world, d.next_attempt_at)
    d = delivery(world, mid)
    assert d.status == "sent"
    assert [(h["mobile"], h["content"], h["concat"]) for h in gateway.handsets] == [
        ("13812345678", sms.split(LONG)[0], {"ref": gateway.handsets[0]["concat"]["ref"], "total": 2, "seq": 1}),
        ("13812345678", sms.split(LONG)[1], {"ref": gateway.handsets[0]["concat"]["ref"], "total": 2, "seq": 2})]

    r = client.post("/api/v1/channels/sms/reports", json={"reports": [{"msg_id": "G00000001", "status": "DELIVRD"}]},
                    headers=world.auth("admin"))
    assert (r.status_code, r.json()) == (202, {"matched": 1})
    assert delivery(world, mid).status == "sent"
    r = client.post("/api/v1/channels/sms/reports", json={"reports": [{"msg_id": "G00000002", "status": "DELIVRD"},
                                                                      {"msg_id": "unknown", "status": "DELIVRD"}]},
                    headers=world.auth("admin"))
    assert r.json() == {"matched": 1}
    assert delivery(world, mid).status == "delivered"


def test_an_undelivered_report_fails_the_delivery(client: TestClient, world: World, gateway: FakeGateway) -> None:
    mo(client, world, {"msg_id": "mo-1", "mobile": "13812345678", "content": "停机了"})
    with world.db.session() as s:
        iid = s.scalar(select(Message.interaction_id))
    mid = client.post(f"/api/v1/interactions/{iid}/messages", json={"body": "已复机"},
                      headers=world.auth("agent_gz")).json()["id"]
    settle(world)
    r = client.post("/api/v1/channels/sms/reports", json={"reports": [{"msg_id": "G00000001", "status": "UNDELIV"}]},
                    headers=world.auth("admin"))
    assert r.json() == {"matched": 1}
    d = delivery(world, mid)
    assert (d.status, d.last_error) == ("failed", "delivery_report: UNDELIV")


@given(st.text(min_size=0, max_size=400))
def test_split_keeps_the_text_and_every_part_fits(text: str) -> None:
    parts = sms.split(text)
    assert "".join(parts) == text
    limit = (sms.GSM_SINGLE, sms.GSM_PART) if sms.is_gsm(text) else (sms.UCS2_SINGLE, sms.UCS2_PART)
    if len(parts) == 1:
        assert sms._units(text) <= limit[0] or len(text) == 0
    else:
        assert sms._units(text) > limit[0]
        assert all(0 < sms._units(p) <= limit[1] for p in parts)


def test_split_thresholds() -> None:
    assert sms.split("话" * 70) == ["话" * 70]
    assert sms.split("话" * 71) == ["话" * 67, "话" * 4]
    assert sms.split("a" * 160) == ["a" * 160]
    assert [len(p) for p in sms.split("a" * 161)] == [153, 8]


@given(st.integers(0, 255), st.integers(1, 255), st.integers(1, 255), st.binary(max_size=20))
def test_udh_round_trips(ref: int, total: int, seq: int, rest: bytes) -> None:
    assert sms.parse_udh(sms.udh(ref, total, seq) + rest) == ((ref, total, seq), rest)


def test_a_long_sms_missing_a_part_is_stored_with_the_gap_marked_after_the_wait(client: TestClient,
                                                                                world: World) -> None:
    from datetime import timedelta

    from kefu.core.clock import utcnow
    from kefu.jobs import registry

    mo(client, world, {"msg_id": "p1", "mobile": "13812345678", "content": "第一段",
                       "concat": {"ref": 5, "total": 3, "seq": 1}},
       {"msg_id": "p3", "mobile": "13812345678", "content": "第三段", "concat": {"ref": 5, "total": 3, "seq": 3}})
    now = utcnow()
    registry.run_periodic(world.db, "channels.sms_fragments", now + timedelta(minutes=5))
    assert counts(world.db)["messages"] == 0  # still waiting
    registry.run_periodic(world.db, "channels.sms_fragments", now + timedelta(minutes=11))
    with world.db.session() as s:
        m = s.scalars(select(Message)).one()
        assert (m.body, m.external_id, m.sender) == ("第一段[第2段缺失]第三段", "p1", "+8613812345678")
        assert s.scalar(select(func.count()).select_from(SmsFragment)) == 0
    assert counts(world.db)["tickets"] == 1
