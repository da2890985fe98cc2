"""Channel use by customer age band (kefu/customers/ages.py): each contact counted under its customer's band in
the contact's local year, kept by the contact consumer and the rebuild alike, in the report's channel-use section
and its export; migration 0715 backfills the roll-up."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.analytics import consumers, summary
from kefu.analytics.models import ContactFact, DayAgeSummary
from kefu.core.events import Event
from kefu.customers import service as customers
from kefu.customers.models import Customer
from tests.analytics.support import DAY0, call
from tests.conftest import World

DAY = date(2026, 3, 2)  # DAY0's local day
AGE_COLS = ("day", "org_unit_id", "channel", "age_band", "offered", "answered", "abandoned", "pending")


def _customer(s: Session, unit: int, n: int, born: int | None) -> int:
    c = Customer(org_unit_id=unit, phone=f"+8613600000{n:03d}", name=f"客户{n}", birth_year=born, created_at=DAY0,
                 updated_at=DAY0)
    s.add(c)
    s.flush()
    return c.id


def _small_day(s: Session, gz: int) -> list[int]:
    """Customers born 2001 (25 in 2026: 25–34), 2002 (24: under 25), 1960 (66: 65 and over) and one of unknown
    age; contacts on the phone and WeChat (and one SMS, one caller not identified)."""
    b2001, b2002, b1960, unknown = (_customer(s, gz, n, born) for n, born in enumerate((2001, 2002, 1960, None)))
    at = DAY0 + timedelta(hours=9)
    its = [call(s, gz, at, wait=1, talk=60, customer_id=b2001),
           call(s, gz, at + timedelta(hours=1), wait=1, talk=60, customer_id=b2001),
           call(s, gz, at, wait=1, talk=60, channel="wechat", customer_id=b2001),
           call(s, gz, at, abandon_after=30, channel="wechat", customer_id=b2002),
           call(s, gz, at, wait=1, talk=60, customer_id=b1960),
           call(s, gz, at, wait=1, talk=60, channel="sms", customer_id=unknown),
           call(s, gz, at, wait=1, talk=60)]  # not identified
    s.flush()
    return [it.id for it in its]


def _rows(s: Session) -> set[tuple[Any, ...]]:
    return {tuple(getattr(r, c) for c in AGE_COLS) for r in s.scalars(select(DayAgeSummary))
            if r.offered or r.pending}


def _hand_computed(gz: int) -> set[tuple[Any, ...]]:
    d = summary.day_number(DAY)
    return {(d, gz, "voice", "25-34", 2, 2, 0, 0), (d, gz, "wechat", "25-34", 1, 1, 0, 0),
            (d, gz, "wechat", "lt25", 1, 0, 1, 0), (d, gz, "voice", "65+", 1, 1, 0, 0),
            (d, gz, "sms", "", 1, 1, 0, 0), (d, gz, "voice", "", 1, 1, 0, 0)}


def test_age_bands_of_a_small_day_by_hand_from_events_and_from_the_rebuild(db, world: World) -> None:  # type: ignore[no-untyped-def]
    gz = world.units["gz"]
    with db.unit_of_work() as s:
        ids = _small_day(s, gz)
    evs = [Event(n, "interaction.closed", "interaction", iid, gz, {}, DAY0) for n, iid in enumerate(ids, 1)]
    with db.unit_of_work() as s:
        consumers.on_contact_events(s, evs)
    with db.session() as s:
        kept = _rows(s)
        assert kept == _hand_computed(gz)
        by_age = summary.breakdown(s, DAY, DAY + timedelta(days=1), by=("age_band", "channel"), unit_ids=[gz])
        assert {k: t.offered for k, t in by_age.items()} == {
            ("25-34", "voice"): 2, ("25-34", "wechat"): 1, ("lt25", "wechat"): 1, ("65+", "voice"): 1,
            ("", "sms"): 1, ("", "voice"): 1}
    # every event delivered again changes nothing
    with db.unit_of_work() as s:
        for e in evs:
            consumers.on_contact_event(s, e)
        assert summary.observe(s, ids) == 0
    with db.session() as s:
        assert _rows(s) == kept
    with db.unit_of_work() as s:
        assert summary.rebuild(s) == 7
    with db.session() as s:
        assert _rows(s) == kept


def test_a_birth_year_set_later_moves_the_customers_contacts(db, world: World) -> None:  # type: ignore[no-untyped-def]
    gz = world.units["gz"]
    with db.unit_of_work() as s:
        who = _customer(s, gz, 9, None)
        it = call(s, gz, DAY0 + timedelta(hours=9), wait=1, talk=60, customer_id=who)
        s.flush()
        iid = it.id
        summary.observe(s, [iid])
    with db.unit_of_work() as s:
        customers.update_customer(s, customers.get(s, who), {"birth_year": 1980}, at=DAY0 + timedelta(days=1))
    with db.unit_of_work() as s:
        consumers.on_contact_event(s, Event(1, "customer.updated", "customer", who, gz, {"fields": ["birth_year"]},
                                            DAY0))
    with db.session() as s:
        assert _rows(s) == {(summary.day_number(DAY), gz, "voice", "45-54", 1, 1, 0, 0)}  # 46 in 2026


def test_the_age_is_taken_in_the_contacts_local_year(db, world: World) -> None:  # type: ignore[no-untyped-def]
    gz = world.units["gz"]
    new_year = datetime(2025, 12, 31, 16, 30, tzinfo=UTC)  # 00:30 on 1 January 2026 in China
    with db.unit_of_work() as s:
        who = _customer(s, gz, 1, 2001)
        it = call(s, gz, new_year, wait=1, talk=60, customer_id=who)
        s.flush()
        iid = it.id
        summary.observe(s, [iid])
        assert s.get(ContactFact, iid).age_band == "25-34"  # type: ignore[union-attr]  # 25 in 2026, 24 in 2025
        summary.rebuild(s)
        assert s.get(ContactFact, iid).age_band == "25-34"  # type: ignore[union-attr]


def test_channel_use_by_age_band_in_the_report_and_its_export(client, world: World, db) -> None:  # type: ignore[no-untyped-def]
    from tests.analytics.support import province_day_report

    gz = world.units["gz"]
    with db.unit_of_work() as s:
        _small_day(s, gz)
        summary.rebuild(s)
    page, rows = province_day_report(client, world.units["province"], DAY)
    assert "渠道使用（按年龄段）" in page
    at = rows.index(["年龄段", "热线", "短信", "微信", "合计"])
    assert rows[at + 1:at + 5] == [["不详", "1 (50.0%)", "1 (50.0%)", "0 (0.0%)", "2"],
                                   ["25岁以下", "0 (0.0%)", "0 (0.0%)", "1 (100.0%)", "1"],
                                   ["25–34岁", "2 (66.67%)", "0 (0.0%)", "1 (33.33%)", "3"],
                                   ["65岁及以上", "1 (100.0%)", "0 (0.0%)", "0 (0.0%)", "1"]]
    import io

    from openpyxl import load_workbook

    q = f"period=day&day={DAY.isoformat()}&unit={world.units['province']}"
    ws = load_workbook(io.BytesIO(client.get(f"/console/reports/export.xlsx?{q}").content))["渠道使用（按年龄段）"]
    sheet = [list(r) for r in ws.iter_rows(values_only=True)]
    assert sheet[0] == ["年龄段", "热线", "短信", "微信", "合计"]
    assert sheet[3] == ["25–34岁", "2 (66.67%)", "0 (0.0%)", "1 (33.33%)", 3]


def test_migration_0715_backfills_the_age_roll_up(db, world: World, db_url: str) -> None:  # type: ignore[no-untyped-def]
    from kefu.core.migrate import downgrade, upgrade

    gz = world.units["gz"]
    with db.unit_of_work() as s:  # contacts counted before birth years were recorded: all of unknown age
        who = _customer(s, gz, 1, None)
        its = [call(s, gz, DAY0 + timedelta(hours=9), wait=1, talk=60, customer_id=who),
               call(s, gz, DAY0 + timedelta(hours=10), abandon_after=4, channel="wechat")]
        s.flush()
        ids = [it.id for it in its]
        summary.observe(s, ids)
    with db.session() as s:
        kept = _rows(s)
    d = summary.day_number(DAY)
    assert kept == {(d, gz, "voice", "", 1, 1, 0, 0), (d, gz, "wechat", "", 1, 0, 1, 0)}
    db.dispose()
    downgrade(db_url, "0714_analytics_agent_topics")
    upgrade(db_url)
    with db.session() as s:
        assert _rows(s) == kept
        assert {f.age_band for f in s.scalars(select(ContactFact))} == {""}
