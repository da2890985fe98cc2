"""An unsatisfied survey answer reopens the ticket and opens a follow-up for the supervisors of its unit: on
their console list (回访跟进) and over the API, until one closes it with a note; the ticket's SLA box shows it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from kefu.core.config import Settings
from kefu.core.events import OutboxEvent
from kefu.sla import surveys
from tests.conftest import World
from tests.routing.test_api_and_console import _login
from tests.sla.test_surveys import PHONE, _resolve, _sms, _status, _survey

API = "/api/v1"


@pytest.fixture
def w(world: World) -> World:
    from kefu.jobs import registry

    registry.load()
    return world


def _unsatisfied(w: World, settings: Settings, text: str = "很差，问题根本没解决", sender: str = PHONE) -> int:
    tid = _sms(w, settings, "宽带一直掉线", sender=sender).ticket_id
    assert tid is not None
    _resolve(w, tid)
    _sms(w, settings, text, sender=sender)
    assert _status(w, tid) == "in_progress"
    return tid


def test_the_supervisor_sees_the_unsatisfied_answer_on_the_console_and_closes_its_follow_up(
        w: World, settings: Settings, client: TestClient) -> None:
    tid = _unsatisfied(w, settings)
    survey = _survey(w, tid)
    assert survey is not None
    assert survey.choice == 1
    csrf = _login(client, "sup_gd")
    page = client.get("/console/sla/followups")
    assert page.status_code == 200
    assert f'data-followup="{survey.id}"' in page.text
    assert "很差，问题根本没解决" in page.text
    assert "1/5" in page.text
    assert 'href="/console/sla/followups"' in page.text  # in the supervisor's menu
    box = client.get(f"/console/tickets/{tid}").text
    assert 'data-followup-state="open"' in box
    empty = client.post(f"/console/sla/followups/{survey.id}", data={"csrf_token": csrf, "note": "  "},
                        follow_redirects=False)
    assert "error=" in empty.headers["location"]
    r = client.post(f"/console/sla/followups/{survey.id}",
                    data={"csrf_token": csrf, "note": "已致电客户，上门更换光猫"}, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/console/sla/followups")
    page = client.get("/console/sla/followups")
    assert f'data-followup="{survey.id}"' not in page.text
    assert f'data-followed-up="{survey.id}"' in page.text
    assert "已致电客户，上门更换光猫" in page.text
    assert 'data-followup-state="done"' in client.get(f"/console/tickets/{tid}").text
    row = _survey(w, tid)
    assert row is not None
    assert (row.followed_up_by_id, row.follow_up_note) == (w.users["sup_gd"], "已致电客户，上门更换光猫")
    with w.db.session() as s:
        [ev] = s.scalars(select(OutboxEvent).where(OutboxEvent.name == "survey.followed_up")).all()
        assert ev.payload == {"survey_id": survey.id, "ticket_id": tid, "actor_id": w.users["sup_gd"]}


def test_satisfied_answers_make_no_follow_up_and_agents_and_other_branches_do_not_see_them(
        w: World, settings: Settings, client: TestClient) -> None:
    happy = _sms(w, settings, "话费查询", sender="13800138001").ticket_id
    assert happy is not None
    _resolve(w, happy)
    _sms(w, settings, "4", sender="13800138001")
    tid = _unsatisfied(w, settings, "2")
    survey = _survey(w, tid)
    assert survey is not None
    auth = w.auth
    assert [r["id"] for r in client.get(f"{API}/sla/followups", headers=auth("sup_gd")).json()["items"]] == [
        survey.id]
    assert client.get(f"{API}/sla/followups", headers=auth("agent_gz")).status_code == 403
    assert client.post(f"{API}/sla/followups/{survey.id}", json={"note": "x"},
                       headers=auth("agent_gz")).status_code == 403
    happy_survey = _survey(w, happy)
    assert happy_survey is not None
    refused = client.post(f"{API}/sla/followups/{happy_survey.id}", json={"note": "客户满意"}, headers=auth("sup_gd"))
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "survey_followup_not_open")
    done = client.post(f"{API}/sla/followups/{survey.id}", json={"note": "已回电致歉"}, headers=auth("sup_gd"))
    assert done.status_code == 200
    assert (done.json()["follow_up_note"], done.json()["followed_up_by_id"]) == ("已回电致歉", w.users["sup_gd"])
    again = client.post(f"{API}/sla/followups/{survey.id}", json={"note": "再次"}, headers=auth("sup_gd"))
    assert again.status_code == 409
    assert client.get(f"{API}/sla/followups", headers=auth("sup_gd")).json() == {
        "items": [], "total": 0, "limit": 50, "offset": 0}
    assert [r["id"] for r in client.get(f"{API}/sla/followups", params={"done": "true"},
                                        headers=auth("sup_gd")).json()["items"]] == [survey.id]
    with w.db.session() as s:
        assert surveys.followups(s, [w.units["sz"]]) == []
        assert surveys.followups(s, [w.units["sz"]], done=True) == []


def test_staff_reach_a_survey_of_their_subtree_only_and_a_call_task_only_by_its_channel(
        w: World, settings: Settings) -> None:
    """The one lookup behind closing a follow-up and recording a call (API and console alike)."""
    from tests.knowledge.conftest import principal_of

    tid = _unsatisfied(w, settings)
    survey = _survey(w, tid)
    assert survey is not None
    assert survey.channel == "sms"
    sup, agent_gz, agent_sz = (principal_of(w.db, u) for u in ("sup_gd", "agent_gz", "agent_sz"))
    with w.db.session() as s:
        assert surveys.visible_survey(s, sup, survey.id).id == survey.id
        assert surveys.visible_survey(s, agent_gz, survey.id).id == survey.id
        for who, sid, channel, message in ((agent_sz, survey.id, None, f"survey {survey.id} does not exist"),
                                           (sup, survey.id, "call", f"call task {survey.id} does not exist"),
                                           (sup, 10**9, None, f"survey {10**9} does not exist")):
            with pytest.raises(surveys.SurveyLinkInvalid) as err:
                surveys.visible_survey(s, who, sid, channel=channel)
            assert err.value.message == message


def test_the_closed_follow_ups_are_shown_a_page_at_a_time_the_most_recent_first(
        w: World, settings: Settings, client: TestClient) -> None:
    """45 closed follow-ups and one open: the page lists the open one and the 20 most recently closed, with a
    link to the older ones; the third page has the last 5 and no further link."""
    from datetime import timedelta

    from kefu.core.clock import utcnow
    from kefu.sla.models import SlaSurvey
    from kefu.sla.views import DONE_PAGE

    tid = _unsatisfied(w, settings)
    survey = _survey(w, tid)
    assert survey is not None
    t0 = utcnow() - timedelta(days=30)
    with w.db.unit_of_work() as s:
        closed = []
        for n in range(45):
            row = SlaSurvey(ticket_id=tid, customer_id=survey.customer_id, org_unit_id=survey.org_unit_id,
                            channel="sms", status="answered", choice=1 + n % 2, sent_at=t0, expires_at=t0,
                            answered_at=t0, followed_up_at=t0 + timedelta(hours=n),
                            followed_up_by_id=w.users["sup_gd"], follow_up_note=f"已回电 {n}")
            s.add(row)
            s.flush()
            closed.append(row.id)
    newest_first = closed[::-1]
    _login(client, "sup_gd")

    def shown(page: str) -> list[int]:
        import re

        return [int(x) for x in re.findall(r'data-followed-up="(\d+)"', page)]

    first = client.get("/console/sla/followups").text
    assert DONE_PAGE == 20
    assert f'data-followup="{survey.id}"' in first
    assert shown(first) == newest_first[:20]
    assert 'href="/console/sla/followups?done_page=2#followups-done"' in first
    assert 'data-page="newer"' not in first
    second = client.get("/console/sla/followups", params={"done_page": 2}).text
    assert shown(second) == newest_first[20:40]
    assert 'href="/console/sla/followups?done_page=3#followups-done"' in second
    assert 'href="/console/sla/followups?done_page=1#followups-done"' in second
    third = client.get("/console/sla/followups", params={"done_page": 3}).text
    assert shown(third) == newest_first[40:]
    assert 'data-page="older"' not in third
    assert "第3页" in third
    beyond = client.get("/console/sla/followups", params={"done_page": 9}).text
    assert (shown(beyond), "没有更早的跟进记录。" in beyond) == ([], True)
    assert client.get("/console/sla/followups", params={"done_page": 0}).status_code == 422
    with w.db.session() as s:
        assert [r.id for r in surveys.closed_followups(s, [w.units["gz"]], limit=3, offset=1)] == newest_first[1:4]
        assert surveys.closed_followups(s, [w.units["sz"]], limit=50) == []


def test_follow_ups_come_a_page_at_a_time_open_oldest_first_closed_latest_first(
        w: World, settings: Settings, client: TestClient) -> None:
    sup = w.auth("sup_gd")
    ids = []
    for n in range(3):
        survey = _survey(w, _unsatisfied(w, settings, "2", sender=f"1380013810{n}"))
        assert survey is not None
        ids.append(survey.id)
    url = f"{API}/sla/followups"
    first = client.get(url, params={"limit": 2}, headers=sup).json()
    assert ([r["id"] for r in first["items"]], first["total"], first["limit"], first["offset"]) == (
        ids[:2], 3, 2, 0)
    assert [r["id"] for r in client.get(url, params={"limit": 2, "offset": 2}, headers=sup).json()["items"]] == [
        ids[2]]
    for survey_id in ids:  # closed in order: the last closed is listed first
        assert client.post(f"{url}/{survey_id}", json={"note": "已回电"}, headers=sup).status_code == 200
    done = client.get(url, params={"done": "true", "limit": 2}, headers=sup).json()
    assert ([r["id"] for r in done["items"]], done["total"]) == ([ids[2], ids[1]], 3)
    assert [r["id"] for r in client.get(url, params={"done": "true", "limit": 2, "offset": 2},
                                        headers=sup).json()["items"]] == [ids[0]]
    assert client.get(url, params={"done": "true"}, headers=sup).json()["limit"] == 50  # the API's default page
    for bad in ({"limit": 0}, {"limit": 201}, {"offset": -1}):
        assert client.get(url, params={"done": "true", **bad}, headers=sup).status_code == 422, bad
