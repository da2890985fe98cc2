"""The summary tables kept from events: the same figures as the raw tables, idempotent on redelivery, late
corrections moved, breakdowns by category / tier / agent, the backfill."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.analytics import consumers, kpi, service, summary
from kefu.analytics.models import ContactFact
from kefu.analytics.service import Grid
from kefu.core.events import Event, OutboxEvent, bus
from kefu.customers.models import Customer
from kefu.interactions import service as interactions
from kefu.tickets.models import Category
from tests.analytics.support import DAY0, call, complaint, random_day
from tests.conftest import World

DAY = date(2026, 3, 2)


def _same(a: dict[Any, kpi.Tally], b: dict[Any, kpi.Tally]) -> None:
    assert a.keys() == b.keys()
    for k in a:
        x, y = a[k], b[k]
        assert (x.offered, x.answered, x.within, x.abandoned, x.short_abandoned, x.handled, x.pending) == (
            y.offered, y.answered, y.within, y.abandoned, y.short_abandoned, y.handled, y.pending), k
        assert x.wait_sum == pytest.approx(y.wait_sum), k
        assert x.handle_sum == pytest.approx(y.handle_sum), k


def _tables(s: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every summary and fact row (without ids), sorted, float sums rounded to the microsecond."""
    out = {}
    for table in (*(t for t, _ in summary.ROLLUPS), ContactFact):
        cols = [c for c in table.__table__.c if c.name != "id"]
        rows = [tuple(round(v, 6) if isinstance(v, float) else v for v in r) for r in s.execute(select(*cols))]
        # rows a contact left (all sums 0) are kept by the consumer, never made by the backfill
        if table is not ContactFact:
            rows = [r for r in rows if any(r[-10:])]
        out[table.__tablename__] = sorted(rows, key=repr)
    return out


def test_summaries_kept_from_contacts_give_the_raw_figures_and_the_backfill_the_same_rows(
        db, world: World) -> None:  # type: ignore[no-untyped-def]
    units = [world.units["gz"], world.units["sz"]]
    with db.unit_of_work() as s:
        contacts = random_day(s, units, 400, seed=3)
        n = sum(service.contact_of(c) is not None for c in contacts)
        assert 300 < n < 400  # the others are no contacts (served by the IVR, or still in it)
        assert summary.observe(s, [c.id for c in contacts]) == n
        assert summary.observe(s, [c.id for c in contacts]) == 0  # nothing changed: nothing written
    start, end = DAY0, DAY0 + timedelta(days=1)
    with db.session() as s:
        for minutes in (60, 180, service.DAY_MINUTES):
            grid = Grid(start, end, minutes)
            assert summary.usable(grid)
            _same(summary.contact_tallies(s, grid, unit_ids=units), service.contact_tallies(s, grid, unit_ids=units))
        grid = Grid(start, end, 60)
        _same(summary.contact_tallies(s, grid, unit_ids=[units[0]], channels=["voice"]),
              service.contact_tallies(s, grid, unit_ids=[units[0]], channels=["voice"]))
        by_day = summary.breakdown(s, DAY, DAY + timedelta(days=1), by=("channel",), unit_ids=units)
        raw = service.sum_by(service.contact_tallies(s, Grid(start, end), unit_ids=units), lambda k: (k[1],))
        _same(by_day, raw)
        assert not summary.usable(Grid(start, end, 15))  # 15-minute intervals come from the raw tables
        kept = _tables(s)
    with db.unit_of_work() as s:
        assert summary.rebuild(s) == n
    with db.session() as s:
        assert _tables(s) == kept
    with db.unit_of_work() as s:  # a period's backfill leaves other days alone
        call(s, units[0], DAY0 + timedelta(days=1, hours=3), wait=3, talk=30)
        s.flush()
        assert summary.rebuild(s, start=DAY0 + timedelta(days=1), end=DAY0 + timedelta(days=2)) == 1
    with db.session() as s:
        after = _tables(s)
        assert len(after["analytics_contacts"]) == n + 1
        assert set(kept["analytics_daily"]) < set(after["analytics_daily"])
        assert set(kept["analytics_daily_agents"]) < set(after["analytics_daily_agents"])
        assert summary.breakdown(s, DAY, DAY + timedelta(days=2), by=("day",), unit_ids=units)[
            (DAY + timedelta(days=1),)].answered == 1


