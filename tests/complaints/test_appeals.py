"""Escalations and appeals linked to the ticket with the regulator's clock; repeat complaints marked at intake;
dates out of order or outside the window are 422 with nothing written."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from kefu.complaints import appeal_rules as rules
from kefu.complaints.models import Appeal
from kefu.core.events import bus
from kefu.jobs import registry
from tests.channels.support import post_inbound
from tests.conftest import World


@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 1, 1)))
def test_acceptance_is_due_five_working_days_later(d: date) -> None:
    due = rules.acceptance_due(d)
    assert due.weekday() < 5
    assert 5 <= (due - d).days <= 9
    assert rules.answer_due(due) == due.fromordinal(due.toordinal() + 30)


def test_windows() -> None:
    assert rules.window_end(date(2026, 1, 31), True) == date(2026, 6, 30)  # charges: 5 months
    assert rules.window_end(date(2024, 2, 29), False) == date(2026, 2, 28)  # others: 2 years
    assert not rules.dates_in_order(date(2026, 3, 2), date(2026, 3, 1), None)
    assert not rules.dates_in_order(date(2026, 3, 2), None, date(2026, 3, 3))


def _ticket(client: TestClient, world: World) -> int:
    r = client.post("/api/v1/tickets", json={"type": "complaint", "subject": "话费多扣了"},
                    headers=world.auth("agent_gz"))
    return int(r.json()["id"])


def _appeals(world: World) -> int:
    with world.db.session() as s:
        return s.scalar(select(func.count()).select_from(Appeal)) or 0


def test_an_appeal_is_recorded_with_its_deadlines(client: TestClient, world: World) -> None:
    tid = _ticket(client, world)
    url = f"/api/v1/complaints/tickets/{tid}/appeals"
    today = datetime.now(UTC).date()
    r = client.post(url, json={"source": "miit_12300", "received_on": str(today), "reference": "GX-1"},
                    headers=world.auth("sup_gd"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["acceptance_due"] == str(rules.acceptance_due(today))
    assert body["answer_due"] is None
    r = client.patch(f"/api/v1/complaints/appeals/{body['id']}", json={"accepted_on": str(today)},
                     headers=world.auth("sup_gd"))
    assert r.json()["answer_due"] == str(rules.answer_due(today))
    for bad, code in (({"source": "mayor", "received_on": str(today)}, "unknown_appeal_source"),
                      ({"source": "media", "received_on": "2000-01-01"}, "dates_out_of_order"),
                      ({"source": "media", "received_on": "2099-01-01", "about_charges": True}, "appeal_out_of_window"),
                      ({"source": "media", "received_on": str(today), "answered_on": str(today)},
                       "dates_out_of_order")):
        r = client.post(url, json=bad, headers=world.auth("sup_gd"))
        assert r.status_code == 422, bad
        assert r.json()["error"]["code"] == code
    r = client.patch(f"/api/v1/complaints/appeals/{body['id']}", json={"answered_on": "2000-01-01"},
                     headers=world.auth("sup_gd"))
    assert r.status_code == 422
    assert _appeals(world) == 1
    assert client.post(url, json={"source": "media", "received_on": str(today)},
                       headers=world.auth("agent_gz")).status_code == 403
    got = client.get(url, headers=world.auth("agent_gz")).json()["items"]
    assert [(a["source"], a["accepted_on"]) for a in got] == [("miit_12300", str(today))]


def test_a_second_complaint_of_the_same_category_is_marked_a_repeat(client: TestClient, world: World) -> None:
    from kefu.complaints import service
    from kefu.tickets import service as tickets
    from kefu.tickets.models import Ticket

    text = "我的话费怎么无缘无故多扣了50元？太坑了，赶紧给我退回来！"
    post_inbound(client, world, "sms", message_id="a1", text=text, org_unit_code="GZ")
    registry.load()
    bus.dispatch_pending(world.db)
    with world.db.unit_of_work() as s:
        first = s.scalars(select(Ticket).order_by(Ticket.id.desc())).first()
        assert first is not None
        later = first.opened_at.replace(microsecond=0) + timedelta(days=3)
        other = tickets.create_ticket(s, type="inquiry", subject="又多扣了话费，怎么回事！",
                                      org_unit_id=first.org_unit_id, customer_id=first.customer_id,
                                      channel="sms", at=later)
        unrelated = tickets.create_ticket(s, type="inquiry", subject="宽带断网了，报修没人来！",
                                          org_unit_id=first.org_unit_id, customer_id=first.customer_id,
                                          channel="sms", at=later)
        service.classify_ticket(s, other.id, at=later)
        service.classify_ticket(s, unrelated.id, at=later)
        ids = (first.id, other.id, unrelated.id)
    got = [client.get(f"/api/v1/complaints/tickets/{i}/classification", headers=world.auth("admin")).json()
           for i in ids]
    assert [g["repeat_of_id"] for g in got] == [None, ids[0], None]


def test_tickets_classified_together_mark_repeats_as_one_by_one(world: World) -> None:
    """The batch form (one event batch's tickets at once) sees the batch's own earlier classifications, also
    those of a customer merged into the ticket's, and classifies a ticket given twice once."""
    from kefu.complaints import service
    from kefu.complaints.models import Classification
    from kefu.customers import service as customers
    from kefu.tickets import service as tickets

    at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    with world.db.unit_of_work() as s:
        unit = world.units["gz"]
        kept = customers.create_customer(s, name="甲", phone="+8613800138000", org_unit_id=unit)
        gone = customers.create_customer(s, name="甲", phone="+8613800138001", org_unit_id=unit)
        customers.merge(s, kept.id, gone.id, at=at)
        made = [tickets.create_ticket(s, type="inquiry", subject=subject, org_unit_id=unit, customer_id=cid,
                                      channel="sms", at=at + timedelta(hours=i))
                for i, (subject, cid) in enumerate([("我的话费怎么无缘无故多扣了50元？", gone.id),
                                                    ("又多扣了话费，怎么回事！", kept.id),
                                                    ("宽带断网了，报修没人来！", kept.id)])]
        ids = [t.id for t in made]
        got = service.classify_tickets(s, [(ids[0], at), (ids[1], at), (ids[1], at), (ids[2], at)])
        assert [c.ticket_id if c else None for c in got] == [ids[0], ids[1], None, ids[2]]
        rows = {c.ticket_id: c.repeat_of_id for c in s.scalars(select(Classification))}
    assert rows == {ids[0]: None, ids[1]: ids[0], ids[2]: None}
