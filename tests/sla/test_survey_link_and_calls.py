"""Surveys answered by link (a signed page, no login) and by outbound call tasks; CSAT per queue."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from kefu.core.clock import utcnow
from kefu.core.config import Settings
from kefu.core.events import OutboxEvent
from kefu.interactions.models import Message
from kefu.sla import surveys
from kefu.sla.models import SlaSurvey
from kefu.tickets import service as tickets
from tests.conftest import World
from tests.sla.test_surveys import _resolve, _sms, _status, _survey

API = "/api/v1"


@pytest.fixture
def w(world: World) -> World:
    from kefu.jobs import registry

    registry.load()
    return world


def _link(w: World, survey: SlaSurvey) -> str:
    with w.db.session() as s:
        out = s.get(Message, survey.message_id)
        assert out is not None
        m = re.search(r"http://[^ ]+(/s/[A-Za-z0-9._-]+) 评价", out.body)
        assert m is not None, out.body
        return m.group(1)


def test_an_unsatisfied_tap_on_the_link_reopens_the_ticket_once(w: World, settings: Settings, client) -> None:  # type: ignore[no-untyped-def]
    tid = _sms(w, settings, "宽带一直掉线，请尽快处理").ticket_id
    assert tid is not None
    _resolve(w, tid)
    survey = _survey(w, tid)
    assert survey is not None
    path = _link(w, survey)
    page = client.get(path)
    assert page.status_code == 200
    assert f'action="{path}"' in page.text
    assert page.text.count('name="choice"') == 5
    done = client.post(path, data={"choice": "2"})
    assert done.status_code == 200
    assert "您的评价：2分 不满意" in done.text
    survey = _survey(w, tid)
    assert survey is not None
    assert (survey.status, survey.choice, survey.answer_text) == ("answered", 2, "不满意")
    assert _status(w, tid) == "in_progress"
    with w.db.session() as s:
        names = [e.name for e in s.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == tid,
                                                                     OutboxEvent.aggregate_type == "ticket"))]
    assert names.count("survey.unsatisfied") == 1
    again = client.post(path, data={"choice": "5"})
    assert again.status_code == 409
    assert _survey(w, tid).choice == 2  # type: ignore[union-attr]


def test_a_satisfied_tap_keeps_the_ticket_resolved_and_bad_links_are_refused(
        w: World, settings: Settings, client) -> None:  # type: ignore[no-untyped-def]
    tid = _sms(w, settings, "话费多扣了").ticket_id
    assert tid is not None
    _resolve(w, tid)
    survey = _survey(w, tid)
    assert survey is not None
    path = _link(w, survey)
    assert client.post(path, data={"choice": "7"}).status_code == 422
    assert client.post(path, data={"choice": "0"}).status_code == 422
    assert client.post(path, data={"choice": "4"}).status_code == 200
    assert _status(w, tid) == "resolved"
    head, sig = path.rsplit(".", 1)
    forged = f"{head}.{'A' if sig[0] != 'A' else 'B'}{sig[1:]}"
    assert client.get(forged).status_code == 404
    other = path.replace(f"/s/{survey.id}.", f"/s/{survey.id + 1}.")
    assert client.get(other).status_code == 404
    with w.db.session() as s:
        secret = settings.secret_key.get_secret_value().encode()
        row = s.get(SlaSurvey, survey.id)
        assert row is not None
        with pytest.raises(surveys.SurveyClosed):
            surveys.by_token(s, secret, path.removeprefix("/s/"), at=utcnow() + timedelta(hours=surveys.ANSWER_HOURS))


def test_a_handoff_token_does_not_open_a_survey(w: World, settings: Settings, client) -> None:  # type: ignore[no-untyped-def]
    from kefu.handoffs import tokens

    tid = _sms(w, settings, "流量包怎么退订").ticket_id
    assert tid is not None
    _resolve(w, tid)
    survey = _survey(w, tid)
    assert survey is not None
    handoff = tokens.sign(settings.secret_key.get_secret_value().encode(), survey.id, utcnow() + timedelta(hours=1))
    assert client.get(f"/s/{handoff}").status_code == 404


def _voice_ticket(w: World, phone: str) -> int:
    from kefu.customers import service as customers

    with w.db.unit_of_work() as s:
        c, _ = customers.identify(s, kind="phone", value=phone, org_unit_id=w.units["gz"])
        t = tickets.create_ticket(s, type="inquiry", subject="来电咨询套餐", org_unit_id=w.units["gz"],
                                  customer_id=c.id, channel="voice")
        tickets.assign(s, t.id, assignee_id=w.users["agent_gz"], actor_id=w.users["sup_gd"])
        tickets.change_status(s, t.id, "resolved", actor_id=w.users["agent_gz"], reason="已说明套餐")
        s.execute(SlaSurvey.__table__.delete().where(SlaSurvey.ticket_id == t.id))  # start without the SMS survey
        return t.id


def test_a_call_task_is_listed_answered_by_the_agent_and_follows_the_fatigue_rule(w: World) -> None:
    tid = _voice_ticket(w, "13700137001")
    with w.db.unit_of_work() as s:
        task = surveys.call_task(s, tid)
        assert (task.channel, task.status, task.interaction_id, task.agent_id) == ("call", "sent", None,
                                                                                   w.users["agent_gz"])
        with pytest.raises(surveys.SurveyNotDue):
            surveys.call_task(s, tid)
        assert [t.id for t in surveys.call_tasks(s, [w.units["gz"]])] == [task.id]
        assert surveys.call_tasks(s, [w.units["sz"]]) == []
        surveys.record_call(s, task, choice=1, note="客户说套餐资费没讲清楚")
    with w.db.session() as s:
        row = s.get(SlaSurvey, task.id)
        assert row is not None
        assert (row.status, row.choice, row.answer_text) == ("answered", 1, "客户说套餐资费没讲清楚")
        assert surveys.call_tasks(s, None) == []
    assert _status(w, tid) == "in_progress"
    other = _voice_ticket(w, "13700137001")
    with w.db.unit_of_work() as s, pytest.raises(surveys.SurveyNotDue):
        surveys.call_task(s, other)  # the same customer, within FATIGUE_DAYS


def test_a_call_nobody_answered_closes_the_task_without_a_score(w: World) -> None:
    tid = _voice_ticket(w, "13700137002")
    with w.db.unit_of_work() as s:
        task = surveys.call_task(s, tid)
        surveys.record_call(s, task, choice=None, note="无人接听")
        assert (task.status, task.choice) == ("opted_out", None)
        with pytest.raises(surveys.SurveyClosed):
            surveys.record_call(s, task, choice=None)
    assert _status(w, tid) == "resolved"


def test_csat_per_queue_counts_the_queue_the_ticket_was_in(w: World, settings: Settings) -> None:
    from tests.routing.flow import Flow

    flow = Flow(w, settings)  # the default queues and the routing writer
    tid = _sms(w, settings, "话费多扣了20元").ticket_id
    assert tid is not None
    flow.settle()
    with w.db.session() as s:
        from kefu.routing.models import RoutingItem

        queued = s.scalar(select(RoutingItem.queue_key).where(RoutingItem.ticket_id == tid))
    assert queued
    _resolve(w, tid)
    _sms(w, settings, "5")
    survey = _survey(w, tid)
    assert survey is not None
    with w.db.session() as s:
        rows = surveys.csat_by(s, "queue", since=utcnow() - timedelta(hours=1), until=utcnow() + timedelta(hours=1))
    assert survey.queue_key == queued
    assert [(r.key, r.sent, r.answered, r.satisfied) for r in rows] == [(queued, 1, 1, 1)]


def test_an_agent_plans_a_call_from_the_ticket_page_and_records_it_in_the_console(w: World, client) -> None:  # type: ignore[no-untyped-def]
    from tests.routing.test_api_and_console import _login

    tid = _voice_ticket(w, "13700137003")
    csrf = _login(client, "agent_gz")
    page = client.get(f"/console/tickets/{tid}")
    assert 'id="plan-survey-call"' in page.text
    r = client.post(f"/console/sla/tickets/{tid}/call", data={"csrf_token": csrf}, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/console/sla/calls")
    again = client.post(f"/console/sla/tickets/{tid}/call", data={"csrf_token": csrf}, follow_redirects=False)
    assert "error=" in again.headers["location"]
    calls = client.get("/console/sla/calls")
    assert calls.status_code == 200
    task = _survey(w, tid)
    assert task is not None
    assert f'data-task="{task.id}"' in calls.text
    assert "来电咨询套餐" in calls.text
    r = client.post(f"/console/sla/calls/{task.id}", data={"csrf_token": csrf, "choice": "3", "note": "还行"},
                    follow_redirects=False)
    assert r.status_code == 303
    assert (_survey(w, tid).status, _survey(w, tid).choice) == ("answered", 3)  # type: ignore[union-attr]
    assert f'data-task="{task.id}"' not in client.get("/console/sla/calls").text
    assert _status(w, tid) == "resolved"


def test_the_call_task_api_and_who_may_use_it(w: World, client) -> None:  # type: ignore[no-untyped-def]
    tid = _voice_ticket(w, "13700137004")

    auth = w.auth
    assert client.post(f"{API}/tickets/{tid}/surveys/call", headers=auth("analyst")).status_code == 403
    made = client.post(f"{API}/tickets/{tid}/surveys/call", headers=auth("sup_gd"))
    assert made.status_code == 201
    body = made.json()
    assert (body["channel"], body["status"], body["ticket_id"]) == ("call", "sent", tid)
    assert client.post(f"{API}/tickets/{tid}/surveys/call", headers=auth("sup_gd")).json()["error"]["code"] == \
        "survey_not_due"
    assert [t["id"] for t in client.get(f"{API}/sla/call-tasks", headers=auth("agent_gz")).json()] == [body["id"]]
    assert client.get(f"{API}/sla/call-tasks", headers=auth("agent_sz")).json() == []
    assert client.post(f"{API}/sla/call-tasks/{body['id']}", json={"choice": 1},
                       headers=auth("agent_sz")).status_code == 404
    assert client.post(f"{API}/sla/call-tasks/{body['id']}", json={"choice": 6},
                       headers=auth("agent_gz")).status_code == 422
    done = client.post(f"{API}/sla/call-tasks/{body['id']}", json={"choice": 2, "note": "还是没解决"},
                       headers=auth("agent_gz"))
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["choice"]) == ("answered", 2)
    assert _status(w, tid) == "in_progress"
    assert client.post(f"{API}/sla/call-tasks/{body['id']}", json={"choice": 1},
                       headers=auth("agent_gz")).status_code == 409
