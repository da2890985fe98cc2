"""The handoff, return and path summaries kept from events (kefu/analytics/handoffs.py, quality.py):
hand-computed figures on a small generated day, the same as the raw-table functions, per org unit's subtree (a
city supervisor sees the city); a redelivered event changes nothing; the consumers' rows are the rebuild's;
migrations 0713 and 0714 backfill what the events kept; rows per agent × category read the agent × category
roll-up, with the full daily table's figures."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.analytics import consumers, handoffs, journeys, quality, summary
from kefu.analytics.models import (
    DayAgentTopicSummary,
    DayHandoffSummary,
    DayPathSummary,
    DayReturnSummary,
    DaySummary,
    DayTierSummary,
)
from kefu.core.events import Event
from kefu.customers.models import Customer
from kefu.handoffs import service as handoff_service
from kefu.handoffs.models import Handoff
from kefu.interactions.models import Interaction
from kefu.org import service as org
from kefu.tickets.models import Category
from tests.analytics.support import DAY0, call, complaint
from tests.conftest import World

DAY = date(2026, 3, 2)  # DAY0's local date
NEXT = DAY + timedelta(days=1)
_ids = iter(range(1, 10**6))


def _deliver(db: Any, kind: str, name: str, refs: list[int]) -> None:
    """The events ``name`` of these ``kind`` rows delivered to the handoff and quality consumers, in one batch
    (as the bus does)."""
    evs = [Event(next(_ids), name, kind, ref, None, {}, DAY0) for ref in refs]
    with db.unit_of_work() as s:
        consumers.on_handoff_events(s, evs)
        consumers.on_quality_events(s, evs)


def _customer(s: Session, unit: int, n: int) -> int:
    c = Customer(org_unit_id=unit, phone=f"+8613700000{n:03d}", name=f"客户{n}", created_at=DAY0, updated_at=DAY0)
    s.add(c)
    s.flush()
    return c.id


def _handoff(s: Session, cust: int, unit: int, to: str, status: str, saved: float = 0.0,
             at: Any = None) -> int:
    at = at or DAY0 + timedelta(hours=9)
    h = Handoff(customer_id=cust, org_unit_id=unit, source="ivr", from_channel="voice", to_channel=to, task="查话费",
                status=status, offered_at=at, expires_at=at + timedelta(days=1), saved_seconds=saved,
                opened_at=at + timedelta(minutes=5) if status in ("opened", "completed") else None)
    s.add(h)
    s.flush()
    return h.id


def _rows(db: Any, table: Any, cols: tuple[str, ...]) -> set[tuple[Any, ...]]:
    """The table's rows (these columns) with a sum not zero (a row a fact left keeps zero sums)."""
    keys = {DayHandoffSummary: 4, DayTierSummary: 4}.get(table, 5)
    with db.session() as s:
        return {tuple(getattr(r, c) for c in cols) for r in s.scalars(select(table))
                if any(getattr(r, c) for c in cols[keys:])}


HANDOFF_COLS = ("day", "org_unit_id", "from_channel", "to_channel", "calls", "offered", "opened", "completed",
                "returned", "saved_seconds")
RETURN_COLS = ("day", "org_unit_id", "channel", "category", "next_channel", "contacts", "returned", "resolved",
               "resolve_sum")
PATH_COLS = ("day", "org_unit_id", "channel", "type", "path", "tickets", "contacts", "handed_off")


def _stats(h: Any) -> tuple[Any, ...]:
    return (h.calls, h.offered, h.opened, h.completed, h.returned, h.minutes_saved,
            [(d.from_channel, d.to_channel, d.offered, d.opened, d.completed, d.returned) for d in h.directions])


