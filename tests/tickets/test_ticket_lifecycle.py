from __future__ import annotations

import pytest
from sqlalchemy import select

from kefu.core.db import Database
from kefu.core.errors import Conflict, InvalidInput
from kefu.core.events import OutboxEvent
from kefu.tickets import service as tickets
from tests.conftest import World
from tests.tickets.helpers import T0, add_customer, add_ticket, days, snapshot


def test_full_lifecycle_records_who_when_from_to_and_why(db: Database, world: World) -> None:
    agent, support = world.users["agent_gz"], world.users["support_gd"]
    gz = world.units["gz"]
    with db.unit_of_work() as s:
        tid = add_ticket(s, org_unit_id=gz, type="complaint", actor_id=agent).id
        tickets.assign(s, tid, assignee_id=agent, actor_id=world.users["sup_gd"], at=T0 + days(0.1))
        tickets.change_status(s, tid, "in_progress", actor_id=agent, at=T0 + days(0.2))
        tickets.change_status(s, tid, "waiting_support", actor_id=agent, reason="计费核查", at=T0 + days(1))
        tickets.change_status(s, tid, "in_progress", actor_id=support, at=T0 + days(2))
        tickets.change_status(s, tid, "waiting_customer", actor_id=agent, at=T0 + days(3))
        tickets.change_status(s, tid, "in_progress", actor_id=None, at=T0 + days(4))
        tickets.change_status(s, tid, "resolved", actor_id=agent, reason="已退费 30 元", at=T0 + days(5))
        tickets.change_status(s, tid, "closed", actor_id=agent, at=T0 + days(6))
    with db.session() as s:
        t = tickets._get(s, tid)
        assert (t.status, t.assignee_id, t.resolved_at, t.closed_at, t.updated_at) == (
            "closed",
            agent,
            T0 + days(5),
            T0 + days(6),
            T0 + days(6),
        )
        assert [
            (r.from_status, r.to_status, r.actor_id, r.reason, r.at) for r in tickets.transitions_of(s, tid)
        ] == [
            (None, "new", agent, None, T0),
            ("new", "assigned", world.users["sup_gd"], None, T0 + days(0.1)),
            ("assigned", "in_progress", agent, None, T0 + days(0.2)),
            ("in_progress", "waiting_support", agent, "计费核查", T0 + days(1)),
            ("waiting_support", "in_progress", support, None, T0 + days(2)),
            ("in_progress", "waiting_customer", agent, None, T0 + days(3)),
            ("waiting_customer", "in_progress", None, None, T0 + days(4)),
            ("in_progress", "resolved", agent, "已退费 30 元", T0 + days(5)),
            ("resolved", "closed", agent, None, T0 + days(6)),
        ]
        names = s.scalars(
            select(OutboxEvent.name)
            .where(OutboxEvent.aggregate_type == "ticket", OutboxEvent.aggregate_id == tid)
            .order_by(OutboxEvent.id)
        ).all()
        assert (
            names
            == ["ticket.created", "ticket.transitioned", "ticket.assigned"] + ["ticket.transitioned"] * 7
        )


def test_illegal_transition_is_409_and_nothing_changes(db: Database, world: World) -> None:
    with db.unit_of_work() as s:
        tid = add_ticket(s, org_unit_id=world.units["gz"]).id
    with db.unit_of_work() as s:
        before = snapshot(s, tid)
        with pytest.raises(Conflict) as e:
            tickets.change_status(
                s, tid, "waiting_customer", actor_id=world.users["agent_gz"], at=T0 + days(1)
            )
        assert (e.value.status, e.value.code) == (409, "illegal_transition")
        assert e.value.details["allowed"] == ["assigned", "closed", "in_progress", "resolved"]
        assert snapshot(s, tid) == before
    with db.session() as s:
        assert snapshot(s, tid) == before
        assert (before["version"], before["transitions"], before["events"]) == (1, 1, 1)


def test_resolving_without_a_reason_is_refused_and_nothing_changes(db: Database, world: World) -> None:
    with db.unit_of_work() as s:
        tid = add_ticket(s, org_unit_id=world.units["gz"]).id
        tickets.change_status(s, tid, "in_progress", actor_id=None, at=T0)
    with db.unit_of_work() as s:
        before = snapshot(s, tid)
        with pytest.raises(InvalidInput) as e:
            tickets.change_status(s, tid, "resolved", actor_id=None, reason="  ", at=T0 + days(1))
        assert (e.value.code, e.value.message) == (
            "reason_required",
            "moving a ticket from 'in_progress' to 'resolved' needs a reason",
        )
        assert snapshot(s, tid) == before


def test_stale_expected_version_is_409_and_nothing_changes(db: Database, world: World) -> None:
    with db.unit_of_work() as s:
        tid = add_ticket(s, org_unit_id=world.units["gz"]).id
        tickets.change_status(s, tid, "in_progress", actor_id=None, expected_version=1, at=T0)
        assert tickets._get(s, tid).version == 2
    with db.unit_of_work() as s:
        before = snapshot(s, tid)
        with pytest.raises(Conflict) as e:
            tickets.change_status(s, tid, "waiting_customer", actor_id=None, expected_version=1, at=T0)
        assert (e.value.code, e.value.details) == ("stale_ticket", {"expected": 1, "current": 2})
        assert snapshot(s, tid) == before


