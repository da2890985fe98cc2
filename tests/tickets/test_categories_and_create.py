from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from kefu.core.db import Database
from kefu.core.errors import InvalidInput
from kefu.core.events import OutboxEvent
from kefu.tickets import service as tickets
from kefu.tickets.models import TICKET_TYPES, TicketTransition
from tests.conftest import World
from tests.tickets.helpers import T0, add_customer, add_ticket


def test_category_tree_is_seeded_with_twelve_first_level_categories(db: Database) -> None:
    with db.session() as s:
        tree = tickets.category_tree(s)
    assert [n.key for n in tree] == [
        "billing",
        "data",
        "network",
        "broadband",
        "plan",
        "vas",
        "roaming",
        "terminal",
        "number",
        "service",
        "spam",
        "other",
    ]
    assert [len(n.children) for n in tree] == [6, 5, 6, 6, 5, 5, 3, 4, 6, 5, 4, 0]
    billing = tree[0]
    assert (billing.name, billing.name_en) == ("话费与账单", "Billing and charges")
    assert [c.key for c in billing.children] == [
        "billing.unexplained_deduction",
        "billing.bill_query",
        "billing.refund",
        "billing.balance_topup",
        "billing.payment_failure",
        "billing.overdue_suspension",
    ]


@pytest.mark.parametrize("type_", TICKET_TYPES)
def test_each_ticket_type_can_be_created_and_starts_new_with_a_recorded_transition(
    db: Database, world: World, type_: str
) -> None:
    with db.unit_of_work() as s:
        t = add_ticket(
            s,
            org_unit_id=world.units["gz"],
            type=type_,
            channel="sms",
            category_key="billing.refund",
            actor_id=world.users["agent_gz"],
        )
        tid = t.id
    with db.session() as s:
        t = tickets._get(s, tid)
        assert (t.type, t.status, t.channel, t.org_unit_id, t.opened_at, t.updated_at) == (
            type_,
            "new",
            "sms",
            world.units["gz"],
            T0,
            T0,
        )
        trs = tickets.transitions_of(s, tid)
        assert [(r.from_status, r.to_status, r.actor_id, r.reason, r.at) for r in trs] == [
            (None, "new", world.users["agent_gz"], None, T0)
        ]
        ev = s.scalars(
            select(OutboxEvent).where(OutboxEvent.aggregate_type == "ticket", OutboxEvent.aggregate_id == tid)
        ).all()
        assert [(e.name, e.aggregate_type, e.org_unit_id) for e in ev] == [
            ("ticket.created", "ticket", world.units["gz"])
        ]
        assert ev[0].payload["category"] == "billing.refund"


@pytest.mark.parametrize(
    ("type_", "due"),
    [
        ("complaint", datetime(2026, 3, 16, 9, 0, tzinfo=UTC)),
        ("appeal", datetime(2026, 3, 31, 9, 0, tzinfo=UTC)),
        ("inquiry", None),
        ("request", None),
        ("suggestion", None),
    ],
)
def test_reply_due_is_set_for_complaints_and_appeals_only(
    db: Database, world: World, type_: str, due: datetime | None
) -> None:
    with db.unit_of_work() as s:
        t = add_ticket(s, org_unit_id=world.units["gz"], type=type_)
        assert t.reply_due_at == due


@pytest.mark.parametrize(
    ("tier", "type_", "expected"),
    [
        ("diamond", "inquiry", "urgent"),
        ("gold", "inquiry", "high"),
        ("silver", "inquiry", "normal"),
        ("standard", "inquiry", "normal"),
        ("standard", "complaint", "high"),
        ("diamond", "complaint", "urgent"),
        ("silver", "appeal", "high"),
        (None, "request", "normal"),
    ],
)
def test_default_priority_follows_tier_and_complaints_are_at_least_high(
    db: Database, world: World, tier: str | None, type_: str, expected: str
) -> None:
    with db.unit_of_work() as s:
        cid = add_customer(s, org_unit_id=world.units["gz"], tier=tier).id if tier else None
        t = add_ticket(s, org_unit_id=world.units["gz"], type=type_, customer_id=cid)
        assert (t.priority, t.customer_tier) == (expected, tier)


def test_explicit_priority_wins_over_the_tier_default(db: Database, world: World) -> None:
    with db.unit_of_work() as s:
        c = add_customer(s, org_unit_id=world.units["gz"], tier="diamond")
        t = add_ticket(s, org_unit_id=world.units["gz"], customer_id=c.id, priority="low")
        assert (t.priority, t.customer_tier) == ("low", "diamond")


@pytest.mark.parametrize(
    ("kw", "code", "message"),
    [
        (
            {"type": "praise"},
            "unknown_ticket_type",
            "unknown type 'praise' (one of inquiry, complaint, request, suggestion, appeal)",
        ),
        (
            {"priority": "asap"},
            "unknown_priority",
            "unknown priority 'asap' (one of low, normal, high, urgent)",
        ),
        ({"category_key": "billing.nope"}, "unknown_category", "unknown category 'billing.nope'"),
        (
            {"channel": "fax"},
            "unknown_channel",
            "unknown channel 'fax' (one of voice, sms, email, wechat, im, weibo, app, web, webchat)",
        ),
        ({"customer_id": 999999}, "unknown_customer", "customer 999999 does not exist"),
        ({"subject": "   "}, "subject_required", "a ticket needs a subject"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_nothing_is_written(
    db: Database, world: World, kw: dict[str, object], code: str, message: str
) -> None:
    args: dict[str, object] = {"type": "inquiry", "subject": "话费疑问", **kw}
    with db.unit_of_work() as s:
        with pytest.raises(InvalidInput) as e:
            tickets.create_ticket(s, org_unit_id=world.units["gz"], at=T0, **args)  # type: ignore[arg-type]
        assert (e.value.status, e.value.code, e.value.message) == (422, code, message)
        assert s.scalars(select(TicketTransition)).all() == []


def test_creating_a_ticket_for_a_customer_outside_scope_is_404_and_writes_nothing(client, world) -> None:
    from sqlalchemy import func, select

    from kefu.tickets.models import Ticket
    from tests.tickets.helpers import add_customer

    with world.db.unit_of_work() as s:
        gz_customer = add_customer(s, org_unit_id=world.units["gz"]).id
        before = s.scalar(select(func.count()).select_from(Ticket))
    r = client.post("/api/v1/tickets", headers=world.auth("agent_sz"),
                    json={"type": "inquiry", "subject": "查话费", "customer_id": gz_customer})
    assert r.status_code == 404
    with world.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == before
