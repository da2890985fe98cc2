"""Segments in the product: fitted on kefu's own customers and stored per customer; an inbound ticket of a
high-value customer takes the segment's priority; compensation authority follows the segment's multiplier;
the ticket page shows the segment and its recommended offer; a customer who arrives after the fit is
assigned when their first ticket is classified."""

from __future__ import annotations

from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kefu.complaints import customer_segments
from kefu.complaints.models import CustomerSegment, SegmentModel
from kefu.complaints.views import OFFER_NAMES
from kefu.core.db import Database
from kefu.core.events import bus
from kefu.customers import service as customers
from kefu.jobs import registry
from kefu.tickets import service as tickets
from kefu.tickets.models import Ticket
from tests.channels.support import post_inbound
from tests.conftest import World
from tests.web.conftest import login

HIGH = "1390000{:04d}"
LOW = "1370000{:04d}"


def _people(world: World, n: int = 30) -> dict[str, list[int]]:
    """Two kinds of customer in Guangzhou: high value, long tenure, data-heavy, complaining; low value, new,
    voice-heavy, quiet (a small spread inside each)."""
    out: dict[str, list[int]] = {"high": [], "low": []}
    with world.db.unit_of_work() as s:
        for i in range(n):
            h = customers.create_customer(s, phone=HIGH.format(i), org_unit_id=world.units["gz"],
                                          arpu=300 + 5 * i, tenure_months=60 + i, share_voice=0.2,
                                          share_data=0.7 - 0.004 * i, share_sms=0.05, share_vas=0.05)
            for k in range(2):
                tickets.create_ticket(s, type="complaint", subject=f"网速慢{k}", org_unit_id=world.units["gz"],
                                      customer_id=h.id)
            lo = customers.create_customer(s, phone=LOW.format(i), org_unit_id=world.units["gz"],
                                           arpu=20 + i % 7, tenure_months=2 + i % 5, share_voice=0.8 - 0.004 * i,
                                           share_data=0.1, share_sms=0.1, share_vas=0.0)
            out["high"].append(h.id)
            out["low"].append(lo.id)
    return out


def _fit(db: Database) -> SegmentModel:
    with db.unit_of_work() as s:
        m = customer_segments.fit_and_assign(s)
        assert m is not None
        s.expunge(m)
        return m


def _segments(db: Database) -> dict[int, CustomerSegment]:
    with db.session() as s:
        rows = list(s.scalars(select(CustomerSegment)))
        for r in rows:
            s.expunge(r)
        return {r.customer_id: r for r in rows}


def test_every_customer_gets_a_segment_that_fits_their_value(world: World) -> None:
    people = _people(world)
    m = _fit(world.db)
    assert m.customers == 60
    assert 2 <= len(m.segments) <= 8
    assert sum(int(str(seg["size"])) for seg in m.segments) == 60
    got = _segments(world.db)
    assert set(got) == set(people["high"]) | set(people["low"])
    high = [got[c] for c in people["high"]]
    low = [got[c] for c in people["low"]]
    assert {g.segment for g in high}.isdisjoint({g.segment for g in low})
    assert min(g.authority_multiplier for g in high) > Decimal(1) > max(g.authority_multiplier for g in low)
    assert {g.priority for g in high} <= {"high", "urgent"}
    assert {g.priority for g in low} <= {"low", "normal"}
    # the two groups differ in everything at once, so most variables duplicate ARPU and are dropped
    assert "arpu" in m.kept
    assert {g.offer for g in high} <= {"bill_credit", "data_pack"}  # high value / data-heavy
    assert "bill_credit" not in {g.offer for g in low}
    assert all("ARPU高" in g.profile or "流量占比高" in g.profile or "近半年投诉高" in g.profile for g in high)
    m2 = _fit(world.db)  # refitting replaces the assignments
    assert m2.id != m.id
    with world.db.session() as s:
        assert s.scalar(select(func.count()).select_from(CustomerSegment)) == 60
        assert set(s.scalars(select(CustomerSegment.model_id))) == {m2.id}


def test_too_few_customers_make_no_segments(world: World) -> None:
    with world.db.unit_of_work() as s:
        for i in range(5):
            customers.create_customer(s, phone=LOW.format(i), org_unit_id=world.units["gz"], arpu=10 + i)
        assert customer_segments.fit_and_assign(s) is None
    with world.db.session() as s:
        assert s.scalar(select(func.count()).select_from(SegmentModel)) == 0


def _deliver(db: Database) -> None:
    registry.load()
    bus.dispatch_pending(db)


