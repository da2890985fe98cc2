"""Special days an administrator enters (campaigns, outages, local holidays): stored, listed, shown on the
console, and used by the forecast as the stated effect or as the share learnt from earlier days of the kind."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kefu.core.db import Database
from kefu.interactions import calls
from kefu.workforce import forecast, history, service
from kefu.workforce.models import WorkforceSpecialDay
from tests.conftest import World
from tests.web.conftest import csrf_of, login
from tests.workforce.support import make_log

API = "/api/v1/workforce"
DAY = date(1999, 3, 1)
TARGET = date(1999, 3, 22)


def _flat(days: int, *, per_day: int = 48, first: date = DAY) -> dict[date, list[int]]:
    return {first + timedelta(days=k): [per_day // 4] * 4 for k in range(days)}


def test_a_stated_effect_scales_the_normal_day_forecast() -> None:
    past = _flat(28)
    day = DAY + timedelta(days=28)
    config = forecast.ModelConfig()
    normal = forecast.model_forecast(past, [day], config)[day]
    campaign = forecast.model_forecast(past, [day], config, {day: "campaign"}, {day: 1.5})[day]
    assert normal == [12.0] * 4
    assert campaign == [18.0] * 4


def test_a_first_campaign_without_a_stated_effect_is_a_normal_day_not_a_holiday() -> None:
    past = _flat(28)
    holiday = DAY + timedelta(days=10)
    past[holiday] = [3, 3, 3, 3]  # a quiet public holiday: a quarter of a normal day
    day = DAY + timedelta(days=28)
    config = forecast.ModelConfig()
    special = {holiday: "holiday", day: "campaign"}
    assert forecast.special_factor(past, special, day, config, "campaign") == 1.0
    assert forecast.model_forecast(past, [day], config, special)[day] == [12.0] * 4
    # an earlier campaign that doubled the calls teaches the next one
    earlier = DAY + timedelta(days=14)
    past[earlier] = [24, 24, 24, 24]
    special[earlier] = "campaign"
    assert forecast.special_factor(past, special, day, config, "campaign") == 2.0
    assert forecast.model_forecast(past, [day], config, special)[day] == [24.0] * 4


def _import(db: Database, world: World) -> None:
    records = history.parse_call_log(make_log(DAY, 28)).records
    with db.unit_of_work() as s:
        calls.import_call_records(s, records, org_unit_id=world.units["gz"], source="bank")


def _count(db: Database) -> int:
    with db.unit_of_work() as s:
        return int(s.scalar(select(func.count()).select_from(WorkforceSpecialDay)) or 0)


def test_an_administrator_enters_a_campaign_and_the_forecast_uses_it(
    client: TestClient, db: Database, world: World
) -> None:
    _import(db, world)
    body = {"org_unit_id": world.units["province"], "name": "流量包促销", "kind": "campaign",
            "first_day": "1999-03-22", "last_day": "1999-03-23", "effect_pct": 50}
    refused = client.post(f"{API}/special-days", json=body, headers=world.auth("sup_gd"))
    assert refused.status_code == 403
    assert _count(db) == 0
    r = client.post(f"{API}/special-days", json=body, headers=world.auth("admin"))
    assert r.status_code == 201, r.text
    made = r.json()
    assert (made["kind"], made["first_day"], made["last_day"], made["effect_pct"]) == (
        "campaign", "1999-03-22", "1999-03-23", 50.0)
    listed = client.get(f"{API}/special-days", params={"org_unit_id": world.units["province"]},
                        headers=world.auth("sup_gd"))
    assert [d["name"] for d in listed.json()] == ["流量包促销"]

    # the city's forecast takes the province's campaign: its two days at 1.5 times the normal forecast
    f = client.post(f"{API}/forecast", json={"org_unit_id": world.units["gz"], "start_day": "1999-03-22",
                                             "days": 3, "holdout_days": 7}, headers=world.auth("analyst"))
    assert f.status_code == 200, f.text
    counts = history.arrivals_per_interval(history.parse_call_log(make_log(DAY, 28)).records, 30)
    past = {d: v for d, v in counts.items() if d < TARGET}
    wanted = [TARGET + timedelta(days=k) for k in range(3)]
    kinds = {**forecast.special_kinds(forecast.public_holidays("CN", [1999])),
             TARGET: "campaign", TARGET + timedelta(days=1): "campaign"}
    effects = {TARGET: 1.5, TARGET + timedelta(days=1): 1.5}
    # one model choice serves the page: made on the days before the 7 held-out days
    train = {d: v for d, v in past.items() if d < sorted(past)[-7]}
    chosen, _, _ = forecast.choose_blend(train, kinds, effects, backtest_weeks=4,
                                         candidates=forecast.QUICK_CANDIDATES)
    expected = forecast.blended(chosen, kinds, effects)(past, wanted)
    normal = forecast.blended(chosen, kinds)(past, wanted)
    for k, row in enumerate(f.json()["days"]):
        assert row["forecast"] == pytest.approx(expected[wanted[k]], abs=1e-3)
    assert sum(expected[TARGET]) == pytest.approx(1.5 * sum(normal[TARGET]))
    assert expected[wanted[2]] == normal[wanted[2]]

    gone = client.delete(f"{API}/special-days/{made['id']}", headers=world.auth("admin"))
    assert gone.status_code == 204
    assert _count(db) == 0
    after = client.post(f"{API}/forecast", json={"org_unit_id": world.units["gz"], "start_day": "1999-03-22",
                                                 "days": 1, "holdout_days": 7}, headers=world.auth("analyst"))
    assert sum(after.json()["days"][0]["forecast"]) < sum(f.json()["days"][0]["forecast"])


def test_bad_special_days_are_refused_and_nothing_is_stored(client: TestClient, world: World, db: Database) -> None:
    base = {"org_unit_id": world.units["gz"], "name": "故障", "kind": "outage", "first_day": "2026-05-02"}
    for change in ({"last_day": "2026-05-01"}, {"kind": "strike"}, {"effect_pct": -150}):
        r = client.post(f"{API}/special-days", json={**base, **change}, headers=world.auth("admin"))
        assert r.status_code == 422, r.text
    assert _count(db) == 0


def test_console_screen_adds_lists_and_removes_special_days(client: TestClient, db: Database, world: World) -> None:
    login(client, "admin")
    page = client.get("/console/workforce/special-days")
    assert page.status_code == 200
    assert '<option value="outage">网络故障</option>' in page.text
    assert f'<option value="{world.units["gz"]}">广州 (GZ)</option>' in page.text
    token = csrf_of(page.text)
    bad = client.post("/console/workforce/special-days", data={
        "csrf_token": token, "org_unit": str(world.units["gz"]), "name": "光缆中断", "kind": "outage",
        "first_day": "2026-05-02", "last_day": "2026-05-01"})
    assert bad.status_code == 422
    assert "last_day comes before first_day" in bad.text
    assert 'value="光缆中断"' in bad.text  # the form keeps what was typed
    assert _count(db) == 0
    r = client.post("/console/workforce/special-days", data={
        "csrf_token": token, "org_unit": str(world.units["gz"]), "name": "光缆中断", "kind": "outage",
        "first_day": "2026-05-02", "last_day": "", "effect_pct": "-40"}, follow_redirects=True)
    assert r.status_code == 200, r.text
    assert "<td>光缆中断</td><td>网络故障</td><td>广州</td>" in r.text
    assert "<td>2026-05-02</td>" in r.text
    assert "-40 %" in r.text
    with db.unit_of_work() as s:
        row = s.scalars(select(WorkforceSpecialDay)).one()
        assert (row.first_day, row.last_day, row.effect_pct, row.created_by) == (
            date(2026, 5, 2), date(2026, 5, 2), -40.0, world.users["admin"])
        row_id = row.id
    gone = client.post(f"/console/workforce/special-days/{row_id}/delete", data={"csrf_token": csrf_of(r.text)},
                       follow_redirects=True)
    assert gone.status_code == 200
    assert "尚未登记特殊日期" in gone.text
    assert _count(db) == 0

    for typed, shown in (("四十", "effect_pct: Input should be a valid number"),
                         ("nan", "effect_pct: Input should be a finite number")):
        bad = client.post("/console/workforce/special-days", data={
            "csrf_token": token, "org_unit": str(world.units["gz"]), "name": "光缆中断", "kind": "outage",
            "first_day": "2026-05-02", "last_day": "", "effect_pct": typed})
        assert bad.status_code == 422
        assert shown in bad.text
        assert _count(db) == 0
    zero = client.post("/console/workforce/special-days", data={
        "csrf_token": token, "org_unit": str(world.units["gz"]), "name": "光缆中断", "kind": "outage",
        "first_day": "2026-05-02", "last_day": "", "effect_pct": "0"}, follow_redirects=True)
    assert zero.status_code == 200, zero.text
    with db.session() as s:
        assert s.scalars(select(WorkforceSpecialDay.effect_pct)).one() == 0.0  # typed 0: no effect, not "learn"


def test_supervisors_see_special_days_but_may_not_change_them(client: TestClient, world: World) -> None:
    login(client, "sup_gd")
    page = client.get("/console/workforce/special-days")
    assert page.status_code == 200
    assert 'id="sd-form"' not in page.text
    r = client.post("/console/workforce/special-days", data={"csrf_token": csrf_of(page.text)})
    assert r.status_code == 403


def test_a_citys_own_special_day_overrides_its_provinces_whatever_the_order_entered(
    client: TestClient, db: Database, world: World
) -> None:
    def add(unit: str, name: str, kind: str, first: str, last: str, effect: float | None) -> None:
        r = client.post(f"{API}/special-days", json={"org_unit_id": world.units[unit], "name": name, "kind": kind,
                                                     "first_day": first, "last_day": last, "effect_pct": effect},
                        headers=world.auth("admin"))
        assert r.status_code == 201, r.text

    add("gz", "广州光缆中断", "outage", "2026-05-02", "2026-05-02", -40)  # the city's first
    add("province", "全省促销", "campaign", "2026-05-01", "2026-05-03", 50)  # then its province's, later id
    add("gz", "广州节庆", "holiday", "2026-05-03", "2026-05-03", None)  # the city's, no stated effect
    first, last = date(2026, 5, 1), date(2026, 5, 3)
    with db.unit_of_work() as s:
        city = service.entered_days(s, world.units["gz"], first, last)
        other_city = service.entered_days(s, world.units["sz"], first, last)
        province = service.entered_days(s, world.units["province"], first, last)
    assert city.kinds == {date(2026, 5, 1): "campaign", date(2026, 5, 2): "outage", date(2026, 5, 3): "holiday"}
    assert city.effects == {date(2026, 5, 1): 1.5, date(2026, 5, 2): 0.6}
    assert other_city.kinds == province.kinds == {first + timedelta(days=k): "campaign" for k in range(3)}
    assert other_city.effects == province.effects == {first + timedelta(days=k): 1.5 for k in range(3)}
    # between two entries of the same unit the later one wins
    add("gz", "广州二次中断", "outage", "2026-05-02", "2026-05-02", -10)
    with db.unit_of_work() as s:
        again = service.entered_days(s, world.units["gz"], first, last)
    assert (again.kinds[date(2026, 5, 2)], again.effects[date(2026, 5, 2)]) == ("outage", 0.9)
