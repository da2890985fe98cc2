"""Satisfaction callbacks end to end on a real database: SMS in, resolve, survey out, answer in."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from kefu.channels import inbound
from kefu.channels.inbound import InboundMessage
from kefu.core.clock import utcnow
from kefu.core.config import Settings
from kefu.core.events import OutboxEvent, bus
from kefu.interactions.models import Message
from kefu.jobs import registry
from kefu.sla import surveys
from kefu.sla.models import SlaSurvey
from kefu.tickets import service as tickets
from tests.conftest import World

PHONE = "13800138000"


@pytest.fixture
def w(world: World) -> World:
    registry.load()
    return world


def _sms(w: World, settings: Settings, text: str, sender: str = PHONE) -> inbound.InboundResult:
    msg = InboundMessage(message_id=f"m-{time.monotonic_ns()}", sender=sender, text=text, org_unit_code="GZ")
    with w.db.unit_of_work() as s:
        r = inbound.receive_retrying(s, settings, "sms", msg)
    bus.dispatch_pending(w.db)
    return r


def _resolve(w: World, ticket_id: int) -> None:
    with w.db.unit_of_work() as s:
        tickets.assign(s, ticket_id, assignee_id=w.users["agent_gz"], actor_id=w.users["sup_gd"])
        tickets.change_status(s, ticket_id, "resolved", actor_id=w.users["agent_gz"], reason="已退还多扣话费")
    bus.dispatch_pending(w.db)


def _survey(w: World, ticket_id: int) -> SlaSurvey | None:
    with w.db.session() as s:
        return s.scalar(select(SlaSurvey).where(SlaSurvey.ticket_id == ticket_id))


def _status(w: World, ticket_id: int) -> str:
    with w.db.session() as s:
        t = tickets.get(s, ticket_id)
        assert t is not None
        return t.status


def test_a_resolved_sms_ticket_gets_a_survey_and_a_satisfied_answer_keeps_it_resolved(
        w: World, settings: Settings) -> None:
    tid = _sms(w, settings, "这个月话费多扣了20元，请核实").ticket_id
    assert tid is not None
    _resolve(w, tid)
    survey = _survey(w, tid)
    assert survey is not None
    assert (survey.status, survey.channel, survey.agent_id) == ("sent", "sms", w.users["agent_gz"])
    with w.db.session() as s:
        out = s.get(Message, survey.message_id)
        assert out is not None
        assert (out.direction, out.author_id) == ("outbound", None)
        assert "回复1-5分：5非常满意 4满意 3一般 2不满意 1非常不满意，或点击 http://" in out.body
        assert f"/s/{surveys.link_token(settings.secret_key.get_secret_value().encode(), survey)} 评价。" in out.body
    _sms(w, settings, "５ 非常满意，谢谢")
    survey = _survey(w, tid)
    assert survey is not None
    assert (survey.status, survey.choice) == ("answered", 5)
    assert _status(w, tid) == "resolved"  # the answer is not a new problem
    with w.db.session() as s:
        [row] = surveys.csat_by_agent(s, since=utcnow() - timedelta(hours=1), until=utcnow() + timedelta(hours=1))
        assert (row.agent_id, row.sent, row.answered, row.satisfied, row.csat, row.average) == (
            w.users["agent_gz"], 1, 1, 1, 1.0, 5.0)


def test_an_unsatisfied_answer_reopens_the_ticket_and_tells_the_supervisor(w: World, settings: Settings) -> None:
    tid = _sms(w, settings, "宽带一直掉线").ticket_id
    assert tid is not None
    _resolve(w, tid)
    _sms(w, settings, "不满意！问题根本没解决")
    survey = _survey(w, tid)
    assert survey is not None
    assert (survey.status, survey.choice) == ("answered", 2)
    assert _status(w, tid) == "in_progress"
    with w.db.session() as s:
        names = [e.name for e in s.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == tid,
                                                                     OutboxEvent.aggregate_type == "ticket"))]
    assert "survey.unsatisfied" in names


def test_a_message_that_is_not_an_answer_leaves_the_survey_waiting(w: World, settings: Settings) -> None:
    tid = _sms(w, settings, "流量包怎么退订").ticket_id
    assert tid is not None
    _resolve(w, tid)
    _sms(w, settings, "我还想问一下国际漫游怎么开通")
    survey = _survey(w, tid)
    assert survey is not None
    assert (survey.status, survey.choice) == ("sent", None)
    assert _status(w, tid) == "in_progress"  # a new question reopens as before


def test_one_survey_a_week_per_customer_and_unanswered_surveys_expire(w: World, settings: Settings) -> None:
    first = _sms(w, settings, "话费查询").ticket_id
    assert first is not None
    _resolve(w, first)
    with w.db.unit_of_work() as s:
        second = tickets.create_ticket(s, type="inquiry", subject="套餐变更", org_unit_id=w.units["gz"],
                                       customer_id=tickets.get(s, first).customer_id, channel="sms").id  # type: ignore[union-attr]
    _resolve(w, second)
    assert _survey(w, second) is None
    with w.db.unit_of_work() as s:
        assert surveys.expire(s, at=utcnow() + timedelta(hours=surveys.ANSWER_HOURS - 1)) == 0
        assert surveys.expire(s, at=utcnow() + timedelta(hours=surveys.ANSWER_HOURS + 1)) == 1
    survey = _survey(w, first)
    assert survey is not None
    assert survey.status == "expired"


def test_the_csat_page_shows_the_agents_figures(w: World, settings: Settings, client) -> None:  # type: ignore[no-untyped-def]
    from tests.routing.test_api_and_console import _login

    tid = _sms(w, settings, "这个月话费多扣了20元").ticket_id
    assert tid is not None
    _resolve(w, tid)
    _sms(w, settings, "3")
    _login(client, "sup_gd")
    page = client.get("/console/sla/csat")
    assert page.status_code == 200
    row = page.text[page.text.index(f'data-agent="{w.users["agent_gz"]}"'):]
    assert "<td class=\"num\">1</td><td class=\"num\">1</td><td class=\"num\">0</td>" in row
    assert "0.0%" in row
    assert "100.0%" in row


def test_a_caller_is_asked_by_sms_and_an_unsatisfied_answer_reopens_the_ticket(w: World, settings: Settings) -> None:
    from kefu.customers import service as customers

    with w.db.unit_of_work() as s:
        c, _ = customers.identify(s, kind="phone", value="13700137000", org_unit_id=w.units["gz"])
        tid = tickets.create_ticket(s, type="inquiry", subject="来电咨询套餐", org_unit_id=w.units["gz"],
                                    customer_id=c.id, channel="voice").id
    _resolve(w, tid)
    survey = _survey(w, tid)
    assert survey is not None
    assert (survey.status, survey.channel) == ("sent", "sms")
    with w.db.session() as s:
        out = s.get(Message, survey.message_id)
        assert out is not None
        token = surveys.link_token(settings.secret_key.get_secret_value().encode(), survey)
        assert out.body == surveys.survey_text(tid, f"{settings.public_url}/s/{token}")
    _sms(w, settings, "1", sender="13700137000")
    survey = _survey(w, tid)
    assert survey is not None
    assert (survey.status, survey.choice) == ("answered", 1)
    assert _status(w, tid) == "in_progress"


def test_each_customer_message_after_the_first_reply_starts_the_next_response_clock(
        w: World, settings: Settings) -> None:
    from kefu.core.auth import Principal
    from kefu.interactions import service as interactions
    from kefu.org import service as org
    from kefu.sla import service as sla
    from kefu.sla.models import SlaClock

    with w.db.unit_of_work() as s:
        sla.save_policy(s, policy_id=None, name="短信", position=0, types=[], tiers=[], channels=["sms"],
                        categories=[], first_response_minutes=60, resolution_minutes=None, business_time=False,
                        calendar_id=None, warn_percent=80, on_breach="notify", active=True,
                        next_response_minutes=30)
    r = _sms(w, settings, "我的话费怎么多扣了")
    assert r.ticket_id is not None

    def clock() -> SlaClock | None:
        with w.db.session() as s:
            row = s.scalar(select(SlaClock).where(SlaClock.ticket_id == r.ticket_id,
                                                  SlaClock.metric == "next_response"))
            if row is not None:
                s.expunge(row)
            return row

    def reply(text: str) -> None:
        with w.db.unit_of_work() as s:
            user = org.user(s, w.users["agent_gz"])
            assert user is not None
            agent: Principal = org.principal_for(s, user)
            interactions.reply(s, r.interaction_id, body=text, actor=agent)
        bus.dispatch_pending(w.db)

    _sms(w, settings, "还在吗？")  # before the first reply: the first-response clock covers it
    assert clock() is None
    reply("您好，正在为您核实")
    _sms(w, settings, "核实得怎么样了")
    first = clock()
    assert first is not None
    assert (first.target_seconds, first.stopped_at, first.business_time) == (1800.0, None, False)
    _sms(w, settings, "？？")  # still unanswered: the wait counts from the first message
    again = clock()
    assert again is not None
    assert again.started_at == first.started_at
    reply("已核实，多扣的20元将退回")
    done = clock()
    assert done is not None
    assert done.stopped_at is not None
    assert done.used_seconds < 1800


def test_the_csat_page_groups_by_channel_category_unit_or_day_with_a_chooser(
        w: World, settings: Settings, client) -> None:  # type: ignore[no-untyped-def]
    from tests.routing.test_api_and_console import _login

    tid = _sms(w, settings, "这个月话费多扣了20元").ticket_id
    assert tid is not None
    _resolve(w, tid)
    _sms(w, settings, "非常满意")
    _login(client, "sup_gd")
    page = client.get("/console/sla/csat", params={"by": "channel"})
    assert page.status_code == 200
    assert '<option value="channel" selected>渠道</option>' in page.text
    row = page.text[page.text.index('data-channel="sms"'):]
    assert "短信" in row[:200]
    assert "5.00" in row  # the mean score
    unit = client.get("/console/sla/csat", params={"by": "unit"}).text
    assert f'data-unit="{w.units["gz"]}"' in unit
    day = client.get("/console/sla/csat", params={"by": "day", "days": "7"}).text
    assert 'data-day="20' in day
    assert 'data-agent="' in client.get("/console/sla/csat", params={"by": "nonsense"}).text  # per agent
