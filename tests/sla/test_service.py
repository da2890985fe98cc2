"""SLA policies and ticket clocks on a real database: events drive the clocks, the scan warns and breaches."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from kefu.core.errors import InvalidInput
from kefu.core.events import OutboxEvent, bus
from kefu.jobs import registry
from kefu.sla import service as sla
from kefu.tickets import service as tickets
from tests.conftest import World
from tests.sla.test_calendar import bj

H = 3600.0


@pytest.fixture
def w(world: World) -> World:
    registry.load()
    return world


def _policy(s, **kw):  # type: ignore[no-untyped-def]
    args = {"policy_id": None, "name": "投诉", "position": 0, "types": [], "tiers": [], "channels": [],
            "categories": [], "first_response_minutes": 4 * 60, "resolution_minutes": 16 * 60,
            "business_time": True, "calendar_id": None, "warn_percent": 80, "on_breach": "notify", "active": True}
    return sla.save_policy(s, **{**args, **kw})


def _ticket(w: World, at, type="inquiry", **kw):  # type: ignore[no-untyped-def]
    with w.db.unit_of_work() as s:
        subject = kw.pop("subject", "话费不明扣费")
        tid = tickets.create_ticket(s, type=type, subject=subject, org_unit_id=w.units["gz"], at=at, **kw).id
    bus.dispatch_pending(w.db)
    return tid


def assigned_and_breached(w: World, settle: Callable[[], object] = lambda: None) -> int:
    """A Guangzhou ticket opened Monday 2 March 2026 09:00, assigned to agent_gz at 09:05, scanned at 14:31:
    past a 4-hour first-response target in office hours (lunch 12:00-13:30 excluded). Returns its id."""
    tid = _ticket(w, bj(2026, 3, 2, 9))
    with w.db.unit_of_work() as s:
        tickets.assign(s, tid, assignee_id=w.users["agent_gz"], actor_id=w.users["sup_gd"], at=bj(2026, 3, 2, 9, 5))
    settle()
    assert _scan(w, bj(2026, 3, 2, 14, 31)) == (0, 1)
    settle()
    return tid


def _events(w: World, name: str) -> list[tuple[int | None, str]]:
    with w.db.session() as s:
        return [(e.aggregate_id, e.payload["metric"]) for e in
                s.scalars(select(OutboxEvent).where(OutboxEvent.name == name).order_by(OutboxEvent.id))]


def _transition(w: World, tid: int, to: str, at, reason=None):  # type: ignore[no-untyped-def]
    with w.db.unit_of_work() as s:
        tickets.change_status(s, tid, to, actor_id=w.users["agent_gz"], reason=reason, at=at)
    bus.dispatch_pending(w.db)


def _scan(w: World, at) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with w.db.unit_of_work() as s:
        out = sla.scan(s, at=at)
    bus.dispatch_pending(w.db)
    return out


def test_a_new_ticket_gets_clocks_on_office_hours_across_labour_day(w: World) -> None:
    with w.db.unit_of_work() as s:
        _policy(s, name="咨询", types=["inquiry"], resolution_minutes=24 * 60)
    # Thursday 17:00, before Labour Day (1-5 May); a question (the classifier leaves it an inquiry)
    tid = _ticket(w, bj(2026, 4, 30, 17), channel="sms", subject="请问怎么查询流量余额")
    with w.db.session() as s:
        fr, res = sla.clocks_of(s, tid)
        # 1 h on 30 Apr, then 3 h on Wednesday 6 May
        assert (fr.metric, fr.due_at, fr.target_seconds) == ("first_response", bj(2026, 5, 6, 12), 4 * H)
        # 1 + 7.5 (6 May) + 7.5 (7 May) + 7.5 (8 May) = 23.5 h, the last half hour on make-up Saturday 9 May
        assert (res.metric, res.due_at) == ("resolution", bj(2026, 5, 9, 9, 30))


def test_waiting_on_the_customer_pauses_and_a_reply_resumes(w: World) -> None:
    with w.db.unit_of_work() as s:
        _policy(s)
    tid = _ticket(w, bj(2026, 3, 2, 9))  # Monday 09:00
    _transition(w, tid, "in_progress", bj(2026, 3, 2, 9, 30))
    _transition(w, tid, "waiting_customer", bj(2026, 3, 2, 10))
    with w.db.session() as s:
        res = sla.clocks_of(s, tid)[1]
        assert (res.used_seconds, res.running_since, res.due_at) == (H, None, None)
    _transition(w, tid, "in_progress", bj(2026, 3, 4, 9))  # the customer answered on Wednesday
    with w.db.session() as s:
        res = sla.clocks_of(s, tid)[1]
        # 15 h left from Wednesday 09:00: 7.5 Wednesday, 7.5 Thursday -> Thursday 18:00
        assert res.due_at == bj(2026, 3, 5, 18)
        views = sla.ticket_clocks(s, tid, at=bj(2026, 3, 4, 10))
        assert [(v.state.status, v.state.used) for v in views] == [("running", 2 * H), ("running", 2 * H)]


def test_scan_warns_once_then_breaches_once_and_raises_priority(w: World) -> None:
    with w.db.unit_of_work() as s:
        _policy(s, on_breach="raise_priority", resolution_minutes=None)
    tid = _ticket(w, bj(2026, 3, 2, 9))  # first response due Monday 14:30 (lunch 12:00-13:30)
    assert _scan(w, bj(2026, 3, 2, 12)) == (0, 0)  # 3 h used: 75 %
    assert _scan(w, bj(2026, 3, 2, 13, 50)) == (1, 0)  # 3 h 20 min: past 80 %
    assert _scan(w, bj(2026, 3, 2, 14)) == (0, 0)  # warned already
    assert _scan(w, bj(2026, 3, 2, 14, 31)) == (0, 1)
    assert _scan(w, bj(2026, 3, 2, 15)) == (0, 0)
    assert _events(w, "sla.warning") == [(tid, "first_response")]
    assert _events(w, "sla.breached") == [(tid, "first_response")]
    with w.db.session() as s:
        assert tickets.get(s, tid).priority == "high"  # type: ignore[union-attr]


def test_the_first_agent_reply_meets_the_first_response_target(w: World) -> None:
    with w.db.unit_of_work() as s:
        _policy(s)
    tid = _ticket(w, bj(2026, 3, 2, 9))
    with w.db.unit_of_work() as s:
        tickets.on_agent_reply(s, tickets.get(s, tid), actor_id=w.users["agent_gz"],  # type: ignore[arg-type]
                               at=bj(2026, 3, 2, 10))
    assert _scan(w, bj(2026, 3, 2, 16)) == (0, 0)
    with w.db.session() as s:
        fr = sla.ticket_clocks(s, tid, at=bj(2026, 3, 9))[0]
        assert (fr.state.status, fr.state.used) == ("met", H)


def test_resolving_stops_and_reopening_restarts_the_resolution_clock(w: World) -> None:
    with w.db.unit_of_work() as s:
        _policy(s)
    tid = _ticket(w, bj(2026, 3, 2, 9))
    _transition(w, tid, "resolved", bj(2026, 3, 2, 11), reason="已退费")
    with w.db.session() as s:
        assert [v.state.status for v in sla.ticket_clocks(s, tid, at=bj(2026, 3, 20))] == ["met", "met"]
    _transition(w, tid, "in_progress", bj(2026, 3, 3, 9), reason="客户不认可")  # 14 h left: 7.5 Tue, 6.5 Wed
    with w.db.session() as s:
        res = sla.clocks_of(s, tid)[1]
        assert (res.used_seconds, res.stopped_at, res.due_at) == (2 * H, None, bj(2026, 3, 4, 17))


def test_a_complaint_policy_cannot_loosen_the_15_day_legal_reply(w: World) -> None:
    with w.db.unit_of_work() as s:
        _policy(s, types=["complaint"], first_response_minutes=20 * 8 * 60)  # 20 working days: too loose
    opened = bj(2026, 9, 24, 10)
    tid = _ticket(w, opened, type="complaint")
    with w.db.session() as s:
        fr = sla.clocks_of(s, tid)[0]
        assert fr.due_at == opened + timedelta(days=15)
    _transition(w, tid, "in_progress", opened + timedelta(hours=1))
    _transition(w, tid, "waiting_customer", opened + timedelta(hours=2))
    assert _scan(w, opened + timedelta(days=13)) == (1, 0)  # the last fifth of the legal window
    assert _scan(w, opened + timedelta(days=15, seconds=1)) == (0, 1)  # paused, yet the law's clock ran out


def test_policies_are_checked_and_the_first_match_wins(w: World) -> None:
    with w.db.unit_of_work() as s:
        with pytest.raises(InvalidInput, match="unknown tiers: platinum"):
            _policy(s, tiers=["platinum"])
        with pytest.raises(InvalidInput, match="first-response, next-response or resolution"):
            _policy(s, first_response_minutes=None, resolution_minutes=None)
        vip = _policy(s, name="VIP", tiers=["diamond"], position=0)
        billing = _policy(s, name="计费", categories=["billing"], position=1)
        facts = sla.TicketFacts(type="complaint", tier="diamond", channel="voice", category="billing.refund")
        assert sla.policy_for(s, facts) is vip
        assert sla.policy_for(s, sla.TicketFacts("inquiry", "gold", None, "billing.refund")) is billing
        assert sla.policy_for(s, sla.TicketFacts("inquiry", "gold", None, "data")) is None
    with w.db.session() as s:
        assert [p.name for p in sla.list_policies(s)] == ["VIP", "计费"]


def test_a_breach_hands_the_ticket_to_the_policys_supervisor_and_raises_its_priority(w: World) -> None:
    with w.db.unit_of_work() as s:
        _policy(s, on_breach="raise_priority", resolution_minutes=None, breach_assignee_id=w.users["sup_gd"])
    tid = assigned_and_breached(w)
    with w.db.session() as s:
        t = tickets.get(s, tid)
        assert t is not None
        assert (t.assignee_id, t.priority) == (w.users["sup_gd"], "high")
        [moved] = [e.payload for e in s.scalars(select(OutboxEvent).where(
            OutboxEvent.name == "ticket.assigned", OutboxEvent.aggregate_id == tid).order_by(OutboxEvent.id))][-1:]
        assert (moved["previous_assignee_id"], moved["actor_id"], moved["reason"]) == (
            w.users["agent_gz"], None, "SLA breach (first_response)")


def test_a_handover_the_ticket_refuses_is_recorded_not_lost(w: World) -> None:
    with w.db.unit_of_work() as s:
        _policy(s, resolution_minutes=None, breach_assignee_id=w.users["agent_sz"])  # another city's agent
    tid = _ticket(w, bj(2026, 3, 2, 9))
    assert _scan(w, bj(2026, 3, 2, 14, 31)) == (0, 1)
    with w.db.session() as s:
        t = tickets.get(s, tid)
        assert t is not None
        assert (t.assignee_id, t.priority) == (None, "normal")
        [failed] = [e.payload for e in
                    s.scalars(select(OutboxEvent).where(OutboxEvent.name == "sla.escalation_failed"))]
        assert (failed["ticket_id"], failed["assignee_id"], failed["error"]) == (tid, w.users["agent_sz"],
                                                                               "invalid_assignee")


def test_the_escalation_assignee_must_be_someone_who_takes_tickets(w: World) -> None:
    with w.db.unit_of_work() as s, pytest.raises(InvalidInput) as err:
        _policy(s, breach_assignee_id=w.users["analyst"])
    assert err.value.details == {"field": "breach_assignee_id"}
