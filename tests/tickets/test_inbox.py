from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from kefu.core.auth import Principal
from kefu.core.db import Database
from kefu.core.deps import Page
from kefu.core.errors import InvalidInput, NotFound
from kefu.org import service as org
from kefu.org.models import User
from kefu.tickets import service as tickets
from kefu.tickets.service import InboxFilters
from tests.conftest import World
from tests.tickets.helpers import T0, add_customer, add_ticket, days

ALL = Page(limit=200, offset=0)


def principal(s: Session, world: World, who: str) -> Principal:
    user = s.get(User, world.users[who])
    assert user is not None
    return org.principal_for(s, user)


def subjects(
    s: Session, world: World, who: str = "admin", page: Page = ALL, at: Any = None, **filters: Any
) -> list[str]:
    return [
        t.subject
        for t in tickets.list_inbox(s, principal(s, world, who), InboxFilters(**filters), page, at=at).items
    ]


@pytest.fixture
def inbox(db: Database, world: World) -> Database:
    """Eight tickets, each updated one hour after the previous, so the inbox order is known."""
    gz, sz, prov = world.units["gz"], world.units["sz"], world.units["province"]
    with db.unit_of_work() as s:
        gold = add_customer(s, org_unit_id=gz, tier="gold")
        diamond = add_customer(s, org_unit_id=sz, tier="diamond")
        rows = [
            ("gz-sms-refund", gz, "inquiry", "sms", "billing.refund", gold.id),
            ("gz-wechat-complaint", gz, "complaint", "wechat", "billing", None),
            ("sz-voice-signal", sz, "complaint", "voice", "network.no_signal", diamond.id),
            ("sz-email-plan", sz, "request", "email", "plan.plan_change", None),
            ("prov-voice-data", prov, "inquiry", "voice", "data.data_pack", None),
            ("gz-app-suggestion", gz, "suggestion", "app", None, None),
            ("sz-weibo-appeal", sz, "appeal", "weibo", "service.attitude", diamond.id),
            ("gz-voice-bill_50%", gz, "inquiry", "voice", "billing.bill_query", gold.id),
        ]
        for i, (subject, unit, type_, channel, cat, cust) in enumerate(rows):
            add_ticket(
                s,
                org_unit_id=unit,
                type=type_,
                channel=channel,
                category_key=cat,
                customer_id=cust,
                subject=subject,
                at=T0 + days(i / 24),
            )
    return db


def test_inbox_lists_newest_update_first_for_the_group(inbox: Database, world: World) -> None:
    with inbox.session() as s:
        assert subjects(s, world) == [
            "gz-voice-bill_50%",
            "sz-weibo-appeal",
            "gz-app-suggestion",
            "prov-voice-data",
            "sz-email-plan",
            "sz-voice-signal",
            "gz-wechat-complaint",
            "gz-sms-refund",
        ]


def test_city_agents_see_only_their_city(inbox: Database, world: World) -> None:
    with inbox.session() as s:
        assert subjects(s, world, "agent_sz") == ["sz-weibo-appeal", "sz-email-plan", "sz-voice-signal"]
        assert subjects(s, world, "agent_gz") == [
            "gz-voice-bill_50%",
            "gz-app-suggestion",
            "gz-wechat-complaint",
            "gz-sms-refund",
        ]
        gz_ticket = tickets.list_inbox(s, principal(s, world, "agent_gz"), InboxFilters(), ALL).items[0]
        with pytest.raises(NotFound) as e:
            tickets.get_visible(s, principal(s, world, "agent_sz"), gz_ticket.id)
        assert e.value.code == "ticket_not_found"
        with pytest.raises(NotFound):
            subjects(s, world, "agent_sz", org_unit_id=world.units["gz"])


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"channel": "voice"}, ["gz-voice-bill_50%", "prov-voice-data", "sz-voice-signal"]),
        ({"type": "complaint"}, ["sz-voice-signal", "gz-wechat-complaint"]),
        (
            {"status": ("new",)},
            [
                "gz-voice-bill_50%",
                "sz-weibo-appeal",
                "gz-app-suggestion",
                "prov-voice-data",
                "sz-email-plan",
                "sz-voice-signal",
                "gz-wechat-complaint",
                "gz-sms-refund",
            ],
        ),
        ({"tier": "gold"}, ["gz-voice-bill_50%", "gz-sms-refund"]),
        ({"tier": "diamond"}, ["sz-weibo-appeal", "sz-voice-signal"]),
        ({"category": "billing"}, ["gz-voice-bill_50%", "gz-wechat-complaint", "gz-sms-refund"]),
        ({"category": "billing.refund"}, ["gz-sms-refund"]),
        ({"org_unit_id": "sz"}, ["sz-weibo-appeal", "sz-email-plan", "sz-voice-signal"]),
        (
            {"org_unit_id": "province"},
            [
                "gz-voice-bill_50%",
                "sz-weibo-appeal",
                "gz-app-suggestion",
                "prov-voice-data",
                "sz-email-plan",
                "sz-voice-signal",
                "gz-wechat-complaint",
                "gz-sms-refund",
            ],
        ),
        ({"q": "50%"}, ["gz-voice-bill_50%"]),
        ({"q": "VOICE"}, ["gz-voice-bill_50%", "prov-voice-data", "sz-voice-signal"]),
        ({"assignee": "unassigned", "channel": "sms"}, ["gz-sms-refund"]),
        ({"channel": "voice", "tier": "gold", "category": "billing"}, ["gz-voice-bill_50%"]),
    ],
)
def test_each_inbox_filter(
    inbox: Database, world: World, filters: dict[str, Any], expected: list[str]
) -> None:
    if "org_unit_id" in filters:
        filters["org_unit_id"] = world.units[filters["org_unit_id"]]
    with inbox.session() as s:
        assert subjects(s, world, **filters) == expected