def test_resolved_ticket_reopens_with_a_reason_and_clears_resolved_at(db: Database, world: World) -> None:
    with db.unit_of_work() as s:
        tid = add_ticket(s, org_unit_id=world.units["gz"]).id
        tickets.change_status(s, tid, "in_progress", actor_id=None, at=T0)
        tickets.change_status(s, tid, "resolved", actor_id=None, reason="已解答", at=T0 + days(1))
        t = tickets.change_status(
            s, tid, "in_progress", actor_id=world.users["agent_gz"], reason="客户仍有疑问", at=T0 + days(2)
        )
        assert (t.status, t.resolved_at, t.closed_at) == ("in_progress", None, None)
        last = tickets.transitions_of(s, tid)[-1]
        assert (last.from_status, last.to_status, last.reason) == ("resolved", "in_progress", "客户仍有疑问")


def test_closed_ticket_reopens_within_seven_days_but_not_after(db: Database, world: World) -> None:
    with db.unit_of_work() as s:
        a = add_ticket(s, org_unit_id=world.units["gz"]).id
        b = add_ticket(s, org_unit_id=world.units["gz"]).id
        for tid in (a, b):
            tickets.change_status(s, tid, "closed", actor_id=None, reason="客户撤诉", at=T0)
        t = tickets.change_status(s, a, "in_progress", actor_id=None, reason="客户再次来电", at=T0 + days(7))
        assert (t.status, t.closed_at) == ("in_progress", None)
    with db.unit_of_work() as s:
        before = snapshot(s, b)
        with pytest.raises(Conflict) as e:
            tickets.change_status(s, b, "in_progress", actor_id=None, reason="太晚了", at=T0 + days(7.01))
        assert e.value.code == "illegal_transition"
        assert e.value.message == "a ticket closed more than 7 days ago cannot be reopened; open a new ticket"
        assert snapshot(s, b) == before


def test_customer_message_moves_waiting_customer_and_resolved_back_to_in_progress(
    db: Database, world: World
) -> None:
    with db.unit_of_work() as s:
        w = add_ticket(s, org_unit_id=world.units["gz"])
        tickets.change_status(s, w.id, "in_progress", actor_id=None, at=T0)
        tickets.change_status(s, w.id, "waiting_customer", actor_id=None, at=T0)
        r = add_ticket(s, org_unit_id=world.units["gz"])
        tickets.change_status(s, r.id, "resolved", actor_id=None, reason="已解答", at=T0)
        n = add_ticket(s, org_unit_id=world.units["gz"])
        for t in (w, r, n):
            tickets.on_customer_message(s, t, at=T0 + days(1))
        assert [(t.status, t.updated_at) for t in (w, r, n)] == [
            ("in_progress", T0 + days(1)),
            ("in_progress", T0 + days(1)),
            ("new", T0 + days(1)),
        ]
        assert [(x.from_status, x.to_status, x.actor_id, x.reason) for x in tickets.transitions_of(s, r.id)][
            -1
        ] == ("resolved", "in_progress", None, "customer wrote after resolution")


def test_first_agent_reply_stops_the_complaint_clock(db: Database, world: World) -> None:
    with db.unit_of_work() as s:
        t = add_ticket(s, org_unit_id=world.units["gz"], type="complaint")
        assert tickets.reply_clock(t, at=T0 + days(12)).at_risk is True
        tickets.on_agent_reply(s, t, actor_id=world.users["agent_gz"], at=T0 + days(2))
        tickets.on_agent_reply(s, t, actor_id=world.users["agent_gz"], at=T0 + days(3))
        assert t.first_reply_at == T0 + days(2)
        clock = tickets.reply_clock(t, at=T0 + days(20))
        assert (clock.at_risk, clock.overdue) == (False, False)


def test_assign_requires_an_active_user_above_or_at_the_tickets_unit(db: Database, world: World) -> None:
    with db.unit_of_work() as s:
        tid = add_ticket(s, org_unit_id=world.units["gz"]).id
    with db.unit_of_work() as s:
        before = snapshot(s, tid)
        with pytest.raises(InvalidInput) as e:
            tickets.assign(s, tid, assignee_id=world.users["agent_sz"], actor_id=None, at=T0)
        assert e.value.code == "invalid_assignee"
        assert snapshot(s, tid) == before
        # above the unit but in a role that takes no tickets
        with pytest.raises(InvalidInput) as e:
            tickets.assign(s, tid, assignee_id=world.users["analyst"], actor_id=None, at=T0)
        assert e.value.code == "invalid_assignee"
    with db.unit_of_work() as s:  # an inactive user, even in the ticket's own unit
        from kefu.org import service as org

        agent = org.user(s, world.users["agent_gz"])
        assert agent is not None
        agent.active = False
        s.flush()
        with pytest.raises(InvalidInput) as e:
            tickets.assign(s, tid, assignee_id=agent.id, actor_id=None, at=T0)
        assert e.value.code == "invalid_assignee"
        s.rollback()
    with db.unit_of_work() as s:
        t = tickets.assign(s, tid, assignee_id=world.users["support_gd"], actor_id=None, at=T0)
        assert (t.status, t.assignee_id) == ("assigned", world.users["support_gd"])
        t = tickets.assign(s, tid, assignee_id=world.users["agent_gz"], actor_id=None, at=T0)
        assert (t.status, t.assignee_id) == ("assigned", world.users["agent_gz"])
        assert [x.to_status for x in tickets.transitions_of(s, tid)] == ["new", "assigned"]


