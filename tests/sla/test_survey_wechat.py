"""A satisfaction survey on WeChat goes out as a template notice whose button (url) is the survey's signed
link, through the channels' outbound path, against the local fake WeChat API; the customer answers by that
page or by a reply. Without a configured template it is a customer-service text carrying the link."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from kefu.channels.models import OutboundDelivery
from kefu.core.config import Settings
from kefu.interactions.models import Interaction
from kefu.sla import surveys
from kefu.sla.models import SlaSurvey
from kefu.tickets import service as tickets
from tests.channels.fake_wechat import FakeWeChat
from tests.channels.outbox import settle
from tests.channels.test_wechat import OPENID, post, text
from tests.channels.test_wechat_templates import TEMPLATE, configure, fake, settings  # noqa: F401 (fixtures)
from tests.conftest import World


def _resolved_wechat_ticket(client: TestClient, world: World) -> int:
    r = post(client, text("宽带一直掉线，请帮我看看", msg_id="7001"))
    assert r.status_code == 200, r.text
    settle(world)
    with world.db.session() as s:
        tid = s.scalar(select(Interaction.ticket_id).where(Interaction.channel == "wechat"))
    assert tid is not None
    with world.db.unit_of_work() as s:
        tickets.assign(s, tid, assignee_id=world.users["agent_gz"], actor_id=world.users["sup_gd"])
        tickets.change_status(s, tid, "resolved", actor_id=world.users["agent_gz"], reason="已远程重置端口")
    settle(world)
    return tid


def _survey(world: World, tid: int) -> SlaSurvey:
    with world.db.session() as s:
        survey = s.scalar(select(SlaSurvey).where(SlaSurvey.ticket_id == tid))
    assert survey is not None
    return survey


def test_a_wechat_survey_is_a_template_notice_whose_button_opens_the_signed_survey_page(
        client: TestClient, world: World, settings: Settings, fake: FakeWeChat) -> None:  # noqa: F811
    configure(world, settings, TEMPLATE)
    tid = _resolved_wechat_ticket(client, world)
    survey = _survey(world, tid)
    assert (survey.channel, survey.status) == ("wechat", "sent")
    token = surveys.link_token(settings.secret_key.get_secret_value().encode(), survey)
    link = f"{settings.public_url.rstrip('/')}/s/{token}"
    assert fake.sent == []
    [sent] = fake.template_sent
    assert (sent["touser"], sent["template_id"], sent["url"]) == (OPENID, TEMPLATE, link)
    assert sent["data"]["keyword1"] == {"value": "满意度调查"}
    assert sent["data"]["first"]["value"] == surveys.survey_text(tid, link)
    with world.db.session() as s:
        d = s.scalar(select(OutboundDelivery).where(OutboundDelivery.message_id == survey.message_id))
        assert d is not None
        assert (d.status, d.notice_kind, d.link) == ("sent", "survey", link)

    path = link[len(settings.public_url.rstrip("/")):]
    page = client.get(path)  # the customer taps the template's button
    assert page.status_code == 200
    assert page.text.count('name="choice"') == 5
    done = client.post(path, data={"choice": "1"})
    assert done.status_code == 200
    assert "您的评价：1分 非常不满意" in done.text
    assert (_survey(world, tid).status, _survey(world, tid).choice) == ("answered", 1)
    with world.db.session() as s:
        t = tickets.get(s, tid)
        assert t is not None
        assert t.status == "in_progress"


def test_a_reply_on_wechat_answers_the_survey_and_without_a_template_the_link_rides_in_the_text(
        client: TestClient, world: World, settings: Settings, fake: FakeWeChat) -> None:  # noqa: F811
    tid = _resolved_wechat_ticket(client, world)  # no template configured
    survey = _survey(world, tid)
    assert fake.template_sent == []
    [plain] = fake.sent
    assert "/s/" in plain["text"]["content"]
    assert "5非常满意 4满意 3一般 2不满意 1非常不满意" in plain["text"]["content"]
    assert post(client, text("５", msg_id="7002")).status_code == 200
    settle(world)
    survey = _survey(world, tid)
    assert (survey.status, survey.choice, survey.answer_text) == ("answered", 5, "５")
    with world.db.session() as s:
        t = tickets.get(s, tid)
        assert t is not None
        assert t.status == "resolved"
