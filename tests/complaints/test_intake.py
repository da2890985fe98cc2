"""Classification at intake on a real database: an inbound message's ticket is classified once after commit,
a confident complaint gets its type, category and 15-day clock; an agent confirms or corrects in one click
(API and console); bad labels and foreign tickets are refused with nothing changed."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kefu.complaints import service
from kefu.complaints.models import Classification
from kefu.core.db import Database
from kefu.core.events import OutboxEvent, bus
from kefu.jobs import registry
from kefu.tickets import service as tickets
from kefu.tickets.models import Ticket
from tests.channels.support import post_inbound
from tests.conftest import World
from tests.web.conftest import csrf_of, login

COMPLAINT = "我的话费怎么无缘无故多扣了50元？太坑了，赶紧给我退回来！"


def _deliver(db: Database) -> None:
    registry.load()
    bus.dispatch_pending(db)


def _inbound(client: TestClient, world: World, text: str, mid: str = "m1") -> int:
    r = post_inbound(client, world, "sms", message_id=mid, text=text, org_unit_code="GZ")
    assert r.status_code in (200, 201, 202), r.text
    _deliver(world.db)
    with world.db.session() as s:
        return int(s.scalars(select(Ticket.id).order_by(Ticket.id.desc())).first() or 0)


def test_an_inbound_complaint_becomes_a_complaint_with_its_clock(client: TestClient, world: World) -> None:
    tid = _inbound(client, world, COMPLAINT)
    with world.db.session() as s:
        t = s.get(Ticket, tid)
        c = service.for_ticket(s, tid)
        assert c is not None
        assert t is not None
        assert (c.predicted_type, c.predicted_category, c.status) == ("complaint", "billing", "applied")
        assert t.type == "complaint"
        assert t.reply_due_at is not None
        assert tickets.categories_by_id(s)[t.category_id].key == "billing"
        names = list(s.scalars(select(OutboxEvent.name).where(OutboxEvent.aggregate_id == tid)))
        assert "ticket.classified" in names
    _deliver(world.db)  # delivered again: still one classification
    with world.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Classification)) == 1


def test_a_plain_question_stays_an_inquiry_and_the_complaint_is_only_suggested(client: TestClient,
                                                                              world: World) -> None:
    tid = _inbound(client, world, "查一下话费")
    with world.db.session() as s:
        t = s.get(Ticket, tid)
        c = service.for_ticket(s, tid)
        assert c is not None
        assert t is not None
        assert (c.predicted_type, c.status, t.type, t.reply_due_at) == ("complaint", "suggested", "inquiry", None)


def test_a_ticket_an_agent_opened_keeps_its_type(client: TestClient, world: World) -> None:
    r = client.post("/api/v1/tickets", json={"type": "inquiry", "subject": COMPLAINT},
                    headers=world.auth("agent_gz"))
    assert r.status_code == 201, r.text
    _deliver(world.db)
    got = client.get(f"/api/v1/complaints/tickets/{r.json()['id']}/classification",
                     headers=world.auth("agent_gz")).json()
    assert got["predicted_type"] == "complaint"
    assert got["status"] == "suggested"
    assert got["applied_type"] is None
    assert client.get(f"/api/v1/tickets/{r.json()['id']}", headers=world.auth("agent_gz")).json()["type"] == "inquiry"


def test_confirm_and_correct_through_the_api(client: TestClient, world: World) -> None:
    tid = _inbound(client, world, COMPLAINT)
    url = f"/api/v1/complaints/tickets/{tid}/classification"
    r = client.post(url + "/review", json={"type": "complaint", "category": "billing", "escalation": False},
                    headers=world.auth("agent_gz"))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "confirmed"
    assert r.json()["reviewed_by_id"] == world.users["agent_gz"]
    r = client.post(url + "/review", json={"type": "complaint", "category": "data", "escalation": True},
                    headers=world.auth("agent_gz"))
    assert r.json()["status"] == "corrected"
    assert r.json()["final_category"] == "data"
    ticket = client.get(f"/api/v1/tickets/{tid}", headers=world.auth("agent_gz")).json()
    assert ticket["category"]["key"] == "data"
    with world.db.session() as s:
        rows = service.reviewed_examples(s)
    assert [(r[2], r[3], r[4]) for r in rows] == [("complaint", "data", True)]


def test_bad_labels_scope_and_roles_are_refused_with_nothing_changed(client: TestClient, world: World) -> None:
    tid = _inbound(client, world, COMPLAINT)
    url = f"/api/v1/complaints/tickets/{tid}/classification"
    before = client.get(url, headers=world.auth("agent_gz")).json()
    r = client.post(url + "/review", json={"type": "complaint", "category": "weather"},
                    headers=world.auth("agent_gz"))
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "unknown_label"
    r = client.post(url + "/review", json={"type": "rant", "category": "billing"}, headers=world.auth("agent_gz"))
    assert r.status_code == 422
    assert r.json()["error"]["details"]["field"] == "type"
    assert client.get(url, headers=world.auth("agent_sz")).status_code == 404  # another city's ticket
    r = client.post(url + "/review", json={"type": "complaint", "category": "data"}, headers=world.auth("analyst"))
    assert r.status_code == 403
    assert client.get(url, headers=world.auth("agent_gz")).json() == before
    assert client.get("/api/v1/complaints/tickets/999999/classification",
                      headers=world.auth("admin")).status_code == 404


def test_classify_a_text_on_demand(client: TestClient, world: World) -> None:
    r = client.post("/api/v1/complaints/classify", json={"text": "请问怎么开通国际漫游？"},
                    headers=world.auth("agent_gz"))
    assert r.status_code == 200
    body = r.json()
    assert body["category"] == "roaming"
    assert body["type"] == "inquiry"
    assert client.post("/api/v1/complaints/classify", json={"text": ""},
                       headers=world.auth("agent_gz")).status_code == 422


def test_the_ticket_page_box_confirms_in_one_click(client: TestClient, world: World) -> None:
    tid = _inbound(client, world, COMPLAINT)
    login(client, "agent_gz")
    page = client.get(f"/console/tickets/{tid}")
    assert page.status_code == 200
    assert 'id="complaint-classification"' in page.text
    assert "已自动应用" in page.text
    token = csrf_of(page.text)
    r = client.post(f"/console/complaints/tickets/{tid}/review", follow_redirects=False,
                    data={"csrf_token": token, "type": "complaint", "category": "billing", "escalation": ""})
    assert r.status_code == 303
    assert r.headers["location"] == f"/console/tickets/{tid}"
    assert "已确认" in client.get(f"/console/tickets/{tid}").text
    r = client.post(f"/console/complaints/tickets/{tid}/review", data={"type": "complaint", "category": "billing"})
    assert r.status_code == 403  # no CSRF token


def test_a_ticket_the_customer_wrote_to_after_it_was_read_is_still_classified_in_its_batch(world: World) -> None:
    """The classifier's batch read its tickets (as the consumer's prefilter does), then the customer wrote
    again (the ticket's version moved on) before the classifier applied its labels: applied on the ticket as
    it is now, in the batch, with nothing refused as stale."""
    from datetime import UTC, datetime

    at = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
    with world.db.unit_of_work() as s:
        tid = tickets.create_ticket(s, type="inquiry", subject=COMPLAINT, org_unit_id=world.units["gz"],
                                    channel="sms", at=at).id
        other = tickets.create_ticket(s, type="inquiry", subject="查一下话费", org_unit_id=world.units["gz"],
                                      channel="sms", at=at).id
    with world.db.session() as s:
        tickets.hold(s, [tid, other])  # read by the batch
        with world.db.unit_of_work() as w:  # the customer writes meanwhile
            tickets.customer_wrote(w, ticket_id=tid, status="new", closed_at=None,
                                   org_unit_id=world.units["gz"], at=at)
        done = service.classify_tickets(s, [(tid, at), (other, at)])
        s.commit()
    with world.db.session() as s:
        t = s.get(Ticket, tid)
        assert t is not None
        assert done[0] is not None
        assert done[0].status == "applied"
        assert done[1] is not None
        assert (t.type, t.version) == ("complaint", 3)
        assert tickets.categories_by_id(s)[t.category_id].key == "billing"
        ev = s.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == tid,
                                                 OutboxEvent.name == "ticket.updated")).all()
        assert [e.payload["version"] for e in ev] == [3]