def _events(db: Any, after: int) -> list[Event]:  # type: ignore[no-untyped-def]
    with db.session() as s:
        return [Event(e.id, e.name, e.aggregate_type, e.aggregate_id, e.org_unit_id, e.payload, e.occurred_at)
                for e in s.scalars(select(OutboxEvent).where(OutboxEvent.id > after).order_by(OutboxEvent.id))]


def _day_tally(db: Any, unit: int) -> kpi.Tally:  # type: ignore[no-untyped-def]
    with db.session() as s:
        return summary.breakdown(s, DAY, DAY + timedelta(days=1), by=(), unit_ids=[unit]).get((), kpi.Tally())


def test_events_keep_the_counters_once_and_a_late_answer_moves_an_abandoned_call(
        db, world: World) -> None:  # type: ignore[no-untyped-def]
    gz = world.units["gz"]
    t0 = DAY0 + timedelta(hours=10)
    with db.session() as s:
        last = s.scalar(select(OutboxEvent.id).order_by(OutboxEvent.id.desc()).limit(1)) or 0
    with db.unit_of_work() as s:
        it = interactions.open_call(s, customer_id=None, org_unit_id=gz, external_ref="cti-1", offered_at=t0)
        interactions.update_times(s, it.id, queued_at=t0 + timedelta(seconds=20))
        iid = it.id
    bus.dispatch_pending(db)
    t = _day_tally(db, gz)
    assert (t.offered, t.pending) == (0, 1)  # waiting
    with db.session() as s:
        assert summary.waiting_now(s, [gz], t0 + timedelta(seconds=50), service.WAITING_LOOKBACK) == {
            "voice": (1, t0 + timedelta(seconds=20))}
    with db.unit_of_work() as s:
        interactions.update_times(s, iid, ended_at=t0 + timedelta(seconds=80))  # hung up: abandoned
    bus.dispatch_pending(db)
    t = _day_tally(db, gz)
    assert (t.offered, t.answered, t.abandoned, t.short_abandoned, t.pending) == (1, 0, 1, 0, 0)
    # every event handed to the consumer again (a redelivery after a crash) changes nothing
    evs = [e for e in _events(db, last) if e.aggregate_id == iid]
    assert [e.name for e in evs] == ["interaction.opened", "interaction.updated", "interaction.closed"]
    for e in evs:
        with db.unit_of_work() as s:
            consumers.on_contact_event(s, e)
    assert _day_tally(db, gz) == t
    with db.session() as s:
        assert summary.waiting_now(s, [gz], t0 + timedelta(seconds=90), service.WAITING_LOOKBACK) == {}
    # the switch reports late that an agent had answered 12 s after the queue start
    with db.unit_of_work() as s:
        call_ = interactions.get(s, iid)
        assert call_ is not None
        interactions.sync_call(s, call_, offered_at=t0, queued_at=t0 + timedelta(seconds=20),
                               answered_at=t0 + timedelta(seconds=32), ended_at=t0 + timedelta(seconds=80),
                               agent_id=world.users["agent_gz"], outcome="answered")
    bus.dispatch_pending(db)
    t = _day_tally(db, gz)
    assert (t.offered, t.answered, t.abandoned, t.within[15], t.handled) == (1, 1, 0, 1, 1)
    assert t.wait_sum == pytest.approx(12.0)
    assert t.handle_sum == pytest.approx(48.0)
    with db.session() as s:
        agents = summary.breakdown(s, DAY, DAY + timedelta(days=1), by=("agent_id",), unit_ids=[gz])
    assert list(agents) == [(world.users["agent_gz"],)]  # the answered call moved to its agent's row


