"""KPIs from the database agree with the pure definitions, interval by interval, channel by channel."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from kefu.analytics import kpi, service
from kefu.analytics.service import Grid
from kefu.customers.models import Customer
from kefu.routing.models import RoutingItem
from kefu.tickets.models import Category
from tests.analytics.support import DAY0, call, complaint, random_day


def _same(a: kpi.Tally, b: kpi.Tally) -> None:
    assert (a.offered, a.answered, a.within, a.abandoned, a.short_abandoned, a.handled, a.pending) == (
        b.offered, b.answered, b.within, b.abandoned, b.short_abandoned, b.handled, b.pending)
    assert a.wait_sum == pytest.approx(b.wait_sum, abs=1e-6)
    assert a.handle_sum == pytest.approx(b.handle_sum, abs=1e-6)


@pytest.mark.parametrize("minutes", [15, 30, 60, 1440])
def test_sql_tallies_equal_the_pure_definition(db, world, minutes: int) -> None:  # type: ignore[no-untyped-def]
    units = [world.units["gz"], world.units["sz"]]
    with db.unit_of_work() as s:
        rows = random_day(s, units, 300)
        grid = Grid(DAY0, DAY0 + timedelta(days=1), minutes)
        got = service.contact_tallies(s, grid)
        expected: dict[tuple[object, str, int], list[kpi.Contact]] = {}
        for it in rows:
            c = service.contact_of(it)
            if c is None:
                continue
            b = kpi.bucket_start(it.offered_at.timestamp(), minutes, offset=8 * 3600)
            expected.setdefault((service._from_epoch(b), it.channel, it.org_unit_id), []).append(c)
    assert set(got) == set(expected)
    for k, cs in expected.items():
        _same(got[k], kpi.tally(cs))


def test_a_hand_computed_hour(db, world) -> None:  # type: ignore[no-untyped-def]
    gz, sz = world.units["gz"], world.units["sz"]
    at = DAY0 + timedelta(hours=9)  # 09:00 in China
    with db.unit_of_work() as s:
        call(s, gz, at, wait=10, talk=100)
        call(s, gz, at + timedelta(minutes=1), wait=15, talk=200)
        call(s, gz, at + timedelta(minutes=2), wait=25, talk=300)
        call(s, gz, at + timedelta(minutes=3), abandon_after=3)  # short
        call(s, gz, at + timedelta(minutes=4), abandon_after=40)
        call(s, sz, at + timedelta(minutes=5), wait=20, talk=60)
        call(s, sz, at + timedelta(minutes=6))  # waiting
        call(s, sz, at + timedelta(minutes=7), outcome="self_served", queued=False)  # IVR only: no contact
        call(s, gz, at + timedelta(hours=1), wait=1, talk=1)  # the next hour
        grid = Grid(DAY0, DAY0 + timedelta(days=1), 60)
        tallies = service.contact_tallies(s, grid, channels=["voice"])
        hour = service.sum_by({k: v for k, v in tallies.items() if k[0] == at}, lambda k: "all")["all"]
        by_unit = service.sum_by({k: v for k, v in tallies.items() if k[0] == at}, lambda k: k[2])
    assert (hour.offered, hour.answered, hour.abandoned, hour.short_abandoned, hour.pending) == (6, 4, 2, 1, 1)
    assert hour.service_level(15) == pytest.approx(2 / 5)
    assert hour.service_level(20) == pytest.approx(3 / 5)
    assert hour.abandonment() == pytest.approx(1 / 5)
    assert hour.asa() == pytest.approx((10 + 15 + 25 + 20) / 4)
    assert hour.aht() == pytest.approx((100 + 200 + 300 + 60) / 4)
    assert by_unit[gz].offered == 5
    assert by_unit[sz].offered == 1


def test_subtree_totals_roll_cities_up_to_the_province(db, world) -> None:  # type: ignore[no-untyped-def]
    from kefu.org.models import OrgUnit

    gz, sz = world.units["gz"], world.units["sz"]
    with db.unit_of_work() as s:
        call(s, gz, DAY0, wait=1, talk=1)
        call(s, sz, DAY0, wait=30, talk=1)
        s.flush()
        tallies = service.contact_tallies(s, Grid(DAY0, DAY0 + timedelta(days=1)))
        by_unit = service.sum_by(tallies, lambda k: k[2])
        units = [s.get(OrgUnit, world.units[k]) for k in ("group", "province", "gz")]
        totals = service.subtree_totals(s, by_unit, units)  # type: ignore[arg-type]
    assert totals[world.units["province"]].offered == 2
    assert totals[world.units["province"]].within == {15: 1, 20: 1}
    assert totals[world.units["group"]].offered == 2
    assert totals[gz].offered == 1


def test_queue_tallies_from_routing_items(db, world) -> None:  # type: ignore[no-untyped-def]
    gz = world.units["gz"]
    t0 = DAY0 + timedelta(hours=2)
    with db.unit_of_work() as s:
        def item(key: str, enq: float, state: str, assigned: float | None = None, ended: float | None = None,
                 reason: str | None = None) -> None:
            s.add(RoutingItem(queue_key=key, entry_queue_key=key, channel="sms", org_unit_id=gz,
                              enqueued_at=t0 + timedelta(seconds=enq), queue_since=t0 + timedelta(seconds=enq),
                              state=state, end_reason=reason,
                              assigned_at=t0 + timedelta(seconds=assigned) if assigned is not None else None,
                              ended_at=t0 + timedelta(seconds=ended) if ended is not None else None))
        item("billing", 0, "completed", assigned=12, ended=312, reason="resolved")
        item("billing", 0, "assigned", assigned=30)
        item("billing", 0, "withdrawn", ended=8, reason="taken")  # claimed by hand after 8 s
        item("billing", 0, "withdrawn", ended=100, reason="resolved")  # resolved elsewhere: unanswered
        item("billing", 0, "waiting")
        item("network", 10, "waiting")
        s.flush()
        got = service.queue_tallies(s, Grid(DAY0, DAY0 + timedelta(days=1)))
    b = got[(DAY0, "billing")]
    assert (b.offered, b.answered, b.abandoned, b.pending, b.handled) == (4, 3, 0, 1, 2)
    assert b.within == {15: 2, 20: 2}
    assert b.asa() == pytest.approx((12 + 30 + 8) / 3)
    assert b.aht() == pytest.approx((300 + 0) / 2)
    assert got[(DAY0, "network")].pending == 1


def test_complaint_figures(db, world) -> None:  # type: ignore[no-untyped-def]
    gz, sz = world.units["gz"], world.units["sz"]
    with db.unit_of_work() as s:
        root = s.scalars(select(Category).where(Category.key == "billing")).one()
        child = s.scalars(select(Category).where(Category.parent_id == root.id)).first()
        assert child is not None
        custs = [Customer(org_unit_id=gz, phone=f"+8613800000{i:03d}", name=f"客户{i}", created_at=DAY0,
                          updated_at=DAY0) for i in range(4)]
        s.add_all(custs)
        s.flush()
        start = DAY0
        complaint(s, gz, start - timedelta(days=10), customer_id=custs[0].id, category_id=root.id)  # look-back
        complaint(s, gz, start + timedelta(days=1), customer_id=custs[0].id, category_id=child.id,
                  replied_after_days=2)  # repeat (same first-level category), on time
        complaint(s, gz, start + timedelta(days=2), customer_id=custs[1].id, replied_after_days=16)  # late
        complaint(s, gz, start + timedelta(days=3), customer_id=custs[2].id)  # overdue by now
        complaint(s, sz, start + timedelta(days=3))  # other unit
        complaint(s, gz, start + timedelta(days=4), type="appeal")
        figs = service.complaint_figures(s, start, start + timedelta(days=30), unit_ids=[gz],
                                         now=start + timedelta(days=40))
    assert figs.complaints == 3
    assert (figs.replies.on_time, figs.replies.late, figs.replies.overdue, figs.replies.open) == (1, 1, 1, 0)
    assert figs.repeats == 1
    assert figs.repeat_rate() == pytest.approx(1 / 3)
    assert (figs.appeals, figs.customers) == (1, 4)
    assert figs.appeals_per_million() == pytest.approx(250_000.0)


def test_first_contact_resolution_looks_across_channels(db, world) -> None:  # type: ignore[no-untyped-def]
    gz = world.units["gz"]
    with db.unit_of_work() as s:
        c1, c2 = (Customer(org_unit_id=gz, phone=f"+861380000010{i}", name="客户", created_at=DAY0,
                           updated_at=DAY0) for i in range(2))
        s.add_all([c1, c2])
        s.flush()
        call(s, gz, DAY0, wait=1, talk=1, customer_id=c1.id)
        call(s, gz, DAY0 + timedelta(days=2), wait=1, talk=1, customer_id=c1.id, channel="wechat")  # repeat
        call(s, gz, DAY0, wait=1, talk=1, customer_id=c2.id)
        call(s, gz, DAY0, wait=1, talk=1)  # no customer: not counted
        s.flush()
        resolved, counted = service.first_contact(s, DAY0, DAY0 + timedelta(days=1), unit_ids=[gz])
    assert (resolved, counted) == (1, 2)
