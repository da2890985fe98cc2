"""Reports by e-mail: scheduled on the console (report, recipients, cadence), sent once per period through a
real SMTP server on loopback (aiosmtpd), with the summary in the body and the XLSX attached."""

from __future__ import annotations

import io
from datetime import timedelta

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from kefu.analytics import mailing
from kefu.analytics.models import ReportSchedule
from kefu.core.config import Settings
from tests.analytics.support import DAY0
from tests.analytics.test_reports import _small_day
from tests.channels.test_email import Sink, free_port, sink  # noqa: F401 (the fixture)
from tests.conftest import World
from tests.web.conftest import csrf_of, login


def test_a_scheduled_report_is_mailed_once_per_period(client: TestClient, world: World, db, settings: Settings,
                                                      sink: tuple[Sink, int]) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    got, port = sink
    smtp = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port, "email_from": "kefu@10086.cn"})
    _small_day(db, world)
    login(client, "sup_gd")
    page = client.get("/console/reports/schedules")
    assert page.status_code == 200
    assert "还没有发送计划。" in page.text
    assert f'<option value="{world.units["province"]}">广东</option>' in page.text  # units to choose from
    token = csrf_of(page.text)

    def post(**form: str):  # type: ignore[no-untyped-def]
        return client.post("/console/reports/schedules", data={"csrf_token": token, **form}, follow_redirects=False)

    bad = post(cadence="day", unit=str(world.units["province"]), recipients="经理, not-an-address")
    assert bad.status_code == 422
    assert "not an e-mail address: 经理, not-an-address" in bad.text
    assert post(cadence="day", unit=str(world.units["group"]), recipients="a@10086.cn").status_code == 404
    assert post(cadence="year", unit=str(world.units["province"]), recipients="a@10086.cn").status_code == 422
    assert post(cadence="day", unit=str(world.units["province"]),
                recipients="li.jingli@gd.10086.cn\nwang@gd.10086.cn; li.jingli@gd.10086.cn").status_code == 303
    assert post(cadence="week", unit=str(world.units["gz"]), channel="voice", by="channel",
                recipients="gz@gd.10086.cn").status_code == 303
    page = client.get("/console/reports/schedules").text
    assert "每天（昨日日报）" in page
    assert "li.jingli@gd.10086.cn, wang@gd.10086.cn" in page
    # Tuesday 03-03 00:45 in China: yesterday's daily report is due, the weekly one is not
    tuesday = DAY0 + timedelta(days=1, minutes=45)
    with db.unit_of_work() as s:
        daily = s.scalars(select(ReportSchedule).where(ReportSchedule.cadence == "day")).one().id
        assert mailing.send_due(s, smtp, now=tuesday) == [daily]
    with db.unit_of_work() as s:
        assert mailing.send_due(s, smtp, now=tuesday) == []  # sent once
    [mail] = got.got
    assert mail["Subject"] == "广东 · 全部渠道 · 日报 2026-03-02"
    assert mail["To"] == "li.jingli@gd.10086.cn, wang@gd.10086.cn"
    assert mail["From"] == "kefu@10086.cn"
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert "呼入量：5" in body  # four in Guangzhou, one in Shenzhen
    assert "接通量：3" in body
    assert "投诉量：1" in body
    [xlsx] = list(mail.iter_attachments())
    assert xlsx.get_filename() == "kefu-day-2026-03-02.xlsx"
    ws = load_workbook(io.BytesIO(xlsx.get_content()))["指标"]
    assert ws["A1"].value == "广东 · 全部渠道 · 日报 2026-03-02"
    # Monday 03-09: last week's report of Guangzhou's hotline, by channel, and the daily one of 03-08
    with db.unit_of_work() as s:
        assert len(mailing.send_due(s, smtp, now=DAY0 + timedelta(days=7, minutes=45))) == 2
    weekly = next(m for m in got.got if m["To"] == "gz@gd.10086.cn")
    assert weekly["Subject"] == "广州 · 热线 · 周报 2026-03-02 – 2026-03-08"
    assert "分项" in load_workbook(io.BytesIO(next(weekly.iter_attachments()).get_content())).sheetnames


def test_a_failed_mail_is_shown_and_sent_on_the_next_run(client: TestClient, world: World, db, settings: Settings,
                                                         sink: tuple[Sink, int]) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    got, port = sink
    _small_day(db, world)
    login(client, "sup_gd")
    token = csrf_of(client.get("/console/reports/schedules").text)
    client.post("/console/reports/schedules", data={"csrf_token": token, "cadence": "day",
                                                    "unit": str(world.units["province"]), "recipients": "a@gd.cn"})
    tuesday = DAY0 + timedelta(days=1, minutes=45)
    down = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": free_port()})  # nothing listens
    with db.unit_of_work() as s:
        assert mailing.send_due(s, down, now=tuesday) == []
    assert "发送失败" in client.get("/console/reports/schedules").text
    up = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port})
    with db.unit_of_work() as s:
        assert len(mailing.send_due(s, up, now=tuesday)) == 1
    assert len(got.got) == 1
    page = client.get("/console/reports/schedules").text
    assert "发送失败" not in page
    [row] = [line for line in page.splitlines() if "data-schedule=" in line]
    sid = row.split('data-schedule="')[1].split('"')[0]
    assert client.post(f"/console/reports/schedules/{sid}/delete", data={"csrf_token": token},
                       follow_redirects=False).status_code == 303
    assert "还没有发送计划。" in client.get("/console/reports/schedules").text
