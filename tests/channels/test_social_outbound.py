"""Replies on Weibo (customer-service messages) and QQ (bot OpenAPI), through local fakes that check
tokens, windows and quotas as the platforms do: what reaches the customer, in the platform's format, and
each delivery's status."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from kefu.channels import adapters, config, qq
from kefu.channels.models import OutboundPart
from kefu.core.clock import utcnow
from kefu.core.config import Settings
from kefu.interactions.models import Message
from tests.channels.fake_social import FakeQQ, FakeWeibo, serve
from tests.channels.outbox import delivery, jobs_with, retry_at, settle
from tests.channels.test_social import MENTION, PRIVATE, QQ_SECRET, WB_SECRET, qq_post, weibo
from tests.channels.test_wechat import _reply
from tests.conftest import World

WB_TOKEN = "2.00wb-access-token"
QQ_APP = "102000001"
C2C = {"op": 0, "id": "C2C_MESSAGE_CREATE:1", "t": "C2C_MESSAGE_CREATE", "d": {
    "author": {"user_openid": "E4F4AEA33253A2797FB897C50B81D7ED"}, "content": "话费怎么查？",
    "id": "ROBOT1.0_aaa", "timestamp": "2023-11-06T13:37:18+08:00"}}
GROUP = {"op": 0, "id": "GROUP_AT_MESSAGE_CREATE:2", "t": "GROUP_AT_MESSAGE_CREATE", "d": {
    "author": {"member_openid": "M1"}, "content": "群里宽带都断了", "group_openid": "G1", "id": "ROBOT1.0_bbb",
    "timestamp": "2023-11-06T13:40:00+08:00"}}


@pytest.fixture
def wb() -> Iterator[FakeWeibo]:
    with serve(FakeWeibo(WB_TOKEN)) as f:
        yield f


@pytest.fixture
def qqapi() -> Iterator[FakeQQ]:
    with serve(FakeQQ(QQ_APP, QQ_SECRET)) as f:
        yield f


@pytest.fixture
def accounts(world: World, settings: Settings, wb: FakeWeibo, qqapi: FakeQQ) -> Iterator[None]:
    """Both accounts configured on the console for the province, the API bases pointing at the fakes."""
    with world.db.unit_of_work() as s:
        config.save(s, settings, org_unit_id=world.units["province"], channel="weibo",
                    form={"weibo_app_secret": WB_SECRET, "weibo_access_token": WB_TOKEN, "weibo_api_base": wb.base},
                    actor_id=None, at=utcnow())
        config.save(s, settings, org_unit_id=world.units["province"], channel="im",
                    form={"qq_app_id": QQ_APP, "qq_bot_secret": QQ_SECRET, "qq_api_base": qqapi.base,
                          "qq_auth_base": qqapi.base}, actor_id=None, at=utcnow())
    with jobs_with(settings.model_copy(update={"outbound_backoff_seconds": 10.0})):
        yield


def test_a_weibo_reply_is_a_customer_service_message_split_at_300_characters(
        client: TestClient, world: World, accounts: None, wb: FakeWeibo) -> None:
    assert weibo(client, PRIVATE).text == "success"
    wb.wrote["2489518277"] = utcnow()
    first = _reply(client, world, "您好，宽带故障已报修")
    long = _reply(client, world, "很" * 650)
    settle(world)
    assert wb.sent[0] == {"receiver_id": "2489518277", "text": "您好，宽带故障已报修", "save_sender_box": "1"}
    assert [len(m["text"]) for m in wb.sent[1:]] == [299, 299, 52]
    assert "".join(m["text"] for m in wb.sent[1:]) == "很" * 650
    assert (delivery(world, first).status, delivery(world, long).status) == ("sent", "sent")


def test_a_weibo_mention_is_answered_once_and_a_busy_api_is_tried_again(
        client: TestClient, world: World, accounts: None, wb: FakeWeibo) -> None:
    assert weibo(client, MENTION).text == "success"
    wb.mentioned["3311223344"] = utcnow()
    wb.busy = 1
    first = _reply(client, world, "您好，已安排专人处理骚扰电话问题")
    settle(world)
    d = delivery(world, first)
    assert (d.status, d.last_error) == ("queued", "Weibo API 500 10001: system error")
    assert d.next_attempt_at is not None
    retry_at(world, d.next_attempt_at)
    assert delivery(world, first).status == "sent"
    second = _reply(client, world, "请问还有其他问题吗")  # a mention gets one reply
    settle(world)
    d = delivery(world, second)
    assert (d.status, d.attempts, d.last_error) == ("failed", 1,
                                                    "Weibo API 400 20015: no message quota for this receiver")
    assert [m["text"] for m in wb.sent] == ["您好，已安排专人处理骚扰电话问题"]


def _parts(world: World, delivery_id: int) -> list[str]:
    with world.db.session() as s:
        return list(s.scalars(select(OutboundPart.provider_id).where(OutboundPart.delivery_id == delivery_id)
                              .order_by(OutboundPart.id)))


def test_a_long_weibo_reply_failing_after_its_first_text_sends_only_the_rest_on_the_retry(
        client: TestClient, world: World, accounts: None, wb: FakeWeibo) -> None:
    assert weibo(client, PRIVATE).text == "success"
    wb.wrote["2489518277"] = utcnow()
    body = "".join(chr(0x4E00 + i) for i in range(650))  # 650 different characters: 299 + 299 + 52
    wb.busy_after = 1  # the API takes the first text, then answers "system error" once
    long = _reply(client, world, body)
    settle(world)
    d = delivery(world, long)
    assert (d.status, d.attempts, d.last_error) == ("queued", 1, "Weibo API 500 10001: system error")
    assert [m["text"] for m in wb.sent] == [body[:299]]
    assert _parts(world, d.id) == [f"{d.key}:1/3"]
    assert d.next_attempt_at is not None
    retry_at(world, d.next_attempt_at)
    d = delivery(world, long)
    assert (d.status, d.attempts) == ("sent", 2)
    assert [m["text"] for m in wb.sent] == [body[:299], body[299:598], body[598:]]  # each text once, in order
    assert _parts(world, d.id) == [f"{d.key}:1/3", f"{d.key}:2/3", f"{d.key}:3/3"]


def test_a_long_weibo_reply_refused_after_its_first_text_fails_and_keeps_what_was_sent(
        client: TestClient, world: World, accounts: None, wb: FakeWeibo) -> None:
    assert weibo(client, MENTION).text == "success"
    wb.mentioned["3311223344"] = utcnow()  # a mention gets one text: the second is refused for good
    long = _reply(client, world, "谢" * 400)
    settle(world)
    d = delivery(world, long)
    assert (d.status, d.attempts, d.last_error) == ("failed", 1,
                                                    "Weibo API 400 20015: no message quota for this receiver")
    assert [len(m["text"]) for m in wb.sent] == [299]
    assert _parts(world, d.id) == [f"{d.key}:1/2"]


def test_a_weibo_reply_to_a_fan_who_unfollowed_fails_for_good(client: TestClient, world: World, accounts: None,
                                                              wb: FakeWeibo) -> None:
    weibo(client, PRIVATE)
    wb.wrote["2489518277"] = utcnow()
    wb.unfollowed.add("2489518277")
    mid = _reply(client, world, "您好")
    settle(world)
    d = delivery(world, mid)
    assert (d.status, d.last_error) == ("failed", "Weibo API 400 20016: receiver unfollowed")
    assert wb.sent == []


def test_a_qq_reply_within_the_window_is_passive_and_names_the_message(
        client: TestClient, world: World, accounts: None, qqapi: FakeQQ) -> None:
    qq_post(client, C2C)
    qqapi.received["ROBOT1.0_aaa"] = ("E4F4AEA33253A2797FB897C50B81D7ED", utcnow())
    mid = _reply(client, world, "发送 CXHF 到 10086 即可查询")
    settle(world)
    [sent] = qqapi.sent
    d = delivery(world, mid)
    assert {k: sent[k] for k in ("to", "kind", "content", "msg_type", "msg_id")} == {
        "to": "E4F4AEA33253A2797FB897C50B81D7ED", "kind": "users", "content": "发送 CXHF 到 10086 即可查询",
        "msg_type": 0, "msg_id": "ROBOT1.0_aaa"}
    assert sent["msg_seq"] == int(d.key[:6], 16) % 65535 + 1
    assert d.status == "sent"
    with world.db.session() as s:
        assert s.scalars(select(OutboundPart.provider_id).where(OutboundPart.delivery_id == d.id)).all() == \
            ["ROBOT1.0_out1"]


def test_a_qq_group_mention_is_answered_in_the_group(client: TestClient, world: World, accounts: None,
                                                     qqapi: FakeQQ) -> None:
    qq_post(client, GROUP)
    qqapi.received["ROBOT1.0_bbb"] = ("G1", utcnow())
    mid = _reply(client, world, "已收到，正在排查片区故障")
    settle(world)
    assert [(m["to"], m["kind"], m["msg_id"]) for m in qqapi.sent] == [("G1", "groups", "ROBOT1.0_bbb")]
    assert delivery(world, mid).status == "sent"


def test_a_late_qq_reply_is_an_active_message_until_the_monthly_quota_is_used(
        client: TestClient, world: World, accounts: None, qqapi: FakeQQ) -> None:
    qq_post(client, C2C)
    two_hours_ago = utcnow() - timedelta(hours=2)
    qqapi.received["ROBOT1.0_aaa"] = ("E4F4AEA33253A2797FB897C50B81D7ED", two_hours_ago)
    with world.db.unit_of_work() as s:  # the customer wrote two hours ago
        s.execute(update(Message).where(Message.external_id == "ROBOT1.0_aaa").values(created_at=two_hours_ago))
    mids = [_reply(client, world, f"回复{i}") for i in range(5)]
    settle(world)
    assert [("msg_id" in m, m["content"]) for m in qqapi.sent] == [(False, f"回复{i}") for i in range(4)]
    assert [delivery(world, m).status for m in mids] == ["sent"] * 4 + ["failed"]
    assert delivery(world, mids[4]).last_error == "QQ API 400 22009: msg limit exceed"


def test_a_revoked_qq_token_is_fetched_again_and_a_repeated_attempt_is_not_sent_twice(
        settings: Settings, qqapi: FakeQQ) -> None:
    s = settings.model_copy(update={"qq_app_id": QQ_APP, "qq_bot_secret": config.SecretStr(QQ_SECRET),
                                    "qq_api_base": qqapi.base, "qq_auth_base": qqapi.base})
    qqapi.received["m1"] = ("U1", utcnow())
    a = adapters.adapter_for(s, qq.CHANNEL)
    assert isinstance(a, qq.QQAdapter)
    out = adapters.Outbound(message_id=1, channel="im", to="U1", body="您好", key="abcdef0123",
                            thread_ref="m1", thread_age=10.0)
    assert a.send(out).provider_ids == ("ROBOT1.0_out1",)
    qqapi.revoke_tokens()
    # The process died after the platform took it: the next attempt, same key, is dropped as a repeat.
    assert a.send(out).provider_ids == ()
    assert (len(qqapi.sent), qqapi.token_fetches) == (1, 2)