def test_handoff_report_from_the_summary_by_hand_per_city(db, world: World) -> None:  # type: ignore[no-untyped-def]
    gz, sz = world.units["gz"], world.units["sz"]
    nine = DAY0 + timedelta(hours=9)
    with db.unit_of_work() as s:
        a, b = _customer(s, gz, 1), _customer(s, sz, 2)
        its = [call(s, gz, nine, wait=1, talk=60, customer_id=a), call(s, gz, nine, abandon_after=3),
               call(s, gz, nine, wait=1, talk=30, channel="sms"),  # not a call
               call(s, sz, nine, wait=1, talk=60, customer_id=b),
               call(s, gz, nine + timedelta(days=1), wait=1, talk=60)]  # the next day
        out = Interaction(org_unit_id=gz, channel="voice", direction="outbound", offered_at=nine, status="closed")
        s.add(out)  # an outbound call: no inbound call
        s.flush()
        calls = [it.id for it in (*its, out)]
        hs = [_handoff(s, a, gz, "wechat", "completed", 120.0), _handoff(s, a, gz, "wechat", "returned"),
              _handoff(s, a, gz, "sms", "opened"), _handoff(s, b, sz, "app", "offered")]
    _deliver(db, "interaction", "interaction.opened", calls)
    _deliver(db, "handoff", "handoff.offered", hs)
    province = world.units["province"]
    with db.session() as s:
        every = org.subtree_ids(s, org.org_unit(s, province).path)
        got = {u: handoffs.stats(s, DAY, NEXT, unit_ids=ids) for u, ids in (("province", every), ("gz", [gz]),
                                                                            ("sz", [sz]))}
        # 广州: 2 inbound calls that day; 3 handoffs: wechat 2 (1 completed, 120 s; 1 returned), sms 1 opened
        assert _stats(got["gz"]) == (2, 3, 2, 1, 1, 2.0, [("voice", "wechat", 2, 1, 1, 1),
                                                          ("voice", "sms", 1, 1, 0, 0)])
        assert _stats(got["sz"]) == (1, 1, 0, 0, 0, 0.0, [("voice", "app", 1, 0, 0, 0)])  # 深圳 sees only its own
        assert _stats(got["province"])[:6] == (3, 4, 2, 1, 1, 2.0)
        assert got["gz"].handoff_rate == 1.5
        for u, ids in (("province", every), ("gz", [gz]), ("sz", [sz])):  # the raw rows' figures
            raw = handoff_service.stats(s, ids, start=DAY0, end=DAY0 + timedelta(days=1))
            assert _stats(raw) == _stats(got[u])
    kept = _rows(db, DayHandoffSummary, HANDOFF_COLS)
    _deliver(db, "handoff", "handoff.offered", hs)  # redelivered: nothing changes
    _deliver(db, "interaction", "interaction.opened", calls)
    assert _rows(db, DayHandoffSummary, HANDOFF_COLS) == kept
    with db.unit_of_work() as s:  # the opened sms handoff is completed: 60 s saved
        h = s.get(Handoff, hs[2])
        assert h is not None
        h.status, h.completed_at, h.saved_seconds = "completed", nine + timedelta(hours=1), 60.0
    _deliver(db, "handoff", "handoff.completed", [hs[2]])
    with db.session() as s:
        assert _stats(handoffs.stats(s, DAY, NEXT, unit_ids=[gz]))[:6] == (2, 3, 2, 2, 1, 3.0)
    kept = _rows(db, DayHandoffSummary, HANDOFF_COLS)
    with db.unit_of_work() as s:
        assert handoffs.rebuild(s) == 8  # 4 inbound calls, 4 handoffs
    assert _rows(db, DayHandoffSummary, HANDOFF_COLS) == kept


def _category(db: Any) -> int:
    with db.unit_of_work() as s:
        s.add_all([Category(key="zb", name="计费", name_en="Billing"),
                   Category(key="zb.refund", name="退费", name_en="Refund")])
        s.flush()
        cid = s.scalar(select(Category.id).where(Category.key == "zb.refund"))
        assert cid is not None
        return cid


