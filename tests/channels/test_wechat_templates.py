"""WeChat notices as template messages (模板消息): a notice kefu sends on its own (a survey, a handoff link)
goes through the template API with the unit's configured template, also outside the 48-hour window of
the customer-service API; its result comes back as TEMPLATESENDJOBFINISH and sets the delivery's status.
An agent's reply stays a customer-service message. Against the local fake, which checks what the real
API checks (token, follower, template id, data format)."""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from kefu.channels import config
from kefu.channels.models import OutboundPart
from kefu.core.clock import utcnow
from kefu.core.config import Settings
from kefu.interactions import service as interactions
from tests.channels.fake_wechat import FakeWeChat, serve
from tests.channels.outbox import delivery, jobs_with, settle
from tests.channels.test_wechat import APPID, OPENID, SECRET, TOKEN, post, text, xml
from tests.conftest import World

TEMPLATE = "TPL_service_notice_0001"


@pytest.fixture
def fake() -> Iterator[FakeWeChat]:
    with serve(FakeWeChat(APPID, SECRET, followers={OPENID}, followers_silent={"o_silent"},
                          templates={TEMPLATE}, unsubscribed={"o_gone"})) as f:
        yield f


@pytest.fixture
def settings(settings: Settings, fake: FakeWeChat) -> Iterator[Settings]:
    s = settings.model_copy(update={"wechat_token": TOKEN, "wechat_app_id": APPID,
                                    "wechat_app_secret": SecretStr(SECRET), "wechat_api_base": fake.base})
    with jobs_with(s):
        yield s


def configure(world: World, settings: Settings, template: str) -> None:
    with world.db.unit_of_work() as s:
        config.save(s, settings, org_unit_id=world.units["province"], channel="wechat",
                    form={"wechat_notice_template": template}, actor_id=None, at=utcnow())


def notice(client: TestClient, world: World, sender: str, body: str, kind: str = "survey") -> int:
    r = post(client, text("宽带已经修好了", msg_id=str(zlib.crc32(sender.encode())), sender=sender))
    assert r.status_code == 200, r.text
    with world.db.unit_of_work() as s:
        from kefu.interactions.models import Interaction, Message

        iid = s.scalar(select(Message.interaction_id).where(Message.sender == sender))
        assert iid is not None
        it = s.get(Interaction, iid)
        assert it is not None
        mid = interactions.send_notice(s, iid, body=body, kind=kind).id
    settle(world)
    return mid


def job_finish(msg_id: int, status: str, sender: str = OPENID) -> str:
    return xml("event", f"<Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event><MsgID>{msg_id}</MsgID>"
                        f"<Status><![CDATA[{status}]]></Status>", msg_id=None, sender=sender)


def test_a_notice_goes_as_a_template_message_and_its_job_result_sets_the_delivery(
        client: TestClient, world: World, settings: Settings, fake: FakeWeChat) -> None:
    configure(world, settings, TEMPLATE)
    mid = notice(client, world, OPENID, "请您对本次服务评价：回复1-5分")
    assert fake.sent == []
    assert len(fake.template_sent) == 1
    sent = fake.template_sent[0]
    assert (sent["touser"], sent["template_id"]) == (OPENID, TEMPLATE)
    assert sent["data"]["first"] == {"value": "请您对本次服务评价：回复1-5分"}
    assert sent["data"]["keyword1"] == {"value": "满意度调查"}
    assert delivery(world, mid).status == "sent"
    with world.db.session() as s:
        assert s.scalar(select(OutboundPart.provider_id)) == "tpl:200001"

    r = post(client, job_finish(200001, "success"))
    assert (r.status_code, r.text) == (200, "success")
    assert delivery(world, mid).status == "delivered"


def test_a_notice_reaches_a_follower_outside_the_48_hours_and_a_blocked_one_fails(
        client: TestClient, world: World, settings: Settings, fake: FakeWeChat) -> None:
    configure(world, settings, TEMPLATE)
    mid = notice(client, world, "o_silent", "您的宽带工单已处理完毕")
    assert [t["touser"] for t in fake.template_sent] == ["o_silent"]
    assert delivery(world, mid).status == "sent"
    post(client, job_finish(200001, "failed:user block", sender="o_silent"))
    d = delivery(world, mid)
    assert (d.status, d.last_error) == ("failed", "delivery_report: failed:user block")


def test_a_wrong_template_id_fails_for_good_and_without_one_a_notice_is_a_customer_service_message(
        client: TestClient, world: World, settings: Settings, fake: FakeWeChat) -> None:
    plain = notice(client, world, OPENID, "您的工单已受理")  # no template configured
    assert [m["text"]["content"] for m in fake.sent] == ["您的工单已受理"]
    assert delivery(world, plain).status == "sent"

    configure(world, settings, "TPL_not_ours")
    wrong = notice(client, world, OPENID, "请评价", kind="survey")
    d = delivery(world, wrong)
    assert (d.status, d.attempts, d.last_error) == ("failed", 1, "WeChat API 40037: invalid template_id")
    assert fake.template_sent == []


def test_an_agents_reply_stays_a_customer_service_message(client: TestClient, world: World, settings: Settings,
                                                          fake: FakeWeChat) -> None:
    configure(world, settings, TEMPLATE)
    post(client, text("在吗"))
    with world.db.session() as s:
        from kefu.interactions.models import Message

        iid = s.scalar(select(Message.interaction_id))
    r = client.post(f"/api/v1/interactions/{iid}/messages", json={"body": "在的，请讲"},
                    headers=world.auth("agent_gz"))
    assert r.status_code == 201, r.text
    settle(world)
    assert [m["text"]["content"] for m in fake.sent] == ["在的，请讲"]
    assert fake.template_sent == []
