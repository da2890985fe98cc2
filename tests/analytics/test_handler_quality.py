"""Complaint figures by routing queue and by agent (kefu/analytics/quality.py, DayHandlerQualitySummary): a
complaint or appeal counts for the queue and agent of its first contact, a contact for its own; the reports
broken down by queue or agent show the complaints, their rate per 1,000 answered contacts, the repeat and
escalation rates, on the page, in the CSV and the XLSX, in the reader's subtree. Checked by hand on a small
day, kept by the events and equal to a rebuild."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.analytics import quality, reports
from kefu.analytics.models import DayHandlerQualitySummary
from kefu.core.events import bus
from kefu.interactions.models import Interaction
from kefu.routing import service as routing
from kefu.routing.models import RoutingItem
from kefu.tickets.models import Category
from tests.analytics.support import DAY0, call, complaint
from tests.analytics.test_quality import DAY, _customers, _observe_all, _tables
from tests.conftest import World
from tests.web.conftest import login


def _day(db, world: World) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Guangzhou's day: queue zq1 (agent A: c1, c2; agent B: c6), queue zq2 (agent B: c3, c4, c5), all
    answered. Customer a complains from c1 and again from c2 (a repeat); b complains from c3 and appeals from
    c4; one complaint has no contact."""
    gz = world.units["gz"]
    a_, b_ = world.users["agent_gz"], world.users["agent_sz"]
    with db.unit_of_work() as s:
        for key in ("zq1", "zq2"):
            routing.save_queue(s, None, routing.QueueSpec(key=key, name=f"队列{key}", channel="voice", org_unit_id=gz))
        billing = s.scalars(select(Category).where(Category.key == "billing")).one().id
        a, b, c = _customers(s, gz, 3)

        def contact(hour: int, queue: str, agent: int, customer: int | None) -> Interaction:
            it = call(s, gz, DAY0 + timedelta(hours=hour), wait=5, talk=60, customer_id=customer)
            it.agent_id = agent
            s.flush()
            at = DAY0 + timedelta(hours=hour)
            s.add(RoutingItem(queue_key=queue, entry_queue_key=queue, channel="voice", org_unit_id=gz,
                              interaction_id=it.id, enqueued_at=at, queue_since=at, state="completed", assigned_at=at))
            return it

        c1, c2 = contact(9, "zq1", a_, a.id), contact(11, "zq1", a_, a.id)
        c3, c4 = contact(10, "zq2", b_, b.id), contact(12, "zq2", b_, b.id)
        contact(13, "zq2", b_, c.id)
        contact(14, "zq1", b_, None)
        for it, kind, hour, cust in ((c1, "complaint", 9, a.id), (c2, "complaint", 11, a.id),
                                     (c3, "complaint", 10, b.id), (c4, "appeal", 12, b.id)):
            it.ticket_id = complaint(s, gz, DAY0 + timedelta(hours=hour, minutes=5), customer_id=cust,
                                     category_id=billing, type=kind).id
        complaint(s, gz, DAY0 + timedelta(hours=15), customer_id=c.id, category_id=billing)  # no contact
        _observe_all(s)
        from kefu.analytics import summary

        summary.rebuild(s)
    return {"gz": gz, "A": a_, "B": b_}


