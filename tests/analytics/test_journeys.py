"""Customer journeys across channels, the repeat-contact rate, the journey page and the ticket panel."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from kefu.analytics import journeys
from kefu.customers.models import Customer
from tests.analytics.support import DAY0, call
from tests.conftest import World
from tests.web.conftest import login


def _customer(db, unit: int, n: int) -> int:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        c = Customer(org_unit_id=unit, phone=f"+8613900000{n:03d}", name=f"客户{n}", created_at=DAY0,
                     updated_at=DAY0)
        s.add(c)
        s.flush()
        return c.id


def test_journey_across_channels_marks_repeats(db, world: World) -> None:  # type: ignore[no-untyped-def]
    gz = world.units["gz"]
    cid = _customer(db, gz, 1)
    with db.unit_of_work() as s:
        call(s, gz, DAY0 + timedelta(days=2), wait=5, talk=60, channel="wechat", customer_id=cid)
        call(s, gz, DAY0, wait=20, talk=60, customer_id=cid)
        call(s, gz, DAY0 + timedelta(days=12), abandon_after=40, customer_id=cid)
    with db.session() as s:
        steps = journeys.journey(s, cid)
    assert [st.channel for st in steps] == ["voice", "wechat", "voice"]
    assert [st.repeat for st in steps] == [False, True, False]
    assert steps[0].wait == 20
    assert steps[1].gap == 2 * 86_400
    assert steps[2].outcome == "abandoned"


def test_repeat_contact_rate_and_channel_switches(db, world: World) -> None:  # type: ignore[no-untyped-def]
    gz, sz = world.units["gz"], world.units["sz"]
    a, b, c = (_customer(db, gz, n) for n in (2, 3, 4))
    with db.unit_of_work() as s:
        call(s, gz, DAY0, wait=1, talk=1, customer_id=a)
        call(s, gz, DAY0 + timedelta(days=1), wait=1, talk=1, customer_id=a, channel="sms")  # a repeats
        call(s, gz, DAY0, wait=1, talk=1, customer_id=b)
        call(s, gz, DAY0 + timedelta(days=9), wait=1, talk=1, customer_id=b)  # too late to be a repeat
        call(s, sz, DAY0, wait=1, talk=1, customer_id=c)  # another unit
    with db.session() as s:
        figs = journeys.repeat_contacts(s, DAY0, DAY0 + timedelta(days=2), unit_ids=[gz])
    assert (figs.contacts, figs.repeats) == (3, 1)  # a, a's sms, b
    assert figs.rate() == 1 / 3
    assert figs.switches == {("voice", "sms"): 1}


def test_journey_page_in_scope_only(client: TestClient, db, world: World) -> None:  # type: ignore[no-untyped-def]
    from kefu.org import service as org

    gz = world.units["gz"]
    cid = _customer(db, gz, 5)
    with db.unit_of_work() as s:
        call(s, gz, DAY0, wait=1, talk=1, customer_id=cid)
        call(s, gz, DAY0 + timedelta(hours=3), wait=1, talk=1, customer_id=cid, channel="app")
        other = org.create_org_unit(s, kind="province", code="FJ", name="福建", parent_id=world.units["group"])
        stranger = Customer(org_unit_id=other.id, phone="+8613900000999", name="外省", created_at=DAY0,
                            updated_at=DAY0)
        s.add(stranger)
        s.flush()
        stranger_id = stranger.id
    login(client, "sup_gd")
    page = client.get(f"/console/journeys/{cid}")
    assert page.status_code == 200
    assert page.text.count('class="journey-step') == 2
    assert 'data-repeats>1<' in page.text
    assert "掌厅" in page.text
    assert client.get(f"/console/journeys/{stranger_id}").status_code == 404


def test_ticket_page_shows_the_journey_to_readers_of_reports(client: TestClient, db,
                                                             world: World) -> None:  # type: ignore[no-untyped-def]
    from kefu.tickets import service as tickets

    gz = world.units["gz"]
    cid = _customer(db, gz, 6)
    with db.unit_of_work() as s:
        call(s, gz, DAY0, wait=1, talk=1, customer_id=cid)
        tid = tickets.create_ticket(s, type="complaint", subject="话费不明扣费", org_unit_id=gz, customer_id=cid,
                                    channel="voice").id
    login(client, "sup_gd")
    page = client.get(f"/console/tickets/{tid}")
    assert page.status_code == 200
    assert f'href="/console/journeys/{cid}"' in page.text
    client.cookies.clear()
    login(client, "agent_gz")
    page = client.get(f"/console/tickets/{tid}")
    assert page.status_code == 200
    assert "/console/journeys/" not in page.text


def test_recommend_ranks_least_return_contact_then_fastest_by_hand() -> None:
    h = 3600.0
    contacts = ([("billing", "voice", 2 * h, False)] * 4 + [("billing", "voice", None, True)]  # 1 of 5 back
                + [("billing", "wechat", 10 * h, False)] * 5  # none back, slow
                + [("billing", "sms", 1 * h, False)] * 2  # none back, fastest, too few contacts
                + [("network", "voice", 4 * h, True)] * 5 + [("network", "app", 8 * h, True)] * 5)
    recs = journeys.recommend(contacts, min_contacts=5)
    assert [r.task for r in recs] == ["billing", "network"]
    billing, network = recs
    assert [o.channel for o in billing.outcomes] == ["sms", "wechat", "voice"]
    assert billing.channel == "wechat"  # sms ranks first but has 2 contacts
    voice = billing.outcomes[2]
    assert (voice.contacts, voice.returns, voice.resolved, voice.return_rate(), voice.mean_resolve()) == (
        5, 1, 4, 0.2, 2 * h)
    assert network.channel == "voice"  # both came back every time: the faster
    assert journeys.recommend([("x", "voice", None, False)], min_contacts=5)[0].channel is None


def test_channel_recommendation_from_contacts_and_tickets(db, world: World) -> None:  # type: ignore[no-untyped-def]
    from kefu.tickets.models import Category
    from tests.analytics.support import complaint

    gz, sz = world.units["gz"], world.units["sz"]
    with db.unit_of_work() as s:
        s.add_all([Category(key="zb", name="计费", name_en="Billing"),
                   Category(key="zb.refund", name="退费", name_en="Refund")])
        s.flush()
        refund = s.scalar(select(Category.id).where(Category.key == "zb.refund"))
    people = [_customer(db, gz, 20 + n) for n in range(4)]
    with db.unit_of_work() as s:
        def contact(cust: int, at: timedelta, channel: str, resolved_h: float | None, unit: int = gz) -> None:
            t = complaint(s, unit, DAY0 + at, customer_id=cust, category_id=refund, channel=channel)
            if resolved_h is not None:
                t.resolved_at = DAY0 + at + timedelta(hours=resolved_h)
            call(s, unit, DAY0 + at, wait=1, talk=1, channel=channel, customer_id=cust).ticket_id = t.id
        contact(people[0], timedelta(hours=1), "voice", 5)
        contact(people[0], timedelta(days=3), "wechat", 1)  # the voice contact came back
        contact(people[1], timedelta(hours=2), "voice", 3)
        contact(people[2], timedelta(hours=3), "wechat", None)  # unresolved
        contact(people[3], timedelta(hours=4), "wechat", 2, unit=sz)  # another unit
        call(s, gz, DAY0 + timedelta(hours=5), wait=1, talk=1, customer_id=people[1])  # no ticket: no task type
    with db.session() as s:
        recs = journeys.channel_recommendations(s, DAY0, DAY0 + timedelta(days=7), unit_ids=[gz], min_contacts=2)
    assert [r.task for r in recs] == ["zb"]
    got = {o.channel: (o.contacts, o.returns, o.resolved, o.resolve_sum / 3600) for o in recs[0].outcomes}
    # the ticketless call of people[1] is a return contact of their voice contact, 3 h later
    assert got == {"voice": (2, 2, 2, 8.0), "wechat": (2, 0, 1, 1.0)}
    assert recs[0].channel == "wechat"


def test_journeys_before_a_complaint_by_hand(client: TestClient, world: World,
                                             db) -> None:  # type: ignore[no-untyped-def]
    """The report's section: per channel path the complaints, the contacts before them, the handoffs."""
    import re
    from datetime import date

    from kefu.analytics import quality
    from kefu.handoffs.models import Handoff
    from tests.analytics.support import complaint, province_day_report

    gz = world.units["gz"]
    assert journeys.paths_before([], [], []) == []
    with db.unit_of_work() as s:
        a, b, c, d = (Customer(org_unit_id=gz, phone=f"+8613900000{n:03d}", name="客户", created_at=DAY0,
                               updated_at=DAY0) for n in range(4))
        s.add_all([a, b, c, d])
        s.flush()
        ten = DAY0 + timedelta(hours=10)
        for days, channel in ((5, "voice"), (2, "wechat"), (1, "wechat")):
            call(s, gz, ten - timedelta(days=days), wait=1, talk=60, channel=channel, customer_id=a.id)
        call(s, gz, ten - timedelta(minutes=1), wait=1, talk=30, customer_id=a.id)  # the call it was made in
        s.add(Handoff(customer_id=a.id, org_unit_id=gz, source="agent", from_channel="voice", to_channel="wechat",
                      task="bill", status="offered", offered_at=ten - timedelta(days=5),
                      expires_at=ten - timedelta(days=4)))
        complaint(s, gz, ten, customer_id=a.id)  # hotline → WeChat → hotline, handed off
        complaint(s, gz, ten, customer_id=b.id)  # no contact before
        call(s, gz, ten - timedelta(days=20), wait=1, talk=60, channel="sms", customer_id=c.id)  # too early
        complaint(s, gz, ten + timedelta(hours=1), customer_id=c.id)
        call(s, gz, DAY0 + timedelta(hours=1), wait=1, talk=60, channel="wechat", customer_id=d.id)
        complaint(s, gz, DAY0 + timedelta(hours=2), customer_id=d.id, channel="wechat")
        complaint(s, gz, ten)  # no customer: no journey
        complaint(s, gz, ten + timedelta(days=1), customer_id=d.id)  # the next day: not in the report
        complaint(s, gz, ten + timedelta(hours=2), customer_id=a.id, type="appeal")  # a escalates too
        s.flush()
        got = journeys.before_complaints(s, DAY0, DAY0 + timedelta(days=1), unit_ids=[gz])
        assert [(p.path, p.complaints, p.contacts, p.with_handoff) for p in got] == [
            ((), 2, 0, 0), (("voice", "wechat", "voice"), 1, 4, 1), (("wechat",), 1, 1, 0)]
        assert [p.path for p in journeys.before_complaints(s, DAY0, DAY0 + timedelta(days=1), unit_ids=[gz],
                                                           channels=["wechat"])] == [("wechat",)]
        quality.rebuild(s)  # the report reads the path summary: the same figures
        day, nxt = date(2026, 3, 2), date(2026, 3, 3)
        assert journeys.paths(s, day, nxt, unit_ids=[gz]) == got
        assert [p.path for p in journeys.paths(s, day, nxt, unit_ids=[gz], channels=["wechat"])] == [("wechat",)]
        assert journeys.paths(s, day, nxt, unit_ids=[world.units["sz"]]) == []  # 深圳 sees none of 广州's
    page, rows = province_day_report(client, world.units["province"], date(2026, 3, 2))
    assert "投诉前的客户旅程（投诉前14天的接触渠道）" in page
    assert re.search(r'<tr><td>热线 → 微信 → 热线</td><td class="num">1</td><td class="num">4.0</td>'
                     r'<td class="num">100.0</td></tr>', page)
    at = rows.index(["渠道路径", "投诉量", "平均接触次数", "曾被转接%"])
    assert rows[at + 1:at + 4] == [["（无接触）", "2", "0.0", "0.0"], ["热线 → 微信 → 热线", "1", "4.0", "100.0"],
                                   ["微信", "1", "1.0", "0.0"]]
    at = rows.index(["渠道路径", "申诉量", "平均接触次数", "曾被转接%"])  # the paths that ended in an escalation
    assert rows[at + 1:at + 2] == [["热线 → 微信 → 热线", "1", "4.0", "100.0"]]
    assert "以越级投诉（申诉）告终的客户旅程（申诉前14天）" in page