def test_breakdown_by_category_tier_and_agent_by_hand(db, world: World) -> None:  # type: ignore[no-untyped-def]
    gz, sz = world.units["gz"], world.units["sz"]
    agent = world.users["agent_gz"]
    now = datetime(2026, 3, 10, tzinfo=UTC)
    with db.unit_of_work() as s:
        billing = Category(key="zbill", name="计费", name_en="Billing")
        refund = Category(key="zbill.refund", name="退费", name_en="Refund")
        s.add_all([billing, refund])
        s.flush()
        gold = Customer(phone="+8613800000001", org_unit_id=gz, tier="gold", created_at=now, updated_at=now)
        s.add(gold)
        s.flush()
        ticket = complaint(s, gz, DAY0, customer_id=gold.id, category_id=refund.id)
        nine = DAY0 + timedelta(hours=9)
        a = call(s, gz, nine, wait=10, talk=100, customer_id=gold.id)
        a.ticket_id, a.agent_id = ticket.id, agent
        b = call(s, gz, nine + timedelta(minutes=1), wait=30, talk=50)
        b.agent_id = agent
        c = call(s, sz, nine + timedelta(minutes=2), abandon_after=40, customer_id=gold.id)
        s.flush()
        summary.observe(s, [a.id, b.id, c.id])
    with db.session() as s:
        end = DAY + timedelta(days=1)
        by_cat = summary.breakdown(s, DAY, end, by=("category",), unit_ids=[gz, sz])
        assert {k: (t.offered, t.answered) for k, t in by_cat.items()} == {("zbill",): (1, 1), ("",): (2, 1)}
        by_tier = summary.breakdown(s, DAY, end, by=("tier", "org_unit_id"), unit_ids=[gz, sz])
        assert {k: (t.offered, t.abandoned) for k, t in by_tier.items()} == {
            ("gold", gz): (1, 0), ("", gz): (1, 0), ("gold", sz): (1, 1)}
        by_agent = summary.breakdown(s, DAY, end, by=("agent_id",), unit_ids=[gz, sz])
        mine = by_agent[(agent,)]
        assert (mine.answered, mine.within[20], mine.asa(), mine.aht()) == (2, 1, 20.0, 75.0)
        assert by_agent[(0,)].abandoned == 1
        assert summary.breakdown(s, DAY, end, by=("agent_id",), unit_ids=[sz]) == {(0,): by_agent[(0,)]}
        with pytest.raises(ValueError, match="unknown breakdown"):
            summary.breakdown(s, DAY, end, by=("phone",))


def test_two_dispatchers_observing_one_contact_at_once_count_it_once(db, world: World) -> None:  # type: ignore[no-untyped-def]
    import threading

    gz = world.units["gz"]
    with db.unit_of_work() as s:
        it = call(s, gz, DAY0 + timedelta(hours=11), wait=4, talk=20)
        s.flush()
        iid = it.id
    done: list[int] = []
    with db.unit_of_work() as first:
        assert summary.observe(first, [iid]) == 1  # holds the contact (PostgreSQL: its lock; SQLite: the write lock)

        def second() -> None:
            with db.unit_of_work() as s:
                done.append(summary.observe(s, [iid]))

        other = threading.Thread(target=second)
        other.start()
        other.join(timeout=1.0)
        assert other.is_alive()  # waits for the first to commit
    other.join(timeout=30)
    assert done == [0]  # it found the contact counted: nothing to change
    t = _day_tally(db, gz)
    assert (t.offered, t.answered, t.handled) == (1, 1, 1)


