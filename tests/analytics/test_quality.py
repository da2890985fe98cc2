"""The complaint, appeal and first-contact summary kept from events (kefu/analytics/quality.py): hand-computed
figures, the same figures as the raw tables on a generated month, kept by the events consumer, the backfill."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.analytics import consumers, quality, reports, service
from kefu.analytics.models import QUALITY_SUMS, DayHandlerQualitySummary, DayQualitySummary, QualityFact
from kefu.core.events import bus
from kefu.customers.models import Customer
from kefu.interactions import service as interactions
from kefu.tickets import service as tickets
from kefu.tickets.models import Category, Ticket
from tests.analytics.support import DAY0, call, complaint
from tests.conftest import World

DAY = date(2026, 3, 2)  # DAY0's local date


def _customers(s: Session, unit: int, n: int, prefix: str = "0") -> list[Customer]:
    custs = [Customer(org_unit_id=unit, phone=f"+86138{prefix}{i:05d}", name=f"客户{i}", created_at=DAY0,
                      updated_at=DAY0) for i in range(n)]
    s.add_all(custs)
    s.flush()
    return custs


def _observe_all(s: Session) -> None:
    s.flush()
    quality.observe(s, tickets=s.scalars(select(Ticket.id)), contacts=s.scalars(select(
        service.Interaction.id)))


def _figures(s: Session, first: date, end: date, **kw: Any) -> tuple[Any, ...]:
    f = quality.complaint_figures(s, first, end, **kw)
    return (f.complaints, f.replies, f.repeats, f.appeals, f.customers)


def _raw(s: Session, first: date, end: date, **kw: Any) -> tuple[Any, ...]:
    f = service.complaint_figures(s, reports.local_instant(first), reports.local_instant(end), **kw)
    return (f.complaints, f.replies, f.repeats, f.appeals, f.customers)


def test_hand_computed_complaints_appeals_and_first_contact(db, world: World) -> None:  # type: ignore[no-untyped-def]
    gz, sz = world.units["gz"], world.units["sz"]
    with db.unit_of_work() as s:
        root = s.scalars(select(Category).where(Category.key == "billing")).one()
        child = s.scalars(select(Category).where(Category.parent_id == root.id)).first()
        assert child is not None
        custs = _customers(s, gz, 4)
        complaint(s, gz, DAY0 - timedelta(days=10), customer_id=custs[0].id, category_id=root.id)  # look-back
        complaint(s, gz, DAY0 + timedelta(days=1), customer_id=custs[0].id, category_id=child.id,
                  replied_after_days=2)  # repeat (same first-level category), on time
        complaint(s, gz, DAY0 + timedelta(days=2), customer_id=custs[1].id, replied_after_days=16)  # late
        complaint(s, gz, DAY0 + timedelta(days=3), customer_id=custs[2].id)  # overdue at day 40
        complaint(s, gz, DAY0 + timedelta(days=20), customer_id=custs[3].id)  # open at day 30
        complaint(s, sz, DAY0 + timedelta(days=3))  # other unit
        complaint(s, gz, DAY0 + timedelta(days=4), type="appeal")
        call(s, gz, DAY0, wait=1, talk=1, customer_id=custs[0].id)
        call(s, gz, DAY0 + timedelta(days=2), wait=1, talk=1, customer_id=custs[0].id, channel="wechat")  # return
        call(s, gz, DAY0, wait=1, talk=1, customer_id=custs[1].id)
        call(s, gz, DAY0, wait=1, talk=1)  # no customer: not counted
        _observe_all(s)
    with db.session() as s:
        f = quality.complaint_figures(s, DAY, DAY + timedelta(days=30), unit_ids=[gz], now=DAY0 + timedelta(days=30))
        assert (f.complaints, f.repeats, f.appeals, f.customers) == (4, 1, 1, 4)
        assert (f.replies.on_time, f.replies.late, f.replies.overdue, f.replies.open) == (1, 1, 1, 1)
        f = quality.complaint_figures(s, DAY, DAY + timedelta(days=30), unit_ids=[gz], now=DAY0 + timedelta(days=40))
        assert (f.replies.overdue, f.replies.open) == (2, 0)
        assert quality.first_contact(s, DAY, DAY + timedelta(days=1), unit_ids=[gz]) == (1, 2)
        assert quality.first_contact(s, DAY, DAY + timedelta(days=1), unit_ids=[gz], channels=["wechat"]) == (0, 0)
        assert quality.first_contact(s, DAY, DAY + timedelta(days=3), unit_ids=[gz]) == (2, 3)
        # the report reads them from the summary
        rep = reports.build(s, period="month", start=DAY, unit_id=gz, unit_ids=[gz], channel=None,
                            now=DAY0 + timedelta(days=40))
        assert (rep.complaints.complaints, rep.complaints.repeats, rep.complaints.appeals) == (4, 1, 1)
        assert rep.fcr == (2, 3)


def test_generated_month_equals_the_raw_tables_and_the_backfill(db, world: World) -> None:  # type: ignore[no-untyped-def]
    gz, sz = world.units["gz"], world.units["sz"]
    rng = random.Random(7)
    with db.unit_of_work() as s:
        cats = list(s.scalars(select(Category.id)))
        custs = _customers(s, gz, 30) + _customers(s, sz, 30, prefix="1")
        for _ in range(150):
            at = DAY0 + timedelta(days=rng.uniform(-20, 40))
            cust = rng.choice([*custs, None])
            unit = cust.org_unit_id if cust is not None else rng.choice([gz, sz])
            complaint(s, unit, at, customer_id=cust.id if cust else None, category_id=rng.choice([*cats[:4], None]),
                      replied_after_days=rng.choice([None, 1, 14.9, 15.5, 30]), type=rng.choice(
                          ["complaint"] * 4 + ["appeal"]), channel=rng.choice(["voice", "wechat"]))
        for n in range(400):
            at = DAY0 + timedelta(days=rng.uniform(-5, 40), milliseconds=n)
            cust = rng.choice([*custs, None])
            unit = cust.org_unit_id if cust is not None else rng.choice([gz, sz])
            call(s, unit, at, wait=1, talk=10, customer_id=cust.id if cust else None,
                 channel=rng.choice(["voice", "sms", "wechat"]))
        s.flush()
        # in the order they happened, each with what the consumer observes with it
        for t in s.scalars(select(Ticket).order_by(Ticket.opened_at)):
            quality.observe(s, tickets=quality.neighbours_of_ticket(s, t.id))
        for it in s.scalars(select(service.Interaction).order_by(service.Interaction.offered_at)):
            quality.observe(s, contacts=quality.neighbours_of_contact(s, it.id))
    now = DAY0 + timedelta(days=25)
    with db.session() as s:
        for first, days in ((DAY, 1), (DAY, 7), (DAY + timedelta(days=7), 7), (DAY, 31)):
            end = first + timedelta(days=days)
            for units in ([gz], [sz], [gz, sz]):
                for channels in (None, ["voice"], ["wechat", "sms"]):
                    kw: dict[str, Any] = {"unit_ids": units, "channels": channels}
                    assert _figures(s, first, end, now=now, **kw) == _raw(s, first, end, now=now, **kw)
                    assert quality.first_contact(s, first, end, **kw) == service.first_contact(
                        s, reports.local_instant(first), reports.local_instant(end), **kw)
        month = quality.complaint_figures(s, DAY, DAY + timedelta(days=31), unit_ids=[gz, sz], now=now)
        assert month.complaints > 50
        assert month.repeats > 0
        assert month.appeals > 0
        kept = _tables(s)
    with db.unit_of_work() as s:
        assert quality.rebuild(s) == len(kept["analytics_quality_facts"])
    with db.session() as s:
        assert _tables(s) == kept
    with db.unit_of_work() as s:  # a period: the rows outside it are left as they were
        quality.rebuild(s, start=reports.local_instant(DAY), end=reports.local_instant(DAY + timedelta(days=7)))
    with db.session() as s:
        assert _tables(s) == kept


def _tables(s: Session) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    for table in (QualityFact, DayQualitySummary, DayHandlerQualitySummary):
        cols = [c for c in table.__table__.c if c.name != "id"]
        rows = [tuple(round(v, 6) if isinstance(v, float) else v for v in r) for r in s.execute(select(*cols))]
        if table is not QualityFact:  # rows emptied by the consumer are kept, never made by a rebuild
            sums = [n for n, c in enumerate(cols) if c.name in QUALITY_SUMS]
            rows = [r for r in rows if any(r[n] for n in sums)]
        out[table.__tablename__] = sorted(rows, key=repr)
    return out


def test_events_keep_the_quality_summary(db, world: World) -> None:  # type: ignore[no-untyped-def]
    assert bus.consumers["analytics.quality"].handler is consumers.on_quality_event
    gz = world.units["gz"]
    with db.unit_of_work() as s:
        cust = _customers(s, gz, 1)[0].id
        t = tickets.create_ticket(s, type="complaint", subject="网速慢", org_unit_id=gz, customer_id=cust,
                                  channel="voice", category_key="billing", at=DAY0 + timedelta(hours=2))
        first = t.id
        interactions.open_call(s, customer_id=cust, org_unit_id=gz, external_ref="cti-q1",
                               offered_at=DAY0 + timedelta(hours=1))
    bus.dispatch_pending(db)
    with db.session() as s:
        f = quality.complaint_figures(s, DAY, DAY + timedelta(days=1), unit_ids=[gz], now=DAY0 + timedelta(days=1))
        assert (f.complaints, f.repeats, f.replies.open) == (1, 0, 1)
        assert quality.first_contact(s, DAY, DAY + timedelta(days=1), unit_ids=[gz]) == (1, 1)
    with db.unit_of_work() as s:
        # the customer calls again and complains again on the same matter; the first complaint is answered
        interactions.open_call(s, customer_id=cust, org_unit_id=gz, external_ref="cti-q2",
                               offered_at=DAY0 + timedelta(hours=5))
        tickets.create_ticket(s, type="complaint", subject="网速还是慢", org_unit_id=gz, customer_id=cust,
                              channel="voice", category_key="billing", at=DAY0 + timedelta(hours=6))
        ticket = s.get(Ticket, first)
        assert ticket is not None
        tickets.on_agent_reply(s, ticket, actor_id=world.users["agent_gz"], at=DAY0 + timedelta(hours=7))
    bus.dispatch_pending(db)
    with db.session() as s:
        f = quality.complaint_figures(s, DAY, DAY + timedelta(days=1), unit_ids=[gz], now=DAY0 + timedelta(days=1))
        assert (f.complaints, f.repeats, f.replies.on_time, f.replies.open) == (2, 1, 1, 1)
        # the first call is no longer resolved at first contact: the customer came back
        assert quality.first_contact(s, DAY, DAY + timedelta(days=1), unit_ids=[gz]) == (1, 2)
        kept = _tables(s)
    with db.unit_of_work() as s:
        quality.rebuild(s)
    with db.session() as s:
        assert _tables(s) == kept


def test_figures_by_category_and_tier_by_hand_in_the_report_kept_and_rebuilt(
        client, db, world: World) -> None:  # type: ignore[no-untyped-def]
    import csv
    import io

    from kefu.core import events
    from tests.web.conftest import login

    gz = world.units["gz"]
    with db.unit_of_work() as s:
        roots = list(s.scalars(select(Category).where(Category.parent_id.is_(None)).order_by(Category.key)))
        billing = next(c for c in roots if c.key == "billing")
        other = next(c for c in roots if c.key != "billing")
        child = s.scalars(select(Category).where(Category.parent_id == billing.id)).first()
        assert child is not None
        a, b, c = _customers(s, gz, 3)
        a.tier, b.tier, c.tier = "gold", "gold", "standard"
        t1 = complaint(s, gz, DAY0 + timedelta(hours=1), customer_id=a.id, category_id=billing.id,
                       replied_after_days=2)  # on time
        t2 = complaint(s, gz, DAY0 + timedelta(hours=3), customer_id=a.id, category_id=child.id)  # repeat, open
        complaint(s, gz, DAY0 + timedelta(hours=2), customer_id=b.id, category_id=other.id,
                  replied_after_days=0.5)  # on time
        complaint(s, gz, DAY0 + timedelta(hours=4), customer_id=c.id, category_id=billing.id)  # open, due day 15
        complaint(s, gz, DAY0 + timedelta(hours=5), customer_id=b.id, category_id=billing.id, type="appeal")
        first = call(s, gz, DAY0 + timedelta(hours=1), wait=3, talk=60, customer_id=a.id)  # A came back: not FCR
        again = call(s, gz, DAY0 + timedelta(hours=3), wait=3, talk=60, customer_id=a.id)
        call(s, gz, DAY0 + timedelta(hours=4), wait=3, talk=60, customer_id=c.id)  # no ticket: no category
        s.flush()
        first.ticket_id, again.ticket_id = t1.id, t2.id
        _observe_all(s)
        from kefu.analytics import summary

        summary.rebuild(s)
        names = (billing.name, other.name)
    now = DAY0 + timedelta(days=1)

    def figures(s: Session, at: Any = now) -> dict[tuple[Any, ...], tuple[Any, ...]]:
        got = quality.figures_by(s, DAY, DAY + timedelta(days=1), by=("category", "tier"), unit_ids=[gz], now=at)
        return {k: (f.complaints.complaints, f.complaints.repeats, f.complaints.replies, f.complaints.appeals, f.fcr)
                for k, f in got.items()}

    R = quality.kpi.ReplyTally
    expected = {("billing", "gold"): (2, 1, R(on_time=1, open=1), 1, (1, 2)),
                (other.key, "gold"): (1, 0, R(on_time=1), 0, (0, 0)),
                ("billing", "standard"): (1, 0, R(open=1), 0, (0, 0)),
                ("", "standard"): (0, 0, R(), 0, (1, 1))}
    with db.session() as s:
        assert figures(s) == expected
        assert figures(s, DAY0 + timedelta(days=20))[("billing", "standard")][2] == R(overdue=1)
        assert quality.figures_by(s, DAY, DAY + timedelta(days=1), by=("tier",), unit_ids=[gz], now=now)[
            ("gold",)].complaints.complaints == 3
        rep = reports.build(s, period="day", start=DAY, unit_id=gz, unit_ids=[gz], channel=None, now=now,
                            by="category_tier")
    headers, rows = reports.parts_table(rep)
    assert headers[0] == "问题分类×客户等级"
    assert headers[-5:] == ["投诉量", "投诉15日回复率%", "重复投诉率%(30天)", "越级投诉(申诉)量", "一次解决率%(7天)"]
    # offered contacts first (2, 1), then by name; the figures: complaints, on time %, repeat %, appeals, FCR %
    assert [(r[0], r[1], *r[-5:]) for r in rows] == [
        (f"{names[0]} · 金卡", 2, 2, 100.0, 50.0, 1, 50.0),
        ("— · 普通", 1, 0, None, None, 0, 100.0),
        *sorted([(f"{names[0]} · 普通", 0, 1, None, 0.0, 0, None),
                 (f"{names[1]} · 金卡", 0, 1, 100.0, 0.0, 0, None)]),
    ]
    # the console's chooser offers it; the page and the CSV show the figures
    login(client, "sup_gd")
    q = f"period=day&day={DAY.isoformat()}&unit={gz}&by=category_tier"
    page = client.get(f"/console/reports?{q}").text
    assert '<option value="category_tier" selected>问题分类×客户等级</option>' in page
    assert 'data-by="category_tier"' in page
    lines = list(csv.reader(io.StringIO(client.get(f"/console/reports/export.csv?{q}").text.lstrip("\ufeff"))))
    at = next(n for n, line in enumerate(lines) if line[:1] == ["问题分类×客户等级"])
    assert lines[at + 1][0] == f"{names[0]} · 金卡"
    assert lines[at + 1][-5:] == ["2", "50.0", "50.0", "1", "50.0"]  # read now: the open one is overdue by then
    # C becomes a gold customer: the consumer moves their complaint and contact to the gold rows
    with db.unit_of_work() as s:
        cust = s.get(Customer, c.id)
        assert cust is not None
        cust.tier = "gold"
        events.record(s, "customer.tier_changed", {"from": "standard", "to": "gold", "reason": "test"},
                      aggregate_type="customer", aggregate_id=cust.id, org_unit_id=gz, at=now)
    bus.dispatch_pending(db)
    moved = {**expected, ("billing", "gold"): (3, 1, R(on_time=1, open=2), 1, (1, 2)),
             ("", "gold"): (0, 0, R(), 0, (1, 1))}
    del moved[("billing", "standard")], moved[("", "standard")]
    with db.session() as s:
        assert figures(s) == moved
        kept = _tables(s)
    with db.unit_of_work() as s:
        quality.rebuild(s)
    with db.session() as s:
        assert _tables(s) == kept
        assert figures(s) == moved


def test_a_re_typed_or_re_categorised_complaint_recomputes_the_repeat_flags_around_it(db, world: World) -> None:  # type: ignore[no-untyped-def]
    """A complaint given another category or another type changes which of the customer's later complaints
    are repeats; the summary follows by the events alone, and equals a rebuild at every step."""
    gz = world.units["gz"]
    with db.unit_of_work() as s:
        cust = _customers(s, gz, 1)[0].id
        ids = [tickets.create_ticket(s, type="complaint", subject=f"投诉{n}", org_unit_id=gz, customer_id=cust,
                                     channel="voice", category_key=cat, at=DAY0 + timedelta(hours=h)).id
               for n, (cat, h) in enumerate((("billing", 2), ("billing", 6), ("network", 8)))]
    a, b, c = ids

    def step(**change: Any) -> dict[int, bool]:
        if change:
            ref = change.pop("ticket")
            with db.unit_of_work() as s:
                tickets.update(s, ref, actor_id=world.users["sup_gd"], **change)
        bus.dispatch_pending(db)
        with db.session() as s:
            flags = {f.ref_id: f.repeat for f in s.scalars(select(QualityFact).where(QualityFact.kind == "ticket"))}
            f = quality.complaint_figures(s, DAY, DAY + timedelta(days=1), unit_ids=[gz], now=DAY0)
            assert f.repeats == sum(flags.values())
            kept = _tables(s)
        with db.unit_of_work() as s:
            quality.rebuild(s)
        with db.session() as s:
            assert _tables(s) == kept
        return flags

    assert step() == {a: False, b: True, c: False}
    assert step(ticket=b, category_key="network") == {a: False, b: False, c: True}  # b moves to c's matter
    assert step(ticket=a, category_key="network") == {a: False, b: True, c: True}
    assert step(ticket=a, type="inquiry") == {b: False, c: True}  # no longer a complaint: b is the first
    assert step(ticket=a, type="complaint") == {a: False, b: True, c: True}
    assert step(ticket=b, category_key="billing") == {a: False, b: False, c: True}  # c still repeats a
