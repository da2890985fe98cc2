"""The ticket page's work box: claim, transfer to a person or a queue with a reason, type / category /
priority, merge; the 投诉 keyword rule; a reply assigns the replier. Every action is in the ticket's history;
a refused one changes nothing."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from kefu.channels import inbound
from kefu.core.config import Settings
from kefu.core.db import Database
from kefu.routing import service as routing
from kefu.routing.models import RoutingItem
from kefu.tickets import service as tickets
from kefu.tickets.models import Ticket
from tests.tickets.helpers import snapshot
from tests.web.conftest import Console, csrf_of, login


def post(client: TestClient, ticket_id: int, action: str, **data: Any) -> Any:
    page = client.get(f"/console/tickets/{ticket_id}")
    return client.post(f"/console/tickets/{ticket_id}/{action}", data={"csrf_token": csrf_of(page.text), **data},
                       follow_redirects=False)


def ticket(db: Database, ticket_id: int) -> Ticket:
    with db.session() as s:
        t = s.get(Ticket, ticket_id)
        assert t is not None
        return t


def test_claim_then_a_second_claim_is_refused(client: TestClient, console: Console, db: Database) -> None:
    tid, w = console.tickets["bill_sms"], console.world
    login(client, "agent_gz")
    page = client.get(f"/console/tickets/{tid}").text
    assert 'id="claim"' in page
    r = post(client, tid, "claim")
    assert r.status_code == 303
    assert ticket(db, tid).assignee_id == w.users["agent_gz"]
    page = client.get(f"/console/tickets/{tid}").text
    assert "分配给" in page
    assert "领取" in page
    client.cookies.clear()
    login(client, "sup_gd")
    with db.session() as s:
        before = snapshot(s, tid)
    r = post(client, tid, "claim")
    assert r.status_code == 409
    assert "already assigned" in r.text
    with db.session() as s:
        assert snapshot(s, tid) == before


def test_transfer_to_a_person_needs_a_reason_and_a_known_person(
    client: TestClient, console: Console, db: Database
) -> None:
    tid, w = console.tickets["bill_sms"], console.world
    login(client, "sup_gd")
    page = client.get(f"/console/tickets/{tid}").text
    assert f'<option value="user:{w.users["agent_gz"]}">' in page  # a chooser with names
    with db.session() as s:
        before = snapshot(s, tid)
    r = post(client, tid, "transfer", to=f"user:{w.users['agent_gz']}", reason="")
    assert r.status_code == 422
    r = post(client, tid, "transfer", to="user:999999", reason="懂计费")
    assert r.status_code == 422
    r = post(client, tid, "transfer", to="", reason="懂计费")
    assert r.status_code == 422
    with db.session() as s:
        assert snapshot(s, tid) == before
    r = post(client, tid, "transfer", to=f"user:{w.users['agent_gz']}", reason="懂计费")
    assert r.status_code == 303
    assert ticket(db, tid).assignee_id == w.users["agent_gz"]
    assert "懂计费" in client.get(f"/console/tickets/{tid}").text


def test_transfer_to_a_queue_clears_the_owner_and_routes_it_there(
    client: TestClient, console: Console, db: Database, settings: Settings
) -> None:
    from tests.routing.flow import Flow

    tid, w = console.tickets["bill_sms"], console.world
    with db.unit_of_work() as s:
        tickets.assign(s, tid, assignee_id=w.users["agent_gz"], actor_id=None)
    flow = Flow(w, settings)
    login(client, "sup_gd")
    r = post(client, tid, "transfer", to="queue:complaints", reason="客户情绪激动")
    assert r.status_code == 303
    assert ticket(db, tid).assignee_id is None
    flow.settle()
    live = [i for i in flow.items() if i.ticket_id == tid and i.state in ("waiting", "offered")]
    assert [i.queue_key for i in live] == ["complaints"]
    page = client.get(f"/console/tickets/{tid}").text
    assert "转派到队列 complaints" in page
    assert "客户情绪激动" in page
    r = post(client, tid, "transfer", to="queue:nope", reason="x")
    assert r.status_code == 404
    with db.session() as s:
        assert s.query(RoutingItem).filter_by(ticket_id=tid, queue_key="nope").count() == 0


def test_change_type_category_priority_and_refuse_bad_values(
    client: TestClient, console: Console, db: Database
) -> None:
    tid = console.tickets["bill_sms"]
    login(client, "agent_gz")
    with db.session() as s:
        before = snapshot(s, tid)
    r = post(client, tid, "edit", type="complaint", category="billing.refund", priority="severe")
    assert r.status_code == 422
    with db.session() as s:
        assert snapshot(s, tid) == before
    r = post(client, tid, "edit", type="complaint", category="billing.refund", priority="urgent")
    assert r.status_code == 303
    t = ticket(db, tid)
    assert (t.type, t.priority, t.reply_due_at is not None) == ("complaint", "urgent", True)
    page = client.get(f"/console/tickets/{tid}").text
    assert "billing.refund" in page


def test_merge_with_a_chooser(client: TestClient, console: Console, db: Database) -> None:
    w = console.world
    with db.unit_of_work() as s:
        other = tickets.create_ticket(s, type="inquiry", subject="再问一次扣费", org_unit_id=w.units["gz"],
                                      customer_id=console.customers["bill_sms"])
    tid = console.tickets["bill_sms"]
    login(client, "agent_gz")
    page = client.get(f"/console/tickets/{other.id}").text
    assert f'<option value="{tid}">#{tid}' in page
    r = post(client, other.id, "merge", into=str(tid), reason="")
    assert r.status_code == 422
    assert ticket(db, other.id).status == "new"
    r = post(client, other.id, "merge", into=str(tid), reason="重复")
    assert r.status_code == 303
    assert (ticket(db, other.id).status, ticket(db, other.id).merged_into_id) == ("merged", tid)


def test_a_reply_assigns_the_replier_and_is_in_the_history(client: TestClient, console: Console, db: Database) -> None:
    tid, w = console.tickets["bill_sms"], console.world
    login(client, "agent_gz")
    r = post(client, tid, "reply", body="您好，已为您查询。")
    assert r.status_code == 303
    assert ticket(db, tid).assignee_id == w.users["agent_gz"]
    page = client.get(f"/console/tickets/{tid}").text
    assert "回复客户" in page
    assert "回复时自动分配给回复人" in page


def test_a_customer_saying_tousu_makes_a_complaint_with_its_clock(
    console: Console, db: Database, settings: Settings
) -> None:
    with db.unit_of_work() as s:
        r = inbound.receive(s, settings, "wechat", inbound.InboundMessage(
            message_id="wx-t1", sender="o_wx_2001", text="我要投诉！宽带报修三天没人上门", org_unit_code="GZ"))
    t = ticket(db, r.ticket_id)  # type: ignore[arg-type]
    assert (t.type, t.priority, t.reply_due_at is not None) == ("complaint", "high", True)
    with db.session() as s:
        assert tickets.categories_by_id(s)[t.category_id].key == "broadband"  # type: ignore[index]
    # a customer who asked, then says 投诉 in the same conversation: the inquiry becomes a complaint
    tid = console.tickets["broadband_wx"]
    assert ticket(db, tid).type == "inquiry"
    with db.unit_of_work() as s:
        inbound.receive(s, settings, "wechat", inbound.InboundMessage(
            message_id="wx-t2", sender="o_wx_1001", text="再不修我就投诉了", org_unit_code="SZ"))
    t = ticket(db, tid)
    assert (t.type, t.priority, t.reply_due_at is not None) == ("complaint", "high", True)
    with db.session() as s:
        h = tickets.history_of(s, tid)
        assert [(e.name, e.payload["reason"], e.payload["actor_id"]) for e in h] == [
            ("ticket.updated", "keyword", None)]
    with db.unit_of_work() as s:  # already a complaint: nothing more happens
        inbound.receive(s, settings, "wechat", inbound.InboundMessage(
            message_id="wx-t3", sender="o_wx_1001", text="投诉", org_unit_code="SZ"))
    with db.session() as s:
        assert len(tickets.history_of(s, tid)) == 1
    _ = routing


def test_the_reasons_the_system_writes_are_shown_in_the_readers_language(
        client: TestClient, console: Console, db: Database) -> None:
    tid, w = console.tickets["bill_sms"], console.world
    with db.unit_of_work() as s:
        tickets.change_status(s, tid, "resolved", actor_id=w.users["agent_gz"], reason="已退还多扣费用")
    with db.unit_of_work() as s:
        t = s.get(Ticket, tid)
        assert t is not None
        tickets.on_customer_message(s, t)
    login(client, "agent_gz")
    page = client.get(f"/console/tickets/{tid}").text
    assert "已退还多扣费用" in page  # a person's reason as written
    assert "客户在办结后再次来信：重新打开" in page
    assert "customer wrote after resolution" not in page
