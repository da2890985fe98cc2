"""Workforce inputs are bounded to what a real centre has: past the bounds a request is 422 at once, before
the staffing search, the scheduler or the simulator runs (issue 8: calls = 1e9 used to run for minutes)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kefu.core.db import Database
from kefu.workforce.models import WorkforcePlan
from kefu.workforce.schemas import MAX_LOAD_ERLANGS, StaffingIn
from tests.conftest import World

API = "/api/v1/workforce"
DAY = {"org_unit_id": 0, "day": "2026-03-02", "aht": 300, "patience": 60}


def _fields(r: Any) -> set[str]:
    assert r.status_code == 422, r.text
    return {f["field"] for f in r.json()["error"]["details"]["fields"]}


@pytest.mark.parametrize(("path", "body", "field"), [
    ("staffing", {"calls": 1e9, "aht": 300, "patience": 60}, "calls"),
    ("staffing", {"calls": 90_000, "aht": 7000, "patience": 60}, "body"),  # 350,000 Erlangs
    ("staffing", {"calls": 100, "aht": 1e9, "patience": 60}, "aht"),
    ("staffing", {"calls": 100, "aht": 300, "patience": 1e12}, "patience"),
    ("staffing", {"calls": 100, "aht": 300, "interval_minutes": 1e-9, "model": "c"}, "body"),
    ("staffing", {"calls": 100, "aht": 300, "shrinkage": 0.999999, "model": "c"}, "shrinkage"),
    ("staffing", {"calls": 100, "aht": 300, "target_time": 1e15, "model": "c"}, "target_time"),
    ("erlang", {"calls": 100, "aht": 300, "agents": 10**12}, "agents"),
    ("erlang", {"calls": 1e300, "aht": 300, "agents": 100}, "calls"),
    ("simulate", {"calls": [100] * 10_000, "agents": [10] * 10_000, "aht": 300}, "calls"),
    ("simulate", {"calls": [5_000] * 48, "agents": [500] * 48, "aht": 300, "replications": 1000}, "body"),
    ("simulate", {"calls": [100] * 48, "agents": [10] * 48, "aht": 300, "interval_minutes": 1e6}, "interval_minutes"),
    ("simulate", {"calls": [100] * 200, "agents": [10] * 200, "aht": 300, "interval_minutes": 60}, "body"),
    ("simulate", {"calls": [10], "agents": [1], "aht": 300, "seed": -1}, "seed"),
    ("plan", {**DAY, "calls": [100] * 100_000}, "calls"),
    ("plan", {**DAY, "calls": [1e9] * 48}, "calls.0"),
    ("plan", {**DAY, "calls": [100] * 48, "volume_scale": 1e9}, "volume_scale"),
    ("plan", {**DAY, "calls": [100] * 48, "rules": {"shift_minutes": [480] * 1000}}, "rules.shift_minutes"),
    ("plan", {**DAY, "calls": [100] * 48, "rules": {"max_agents": 10**9}}, "rules.max_agents"),
    ("plan", {**DAY, "day": "9999-12-31", "calls": [100] * 48}, "day"),
    ("what-if", {**DAY, "calls": [100] * 48, "what_if_volume_scale": 1e6}, "what_if_volume_scale"),
    ("what-if", {**DAY, "calls": [20_000] * 48, "what_if_aht": 7000}, "body"),
    ("forecast", {"org_unit_id": 0, "start_day": "9999-12-31"}, "start_day"),
    ("forecast", {"org_unit_id": 0, "start_day": "2026-03-02", "tz": "x" * 10_000}, "tz"),
])
def test_inputs_no_centre_has_are_refused_with_422_naming_the_field(client: TestClient, world: World,
                                                                     path: str, body: dict[str, Any],
                                                                     field: str) -> None:
    if "org_unit_id" in body:
        body = {**body, "org_unit_id": world.units["gz"]}
    r = client.post(f"{API}/{path}", json=body, headers=world.auth("sup_gd"))
    assert field in _fields(r)


def test_a_refused_plan_is_not_saved(client: TestClient, world: World, db: Database) -> None:
    r = client.post(f"{API}/plans", headers=world.auth("sup_gd"),
                    json={**DAY, "org_unit_id": world.units["gz"], "calls": [1e9] * 48})
    assert "calls.0" in _fields(r)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(WorkforcePlan)) == 0


def test_the_load_message_says_what_is_too_much() -> None:
    with pytest.raises(ValueError, match=r"offered load is 350,000 Erlangs .* at most 10,000 is accepted"):
        StaffingIn(calls=90_000, aht=7_000, patience=60)
    assert MAX_LOAD_ERLANGS == 10_000


def test_the_largest_real_centre_is_still_planned(client: TestClient, world: World) -> None:
    """A 60,000-call half hour at 5 minutes handle time (10,000 Erlangs) is within the bounds."""
    r = client.post(f"{API}/staffing", headers=world.auth("sup_gd"),
                    json={"calls": 60_000, "aht": 300, "patience": 60, "model": "a"})
    assert r.status_code == 200, r.text
    assert r.json()["load"] == 10_000.0


@pytest.mark.parametrize(("query", "field"), [
    ("start=2026-01-01&end=9999-12-31", "end"),
    ("start=0001-01-01&end=2026-01-01", "start"),
])
def test_history_days_are_bounded(client: TestClient, world: World, query: str, field: str) -> None:
    r = client.get(f"{API}/history?org_unit_id={world.units['gz']}&{query}", headers=world.auth("sup_gd"))
    assert field in _fields(r)


def test_history_over_more_than_two_years_is_refused(client: TestClient, world: World) -> None:
    r = client.get(f"{API}/history?org_unit_id={world.units['gz']}&start=2020-01-01&end=2026-01-01",
                   headers=world.auth("sup_gd"))
    assert r.status_code == 422
    assert r.json()["error"]["message"] == "at most 731 days of history are summarised at once"