def test_repeat_contacts_switches_and_recommendation_from_the_summary(db, world: World) -> None:  # type: ignore[no-untyped-def]
    gz, sz = world.units["gz"], world.units["sz"]
    refund = _category(db)
    with db.unit_of_work() as s:
        a, b, c = _customer(s, gz, 1), _customer(s, gz, 2), _customer(s, sz, 3)
        t = complaint(s, gz, DAY0 + timedelta(hours=1), customer_id=a, category_id=refund)
        t.resolved_at = DAY0 + timedelta(hours=5)
        its = [call(s, gz, DAY0 + timedelta(hours=1), wait=1, talk=1, customer_id=a),
               call(s, gz, DAY0 + timedelta(days=1), wait=1, talk=1, customer_id=a, channel="sms"),  # a returns
               call(s, gz, DAY0 + timedelta(hours=2), wait=1, talk=1, customer_id=b),
               call(s, gz, DAY0 + timedelta(days=9), wait=1, talk=1, customer_id=b),  # too late to return
               call(s, sz, DAY0 + timedelta(hours=3), wait=1, talk=1, customer_id=c)]  # another city
        its[0].ticket_id = t.id
        s.flush()
        ids = [it.id for it in its]
    _deliver(db, "interaction", "interaction.opened", ids)
    end = DAY + timedelta(days=2)
    with db.session() as s:
        figs = journeys.repeat_figures(s, DAY, end, unit_ids=[gz])
        # 广州 over two days: a's call and sms, b's call; a's call came back on sms within 7 days
        assert (figs.contacts, figs.repeats, figs.switches) == (3, 1, {("voice", "sms"): 1})
        raw = journeys.repeat_contacts(s, DAY0, DAY0 + timedelta(days=2), unit_ids=[gz])
        assert (raw.contacts, raw.repeats, raw.switches) == (figs.contacts, figs.repeats, figs.switches)
        assert journeys.repeat_figures(s, DAY, end, unit_ids=[sz]).contacts == 1  # 深圳: c's call only
        recs = journeys.recommendations(s, DAY, end, unit_ids=[gz], min_contacts=1)
        # the task type zb: one voice contact, returned, resolved 4 h after it
        assert [(r.task, r.channel, [(o.channel, o.contacts, o.returns, o.resolved, o.resolve_sum)
                                     for o in r.outcomes]) for r in recs] == [
            ("zb", "voice", [("voice", 1, 1, 1, 4 * 3600.0)])]
        assert recs == journeys.channel_recommendations(s, DAY0, DAY0 + timedelta(days=2), unit_ids=[gz],
                                                        min_contacts=1)
    kept = _rows(db, DayReturnSummary, RETURN_COLS)
    _deliver(db, "interaction", "interaction.opened", ids)  # redelivered: nothing changes
    assert _rows(db, DayReturnSummary, RETURN_COLS) == kept
    with db.unit_of_work() as s:  # b comes back on WeChat 3 days later: their call returned, a switch to WeChat
        late = call(s, gz, DAY0 + timedelta(days=3), wait=1, talk=1, customer_id=b, channel="wechat")
        s.flush()
        late_id = late.id
    _deliver(db, "interaction", "interaction.opened", [late_id])
    with db.session() as s:
        figs = journeys.repeat_figures(s, DAY, end, unit_ids=[gz])
        assert (figs.contacts, figs.repeats, figs.switches) == (3, 2, {("voice", "sms"): 1, ("voice", "wechat"): 1})
    kept = _rows(db, DayReturnSummary, RETURN_COLS)
    with db.unit_of_work() as s:
        quality.rebuild(s)
    assert _rows(db, DayReturnSummary, RETURN_COLS) == kept


def test_a_complaint_s_path_follows_its_contacts_and_handoffs(db, world: World) -> None:  # type: ignore[no-untyped-def]
    gz, sz = world.units["gz"], world.units["sz"]
    ten = DAY0 + timedelta(hours=10)
    with db.unit_of_work() as s:
        a, b = _customer(s, gz, 1), _customer(s, sz, 2)
        tickets = [complaint(s, gz, ten, customer_id=a).id, complaint(s, sz, ten, customer_id=b).id,
                   complaint(s, gz, ten + timedelta(hours=1), customer_id=a, type="appeal").id]
    _deliver(db, "ticket", "ticket.created", tickets)

    def paths(unit: int, type: str = "complaint") -> list[tuple[Any, ...]]:
        with db.session() as s:
            return [(p.path, p.complaints, p.contacts, p.with_handoff)
                    for p in journeys.paths(s, DAY, NEXT, unit_ids=[unit], type=type)]

    assert paths(gz) == [((), 1, 0, 0)]  # no contact yet
    with db.unit_of_work() as s:  # contacts recorded after the complaint (an import), and a handoff
        made = [call(s, gz, ten - timedelta(days=3), wait=1, talk=1, customer_id=a),
                call(s, gz, ten - timedelta(days=2), wait=1, talk=1, customer_id=a, channel="wechat"),
                call(s, gz, ten - timedelta(days=1), wait=1, talk=1, customer_id=a, channel="wechat"),
                call(s, gz, ten - timedelta(days=20), wait=1, talk=1, customer_id=a, channel="sms")]  # too early
        s.flush()
        its = [it.id for it in made]
    _deliver(db, "interaction", "interaction.opened", its)
    assert paths(gz) == [(("voice", "wechat"), 1, 3, 0)]
    with db.unit_of_work() as s:
        h = _handoff(s, a, gz, "wechat", "offered", at=ten - timedelta(days=2, hours=1))
    _deliver(db, "handoff", "handoff.offered", [h])
    assert paths(gz) == [(("voice", "wechat"), 1, 3, 1)]
    assert paths(gz, "appeal") == [(("voice", "wechat"), 1, 3, 1)]  # the path that ended in an escalation
    assert paths(sz) == [((), 1, 0, 0)]  # 深圳 sees its own complaint only
    with db.session() as s:
        raw = journeys.before_complaints(s, DAY0, DAY0 + timedelta(days=1), unit_ids=[gz])
        assert raw == journeys.paths(s, DAY, NEXT, unit_ids=[gz])
    kept = _rows(db, DayPathSummary, PATH_COLS)
    _deliver(db, "handoff", "handoff.offered", [h])  # redelivered
    _deliver(db, "interaction", "interaction.opened", its)
    assert _rows(db, DayPathSummary, PATH_COLS) == kept
    with db.unit_of_work() as s:
        quality.rebuild(s)
    assert _rows(db, DayPathSummary, PATH_COLS) == kept

    with db.unit_of_work() as s:  # the same escalation again, merged into the first: one journey, as raw
        again = complaint(s, gz, ten + timedelta(hours=2), customer_id=a, type="appeal")
        again.status, again.merged_into_id = "merged", tickets[2]
        s.flush()
        again_id = again.id
    _deliver(db, "ticket", "ticket.created", [again_id])
    assert paths(gz, "appeal") == [(("voice", "wechat"), 1, 3, 1)]
    with db.session() as s:
        raw = journeys.before_complaints(s, DAY0, DAY0 + timedelta(days=1), unit_ids=[gz], type="appeal")
        assert raw == journeys.paths(s, DAY, NEXT, unit_ids=[gz], type="appeal")
    kept = _rows(db, DayPathSummary, PATH_COLS)
    with db.unit_of_work() as s:
        quality.rebuild(s)
    assert _rows(db, DayPathSummary, PATH_COLS) == kept


