"""Quality inspection and certification over the JSON API, as inspectors, agents and supervisors use them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from kefu.core.clock import utcnow
from kefu.core.events import OutboxEvent
from kefu.org import service as org
from kefu.quality import certification as cert
from kefu.quality.core import DEFAULT_ITEMS
from kefu.tickets import service as tickets
from tests.conftest import World

API = "/api/v1"
FULL = {i.key: i.max_marks for i in DEFAULT_ITEMS}


@pytest.fixture
def w(world: World) -> World:
    with world.db.unit_of_work() as s:
        for name, role, unit in (("sup_sz", "supervisor", "sz"), ("agent_gz2", "agent", "gz")):
            u = org.create_user(s, username=name, display_name=name, role=role, org_unit_id=world.units[unit])
            world.users[name] = u.id
            world.tokens[name] = org.create_api_token(s, u.id, "tests")[0]
    return world


def _resolved(w: World, type: str, unit: str = "gz", agent: str = "agent_gz") -> int:
    with w.db.unit_of_work() as s:
        t = tickets.create_ticket(s, type=type, subject="话费争议", org_unit_id=w.units[unit])
        tickets.assign(s, t.id, assignee_id=w.users[agent], actor_id=w.users["sup_gd"])
        tickets.change_status(s, t.id, "resolved", actor_id=w.users[agent], reason="已处理")
        return t.id


def test_an_inspector_samples_scores_and_the_agent_appeals(client: TestClient, w: World) -> None:
    gz = _resolved(w, "complaint")
    sz = _resolved(w, "complaint", "sz", "agent_sz")
    r = client.post(f"{API}/quality/sample", headers=w.auth("sup_sz"), json={"days": 1, "share": 0})
    assert [i["ticket_id"] for i in r.json()] == [sz]  # Shenzhen's supervisor samples Shenzhen only
    r = client.post(f"{API}/quality/sample", headers=w.auth("sup_gd"), json={"days": 1, "share": 0.5, "seed": 1})
    assert r.status_code == 201
    [mine] = [i for i in r.json() if i["ticket_id"] == gz]
    assert (mine["reason"], mine["status"], mine["agent_id"]) == ("complaint", "pending", w.users["agent_gz"])
    iid = mine["id"]
    work = client.get(f"{API}/quality/inspections", headers=w.auth("sup_gd")).json()
    assert work["total"] == 2
    assert {i["ticket_id"] for i in work["items"]} == {gz, sz}
    assert client.get(f"{API}/quality/inspections", headers=w.auth("sup_sz")).json()["total"] == 1
    assert client.get(f"{API}/quality/inspections/{iid}", headers=w.auth("sup_sz")).status_code == 404
    assert client.get(f"{API}/quality/inspections/{iid}", headers=w.auth("agent_sz")).status_code == 404

    r = client.post(f"{API}/quality/inspections/{iid}/score", headers=w.auth("sup_gd"),
                    json={"marks": {**FULL, "greeting": 9}})
    assert (r.status_code, r.json()["error"]["code"]) == (422, "quality_invalid_score")
    r = client.post(f"{API}/quality/inspections/{iid}/score", headers=w.auth("sup_gd"),
                    json={"marks": {**FULL, "empathy": 0}, "comment": "语气生硬"})
    assert (r.json()["status"], r.json()["total"]) == ("scored", 90.0)
    assert [i["id"] for i in client.get(f"{API}/quality/inspections/mine", headers=w.auth("agent_gz")).json()] == [iid]
    r = client.post(f"{API}/quality/inspections/{iid}/appeal", headers=w.auth("agent_gz2"), json={"reason": "不是我"})
    assert r.status_code == 404  # not their contact
    r = client.post(f"{API}/quality/inspections/{iid}/appeal", headers=w.auth("agent_gz"),
                    json={"reason": "客户先骂人"})
    assert r.json()["status"] == "appealed"
    r = client.post(f"{API}/quality/inspections/{iid}/appeal", headers=w.auth("agent_gz"),
                    json={"reason": "再申诉"})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "quality_wrong_state")
    r = client.post(f"{API}/quality/inspections/{iid}/decide", headers=w.auth("sup_gd"), json={})
    assert (r.status_code, r.json()["error"]["code"]) == (403, "quality_not_impartial")
    r = client.post(f"{API}/quality/inspections/{iid}/decide", headers=w.auth("admin"), json={"marks": FULL})
    assert (r.json()["status"], r.json()["decision"], r.json()["total"]) == ("final", "revised", 100.0)
    [row] = client.get(f"{API}/quality/calibration", headers=w.auth("admin")).json()
    assert row == {"inspector_id": w.users["sup_gd"], "scored": 1, "mean": 100.0, "deviation": 0.0, "appealed": 1,
                   "revised": 1}
    assert client.get(f"{API}/quality/calibration", headers=w.auth("agent_gz")).status_code == 403


def _article(client: TestClient, w: World, title: str, unit: str = "province") -> int:
    art = client.post(f"{API}/knowledge/articles", headers=w.auth("admin"), json={
        "title": title, "body": "投诉受理须在24小时内回访，15日内答复。", "kind": "script", "department": "投诉",
        "org_unit_id": w.units[unit]}).json()
    for to, reviewer in (("in_review", "admin"), ("published", "support_gd")):  # a second person publishes
        r = client.post(f"{API}/knowledge/articles/{art['id']}/transitions", headers=w.auth(reviewer), json={"to": to})
        assert r.status_code == 200, r.text
    return int(art["id"])


def _course(article: int, **kw: Any) -> dict[str, Any]:
    return {"key": "billing-cert", "name": "计费投诉上岗认证", "skill": "billing", "article_ids": [article],
            "pass_percent": 50, "valid_days": 180, "questions": [
                {"article_id": article, "text": "投诉几日内答复？", "options": ["7日", "15日", "30日"], "answer": 1},
                {"article_id": article, "text": "何时回访？", "options": ["24小时内", "一周内"], "answer": 0}], **kw}


def test_an_agent_studies_passes_the_exam_and_holds_a_certificate_until_it_expires(
        client: TestClient, w: World) -> None:
    article = _article(client, w, "计费投诉口径")
    r = client.post(f"{API}/certification/courses", headers=w.auth("sup_gd"),
                    json=_course(article, org_unit_id=w.units["province"]))
    assert r.status_code == 201, r.text
    course = r.json()
    assert course["questions"][0] == {"article_id": article, "text": "投诉几日内答复？",
                                      "options": ["7日", "15日", "30日"]}
    with w.db.session() as s:  # before any certificate, an agent may not serve a billing queue
        assert cert.needs_certificate(s) == {"billing"}
        assert not cert.may_serve(s, w.users["agent_gz"], {"billing": 2, "general": 1})
        assert cert.may_serve(s, w.users["agent_gz"], {"general": 1})
        queues = {"complaint_vip": {"billing": 2, "general": 1}, "general": ["general"], "billing_chat": ["billing"]}
        assert cert.refused_queues(s, w.users["agent_gz"], queues) == ["billing_chat", "complaint_vip"]
        assert cert.refused_queues(s, w.users["agent_gz"], {}) == []

    assert [c["key"] for c in client.get(f"{API}/certification/courses", headers=w.auth("agent_gz")).json()] == [
        "billing-cert"]
    r = client.post(f"{API}/certification/courses/{course['id']}/attempts", headers=w.auth("agent_gz"),
                    json={"answers": [0, 1]})
    assert (r.status_code, r.json()["score"], r.json()["passed"], r.json()["certificate"]) == (201, 0.0, False, None)
    r = client.post(f"{API}/certification/courses/{course['id']}/attempts", headers=w.auth("agent_gz"),
                    json={"answers": [1]})
    assert (r.status_code, r.json()["error"]["code"]) == (422, "cert_invalid_answers")
    r = client.post(f"{API}/certification/courses/{course['id']}/attempts", headers=w.auth("agent_gz"),
                    json={"answers": [1, 1]})
    got = r.json()
    assert (got["score"], got["passed"], got["certificate"]["skill"], got["certificate"]["valid"]) == (
        50.0, True, "billing", True)
    [mine] = client.get(f"{API}/certification/mine", headers=w.auth("agent_gz")).json()
    assert mine["id"] == got["certificate"]["id"]
    with w.db.session() as s:
        assert cert.may_serve(s, w.users["agent_gz"], {"billing": 2})
        assert cert.refused_queues(s, w.users["agent_gz"], {"complaint_vip": {"billing": 2}}) == []
        assert cert.refused_queues(s, w.users["agent_sz"], {"complaint_vip": {"billing": 2}}) == ["complaint_vip"]
        assert cert.certified_user_ids(s, "billing", [w.users["agent_gz"], w.users["agent_sz"]]) == {
            w.users["agent_gz"]}
        issued = utcnow()
        later = issued + timedelta(days=181)
        assert not cert.may_serve(s, w.users["agent_gz"], {"billing": 2}, at=later)
    # 30 days before the end, one warning (for the agent and their supervisor), then no more
    with w.db.unit_of_work() as s:
        assert cert.warn_expiring(s, at=issued + timedelta(days=100)) == []
        assert cert.warn_expiring(s, at=issued + timedelta(days=160)) == [mine["id"]]
        assert cert.warn_expiring(s, at=issued + timedelta(days=161)) == []
    with w.db.session() as s:
        [ev] = s.scalars(select(OutboxEvent).where(OutboxEvent.name == "certificate.expiring")).all()
        assert (ev.payload["user_id"], ev.payload["skill"], ev.org_unit_id) == (w.users["agent_gz"], "billing",
                                                                                w.units["gz"])
    team = client.get(f"{API}/certification/certificates", headers=w.auth("sup_sz")).json()
    assert team == []  # Shenzhen's supervisor does not see Guangzhou's certificates
    r = client.post(f"{API}/certification/certificates/{mine['id']}/revoke", headers=w.auth("sup_sz"))
    assert r.status_code == 404
    r = client.post(f"{API}/certification/certificates/{mine['id']}/revoke", headers=w.auth("sup_gd"))
    assert (r.json()["valid"], r.json()["revoked_at"] is not None) == (False, True)


def test_bad_courses_are_refused_and_courses_are_scoped(client: TestClient, w: World) -> None:
    article = _article(client, w, "计费投诉口径")
    other = _article(client, w, "无关文章")
    bad = _course(article, org_unit_id=w.units["province"])
    bad["questions"][1]["article_id"] = other
    r = client.post(f"{API}/certification/courses", headers=w.auth("sup_gd"), json=bad)
    assert (r.status_code, r.json()["error"]["code"], r.json()["error"]["details"]["field"]) == (
        422, "cert_invalid_course", "questions")
    r = client.post(f"{API}/certification/courses", headers=w.auth("sup_gd"),
                    json=_course(article, org_unit_id=w.units["province"], skill="juggling"))
    assert r.json()["error"]["details"]["field"] == "skill"
    bad = _course(article, org_unit_id=w.units["province"])
    bad["questions"][0]["answer"] = 4
    assert client.post(f"{API}/certification/courses", headers=w.auth("sup_gd"), json=bad).status_code == 422
    r = client.post(f"{API}/certification/courses", headers=w.auth("agent_gz"),
                    json=_course(article, org_unit_id=w.units["gz"]))
    assert r.status_code == 403
    r = client.post(f"{API}/certification/courses", headers=w.auth("sup_sz"),
                    json=_course(article, org_unit_id=w.units["gz"]))
    assert r.status_code == 404  # not their subtree
    sz = client.post(f"{API}/certification/courses", headers=w.auth("sup_sz"),
                     json=_course(article, key="sz-only", org_unit_id=w.units["sz"])).json()
    assert client.get(f"{API}/certification/courses", headers=w.auth("agent_gz")).json() == []
    r = client.post(f"{API}/certification/courses/{sz['id']}/attempts", headers=w.auth("agent_gz"),
                    json={"answers": [1, 0]})
    assert (r.status_code, r.json()["error"]["code"]) == (404, "cert_course_not_found")
    r = client.post(f"{API}/certification/courses", headers=w.auth("sup_gd"),
                    json=_course(article, key="sz-only", org_unit_id=w.units["gz"]))
    assert (r.status_code, r.json()["error"]["code"]) == (409, "cert_course_exists")


def test_an_agent_sits_the_exam_in_the_console_and_the_supervisor_sees_the_team(client: TestClient, w: World) -> None:
    from tests.collaboration.support import console_login

    article = _article(client, w, "计费投诉口径")
    course = client.post(f"{API}/certification/courses", headers=w.auth("sup_gd"),
                         json=_course(article, org_unit_id=w.units["province"])).json()
    csrf = console_login(client, "agent_gz")
    page = client.get("/console/certification")
    assert page.status_code == 200
    assert "计费投诉上岗认证" in page.text
    assert "投诉几日内答复？" in page.text
    assert f'href="/console/knowledge/articles/{article}">计费投诉口径' in page.text  # the study material by name
    r = client.post(f"/console/certification/{course['id']}", data={"csrf_token": csrf, "q0": "0"})
    assert r.status_code == 422
    assert "answer every question" in r.text
    r = client.post(f"/console/certification/{course['id']}", data={"csrf_token": csrf, "q0": "1", "q1": "0"})
    assert r.status_code == 201
    assert "已取得证书" in r.text
    assert 'id="exam-result"' in r.text
    client.post("/logout", data={"csrf_token": csrf})
    console_login(client, "sup_gd")
    page = client.get("/console/certification")
    assert 'id="cert-team"' in page.text
    assert "广州坐席" in page.text
