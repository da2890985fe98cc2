"""A consult's accepted conclusion drafted as a knowledge article (through kefu.knowledge), and the report of
time to resolution with consults vs step-by-step reassignment."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from kefu.collaboration import handling
from kefu.collaboration import service as collab
from kefu.core.clock import utcnow
from kefu.tickets import service as tickets
from tests.collaboration.support import Case, make_case
from tests.conftest import World

API = "/api/v1"


def _accepted(client: TestClient, world: World, case: Case) -> int:
    r = client.post(f"{API}/tickets/{case.ticket_id}/consults", headers=world.auth("agent_gz"), json={
        "question": "客户13800138000宽带断网三天，是否区域故障？", "due_minutes": 60,
        "targets": [{"kind": "user", "id": case.net_expert}]})
    cid = r.json()[0]["id"]
    r = client.post(f"{API}/consults/{cid}/answer", headers=world.auth("net_expert"),
                    json={"answer": "是天河区光缆故障，今晚22点前恢复，可按故障时长减免月租。"})
    assert r.status_code == 200
    return int(cid)


def test_an_accepted_conclusion_becomes_a_knowledge_draft_once(client: TestClient, world: World) -> None:
    case = make_case(world)
    cid = _accepted(client, world, case)
    r = client.post(f"{API}/consults/{cid}/article", headers=world.auth("net_expert"))
    assert (r.status_code, r.json()["error"]["code"]) == (409, "consult_not_open")  # not accepted yet
    assert client.post(f"{API}/consults/{cid}/accept", headers=world.auth("agent_gz")).status_code == 200
    assert client.post(f"{API}/consults/{cid}/article", headers=world.auth("agent_gz")).status_code == 403
    r = client.post(f"{API}/consults/{cid}/article", headers=world.auth("net_expert"), json={"kind": "network_fault"})
    assert r.status_code == 201, r.text
    got = r.json()
    assert (got["consult_id"], got["status"]) == (cid, "draft")
    assert got["title"] == "客户138****8000宽带断网三天，是否区域故障？"  # the customer's number is not in knowledge
    art = client.get(f"/api/v1/knowledge/articles/{got['article_id']}", headers=world.auth("net_expert")).json()
    body = art["version"]["body"]
    assert art["kind"] == "network_fault"
    assert "今晚22点前恢复" in body
    assert "13800138000" not in body
    assert client.get(f"{API}/consults/{cid}", headers=world.auth("agent_gz")).json()["article_id"] == \
        got["article_id"]
    r = client.post(f"{API}/consults/{cid}/article", headers=world.auth("net_expert"))
    assert (r.status_code, r.json()["error"]["code"], r.json()["error"]["details"]["article_id"]) == (
        409, "consult_already_article", got["article_id"])


def test_the_ticket_box_offers_the_draft_to_knowledge_writers(client: TestClient, world: World) -> None:
    from tests.collaboration.support import console_login

    case = make_case(world)
    cid = _accepted(client, world, case)
    client.post(f"{API}/consults/{cid}/accept", headers=world.auth("agent_gz"))
    csrf = console_login(client, "admin")  # a knowledge writer who sees the ticket
    page = client.get(f"/console/tickets/{case.ticket_id}")
    assert "结论转为知识草稿" in page.text
    r = client.post(f"/console/collab/consults/{cid}/article", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/console/knowledge/articles/")
    assert "已转为知识草稿" in client.get(f"/console/tickets/{case.ticket_id}").text


def test_compare_groups_tickets_and_takes_medians() -> None:
    rows = [handling.Handled(1, 2.0, 3, 0), handling.Handled(2, 4.0, 1, 2), handling.Handled(3, 10.0, 0, 1),
            handling.Handled(4, 30.0, 0, 3), handling.Handled(5, 1.0, 0, 0)]
    c = handling.compare(rows)
    net, lin, direct = c.groups
    assert (net.group, net.tickets, net.median_hours, net.mean_consults) == ("networked", 2, 3.0, 2.0)
    assert (lin.tickets, lin.median_hours, lin.p90_hours, lin.mean_handovers) == (2, 20.0, 28.0, 2.0)
    assert (direct.tickets, direct.median_hours) == (1, 1.0)
    assert c.median_ratio == 0.15
    assert handling.compare([]).median_ratio is None


def test_the_report_compares_consulted_with_reassigned_tickets(client: TestClient, world: World) -> None:
    case = make_case(world)
    t0 = utcnow() - timedelta(days=2)
    with world.db.unit_of_work() as s:
        ticket = tickets.get(s, case.ticket_id)
        assert ticket is not None
        ticket.opened_at = t0
        collab.request_consults(s, _principal(s, world, "agent_gz"), case.ticket_id,
                                targets=[collab.Target("role", role="support")], question="请核实", due_minutes=60,
                                at=t0 + timedelta(hours=1))
        tickets.change_status(s, case.ticket_id, "resolved", actor_id=world.users["agent_gz"], reason="已解决",
                              at=t0 + timedelta(hours=4))
        linear = tickets.create_ticket(s, type="complaint", subject="多扣费", org_unit_id=world.units["gz"], at=t0)
        tickets.assign(s, linear.id, assignee_id=world.users["agent_gz"], actor_id=None, at=t0)
        tickets.assign(s, linear.id, assignee_id=world.users["support_gd"], actor_id=None, at=t0 + timedelta(hours=3))
        tickets.release_to_queue(s, linear.id, queue="billing", actor_id=None, reason="转计费",
                                 at=t0 + timedelta(hours=6))
        tickets.change_status(s, linear.id, "resolved", actor_id=None, reason="已退费", at=t0 + timedelta(hours=20))
        sz = tickets.create_ticket(s, type="inquiry", subject="深圳", org_unit_id=world.units["sz"], at=t0)
        tickets.change_status(s, sz.id, "resolved", actor_id=None, reason="已答复", at=t0 + timedelta(hours=1))
    r = client.get(f"{API}/consults/comparison", headers=world.auth("agent_gz"))
    assert r.status_code == 200, r.text
    groups = {g["group"]: g for g in r.json()["groups"]}
    assert (groups["networked"]["tickets"], groups["networked"]["median_hours"]) == (1, 4.0)
    assert (groups["linear"]["tickets"], groups["linear"]["median_hours"], groups["linear"]["mean_handovers"]) == (
        1, 20.0, 2.0)
    assert groups["direct"]["tickets"] == 0  # Shenzhen's ticket is outside the Guangzhou agent's branch
    assert r.json()["median_ratio"] == 0.2
    assert client.get(f"{API}/consults/comparison", headers=world.auth("sup_gd")).json()["groups"][2]["tickets"] == 1


def _principal(s, world: World, username: str):  # type: ignore[no-untyped-def]
    from kefu.org import service as org

    user = org.user(s, world.users[username])
    assert user is not None
    return org.principal_for(s, user)


def test_supervisors_see_the_comparison_on_their_consults_page(client: TestClient, world: World) -> None:
    from tests.collaboration.support import console_login

    console_login(client, "sup_gd")
    page = client.get("/console/collab")
    assert page.status_code == 200
    assert 'id="handling-comparison"' in page.text
    assert "逐级转派" in page.text
    console_login(client, "support_gd")
    assert 'id="handling-comparison"' not in client.get("/console/collab").text


def test_the_owner_tells_the_customer_the_state_of_the_coordinated_handling(client: TestClient, world: World) -> None:
    from sqlalchemy import select

    from kefu.customers import service as customers
    from kefu.interactions.models import Interaction, Message
    from tests.collaboration.support import console_login, events_named

    case = make_case(world)
    r = client.post(f"{API}/tickets/{case.ticket_id}/customer-notices", headers=world.auth("agent_gz"),
                    json={"state": "consulting"})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "ticket_has_no_customer")
    with world.db.unit_of_work() as s:
        c, _ = customers.identify(s, kind="phone", value="13600136000", org_unit_id=world.units["gz"])
        ticket = tickets.get(s, case.ticket_id)
        assert ticket is not None
        ticket.customer_id = c.id  # a caller (the ticket came by voice)
    _accepted(client, world, case)
    r = client.post(f"{API}/tickets/{case.ticket_id}/customer-notices", headers=world.auth("agent_gz"),
                    json={"state": "consulting"})
    assert r.status_code == 201, r.text
    assert (r.json()["channel"], r.json()["body"]) == (
        "sms", f"您反映的问题（工单号{case.ticket_id}）已请相关专业部门协同核查，我们会尽快给您答复。")
    with world.db.session() as s:
        msg = s.get(Message, r.json()["message_id"])
        assert msg is not None
        it = s.get(Interaction, msg.interaction_id)
        assert it is not None
        assert (msg.direction, it.channel, it.customer_id) == ("outbound", "sms", c.id)
    assert [e.payload["state"] for e in events_named(world, "consult.customer_told")] == ["consulting"]
    r = client.post(f"{API}/tickets/{case.ticket_id}/customer-notices", headers=world.auth("agent_gz"),
                    json={"state": "gossip"})
    assert (r.status_code, r.json()["error"]["details"]["field"]) == (422, "state")
    r = client.post(f"{API}/tickets/{case.ticket_id}/customer-notices", headers=world.auth("agent_sz"),
                    json={"state": "concluded"})
    assert r.status_code == 404  # another city's ticket
    csrf = console_login(client, "agent_gz")
    assert 'id="collab-notice"' in client.get(f"/console/tickets/{case.ticket_id}").text
    r = client.post(f"/console/collab/tickets/{case.ticket_id}/notice", data={"csrf_token": csrf,
                                                                            "state": "concluded"},
                    follow_redirects=False)
    assert r.status_code == 303
    with world.db.session() as s:
        bodies = list(s.scalars(select(Message.body).where(Message.direction == "outbound").order_by(Message.id)))
    assert bodies[-1] == f"您反映的问题（工单号{case.ticket_id}）已有处理结论，客服人员将尽快与您联系说明。"
