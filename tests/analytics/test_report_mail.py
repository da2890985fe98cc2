"""Reports by e-mail: scheduled on the console (report, recipients, cadence), sent once per period through a
real SMTP server on loopback (aiosmtpd), with the summary in the body and the XLSX attached."""

from __future__ import annotations

import io
from datetime import timedelta

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from kefu.analytics import mailing
from kefu.analytics.models import ReportMailing, ReportSchedule
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


def test_a_failed_mail_is_tried_again_later_and_sent_once(client: TestClient, world: World, db, settings: Settings,
                                                          sink: tuple[Sink, int]) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    got, port = sink
    _small_day(db, world)
    login(client, "sup_gd")
    token = csrf_of(client.get("/console/reports/schedules").text)
    client.post("/console/reports/schedules", data={"csrf_token": token, "cadence": "day",
                                                    "unit": str(world.units["province"]), "recipients": "a@gd.cn"})
    tuesday = DAY0 + timedelta(days=1, minutes=45)
    down = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": free_port()})  # nothing listens
    up = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port})

    def run(at_minute: int, smtp: Settings) -> list[int]:
        with db.unit_of_work() as s:
            return mailing.send_due(s, smtp, now=tuesday + timedelta(minutes=at_minute))

    def state() -> tuple[str, int, str | None, str | None]:
        with db.unit_of_work(write=False) as s:
            m = s.scalars(select(ReportMailing)).one()
            iso = [t.isoformat() if t else None for t in (m.next_try_at, m.sent_at)]
            return (m.state, m.attempts, iso[0], iso[1])

    with db.unit_of_work(write=False) as s:
        sid = s.scalars(select(ReportSchedule.id)).one()
    assert run(-1, up) == []  # 00:44 in China: not yet due
    assert run(0, down) == [sid]  # claimed, tried after the commit: the server is down
    assert state() == ("failed", 1, "2026-03-02T17:00:00+00:00", None)  # tried again in 15 minutes
    page = client.get("/console/reports/schedules").text
    assert "发送失败" in page
    assert "2026-03-02 的报表已尝试 1 次，将于" in page
    assert run(0, up) == []  # not before its next try
    assert run(14, up) == []
    assert got.got == []
    assert run(15, down) == [sid]  # second attempt fails too: the wait doubles
    assert state() == ("failed", 2, "2026-03-02T17:30:00+00:00", None)
    assert run(45, up) == [sid]  # the server is back
    assert state() == ("sent", 3, None, "2026-03-02T17:30:00+00:00")
    assert run(60, up) == []  # sent once
    assert run(24 * 60, up) == [sid]  # the next day is the next period
    assert [m["Subject"] for m in got.got] == ["广东 · 全部渠道 · 日报 2026-03-02", "广东 · 全部渠道 · 日报 2026-03-03"]
    page = client.get("/console/reports/schedules").text
    assert "发送失败" not in page
    [row] = [line for line in page.splitlines() if "data-schedule=" in line]
    assert f'data-schedule="{sid}"' in row
    assert client.post(f"/console/reports/schedules/{sid}/delete", data={"csrf_token": token},
                       follow_redirects=False).status_code == 303
    assert "还没有发送计划。" in client.get("/console/reports/schedules").text


def test_a_mail_that_keeps_failing_is_given_up_after_the_last_attempt(client: TestClient, world: World, db,
                                                                      settings: Settings) -> None:  # type: ignore[no-untyped-def]
    login(client, "sup_gd")
    token = csrf_of(client.get("/console/reports/schedules").text)
    client.post("/console/reports/schedules", data={"csrf_token": token, "cadence": "day",
                                                    "unit": str(world.units["province"]), "recipients": "a@gd.cn"})
    down = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": free_port()})
    at = DAY0 + timedelta(days=1, minutes=45)
    tries = []
    for _ in range(8):
        with db.unit_of_work() as s:
            if mailing.send_due(s, down, now=at):
                tries.append(at)
        at += timedelta(minutes=15)
        with db.unit_of_work(write=False) as s:
            m = s.scalars(select(ReportMailing)).one()
            at = max(at, m.next_try_at or at)
    assert [(t - tries[0]).total_seconds() / 60 for t in tries] == [0, 15, 45, 105, 225]  # 15, 30, 60, 120 min
    with db.unit_of_work(write=False) as s:
        m = s.scalars(select(ReportMailing)).one()
        assert (m.state, m.attempts, m.next_try_at) == ("failed", mailing.MAX_ATTEMPTS, None)
    assert "(gave up after 5 attempts)" in client.get("/console/reports/schedules").text


def test_the_mail_is_sent_only_when_the_run_commits(world: World, db, settings: Settings,
                                                    sink: tuple[Sink, int]) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    got, port = sink
    up = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port})
    tuesday = DAY0 + timedelta(days=1, minutes=45)
    with db.unit_of_work() as s:
        s.add(ReportSchedule(cadence="day", org_unit_id=world.units["province"], channel=None, breakdown=None,
                             recipients="a@gd.cn", created_at=DAY0))
    try:
        with db.unit_of_work() as s:
            assert len(mailing.send_due(s, up, now=tuesday)) == 1
            assert got.got == []  # nothing goes out inside the transaction
            raise RuntimeError("the run fails after claiming")
    except RuntimeError:
        pass
    assert got.got == []  # rolled back: not sent, still due
    with db.unit_of_work() as s:
        assert len(mailing.send_due(s, up, now=tuesday)) == 1
    assert len(got.got) == 1


def test_a_schedule_whose_unit_is_gone_fails_with_the_reason_instead_of_staying_due(
        world: World, db, db_url: str, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    """The org unit's foreign key deletes its schedules with it; a unit gone past it (deleted with the
    checks off, as a bulk repair might) leaves its mailing failed for good with the reason, mailed never."""
    import sqlalchemy as sa

    smtp = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": free_port()})
    with db.unit_of_work() as s:
        s.add(ReportSchedule(cadence="day", org_unit_id=world.units["sz"], channel=None, breakdown=None,
                             recipients="sz@gd.10086.cn", created_by_id=None, created_at=DAY0))
    db.dispose()
    eng = sa.create_engine(db_url)
    with eng.begin() as con:
        if eng.dialect.name == "postgresql":
            con.execute(sa.text("SET LOCAL session_replication_role = replica"))  # no foreign key triggers
        else:
            con.execute(sa.text("PRAGMA foreign_keys=OFF"))  # before the transaction's first write
        con.execute(sa.text("DELETE FROM org_units WHERE id = :u"), {"u": world.units["sz"]})
    eng.dispose()
    tuesday = DAY0 + timedelta(days=1, minutes=45)
    for later in (0, 60):
        with db.unit_of_work() as s:
            assert mailing.send_due(s, smtp, now=tuesday + timedelta(minutes=later)) == []
    with db.unit_of_work(write=False) as s:
        m = s.scalars(select(ReportMailing)).one()
        assert (m.state, m.attempts, m.next_try_at, m.last_error) == (
            "failed", 0, None, "the schedule's org unit no longer exists")
        assert s.scalars(select(ReportSchedule)).one().last_error == "the schedule's org unit no longer exists"
