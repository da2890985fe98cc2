"""Workforce endpoints: Erlang, staffing, history, forecast, plans, what-if, simulate, rules; bad input."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kefu.core.db import Database
from kefu.core.events import OutboxEvent
from kefu.interactions import calls
from kefu.workforce import forecast, history
from kefu.workforce.models import WorkforcePlan
from tests.conftest import World
from tests.workforce.support import make_log

API = "/api/v1/workforce"
DAY = date(1999, 3, 1)
# a day of 30-minute intervals: quiet nights, a busy morning and afternoon
CALLS = [0.0] * 16 + [20, 40, 60, 80, 100, 100, 90, 80, 70, 80, 90, 100, 90, 70, 50, 40, 30, 20] + [0.0] * 14
RULES = {
    "shift_minutes": [240, 480],
    "start_every_minutes": 30,
    "break_minutes": 30,
    "break_earliest_minutes": 120,
    "break_latest_minutes": 300,
    "min_hours": 4,
    "max_hours": 9,
}


def _plan_body(world: World, **kw: object) -> dict[str, object]:
    body: dict[str, object] = {
        "org_unit_id": world.units["gz"],
        "day": "2026-11-24",
        "calls": CALLS,
        "aht": 180,
        "patience": 300,
        "service_level": 0.8,
        "target_time": 20,
        "time_limit": 5,
    }
    body.update(kw)
    return body


def _import(db: Database, world: World, days: int = 28) -> None:
    records = history.parse_call_log(make_log(DAY, days)).records
    with db.unit_of_work() as s:
        calls.import_call_records(s, records, org_unit_id=world.units["gz"], source="bank")


def test_erlang_gives_c_and_a_side_by_side(client: TestClient, world: World) -> None:
    r = client.post(
        f"{API}/erlang",
        json={
            "calls": 100,
            "interval_minutes": 30,
            "aht": 180,
            "agents": 14,
            "patience": 300,
            "target_time": 20,
        },
        headers=world.auth("analyst"),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["load"] == 10.0
    assert body["erlang_c"]["service_level"] == pytest.approx(0.8884, abs=5e-5)  # published case C1
    assert body["erlang_a"]["service_level"] > body["erlang_c"]["service_level"]
    assert 0 < body["erlang_a"]["p_abandon"] < 0.05


def test_erlang_with_too_few_agents_reports_no_infinite_number(client: TestClient, world: World) -> None:
    r = client.post(
        f"{API}/erlang", json={"calls": 100, "aht": 180, "agents": 8}, headers=world.auth("analyst")
    )
    assert r.status_code == 200
    assert r.json()["erlang_c"]["service_level"] == 0.0
    assert r.json()["erlang_c"]["asa"] is None


def test_staffing_required_and_scheduled(client: TestClient, world: World) -> None:
    r = client.post(
        f"{API}/staffing",
        json={
            "calls": 100,
            "aht": 180,
            "service_level": 0.8,
            "target_time": 20,
            "shrinkage": 0.3,
            "model": "c",
        },
        headers=world.auth("sup_gd"),
    )
    assert r.status_code == 200, r.text
    assert (r.json()["required"], r.json()["scheduled"]) == (14, 20)
    a = client.post(
        f"{API}/staffing",
        json={"calls": 100, "aht": 180, "patience": 300, "model": "a"},
        headers=world.auth("sup_gd"),
    ).json()
    assert a["erlang_a"]["agents"] <= a["erlang_c"]["agents"] == 14


@pytest.mark.parametrize(
    ("path", "payload", "message"),
    [
        ("erlang", {"calls": 0, "aht": 180, "agents": 14}, "arrival_rate must be a finite number > 0"),
        ("erlang", {"calls": 100, "aht": -5, "agents": 14}, "aht must be a finite number > 0"),
        (
            "staffing",
            {"calls": 100, "aht": 180, "service_level": 1.5, "model": "c"},
            "service_level target must lie strictly between 0 and 1, got 1.5",
        ),
        (
            "staffing",
            {"calls": 100, "aht": 180, "service_level": None, "max_asa": 0, "model": "c"},
            "an ASA of 0 is unreachable",
        ),
        ("staffing", {"calls": 100, "aht": 180, "model": "a"}, "needs a patience"),
        ("simulate", {"calls": [10, 10], "agents": [2], "aht": 180}, "one entry per interval"),
        ("simulate", {"calls": [0, 0], "agents": [2, 2], "aht": 180}, "with some calls"),
    ],
)
def test_bad_input_is_422_with_a_clear_message(
    client: TestClient, world: World, path: str, payload: dict[str, object], message: str
) -> None:
    r = client.post(f"{API}/{path}", json=payload, headers=world.auth("analyst"))
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "workforce_invalid_input"
    assert message in r.json()["error"]["message"]


def test_plan_with_bad_target_or_rates_is_422(client: TestClient, world: World) -> None:
    for kw, message in (
        ({"service_level": 1.5}, "strictly between 0 and 1"),
        ({"aht": 0}, "aht must be a finite number > 0"),
        ({"calls": CALLS[:10]}, "calls must have 48 entries"),
        ({"calls": [-1.0] * 48}, "finite numbers >= 0"),
        ({"rules": {**RULES, "shift_minutes": [250]}}, "whole multiples"),
    ):
        r = client.post(f"{API}/plan", json=_plan_body(world, **kw), headers=world.auth("sup_gd"))
        assert r.status_code == 422, (kw, r.text)
        assert message in r.json()["error"]["message"], kw


def test_agents_may_not_plan(client: TestClient, world: World) -> None:
    r = client.post(f"{API}/plan", json=_plan_body(world), headers=world.auth("agent_gz"))
    assert r.status_code == 403
    assert r.json()["error"]["details"]["permission"] == "workforce.read"


def test_plan_covers_required_agents_and_reports_coverage(client: TestClient, world: World) -> None:
    r = client.post(f"{API}/plan", json=_plan_body(world, rules=RULES), headers=world.auth("sup_gd"))
    assert r.status_code == 200, r.text
    plan = r.json()
    rows = plan["intervals"]
    assert len(rows) == 48
    assert all(row["scheduled"] >= row["required"] for row in rows)
    assert all(row["required_c"] >= row["required_a"] for row in rows)
    assert plan["summary"]["under_intervals"] == 0
    assert plan["summary"]["service_level"] >= 0.8
    assert math.isclose(plan["summary"]["answer_rate"] + plan["summary"]["abandon_rate"], 1.0, abs_tol=1e-5)
    assert plan["summary"]["agents"] == sum(s["agents"] for s in plan["shifts"])
    for shift in plan["shifts"]:
        assert shift["paid_hours"] in (4.0, 8.0)
        assert shift["break_start"] is not None


def test_what_if_more_volume_needs_more_agents(client: TestClient, world: World) -> None:
    r = client.post(
        f"{API}/what-if", json=_plan_body(world, what_if_volume_scale=1.2), headers=world.auth("sup_gd")
    )
    assert r.status_code == 200, r.text
    base, more = r.json()["base"], r.json()["scenario"]
    assert all(
        b["required"] <= m["required"] for b, m in zip(base["intervals"], more["intervals"], strict=True)
    )
    assert sum(m["required"] for m in more["intervals"]) > sum(b["required"] for b in base["intervals"])
    assert more["summary"]["paid_hours"] > base["summary"]["paid_hours"]
    stricter = client.post(
        f"{API}/what-if", json=_plan_body(world, what_if_service_level=0.95), headers=world.auth("sup_gd")
    ).json()["scenario"]
    assert sum(s["required"] for s in stricter["intervals"]) > sum(b["required"] for b in base["intervals"])


def test_plan_from_history_shows_forecast_and_actual(client: TestClient, db: Database, world: World) -> None:
    _import(db, world)
    body = {
        "org_unit_id": world.units["province"],
        "day": "1999-03-22",
        "service_level": 0.8,
        "time_limit": 5,
    }
    r = client.post(f"{API}/plan", json=body, headers=world.auth("sup_gd"))
    assert r.status_code == 200, r.text
    plan = r.json()
    assert plan["source"] == "history"
    assert plan["history_days"] == 21
    records = history.parse_call_log(make_log(DAY, 28)).records
    counts = history.arrivals_per_interval(records, 30)
    day = date(1999, 3, 22)
    past = {d: v for d, v in counts.items() if d < day}
    special = forecast.special_kinds(forecast.public_holidays("CN", [1999]))
    chosen, _, _ = forecast.choose_blend(past, special, backtest_weeks=4, candidates=forecast.QUICK_CANDIDATES)
    expected = forecast.blended(chosen, special)(past, [day])[day]
    assert [row["forecast"] for row in plan["intervals"]] == pytest.approx(expected, abs=1e-3)
    assert expected != forecast.seasonal_forecast(past, [day])[day]  # the second-pass forecaster, not the first
    assert [row["actual"] for row in plan["intervals"]] == counts[day]
    assert plan["aht"] == pytest.approx(
        history.handle_time_fit([r for r in records if r.day < day]).mean, abs=1e-3
    )
    night = plan["intervals"][0]
    assert (night["forecast"], night["actual"], night["required"]) == (0.0, 0, 0)
    assert plan["aht"] > 0
    assert plan["patience"] > 0


def test_plan_without_history_says_so(client: TestClient, world: World) -> None:
    r = client.post(
        f"{API}/plan",
        json={"org_unit_id": world.units["gz"], "day": "1999-03-22"},
        headers=world.auth("sup_gd"),
    )
    assert r.status_code == 422
    assert "no call history in the 16 weeks before 1999-03-22" in r.json()["error"]["message"]


def test_history_and_forecast_endpoints(client: TestClient, db: Database, world: World) -> None:
    _import(db, world)
    h = client.get(
        f"{API}/history",
        params={"org_unit_id": world.units["gz"], "start": "1999-03-01", "end": "1999-03-28"},
        headers=world.auth("analyst"),
    )
    assert h.status_code == 200, h.text
    assert len(h.json()["days"]) == 28
    assert h.json()["patience"]["km"][0]["survival"] < 1
    f = client.post(
        f"{API}/forecast",
        json={"org_unit_id": world.units["gz"], "start_day": "1999-03-22", "days": 7, "holdout_days": 7},
        headers=world.auth("analyst"),
    )
    assert f.status_code == 200, f.text
    out = f.json()
    assert out["days"][0]["day"] == "1999-03-22"
    assert out["days"][0]["actual"] is not None
    assert out["days"][-1]["actual"] is not None
    assert 0 <= out["holdout"]["model_wape"] < 1
    assert out["holdout"]["model_wape"] <= out["holdout"]["naive_wape"]
    assert 0 <= out["holdout"]["baseline_wape"] < 1
    assert out["country"] == "CN"
    assert out["model"].startswith("mean of the best 10 by backtest (weights ")
    records = history.parse_call_log(make_log(DAY, 28)).records
    counts = history.arrivals_per_interval(records, 30)
    first = date(1999, 3, 22)
    past = {d: v for d, v in counts.items() if d < first}
    assert out["days"][0]["baseline"] == pytest.approx(forecast.same_weekday_mean(past, [first])[first], abs=1e-3)
    # one model choice, on the days before the 7 held-out days, is scored on them and forecasts the week
    assert out["holdout"]["model"] == out["model"]
    train = {d: v for d, v in past.items() if d < sorted(past)[-7]}
    special = forecast.special_kinds(forecast.public_holidays("CN", [1999]))
    chosen, _, _ = forecast.choose_blend(train, special, backtest_weeks=4, candidates=forecast.QUICK_CANDIDATES)
    wanted = [first + timedelta(days=k) for k in range(7)]
    expected = forecast.blended(chosen, special)(past, wanted)
    assert [row["forecast"] for row in out["days"]] == [pytest.approx(expected[d], abs=1e-3) for d in wanted]
    for country, message in (("XX", "no public-holiday calendar for country 'XX'"), ("cn", "pattern")):
        bad = client.post(
            f"{API}/forecast",
            json={"org_unit_id": world.units["gz"], "start_day": "1999-03-22", "country": country},
            headers=world.auth("analyst"),
        )
        assert bad.status_code == 422, bad.text
        assert message in bad.text


def test_saved_plans_are_listed_scoped_and_simulated(client: TestClient, db: Database, world: World) -> None:
    r = client.post(f"{API}/plans", json=_plan_body(world, name="周一基准"), headers=world.auth("sup_gd"))
    assert r.status_code == 201, r.text
    plan_id = r.json()["id"]
    assert r.json()["result"]["summary"]["under_intervals"] == 0
    listed = client.get(f"{API}/plans", headers=world.auth("sup_gd")).json()
    assert (listed["total"], listed["items"][0]["name"]) == (1, "周一基准")
    assert client.get(f"{API}/plans/{plan_id}", headers=world.auth("analyst")).status_code == 200
    # a group-level plan saved by the admin is outside the province supervisor's scope
    group_body = _plan_body(world, name="集团", org_unit_id=world.units["group"])
    group_plan = client.post(f"{API}/plans", json=group_body, headers=world.auth("admin"))
    assert group_plan.status_code == 201, group_plan.text
    assert client.get(f"{API}/plans", headers=world.auth("sup_gd")).json()["total"] == 1
    hidden = client.get(f"{API}/plans/{group_plan.json()['id']}", headers=world.auth("sup_gd"))
    assert (hidden.status_code, hidden.json()["error"]["code"]) == (404, "workforce_plan_not_found")
    assert client.get(f"{API}/plans", headers=world.auth("admin")).json()["total"] == 2
    with db.session() as s:
        names = list(
            s.scalars(select(OutboxEvent.name).where(OutboxEvent.aggregate_type == "workforce_plan"))
        )
    assert names == ["workforce.plan_saved", "workforce.plan_saved"]
    sim = client.post(
        f"{API}/simulate", json={"plan_id": plan_id, "replications": 5}, headers=world.auth("sup_gd")
    )
    assert sim.status_code == 200, sim.text
    sl = sim.json()["service_level"]
    assert sl["low"] <= sl["mean"] <= sl["high"]
    assert sim.json()["arrived"]["mean"] == pytest.approx(sum(CALLS), rel=0.05)


def test_saving_needs_write_and_scope(client: TestClient, db: Database, world: World) -> None:
    r = client.post(
        f"{API}/plans", json=_plan_body(world, org_unit_id=world.units["group"]), headers=world.auth("sup_gd")
    )
    assert r.status_code == 404
    assert (
        client.post(f"{API}/plans", json=_plan_body(world), headers=world.auth("agent_gz")).status_code == 403
    )
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(WorkforcePlan)) == 0


def test_rules_are_set_by_an_administrator_and_inherited(client: TestClient, world: World) -> None:
    gz = world.units["gz"]
    assert client.get(f"{API}/rules/{gz}", headers=world.auth("sup_gd")).json()["source_org_unit_id"] is None
    custom = {**RULES, "shift_minutes": [480], "max_agents": 40}
    refused = client.put(f"{API}/rules/{world.units['province']}", json=custom, headers=world.auth("sup_gd"))
    assert refused.status_code == 403
    r = client.put(f"{API}/rules/{world.units['province']}", json=custom, headers=world.auth("admin"))
    assert r.status_code == 200, r.text
    inherited = client.get(f"{API}/rules/{gz}", headers=world.auth("sup_gd")).json()
    assert (inherited["source_org_unit_id"], inherited["shift_minutes"]) == (world.units["province"], [480])
    plan = client.post(f"{API}/plan", json=_plan_body(world), headers=world.auth("sup_gd")).json()
    assert {s["paid_hours"] for s in plan["shifts"]} == {8.0}
    bad = client.put(f"{API}/rules/{gz}", json={**RULES, "shift_minutes": [0]}, headers=world.auth("admin"))
    assert bad.status_code == 422


def test_plan_with_shrinkage_rosters_more_and_keeps_the_service(client: TestClient, world: World) -> None:
    r = client.post(
        f"{API}/plan", json=_plan_body(world, shrinkage=0.3, rules=RULES), headers=world.auth("sup_gd")
    )
    assert r.status_code == 200, r.text
    rows = r.json()["intervals"]
    assert all(row["rostered"] == math.ceil(row["required"] / 0.7 - 1e-9) for row in rows)
    assert all(row["scheduled"] >= row["rostered"] for row in rows)
    assert all(row["available"] >= row["required"] for row in rows)
    assert r.json()["summary"]["service_level"] >= 0.8
    bad = client.post(f"{API}/plan", json=_plan_body(world, shrinkage=1.0), headers=world.auth("sup_gd"))
    assert bad.status_code == 422
    assert "shrinkage must lie in [0, 1)" in bad.json()["error"]["message"]
