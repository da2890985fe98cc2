"""Reports: a small generated day checked against hand-computed figures; charts; CSV and XLSX exports."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient

from kefu.analytics import charts, handoffs, quality, reports, satisfaction, summary
from tests.analytics.support import DAY0, call, complaint
from tests.conftest import World
from tests.web.conftest import login

DAY = date(2026, 3, 2)  # DAY0 is its local midnight (UTC+8)


def _small_day(db, world: World) -> None:  # type: ignore[no-untyped-def]
    gz, sz = world.units["gz"], world.units["sz"]
    with db.unit_of_work() as s:
        nine = DAY0 + timedelta(hours=9)
        call(s, gz, nine, wait=10, talk=100)
        call(s, gz, nine + timedelta(minutes=5), wait=30, talk=200)
        call(s, gz, nine + timedelta(minutes=10), abandon_after=3)  # short
        call(s, gz, nine + timedelta(minutes=20), abandon_after=50)
        call(s, sz, DAY0 + timedelta(hours=14), wait=5, talk=60, channel="wechat")
        call(s, gz, DAY0 - timedelta(minutes=1), wait=1, talk=1)  # the evening before: not in the day
        complaint(s, gz, DAY0 + timedelta(hours=10), replied_after_days=1)
        complaint(s, gz, DAY0 + timedelta(hours=11), type="appeal")
        summary.rebuild(s)  # the backfill (the wall's tests count through the events consumer)
        quality.rebuild(s)


def test_period_bounds() -> None:
    assert reports.period_bounds("day", DAY) == (DAY, date(2026, 3, 3))
    assert reports.period_bounds("week", DAY) == (date(2026, 3, 2), date(2026, 3, 9))  # a Monday
    assert reports.period_bounds("week", date(2026, 3, 8)) == (date(2026, 3, 2), date(2026, 3, 9))
    assert reports.period_bounds("month", date(2026, 2, 14)) == (date(2026, 2, 1), date(2026, 3, 1))
    assert reports.period_bounds("month", date(2026, 12, 31)) == (date(2026, 12, 1), date(2027, 1, 1))
    with pytest.raises(ValueError, match="unknown period"):
        reports.period_bounds("year", DAY)


def test_daily_report_by_hour_matches_hand_figures(db, world: World) -> None:  # type: ignore[no-untyped-def]
    from kefu.customers.models import Customer

    _small_day(db, world)
    with db.unit_of_work() as s:  # four customers in the province: the base of the per-customer rates
        s.add_all([Customer(phone=f"+861380000000{n}", org_unit_id=world.units["gz"], created_at=DAY0,
                            updated_at=DAY0) for n in range(4)])
    units = [world.units[k] for k in ("province", "gz", "sz")]
    with db.session() as s:
        rep = reports.build(s, period="day", start=DAY, unit_id=world.units["province"], unit_ids=units,
                            channel=None, now=DAY0 + timedelta(days=20))
        voice = reports.build(s, period="day", start=DAY, unit_id=world.units["province"], unit_ids=units,
                              channel="voice", now=DAY0 + timedelta(days=20))
    assert len(rep.rows) == 24
    nine = rep.rows[9]
    assert nine.label == "09:00"
    assert (nine.tally.offered, nine.tally.answered, nine.tally.abandoned, nine.tally.short_abandoned) == (4, 2, 2, 1)
    assert nine.tally.service_level(20) == pytest.approx(1 / 3)
    assert nine.tally.abandonment() == pytest.approx(1 / 3)
    assert rep.rows[14].tally.offered == 1
    assert rep.total.offered == 5
    assert voice.total.offered == 4
    assert rep.complaints.complaints == 1
    assert rep.complaints.replies.on_time == 1
    assert rep.complaints.appeals == 1
    figures = dict(reports.summary(rep))
    assert figures["投诉率(每万客户)"] == 2500.0  # 1 complaint, 4 customers
    assert figures["申诉率(每百万客户)"] == 250000.0
    headers, rows = reports.table(rep)
    assert headers[:3] == ["时段", "呼入量", "接通量"]
    assert rows[9][:8] == ["09:00", 4, 2, 2, 1, 50.0, 33.33, 33.33]
    assert rows[-1][0] == "合计"
    assert rows[-1][1] == 5
    # a week is its days
    with db.session() as s:
        week = reports.build(s, period="week", start=DAY, unit_id=world.units["province"], unit_ids=units,
                             channel=None, now=DAY0 + timedelta(days=20))
    assert [r.label for r in week.rows] == ["03-02", "03-03", "03-04", "03-05", "03-06", "03-07", "03-08"]
    assert week.rows[0].tally.offered == 5
    assert week.total.offered == 5


def test_chart_is_svg_with_escaped_text() -> None:
    svg = charts.bars_and_line(["09:00", "<b>"], [4, 2], [0.5, None], bar_name="呼入量", line_name="接通率",
                               target=0.8, title="x & y")
    assert svg.startswith("<svg")
    assert svg.count('class="bar"') == 2
    assert "&lt;b&gt;" in svg
    assert "x &amp; y" in svg
    assert 'class="target"' in svg
    assert "style=" not in svg
    assert charts.bars_and_line([], [], [], bar_name="", line_name="") == ""


def test_report_page_and_exports(client: TestClient, world: World, db) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import load_workbook

    _small_day(db, world)
    login(client, "sup_gd")
    q = f"period=day&day={DAY.isoformat()}&unit={world.units['province']}"
    page = client.get(f"/console/reports?{q}")
    assert page.status_code == 200
    assert page.text.count("<svg") == 2
    assert "20秒接通率" in page.text
    assert re.search(r"<td>09:00</td><td class=\"num\">4</td>", page.text)
    c = client.get(f"/console/reports/export.csv?{q}")
    assert c.status_code == 200
    assert c.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(c.text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["时段", "呼入量", "接通量"]
    assert rows[10][:3] == ["09:00", "4", "2"]
    x = client.get(f"/console/reports/export.xlsx?{q}")
    assert x.status_code == 200
    wb = load_workbook(io.BytesIO(x.content))
    ws = wb["指标"]
    assert ws["A2"].value == "时段"
    assert (ws["A12"].value, ws["B12"].value, ws["C12"].value) == ("09:00", 4, 2)
    assert wb["投诉与解决"]["A2"].value == "投诉量"
    assert wb["投诉与解决"]["B2"].value == 1
    # a unit outside the reader's subtree is not found; a bad period is refused
    with db.unit_of_work() as s:
        from kefu.org import service as org

        other = org.create_org_unit(s, kind="province", code="FJ", name="福建", parent_id=world.units["group"])
    assert client.get(f"/console/reports?unit={other.id}").status_code == 404
    assert client.get("/console/reports?period=year").status_code == 422
    assert client.get("/console/reports/export.pdf").status_code == 404


def test_agents_cannot_read_reports(client: TestClient, world: World) -> None:
    login(client, "agent_gz")
    assert client.get("/console/reports").status_code == 403
    assert client.get("/console/reports/export.csv").status_code == 403


def test_due_periods() -> None:
    assert reports.due_periods(date(2026, 3, 3)) == [("day", date(2026, 3, 2))]
    assert reports.due_periods(date(2026, 3, 9)) == [("day", date(2026, 3, 8)), ("week", date(2026, 3, 8))]
    assert reports.due_periods(date(2026, 6, 1)) == [("day", date(2026, 5, 31)), ("week", date(2026, 5, 31)),
                                                     ("month", date(2026, 5, 31))]


def test_scheduled_reports_are_made_once_and_downloaded_in_scope(client: TestClient, world: World,
                                                                  db) -> None:  # type: ignore[no-untyped-def]
    from kefu.analytics.models import SavedReport

    _small_day(db, world)
    now = DAY0 + timedelta(days=1, minutes=30)  # 00:30 on 03-03 in China
    with db.unit_of_work() as s:
        made = reports.make_scheduled(s, now=now)
    with db.unit_of_work() as s:
        assert reports.make_scheduled(s, now=now) == []  # a second run adds nothing
        rows = {r.org_unit_id: r for r in s.query(SavedReport).all()}
    assert len(made) == 2  # the group and the province
    province = rows[world.units["province"]]
    assert province.title == "广东 · 全部渠道 · 日报 2026-03-02"
    assert province.csv.splitlines()[1 + 9].startswith("09:00,4,2,2,1")
    login(client, "sup_gd")
    page = client.get("/console/reports")
    assert f'data-saved="{province.id}"' in page.text
    assert f'data-saved="{rows[world.units["group"]].id}"' not in page.text  # the group's is above the province
    x = client.get(f"/console/reports/saved/{province.id}.xlsx")
    assert x.status_code == 200
    assert x.content[:2] == b"PK"
    assert client.get(f"/console/reports/saved/{rows[world.units['group']].id}.xlsx").status_code == 404


def test_a_report_per_agent_and_per_channel_by_hand(client: TestClient, world: World,
                                                     db) -> None:  # type: ignore[no-untyped-def]
    gz = world.units["gz"]
    agent = world.users["agent_gz"]
    with db.unit_of_work() as s:
        nine = DAY0 + timedelta(hours=9)
        for n, wait in enumerate((10, 30)):
            c = call(s, gz, nine + timedelta(minutes=n), wait=wait, talk=100)
            c.agent_id = agent
        call(s, gz, nine + timedelta(minutes=5), abandon_after=40)
        call(s, world.units["sz"], nine, wait=5, talk=60, channel="wechat")
        summary.rebuild(s)
        quality.rebuild(s)
    units = [world.units[k] for k in ("province", "gz", "sz")]
    with db.session() as s:
        rep = reports.build(s, period="day", start=DAY, unit_id=world.units["province"], unit_ids=units,
                            channel=None, now=DAY0 + timedelta(days=1), by="agent")
        by_channel = reports.build(s, period="week", start=DAY, unit_id=world.units["province"], unit_ids=units,
                                   channel="voice", now=DAY0 + timedelta(days=1), by="channel")
    headers, rows = reports.parts_table(rep)
    assert headers[:4] == ["坐席", "呼入量", "接通量", "放弃量"]
    assert [r[:4] for r in rows] == [["广州坐席", 2, 2, 0], ["—", 2, 1, 1]]
    assert rows[0][7] == 50.0  # 20 s service level of the agent's calls
    assert [(r.label, r.tally.offered) for r in by_channel.parts] == [("热线", 3)]
    login(client, "sup_gd")
    q = f"period=day&day={DAY.isoformat()}&unit={world.units['province']}&by=agent"
    page = client.get(f"/console/reports?{q}")
    assert page.status_code == 200
    assert 'data-by="agent"' in page.text
    assert re.search(r"<td>广州坐席</td><td class=\"num\">2</td>", page.text)
    lines = client.get(f"/console/reports/export.csv?{q}").text.splitlines()
    at = next(n for n, line in enumerate(lines) if line.startswith("坐席,呼入量"))  # the breakdown's table
    assert lines[at + 1].startswith("广州坐席,2,2,0")
    assert client.get(f"/console/reports?{q.replace('by=agent', 'by=phone')}").status_code == 422


def test_the_channel_recommendation_on_the_page_and_in_the_exports(
        client: TestClient, world: World, db) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import load_workbook

    from kefu.customers.models import Customer
    from kefu.tickets.models import Category

    gz = world.units["gz"]
    with db.unit_of_work() as s:
        cat = Category(key="zq", name="套餐咨询", name_en="Plans")
        s.add(cat)
        s.flush()
        for n in range(6):  # five on the hotline resolved in 2 h, one by WeChat in 1 h (too few to recommend)
            cust = Customer(org_unit_id=gz, phone=f"+8613700000{n:03d}", created_at=DAY0, updated_at=DAY0)
            s.add(cust)
            s.flush()
            at = DAY0 + timedelta(hours=9 + n)
            channel = "wechat" if n == 5 else "voice"
            t = complaint(s, gz, at, customer_id=cust.id, category_id=cat.id, channel=channel)
            t.resolved_at = at + timedelta(hours=1 if n == 5 else 2)
            call(s, gz, at, wait=1, talk=1, channel=channel, customer_id=cust.id).ticket_id = t.id
        summary.rebuild(s)
        quality.rebuild(s)
    login(client, "sup_gd")
    q = f"period=day&day={DAY.isoformat()}&unit={world.units['province']}"
    page = client.get(f"/console/reports?{q}").text
    assert "渠道推荐" in page
    assert re.search(r'<tr class="recommended"><td>套餐咨询</td><td>热线</td><td>推荐</td>'
                     r'<td class="num">5</td><td class="num">0.0</td><td class="num">2.0</td></tr>', page)
    assert re.search(r"<tr><td>套餐咨询</td><td>微信</td><td></td><td class=\"num\">1</td>", page)
    rows = list(csv.reader(io.StringIO(client.get(f"/console/reports/export.csv?{q}").text.lstrip("\ufeff"))))
    at = rows.index(["业务类型", "渠道", "推荐", "接触量", "7天内再次接触率%", "平均解决时长(小时)"])
    assert rows[at + 1:at + 3] == [["套餐咨询", "微信", "", "1", "0.0", "1.0"],  # ranked first, too few
                                   ["套餐咨询", "热线", "推荐", "5", "0.0", "2.0"]]
    ws = load_workbook(io.BytesIO(client.get(f"/console/reports/export.xlsx?{q}").content))["渠道推荐"]
    assert [c.value for c in ws[3]] == ["套餐咨询", "热线", "推荐", 5, 0.0, 2.0]


def test_satisfaction_and_handoffs_in_the_report_by_hand(
        client: TestClient, world: World, db) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import load_workbook

    from kefu.customers.models import Customer
    from kefu.handoffs.models import Handoff
    from kefu.sla.models import SlaSurvey

    gz, sz = world.units["gz"], world.units["sz"]
    nine = DAY0 + timedelta(hours=9)
    with db.unit_of_work() as s:
        cust = Customer(org_unit_id=gz, phone="+8613600000001", created_at=DAY0, updated_at=DAY0)
        s.add(cust)
        s.flush()
        calls = [call(s, gz, nine + timedelta(minutes=n), wait=1, talk=1) for n in range(4)]
        t = complaint(s, gz, nine, customer_id=cust.id)
        s.flush()
        # surveys (1-5): 3 answered (2 satisfied: 4 and 5, 1 neutral) and 1 unanswered in gz; one in sz
        for unit, status, choice, channel in [(gz, "answered", 4, "sms"), (gz, "answered", 5, "wechat"),
                                              (gz, "answered", 3, "sms"), (gz, "sent", None, "sms"),
                                              (sz, "answered", 2, "sms")]:
            s.add(SlaSurvey(ticket_id=t.id, customer_id=cust.id, org_unit_id=unit, channel=channel,
                            interaction_id=calls[0].id, message_id=0, status=status, choice=choice, sent_at=nine,
                            expires_at=nine + timedelta(days=2)))
        # handoffs: voice -> wechat completed twice (120 s and 180 s saved) and returned once; voice -> sms
        # offered once
        for to, status, saved in [("wechat", "completed", 120.0), ("wechat", "completed", 180.0),
                                  ("wechat", "returned", 0.0), ("sms", "offered", 0.0)]:
            s.add(Handoff(customer_id=cust.id, org_unit_id=gz, source="ivr", from_channel="voice", to_channel=to,
                          task="查话费", status=status, offered_at=nine, expires_at=nine + timedelta(days=1),
                          saved_seconds=saved))
        summary.rebuild(s)
        quality.rebuild(s)
        satisfaction.rebuild(s)  # the surveys were written here, not sent: no events
        handoffs.rebuild(s)  # nor the handoffs
    with db.session() as s:
        rep = reports.build(s, period="day", start=DAY, unit_id=gz, unit_ids=[gz], channel=None,
                            now=DAY0 + timedelta(days=2))
        got = dict(reports.summary(rep))
        assert got["满意度%(满意/答复)"] == 66.67  # 2 of 3 answers
        assert got["满意度调查答复/发出"] == "3 / 4"
        assert (rep.csat.satisfied, rep.csat.score_total, rep.csat.average) == (2, 12, 4.0)  # (4 + 5 + 3) / 3
        later = reports.build(s, period="day", start=DAY + timedelta(days=1), unit_id=gz, unit_ids=[gz],
                              channel=None, now=DAY0 + timedelta(days=2))
        assert (later.csat.sent, later.csat.answered, later.csat.csat, later.csat.average) == (0, 0, None, None)
        assert dict(reports.summary(later))["满意度%(满意/答复)"] is None
        assert got["热线转数字渠道率%"] == 100.0  # 4 handoffs of 4 calls
        assert got["转接节省热线分钟"] == 5.0
        sms = reports.build(s, period="day", start=DAY, unit_id=gz, unit_ids=[gz], channel="sms",
                            now=DAY0 + timedelta(days=2))
        assert dict(reports.summary(sms))["满意度调查答复/发出"] == "2 / 3"
        headers, rows = reports.handoff_table(rep)
        assert headers[:3] == ["转出渠道", "转入渠道", "转接量"]
        assert rows == [["热线", "微信", 3, 0, 2, 1, 66.67, 33.33], ["热线", "短信", 1, 0, 0, 0, 0.0, 0.0],
                        ["合计", "", 4, 0, 2, 1, 50.0, 25.0]]
    login(client, "sup_gd")
    q = f"period=day&day={DAY.isoformat()}&unit={gz}"
    page = client.get(f"/console/reports?{q}").text
    assert "热线转数字渠道" in page
    assert re.search(r'<tr class="total"><td>合计</td><td></td><td class="num">4</td>', page)
    ws = load_workbook(io.BytesIO(client.get(f"/console/reports/export.xlsx?{q}").content))["转接"]
    assert [c.value for c in ws[2]] == ["热线", "微信", 3, 0, 2, 1, 66.67, 33.33]


def test_the_week_s_7x24_coverage_per_media_in_the_report(
        client: TestClient, world: World, db) -> None:  # type: ignore[no-untyped-def]
    from kefu.routing import service as routing
    from kefu.sla import service as sla

    gz = world.units["gz"]
    with db.unit_of_work() as s:
        routing.save_queue(s, None, routing.QueueSpec(key="zhot", name="热线队列", channel="voice", org_unit_id=gz))
        routing.save_queue(s, None, routing.QueueSpec(key="zchat", name="在线队列", channel="chat", org_unit_id=gz))
        # chats served 09:00-18:00 on weekdays only: 45 of 168 hours, no statutory holidays in that week
        cal = sla.save_calendar(s, calendar_id=None, name="工作日", weekly=[["09:00-18:00"]] * 5 + [[], []],
                                zone="Asia/Shanghai", statutory=False, org_unit_id=gz)
        sla.set_queue_calendar(s, None, "zchat", cal.id)
    login(client, "sup_gd")
    q = f"period=day&day={DAY.isoformat()}&unit={gz}"
    page = client.get(f"/console/reports?{q}").text
    assert "7×24 服务覆盖" in page
    assert re.search(r"<tr><td>热线</td><td>热线队列</td><td class=\"num\">100.0</td><td class=\"num\">0.0</td>"
                     r"<td>是</td></tr>", page)
    assert re.search(r"<tr><td>在线会话</td><td>在线队列</td><td class=\"num\">26.79</td>"
                     r"<td class=\"num\">123.0</td><td>否</td></tr>", page)
    rows = list(csv.reader(io.StringIO(client.get(f"/console/reports/export.csv?{q}").text.lstrip("\ufeff"))))
    assert ["在线会话", "在线队列", "26.79", "123.0", "否"] in rows