def test_status_filter_takes_several_and_assignee_me(inbox: Database, world: World) -> None:
    me = world.users["agent_gz"]
    with inbox.unit_of_work() as s:
        by = {
            t.subject: t
            for t in tickets.list_inbox(s, principal(s, world, "admin"), InboxFilters(), ALL).items
        }
        tickets.assign(s, by["gz-sms-refund"].id, assignee_id=me, actor_id=me, at=T0 + days(1))
        tickets.change_status(s, by["gz-app-suggestion"].id, "in_progress", actor_id=me, at=T0 + days(1.1))
    with inbox.session() as s:
        assert subjects(s, world, status=("assigned", "in_progress")) == [
            "gz-app-suggestion",
            "gz-sms-refund",
        ]
        assert subjects(s, world, "agent_gz", assignee="me") == ["gz-sms-refund"]
        assert subjects(s, world, assignee=str(me)) == ["gz-sms-refund"]


def test_at_risk_lists_unanswered_complaints_and_appeals_past_their_risk_point(
    inbox: Database, world: World
) -> None:
    with inbox.session() as s:
        assert subjects(s, world, at_risk=True, at=T0 + days(11.9)) == []
        assert subjects(s, world, at_risk=True, at=T0 + days(12.1)) == [
            "sz-voice-signal",
            "gz-wechat-complaint",
        ]
        assert subjects(s, world, at_risk=True, at=T0 + days(25)) == [
            "sz-weibo-appeal",
            "sz-voice-signal",
            "gz-wechat-complaint",
        ]
    with inbox.unit_of_work() as s:
        t = next(
            t
            for t in tickets.list_inbox(
                s, principal(s, world, "admin"), InboxFilters(type="complaint"), ALL
            ).items
            if t.subject == "sz-voice-signal"
        )
        tickets.on_agent_reply(s, t, actor_id=world.users["agent_sz"], at=T0 + days(1))
    with inbox.session() as s:
        assert subjects(s, world, at_risk=True, at=T0 + days(12.1)) == ["gz-wechat-complaint"]


def test_pagination_pages_through_in_order_with_a_total(inbox: Database, world: World) -> None:
    with inbox.session() as s:
        p = principal(s, world, "admin")
        first = tickets.list_inbox(s, p, InboxFilters(), Page(limit=3, offset=0))
        second = tickets.list_inbox(s, p, InboxFilters(), Page(limit=3, offset=3))
        last = tickets.list_inbox(s, p, InboxFilters(), Page(limit=3, offset=6))
        assert [x.total for x in (first, second, last)] == [8, 8, 8]
        assert [t.subject for t in first.items + second.items + last.items] == subjects(s, world)
        assert len(last.items) == 2
        assert tickets.list_inbox(s, p, InboxFilters(channel="sms"), Page(limit=3, offset=0)).total == 1


@pytest.mark.parametrize(
    ("filters", "code"),
    [
        ({"status": ("open",)}, "unknown_status"),
        ({"tier": "platinum"}, "unknown_tier"),
        ({"category": "nope"}, "unknown_category"),
        ({"assignee": "bob"}, "invalid_assignee_filter"),
        ({"channel": "fax"}, "unknown_channel"),
        ({"type": "praise"}, "unknown_ticket_type"),
    ],
)
def test_bad_inbox_filters_are_422(inbox: Database, world: World, filters: dict[str, Any], code: str) -> None:
    with inbox.session() as s, pytest.raises(InvalidInput) as e:
        subjects(s, world, **filters)
    assert e.value.code == code


def test_totals_stop_at_the_cap_and_say_so(
    inbox: Database, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tickets, "INBOX_TOTAL_CAP", 5)
    monkeypatch.setattr(tickets, "INBOX_TEXT_TOTAL_CAP", 2)
    with inbox.session() as s:
        p = principal(s, world, "admin")
        res = tickets.list_inbox(s, p, InboxFilters(), Page(limit=3, offset=0))
        assert (res.total, res.capped, len(res.items)) == (5, True, 3)
        res = tickets.list_inbox(s, p, InboxFilters(q="voice"), Page(limit=50, offset=0))
        assert (res.total, res.capped) == (2, True)
        assert [t.subject for t in res.items] == ["gz-voice-bill_50%", "prov-voice-data", "sz-voice-signal"]
        res = tickets.list_inbox(s, p, InboxFilters(q="sms"), Page(limit=50, offset=0))
        assert (res.total, res.capped, [t.subject for t in res.items]) == (1, False, ["gz-sms-refund"])