def test_channel_use_by_customer_tier_in_the_report(client: TestClient, world: World,
                                                    db) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from kefu.analytics import summary
    from tests.analytics.support import province_day_report

    gz = world.units["gz"]
    with db.unit_of_work() as s:
        gold, plain = (Customer(org_unit_id=gz, phone=f"+8613900001{n:03d}", name="客户", tier=tier, created_at=DAY0,
                                updated_at=DAY0) for n, tier in enumerate(("gold", "standard")))
        s.add_all([gold, plain])
        s.flush()
        for n, channel in enumerate(("voice", "voice", "wechat")):
            call(s, gz, DAY0 + timedelta(hours=9 + n), wait=1, talk=60, channel=channel, customer_id=gold.id)
        call(s, gz, DAY0 + timedelta(hours=9), wait=1, talk=60, channel="sms", customer_id=plain.id)
        call(s, gz, DAY0 + timedelta(hours=9), wait=1, talk=60)  # not identified
        s.flush()
        summary.rebuild(s)
    page, rows = province_day_report(client, world.units["province"], date(2026, 3, 2))
    assert "渠道使用（按客户等级）" in page
    at = rows.index(["客户等级", "热线", "短信", "微信", "合计"])
    assert rows[at + 1:at + 4] == [["金卡", "2 (66.67%)", "0 (0.0%)", "1 (33.33%)", "3"],
                                   ["普通", "0 (0.0%)", "1 (100.0%)", "0 (0.0%)", "1"],
                                   ["未识别客户", "1 (100.0%)", "0 (0.0%)", "0 (0.0%)", "1"]]
