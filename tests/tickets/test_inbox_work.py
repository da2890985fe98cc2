"""The inbox in work order: the highest priority first, then the earliest reply deadline (tickets without one
after those with one), then the oldest; what "my work" and a routing queue's view list."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from kefu.core.db import Database
from kefu.core.deps import Page
from kefu.core.errors import InvalidInput
from kefu.tickets import service as tickets
from kefu.tickets.lifecycle import OPEN_STATUSES
from kefu.tickets.service import InboxFilters
from tests.conftest import World
from tests.tickets.helpers import T0, add_ticket, days
from tests.tickets.test_inbox import principal

OPEN = tuple(sorted(OPEN_STATUSES))


def work(s: Session, world: World, who: str = "admin", **filters: object) -> list[str]:
    filt = InboxFilters(order="work", **filters)  # type: ignore[arg-type]
    page = tickets.list_inbox(s, principal(s, world, who), filt, Page(limit=50, offset=0))
    return [t.subject for t in page.items]


def test_work_order_is_priority_then_deadline_then_age(db: Database, world: World) -> None:
    gz = world.units["gz"]
    with db.unit_of_work() as s:
        # opened in this order; complaints get a reply deadline 15 days after opening, appeals 30
        add_ticket(s, org_unit_id=gz, subject="normal-old", priority="normal", at=T0)
        add_ticket(s, org_unit_id=gz, subject="high-appeal", type="appeal", priority="high", at=T0 + days(1))
        add_ticket(s, org_unit_id=gz, subject="high-complaint-late", type="complaint", priority="high",
                   at=T0 + days(3))
        add_ticket(s, org_unit_id=gz, subject="urgent-inquiry", priority="urgent", at=T0 + days(4))
        add_ticket(s, org_unit_id=gz, subject="high-complaint-early", type="complaint", priority="high",
                   at=T0 + days(2))
        add_ticket(s, org_unit_id=gz, subject="high-inquiry", priority="high", at=T0 + days(0.5))
        add_ticket(s, org_unit_id=gz, subject="low", priority="low", at=T0 + days(5))
        add_ticket(s, org_unit_id=gz, subject="normal-new", priority="normal", at=T0 + days(6))
        done = add_ticket(s, org_unit_id=gz, subject="urgent-resolved", priority="urgent", at=T0 + days(7))
        tickets.change_status(s, done.id, "resolved", actor_id=None, reason="done", at=T0 + days(7))
    with db.session() as s:
        assert work(s, world, status=OPEN) == [
            "urgent-inquiry",
            "high-complaint-early",  # due T0+17d
            "high-complaint-late",  # due T0+18d
            "high-appeal",  # due T0+31d
            "high-inquiry",  # no deadline: after those with one
            "normal-old",
            "normal-new",
            "low",
        ]
        # the same order over HTTP's paging: the second page continues the first
        p = principal(s, world, "admin")
        first = tickets.list_inbox(s, p, InboxFilters(order="work", status=OPEN), Page(limit=3, offset=0))
        second = tickets.list_inbox(s, p, InboxFilters(order="work", status=OPEN), Page(limit=3, offset=3))
        assert [t.subject for t in first.items + second.items] == work(s, world, status=OPEN)[:6]
        assert first.total == 8


def test_the_stored_work_order_follows_every_change_of_priority_and_deadline(db: Database, world: World) -> None:
    from sqlalchemy import update

    from kefu.tickets.models import Ticket

    gz = world.units["gz"]
    with db.unit_of_work() as s:
        a = add_ticket(s, org_unit_id=gz, subject="a", priority="normal", at=T0)
        b = add_ticket(s, org_unit_id=gz, subject="b", priority="normal", at=T0 + days(1))
        c = add_ticket(s, org_unit_id=gz, subject="c", priority="normal", at=T0 + days(2))
    with db.session() as s:
        assert work(s, world, status=OPEN) == ["a", "b", "c"]
    with db.unit_of_work() as s:  # through the service: c becomes urgent
        tickets.update(s, c.id, actor_id=None, priority="urgent")
    with db.session() as s:
        assert work(s, world, status=OPEN) == ["c", "a", "b"]
    with db.unit_of_work() as s:  # a Core statement, as a hot path writes: b gets a reply deadline
        s.execute(update(Ticket).where(Ticket.id == b.id).values(reply_due_at=T0 + days(15)))
    with db.session() as s:
        assert work(s, world, status=OPEN) == ["c", "b", "a"]
    with db.unit_of_work() as s:  # and back: c is low, b loses its deadline
        tickets.update(s, c.id, actor_id=None, priority="low")
        s.execute(update(Ticket).where(Ticket.id == b.id).values(reply_due_at=None))
    with db.session() as s:
        assert work(s, world, status=OPEN) == ["a", "b", "c"]
        assert s.get(Ticket, a.id) is not None  # the stored columns are never loaded with the row


def test_my_work_is_what_is_assigned_to_me_in_work_order(db: Database, world: World) -> None:
    gz = world.units["gz"]
    me = world.users["agent_gz"]
    with db.unit_of_work() as s:
        for subject, prio in (("mine-normal", "normal"), ("mine-urgent", "urgent"), ("theirs", "urgent")):
            t = add_ticket(s, org_unit_id=gz, subject=subject, priority=prio)
            owner = me if subject.startswith("mine") else world.users["sup_gd"]
            tickets.assign(s, t.id, assignee_id=owner, actor_id=None)
        add_ticket(s, org_unit_id=gz, subject="nobody's", priority="urgent")
    with db.session() as s:
        assert work(s, world, "agent_gz", assignee="me", status=OPEN) == ["mine-urgent", "mine-normal"]
        assert work(s, world, "sup_gd", assignee=str(me), status=OPEN) == ["mine-urgent", "mine-normal"]


def test_an_unknown_order_is_refused(db: Database, world: World) -> None:
    with db.session() as s, pytest.raises(InvalidInput) as exc:
        tickets.list_inbox(s, principal(s, world, "admin"), InboxFilters(order="random"), Page(limit=5, offset=0))
    assert exc.value.code == "unknown_order"


def test_the_api_lists_in_work_order_on_request(db: Database, world: World, client: TestClient) -> None:
    gz = world.units["gz"]
    with db.unit_of_work() as s:
        add_ticket(s, org_unit_id=gz, subject="b-urgent", priority="urgent", at=T0)
        add_ticket(s, org_unit_id=gz, subject="a-normal", priority="normal", at=T0 + days(1))
    auth = world.auth("admin")
    r = client.get("/api/v1/tickets", params={"order": "work"}, headers=auth)
    assert [t["subject"] for t in r.json()["items"]] == ["b-urgent", "a-normal"]
    r = client.get("/api/v1/tickets", headers=auth)
    assert [t["subject"] for t in r.json()["items"]] == ["a-normal", "b-urgent"]  # the API's default: latest update
    r = client.get("/api/v1/tickets", params={"order": "random"}, headers=auth)
    assert r.status_code == 422
