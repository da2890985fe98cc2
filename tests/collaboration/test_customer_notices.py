"""Customers kept informed of the coordinated handling: a text per state (consulting, handed over, concluded)
that administrators edit, sent on the channel the customer used, the ticket's history of what was told, and no
state told twice in a row."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from kefu.interactions.models import Message
from kefu.tickets import service as tickets
from tests.collaboration.support import console_login, make_case
from tests.collaboration.test_conclusions_and_comparison import _accepted
from tests.conftest import World

API = "/api/v1"
HANDED = "您的工单{ticket}已转交网络支撑中心处理，我们会及时告知进展。"


def _tell(client: TestClient, world: World, ticket_id: int, state: str, who: str = "agent_gz") -> tuple[int, dict]:
    r = client.post(f"{API}/tickets/{ticket_id}/customer-notices", headers=world.auth(who), json={"state": state})
    return r.status_code, r.json()


def _told(client: TestClient, world: World, ticket_id: int) -> tuple[list[str], list[str]]:
    r = client.get(f"{API}/tickets/{ticket_id}/customer-notices", headers=world.auth("agent_gz"))
    assert r.status_code == 200, r.text
    return [n["state"] for n in r.json()["told"]], r.json()["tellable"]


def test_a_state_per_template_on_the_customers_channel_never_twice_in_a_row(client: TestClient,
                                                                             world: World) -> None:
    from kefu.customers import service as customers

    case = make_case(world)
    tid = case.ticket_id
    with world.db.unit_of_work() as s:
        c, _ = customers.identify(s, kind="phone", value="13600136001", org_unit_id=world.units["gz"])
        ticket = tickets.get(s, tid)
        assert ticket is not None
        ticket.customer_id, ticket.channel = c.id, "wechat"  # the customer wrote on WeChat
    assert _told(client, world, tid) == ([], [])
    status, body = _tell(client, world, tid, "consulting")
    assert (status, body["error"]["code"]) == (409, "ticket_has_no_consult")

    _accepted(client, world, case)
    assert _told(client, world, tid) == ([], ["consulting", "concluded"])
    status, body = _tell(client, world, tid, "consulting")
    assert (status, body["channel"]) == (201, "wechat")
    status, body = _tell(client, world, tid, "consulting")
    assert (status, body["error"]["code"]) == (409, "customer_told_already")
    status, body = _tell(client, world, tid, "handed_over")
    assert (status, body["error"]["code"]) == (409, "ticket_not_handed_over")

    # an administrator words the hand-over notice; others may not
    r = client.put(f"{API}/collab/notice-templates/handed_over", json={"body": HANDED}, headers=world.auth("agent_gz"))
    assert r.status_code == 403
    r = client.put(f"{API}/collab/notice-templates/handed_over", json={"body": HANDED}, headers=world.auth("admin"))
    assert (r.status_code, r.json()["handed_over"]) == (200, HANDED)
    r = client.put(f"{API}/collab/notice-templates/gossip", json={"body": "x"}, headers=world.auth("admin"))
    assert (r.status_code, r.json()["error"]["details"]["field"]) == (422, "state")

    with world.db.unit_of_work() as s:  # the ticket is handed on to the duty manager
        tickets.assign(s, tid, assignee_id=world.users["sup_gd"], actor_id=world.users["agent_gz"])
    assert _told(client, world, tid) == (["consulting"], ["handed_over", "concluded"])
    status, body = _tell(client, world, tid, "handed_over", "sup_gd")
    assert (status, body["channel"], body["body"]) == (201, "wechat", HANDED.replace("{ticket}", str(tid)))
    status, body = _tell(client, world, tid, "concluded")  # whoever asked the consults may tell too
    assert status == 201
    assert body["body"] == f"您反映的问题（工单号{tid}）已有处理结论，客服人员将尽快与您联系说明。"
    assert _told(client, world, tid) == (["consulting", "handed_over", "concluded"], ["consulting", "handed_over"])
    with world.db.session() as s:
        sent = list(s.execute(select(Message.channel, Message.body).where(Message.direction == "outbound")
                              .order_by(Message.id)))
    assert [ch for ch, _ in sent] == ["wechat", "wechat", "wechat"]
    assert len({b for _, b in sent}) == 3


def test_the_console_edits_the_texts_and_the_ticket_shows_what_was_told(client: TestClient, world: World) -> None:
    from kefu.customers import service as customers

    case = make_case(world)
    with world.db.unit_of_work() as s:
        c, _ = customers.identify(s, kind="phone", value="13600136002", org_unit_id=world.units["gz"])
        ticket = tickets.get(s, case.ticket_id)
        assert ticket is not None
        ticket.customer_id = c.id
    _accepted(client, world, case)
    csrf = console_login(client, "admin")
    page = client.get("/console/collab/notices").text
    assert "已请相关专业部门协同核查" in page  # the built-in text until one is saved
    r = client.post("/console/collab/notices", data={"csrf_token": csrf, "state": "consulting",
                                                     "body": "工单{ticket}：多个部门正在协同核查。"},
                    follow_redirects=False)
    assert r.status_code == 303
    assert "工单{ticket}：多个部门正在协同核查。" in client.get("/console/collab/notices").text
    client.post("/logout", data={"csrf_token": csrf})

    csrf = console_login(client, "agent_gz")
    r = client.post("/console/collab/notices", data={"csrf_token": csrf, "state": "consulting", "body": "x"})
    assert r.status_code == 403
    page = client.get(f"/console/tickets/{case.ticket_id}").text
    assert 'name="state" value="consulting"' in page
    assert 'data-told=' not in page
    r = client.post(f"/console/collab/tickets/{case.ticket_id}/notice", data={"csrf_token": csrf,
                                                                            "state": "consulting"},
                    follow_redirects=False)
    assert r.status_code == 303
    page = client.get(f"/console/tickets/{case.ticket_id}").text
    assert 'data-told="consulting"' in page
    assert 'name="state" value="consulting"' not in page  # told last: not offered again
    assert 'name="state" value="concluded"' in page
    with world.db.session() as s:
        assert s.scalar(select(Message.body).where(Message.direction == "outbound")) == \
            f"工单{case.ticket_id}：多个部门正在协同核查。"