def test_the_rebuild_command_counts_whole_days_and_refuses_bad_dates(db, world: World,  # type: ignore[no-untyped-def]
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from kefu.cli import app
    from kefu.core.config import get_settings

    gz = world.units["gz"]
    with db.unit_of_work() as s:
        call(s, gz, DAY0 + timedelta(hours=1), wait=3, talk=30)
        call(s, gz, DAY0 + timedelta(hours=23, minutes=59), abandon_after=20)
        call(s, gz, DAY0 + timedelta(days=1, hours=2), wait=3, talk=30)  # the next day
        complaint(s, gz, DAY0 + timedelta(hours=5))
        complaint(s, gz, DAY0 + timedelta(days=2), type="appeal")
    monkeypatch.setenv("KEFU_DATABASE_URL", db.url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        result = runner.invoke(app, ["analytics", "rebuild", "--since", "2026-03-02", "--until", "2026-03-02"])
        assert result.exit_code == 0, result.output
        assert result.output.strip() == ("counted 2 contacts into the summary tables, 1 complaints, appeals and "
                                         "contacts of known customers into the quality summary, 0 satisfaction "
                                         "surveys into the survey summary, 2 handoffs and hotline calls into the "
                                         "handoff summary")
        t = _day_tally(db, gz)
        assert (t.offered, t.answered, t.abandoned) == (2, 1, 1)
        everything = runner.invoke(app, ["analytics", "rebuild"])
        assert everything.output.strip() == ("counted 3 contacts into the summary tables, 2 complaints, appeals "
                                             "and contacts of known customers into the quality summary, 0 satisfaction "
                                             "surveys into the survey summary, 3 handoffs and hotline calls into the "
                                             "handoff summary")
        bad = runner.invoke(app, ["analytics", "rebuild", "--since", "2026-03-32"])
        assert bad.exit_code == 2
        assert "--since is a date YYYY-MM-DD" in bad.output
        assert runner.invoke(app, ["analytics", "rebuild", "--since", "2026-03-03", "--until", "2026-03-02"]
                             ).exit_code == 2
    finally:
        get_settings.cache_clear()


def test_a_category_changed_by_hand_and_tier_changes_move_the_contacts(
        db, world: World, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from decimal import Decimal

    from kefu.customers import service as customers
    from kefu.customers.tiers import Rule
    from kefu.tickets import service as tickets

    gz = world.units["gz"]
    now = datetime(2026, 3, 10, tzinfo=UTC)
    end = DAY + timedelta(days=1)

    def rows(by: str) -> dict[Any, int]:
        with db.session() as s:
            return {k[0]: t.offered for k, t in summary.breakdown(s, DAY, end, by=(by,), unit_ids=[gz]).items()
                    if t.offered}

    with db.unit_of_work() as s:
        s.add_all([Category(key="zbill", name="计费", name_en="Billing"),
                   Category(key="znet", name="网络", name_en="Network")])
        s.flush()
        customers.set_tier_rules(s, [Rule("gold", Decimal(100), 0), Rule("standard", Decimal(0), 0)])
        cust = Customer(phone="+8613800000002", org_unit_id=gz, tier="standard", arpu=Decimal(50),
                        tenure_months=12, created_at=now, updated_at=now)
        s.add(cust)
        s.flush()
        bill = s.scalar(select(Category.id).where(Category.key == "zbill"))
        ticket = complaint(s, gz, DAY0, customer_id=cust.id, category_id=bill)
        a = call(s, gz, DAY0 + timedelta(hours=9), wait=10, talk=100, customer_id=cust.id)
        a.ticket_id = ticket.id
        call(s, gz, DAY0 + timedelta(hours=10), wait=5, talk=60)
        s.flush()
        summary.observe(s, [a.id])
        cid, tid = cust.id, ticket.id
    bus.dispatch_pending(db)
    with db.session() as s:
        summary.rebuild(s)  # the second call counted too (no event of its own in this test)
        s.commit()
    assert rows("category") == {"zbill": 1, "": 1}
    assert rows("tier") == {"standard": 1, "": 1}
    # an agent moves the ticket to another category by hand: ticket.updated
    with db.unit_of_work() as s:
        tickets.update(s, tid, actor_id=world.users["agent_gz"], category_key="znet", reason="误分类")
    bus.dispatch_pending(db)
    assert rows("category") == {"znet": 1, "": 1}
    with db.unit_of_work() as s:  # a subject edit moves nothing and writes nothing
        tickets.update(s, tid, actor_id=world.users["agent_gz"], subject="新标题")
    bus.dispatch_pending(db)
    assert rows("category") == {"znet": 1, "": 1}
    # the customer's ARPU rises: customer.tier_changed
    with db.unit_of_work() as s:
        c = s.get(Customer, cid)
        assert c is not None
        customers.update_customer(s, c, {"arpu": Decimal(150)})
        assert c.tier == "gold"
    bus.dispatch_pending(db)
    assert rows("tier") == {"gold": 1, "": 1}
    # new rules change so many tiers that one summary event is recorded instead of one per customer
    monkeypatch.setattr(customers, "TIER_EVENTS_LIMIT", 0)
    with db.unit_of_work() as s:
        report = customers.set_tier_rules(s, [Rule("diamond", Decimal(120), 0), Rule("standard", Decimal(0), 0)])
        assert (report.changed, report.per_customer_events) == (1, False)
    bus.dispatch_pending(db)
    assert rows("tier") == {"diamond": 1, "": 1}
    with db.session() as s:  # the counters kept from events are the rebuild's
        kept = _tables(s)
        summary.rebuild(s)
        assert _tables(s) == kept