def test_update_changes_fields_and_turning_into_a_complaint_starts_the_clock(
    db: Database, world: World
) -> None:
    with db.unit_of_work() as s:
        tid = add_ticket(s, org_unit_id=world.units["gz"]).id
        t = tickets.update(
            s,
            tid,
            actor_id=None,
            subject="乱扣费",
            category_key="billing.unexplained_deduction",
            priority="high",
            type="complaint",
            expected_version=1,
            at=T0 + days(1),
        )
        assert (t.subject, t.priority, t.type, t.reply_due_at, t.updated_at, t.version) == (
            "乱扣费",
            "high",
            "complaint",
            T0 + days(15),
            T0 + days(1),
            2,
        )
        ev = s.scalars(select(OutboxEvent).where(OutboxEvent.name == "ticket.updated")).one()
        assert ev.payload["changed"] == ["category_id", "priority", "reply_due_at", "subject", "type"]


def test_find_open_and_list_for_customer(db: Database, world: World) -> None:
    with db.unit_of_work() as s:
        c = add_customer(s, org_unit_id=world.units["gz"])
        old = add_ticket(s, org_unit_id=world.units["gz"], customer_id=c.id, at=T0)
        new = add_ticket(s, org_unit_id=world.units["gz"], customer_id=c.id, at=T0 + days(1))
        assert tickets.find_open_for_customer(s, [c.id]) is new
        tickets.change_status(s, new.id, "resolved", actor_id=None, reason="ok", at=T0 + days(2))
        assert tickets.find_open_for_customer(s, [c.id]) is old
        assert [t.id for t in tickets.list_for_customer(s, [c.id])] == [new.id, old.id]
        assert tickets.find_open_for_customer(s, []) is None


def test_a_status_change_is_not_refused_for_the_systems_own_edits_since_the_version_seen(
        db: Database, world: World) -> None:
    """The page showed version 1; the classifier then filed the ticket (a `ticket.updated` by nobody). The
    agent's click still carries version 1 and goes through, under the rules of the ticket as it is now."""
    with db.unit_of_work() as s:
        tid = add_ticket(s, org_unit_id=world.units["gz"]).id
        tickets.update(s, tid, actor_id=None, type="complaint", category_key="billing.unexplained_deduction",
                       reason="classifier", at=T0)
        tickets.update(s, tid, actor_id=None, priority="high", at=T0 + days(1))  # the SLA's raise
    with db.unit_of_work() as s:
        t = tickets.change_status(s, tid, "in_progress", actor_id=world.users["agent_gz"], expected_version=1,
                                  at=T0 + days(1))
        assert (t.status, t.type, t.priority, t.version) == ("in_progress", "complaint", "high", 4)
        versions = [e.payload["version"] for e in s.scalars(
            select(OutboxEvent).where(OutboxEvent.name == "ticket.updated").order_by(OutboxEvent.id))]
        assert versions == [2, 3]


@pytest.mark.parametrize("meanwhile", ["a person's edit", "a status move", "the customer's message",
                                       "a person's move before the system's edit"])
def test_a_status_change_is_refused_when_more_than_the_system_edited_since(
        db: Database, world: World, meanwhile: str) -> None:
    agent = world.users["agent_gz"]
    with db.unit_of_work() as s:
        tid = add_ticket(s, org_unit_id=world.units["gz"]).id
        tickets.change_status(s, tid, "in_progress", actor_id=agent, at=T0)  # version 2
        tickets.update(s, tid, actor_id=None, type="complaint", at=T0)  # the classifier: version 3
        if meanwhile == "a person's edit":
            tickets.update(s, tid, actor_id=world.users["sup_gd"], priority="urgent", at=T0)
        elif meanwhile == "a status move":
            tickets.change_status(s, tid, "waiting_customer", actor_id=None, reason="等待客户", at=T0)
        elif meanwhile == "the customer's message":
            tickets.on_customer_message(s, tickets._get(s, tid), at=T0 + days(1))
    seen = 1 if meanwhile == "a person's move before the system's edit" else 2
    with db.unit_of_work() as s:
        before = snapshot(s, tid)
        current = tickets._get(s, tid).version
        with pytest.raises(Conflict) as e:
            tickets.change_status(s, tid, "resolved", actor_id=agent, reason="已解答", expected_version=seen,
                                  at=T0 + days(2))
        assert (e.value.code, e.value.details) == ("stale_ticket", {"expected": seen, "current": current})
        assert snapshot(s, tid) == before