def _inbound(client: TestClient, world: World, sender: str, mid: str) -> Ticket:
    r = post_inbound(client, world, "sms", message_id=mid, sender=sender, text="你好，请问怎么查询本月的账单？",
                     org_unit_code="GZ")
    assert r.status_code in (200, 201, 202), r.text
    _deliver(world.db)
    with world.db.session() as s:
        t = s.scalars(select(Ticket).order_by(Ticket.id.desc())).first()
        assert t is not None
        s.expunge(t)
        return t


def test_an_inbound_ticket_takes_its_customers_segment_priority(client: TestClient, world: World) -> None:
    from kefu.customers.tiers import Rule

    with world.db.unit_of_work() as s:  # every customer standard: the tier alone gives normal priority
        customers.set_tier_rules(s, [Rule("standard", Decimal(0), 0)])
    people = _people(world)
    _fit(world.db)
    t = _inbound(client, world, HIGH.format(3), "m-high")
    assert t.customer_id == people["high"][3]
    seg = _segments(world.db)[people["high"][3]]
    assert t.customer_tier == "standard"
    assert seg.priority in ("high", "urgent")
    assert t.priority == seg.priority  # raised from normal
    t = _inbound(client, world, LOW.format(3), "m-low")
    assert t.customer_id == people["low"][3]
    assert t.priority == "normal"  # a low segment never lowers a ticket's priority


def test_a_customer_after_the_fit_is_assigned_at_their_first_ticket(client: TestClient, world: World) -> None:
    _people(world)
    _fit(world.db)
    t = _inbound(client, world, "13600009999", "m-new")  # a new customer: nothing known, low value
    assert t.customer_id is not None
    got = _segments(world.db)
    assert t.customer_id in got
    assert got[t.customer_id].priority in ("low", "normal")
    r = client.get(f"/api/v1/complaints/customers/{t.customer_id}/segment", headers=world.auth("agent_gz"))
    assert r.status_code == 200
    assert r.json()["segment"] == got[t.customer_id].segment
    assert client.get(f"/api/v1/complaints/customers/{t.customer_id}/segment",
                      headers=world.auth("agent_sz")).status_code == 404  # another city's customer


def test_no_segment_before_the_first_fit(client: TestClient, world: World) -> None:
    with world.db.unit_of_work() as s:
        c = customers.create_customer(s, phone=LOW.format(1), org_unit_id=world.units["gz"])
    r = client.get(f"/api/v1/complaints/customers/{c.id}/segment", headers=world.auth("agent_gz"))
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "segment_not_found"


def test_authority_follows_the_segment_and_the_ticket_page_recommends_its_offer(client: TestClient,
                                                                               world: World) -> None:
    people = _people(world)
    _fit(world.db)
    got = _segments(world.db)
    high, low = got[people["high"][0]], got[people["low"][0]]
    with world.db.unit_of_work() as s:
        th = tickets.create_ticket(s, type="complaint", subject="网速慢", org_unit_id=world.units["gz"],
                                   customer_id=high.customer_id).id
        tl = tickets.create_ticket(s, type="complaint", subject="话费", org_unit_id=world.units["gz"],
                                   customer_id=low.customer_id).id
    limit_high = (Decimal(50) * high.authority_multiplier).quantize(Decimal("0.01"))  # agent_gz: 50 yuan
    limit_low = (Decimal(50) * low.authority_multiplier).quantize(Decimal("0.01"))
    assert limit_low < Decimal(50) < limit_high
    r = client.post(f"/api/v1/complaints/tickets/{th}/compensations", json={"kind": "data_pack", "amount":
                    str(limit_high)}, headers=world.auth("agent_gz"))
    assert r.status_code == 201
    assert r.json()["status"] == "granted"
    r = client.post(f"/api/v1/complaints/tickets/{tl}/compensations", json={"kind": "minutes", "amount":
                    str(limit_low + Decimal("0.01"))}, headers=world.auth("agent_gz"))
    assert r.status_code == 403
    assert r.json()["error"]["details"]["authority"] == str(limit_low)
    login(client, "agent_gz")
    page = client.get(f"/console/tickets/{th}").text
    assert 'id="customer-segment"' in page
    assert high.profile in page
    offer = OFFER_NAMES[high.offer][0]
    assert f'<span class="badge ok" id="recommended-offer">{offer}</span>' in page  # the segment's
    # the ticket has no category yet: the customer's own mix decides (70% data)
    assert "建议补偿：<b>流量包</b>" in page
    assert '<option value="data_pack" selected>流量包 · 推荐</option>' in page
    assert f"您对该客户的补偿权限：¥{limit_high}" in page