def test_a_long_path_keeps_its_last_channels() -> None:
    contacts = [(float(n), "voice" if n % 2 else "sms") for n in range(30)]
    path, n, off = journeys.path_of(100.0, contacts, [])
    assert (len(path), path[0], path[-1], n, off) == (journeys.PATH_STEPS, "…", "voice", 30, False)


def test_agent_by_category_reads_the_roll_up_with_the_full_table_s_figures(db, world: World) -> None:  # type: ignore[no-untyped-def]
    from tests.analytics.support import random_day

    gz, sz = world.units["gz"], world.units["sz"]
    with db.unit_of_work() as s:
        random_day(s, [gz, sz], 120)
        s.flush()
        for n, it in enumerate(s.scalars(select(Interaction).order_by(Interaction.id))):
            it.agent_id = world.users["agent_gz"] if n % 3 else None
        s.flush()
        summary.rebuild(s)
    with db.session() as s:
        by = ("agent_id", "category")
        got = summary.breakdown(s, DAY, NEXT, by=by, unit_ids=[gz])
        assert got
        assert got == summary.breakdown(s, DAY, NEXT, by=by, unit_ids=[gz], table=DaySummary)
        tiers = summary.breakdown(s, DAY, NEXT, by=("tier", "channel"), unit_ids=[gz])  # the tier roll-up
        assert tiers == summary.breakdown(s, DAY, NEXT, by=("tier", "channel"), unit_ids=[gz], table=DaySummary)
        rows = s.scalars(select(DayAgentTopicSummary)).all()
        assert sum(r.offered for r in rows) == sum(r.offered for r in s.scalars(select(DaySummary)))


def test_migrations_0713_and_0714_backfill_what_the_events_kept(db, world: World, db_url: str) -> None:  # type: ignore[no-untyped-def]
    from kefu.core.migrate import downgrade, upgrade

    gz = world.units["gz"]
    with db.unit_of_work() as s:
        a = _customer(s, gz, 1)
        its = [call(s, gz, DAY0 + timedelta(hours=9), wait=1, talk=60, customer_id=a),
               call(s, gz, DAY0 + timedelta(hours=10), abandon_after=4)]
        s.flush()
        hs = [_handoff(s, a, gz, "wechat", "completed", 90.0), _handoff(s, a, gz, "sms", "offered")]
        summary.observe(s, [it.id for it in its])
        calls = [it.id for it in its]
    _deliver(db, "interaction", "interaction.opened", calls)
    _deliver(db, "handoff", "handoff.offered", hs)
    kept = _rows(db, DayHandoffSummary, HANDOFF_COLS)
    topic_cols = ("day", "org_unit_id", "channel", "agent_id", "category", "offered", "answered", "abandoned")
    topics = _rows(db, DayAgentTopicSummary, topic_cols)
    tier_cols = ("day", "org_unit_id", "channel", "tier", "offered", "answered", "abandoned")
    tiers = _rows(db, DayTierSummary, tier_cols)
    assert sum(r[4] for r in kept) == 2
    assert sum(r[5] for r in kept) == 2
    assert topics
    assert tiers
    db.dispose()
    downgrade(db_url, "0712_analytics_surveys")
    upgrade(db_url)
    assert _rows(db, DayHandoffSummary, HANDOFF_COLS) == kept
    assert _rows(db, DayAgentTopicSummary, topic_cols) == topics
    assert _rows(db, DayTierSummary, tier_cols) == tiers