def test_complaint_figures_by_queue_and_agent_by_hand(client, db, world: World) -> None:  # type: ignore[no-untyped-def]
    w = _day(db, world)
    gz, now = w["gz"], DAY0 + timedelta(days=1)

    def figures(s: Session, by: str) -> dict[tuple[Any, ...], tuple[Any, ...]]:
        got = quality.figures_by(s, DAY, DAY + timedelta(days=1), by=(by,), unit_ids=[gz], now=now)
        return {k: (f.complaints.complaints, f.complaints.repeats, f.complaints.appeals, f.fcr) for k, f in got.items()}

    with db.session() as s:
        # complaints, repeats, appeals, (resolved at first contact, contacts of a known customer): a's first
        # contact and b's came back within 7 days
        assert figures(s, "queue_key") == {("zq1",): (2, 1, 0, (1, 2)), ("zq2",): (1, 0, 1, (2, 3)),
                                           ("",): (1, 0, 0, (0, 0))}
        assert figures(s, "agent_id") == {(w["A"],): (2, 1, 0, (1, 2)), (w["B"],): (1, 0, 1, (2, 3)),
                                          (0,): (1, 0, 0, (0, 0))}
        kept = _tables(s)
        handlers = sorted(tuple(r[1:]) for r in s.execute(select(*DayHandlerQualitySummary.__table__.c)))
    with db.unit_of_work() as s:
        quality.rebuild(s)
    with db.session() as s:
        assert _tables(s) == kept
        assert sorted(tuple(r[1:]) for r in s.execute(select(*DayHandlerQualitySummary.__table__.c))) == handlers
        by_queue = reports.build(s, period="day", start=DAY, unit_id=gz, unit_ids=[gz], channel=None, now=now,
                                 by="queue")
        by_agent = reports.build(s, period="day", start=DAY, unit_id=gz, unit_ids=[gz], channel=None, now=now,
                                 by="agent")
    headers, rows = reports.parts_table(by_queue)
    assert headers[0] == "队列"
    assert headers[-7:] == ["投诉量", "投诉15日回复率%", "重复投诉率%(30天)", "越级投诉(申诉)量", "一次解决率%(7天)",
                            "投诉率(每千次接通)", "越级投诉率%(申诉/投诉)"]
    # queue, offered, answered ... complaints, repeat %, appeals, FCR %, per 1,000 answered, escalation %
    assert [(r[0], r[1], r[2], r[-7], r[-5], r[-4], r[-3], r[-2], r[-1]) for r in rows] == [
        ("zq1", 3, 3, 2, 50.0, 0, 50.0, 666.67, 0.0),
        ("zq2", 3, 3, 1, 0.0, 1, 66.67, 333.33, 100.0),
        ("—", 0, 0, 1, 0.0, 0, None, None, 0.0),
    ]
    headers, rows = reports.parts_table(by_agent)
    assert [(r[0], r[2], r[-7], r[-2], r[-1]) for r in rows] == [
        ("深圳坐席", 4, 1, 250.0, 100.0), ("广州坐席", 2, 2, 1000.0, 0.0), ("—", 0, 1, None, 0.0)]
    # the supervisor's page, CSV and XLSX; Shenzhen's report has none of Guangzhou's
    login(client, "sup_gd")
    q = f"period=day&day={DAY.isoformat()}&unit={gz}&by=agent"
    page = client.get(f"/console/reports?{q}").text
    assert "投诉率(每千次接通)" in page
    lines = list(csv.reader(io.StringIO(client.get(f"/console/reports/export.csv?{q}").text.lstrip("\ufeff"))))
    at = next(n for n, line in enumerate(lines) if line[:1] == ["坐席"])
    assert lines[at + 1][0] == "深圳坐席"
    assert lines[at + 1][-2:] == ["250.0", "100.0"]
    ws = load_workbook(io.BytesIO(client.get(f"/console/reports/export.xlsx?{q}").content))["分项"]
    values = [[c.value for c in row] for row in ws.iter_rows()]
    head = next(n for n, row in enumerate(values) if row[0] == "坐席")
    assert values[head][-2:] == ["投诉率(每千次接通)", "越级投诉率%(申诉/投诉)"]
    assert values[head + 2][0] == "广州坐席"
    assert values[head + 2][-2:] == [1000.0, 0.0]
    sz = world.units["sz"]
    lines = list(csv.reader(io.StringIO(client.get(
        f"/console/reports/export.csv?period=day&day={DAY.isoformat()}&unit={sz}&by=queue").text.lstrip("\ufeff"))))
    assert not [line for line in lines if line[:1] in (["zq1"], ["zq2"], ["—"])]  # no part at all


def test_the_events_count_a_complaint_for_its_first_contacts_queue_and_agent(db, world: World) -> None:  # type: ignore[no-untyped-def]
    gz = world.units["gz"]
    a_ = world.users["agent_gz"]
    with db.unit_of_work() as s:
        cust = _customers(s, gz, 1)[0].id
        from kefu.interactions import service as interactions
        from kefu.tickets import service as tickets

        it = interactions.open_call(s, customer_id=cust, org_unit_id=gz, external_ref="cti-h1",
                                    offered_at=DAY0 + timedelta(hours=1))
        t = tickets.create_ticket(s, type="complaint", subject="乱扣费", org_unit_id=gz, customer_id=cust,
                                  channel="voice", category_key="billing", at=DAY0 + timedelta(hours=1, minutes=5))
        interactions.link_ticket(s, it.id, t.id)
        iid, tid = it.id, t.id
    bus.dispatch_pending(db)

    def handler() -> tuple[str, int]:
        with db.session() as s:
            f = s.scalars(select(quality.QualityFact).where(quality.QualityFact.kind == "ticket",
                                                            quality.QualityFact.ref_id == tid)).one()
            return f.queue_key, f.agent_id

    assert handler() == ("", 0)
    with db.unit_of_work() as s:  # the call is answered by agent A
        interactions.update_times(s, iid, answered_at=DAY0 + timedelta(hours=1, seconds=20), agent_id=a_)
    bus.dispatch_pending(db)
    assert handler() == ("", a_)
    with db.unit_of_work() as s:  # the switch corrects the agent when the call ends (interaction.closed)
        it = s.get(Interaction, iid)
        assert it is not None
        interactions.sync_call(s, it, offered_at=it.offered_at, queued_at=None, answered_at=it.answered_at,
                               ended_at=DAY0 + timedelta(hours=1, minutes=3), agent_id=world.users["agent_sz"],
                               outcome="answered")
    bus.dispatch_pending(db)
    assert handler() == ("", world.users["agent_sz"])
    with db.session() as s:
        kept = _tables(s)
    with db.unit_of_work() as s:
        quality.rebuild(s)
    with db.session() as s:
        assert _tables(s) == kept
