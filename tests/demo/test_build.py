"""A small demo built into the test database through the real services, and used through the API."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kefu.core.clock import ensure_aware, utcnow
from kefu.core.config import Settings
from kefu.core.db import Database
from kefu.customers.models import Customer, CustomerIdentity
from kefu.demo import build as demo_build
from kefu.demo.cli import prepare
from kefu.demo.generate import DEMO_PASSWORD, generate
from kefu.interactions.models import Interaction, Message
from kefu.tickets.lifecycle import STATUSES
from kefu.tickets.models import Ticket, TicketTransition


def test_small_demo_builds_every_ticket_state_channel_and_call_outcome(
    db: Database, settings: Settings, client: TestClient
) -> None:
    now = utcnow()
    demo = generate(seed=2026, customers=200, contacts=100, day=demo_build.demo_day(now))
    assert not demo_build.demo_exists(db)

    report = demo_build.build(db, settings, demo, now=now, batch=40, progress=False)

    assert report.skipped == []
    assert report.customers == 200
    assert report.people == len(demo.people)
    assert report.contacts == len(demo.contacts)
    assert set(report.tickets_by_status) == set(STATUSES)
    assert demo_build.demo_exists(db)
    with db.session() as s:  # routing: the default queues, and every agent ready to be routed to (offline)
        from kefu.routing.models import RoutingAgent, RoutingQueue
        from kefu.tickets.service import ASSIGNING_ROLES

        assert sorted(s.scalars(select(RoutingQueue.key))) == ["chat", "complaints", "messages", "tickets", "voice"]
        profiles = {a.user_id: a for a in s.scalars(select(RoutingAgent))}
        takers = [p for p in demo.people if p.role in ASSIGNING_ROLES]
        assert len(profiles) == len(takers)
        assert {a.presence for a in profiles.values()} == {"offline"}
        assert all(set(a.queues) == {"chat", "complaints", "messages", "tickets", "voice"} for a in profiles.values())
    with db.session() as s:
        # customers: every one, with the tier the generator meant, and their other identities
        tiers = {phone: tier for phone, tier in s.execute(select(Customer.phone, Customer.tier))}
        assert tiers == {c.phone: c.tier for c in demo.customers}
        n_ids = s.scalar(select(func.count()).select_from(CustomerIdentity))
        assert n_ids == sum(len(c.identities) for c in demo.customers)
        # interactions on several channels, calls with their times and every ending
        its = s.scalars(select(Interaction)).all()
        assert len({i.channel for i in its}) >= 5
        calls = [i for i in its if i.channel == "voice"]
        assert {i.outcome for i in calls} == {"answered", "abandoned", "self_served"}
        for i in calls:
            assert i.status == "closed"
            assert i.ended_at is not None
            assert ensure_aware(i.offered_at) <= ensure_aware(i.ended_at) < now
            if i.outcome == "answered":
                assert i.queued_at is not None
                assert i.answered_at is not None
                assert i.agent_id is not None
            if i.outcome == "abandoned":
                assert i.queued_at is not None
                assert i.answered_at is None
        # agents answered in writing on the text channels
        outbound = s.scalar(select(func.count()).select_from(Message).where(Message.direction == "outbound"))
        assert outbound
        assert outbound > 10
        # every simulated time is in the past, tickets went through recorded transitions
        assert s.scalar(select(func.max(Ticket.updated_at))) is not None
        assert all(ensure_aware(t) < now for t in s.scalars(select(TicketTransition.at)))
        # complaints: some with the 15-day reply deadline at risk, some overdue, unanswered
        open_complaints = s.scalars(
            select(Ticket).where(
                Ticket.type == "complaint",
                Ticket.status.in_(("assigned", "in_progress", "waiting_support")),
                Ticket.first_reply_at.is_(None),
            )
        ).all()
        dues = [ensure_aware(t.reply_due_at) for t in open_complaints if t.reply_due_at is not None]
        assert any(now < d <= now + timedelta(days=3) for d in dues)
        assert any(d < now for d in dues)
        merged = s.scalars(select(Ticket).where(Ticket.status == "merged")).all()
        assert merged
        assert all(t.merged_into_id is not None for t in merged)
        # segments: fitted on the demo's customers, every customer not merged into another is in one, so the
        # tickets' pages show their customer's segment
        from kefu.complaints.models import CustomerSegment, SegmentModel

        assert s.scalar(select(func.count()).select_from(SegmentModel)) == 1
        segmented = set(s.scalars(select(CustomerSegment.customer_id)))
        assert segmented == set(s.scalars(select(Customer.id).where(Customer.merged_into_id.is_(None))))
        assert len({seg.segment for seg in s.scalars(select(CustomerSegment))}) >= 2
        assert "segments" in report.phases

    for username in ("admin", "agent01", "sup01", "analyst01", "billing01", "expert01"):
        r = client.post("/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD})
        assert r.status_code == 200, r.text
        assert r.json()["username"] == username
    assert (
        client.post("/api/v1/auth/login", json={"username": "agent01", "password": "wrong-pass"}).status_code
        == 401
    )


def test_prepare_builds_once_and_then_finds_the_demo_there(db: Database, settings: Settings) -> None:
    assert prepare(settings, customers=60, contacts=30, progress=False, echo=False) is True
    with db.session() as s:
        tickets = s.scalar(select(func.count()).select_from(Ticket))
        customers = s.scalar(select(func.count()).select_from(Customer))
    assert prepare(settings, customers=60, contacts=30, progress=False, echo=False) is False
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == tickets
        assert s.scalar(select(func.count()).select_from(Customer)) == customers
    assert Counter(demo_build.ticket_counts(db, _group_id(db))).total() == tickets


def _group_id(db: Database) -> int:
    from kefu.org.models import OrgUnit

    with db.session() as s:
        gid = s.scalar(select(OrgUnit.id).where(OrgUnit.code == "DEMO"))
    assert gid is not None
    return gid
