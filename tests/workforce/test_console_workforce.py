"""The console's workforce page: supervisors see the plan and its charts, agents are refused."""

from __future__ import annotations

import re
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kefu.core.db import Database
from kefu.interactions import calls
from kefu.workforce import history
from kefu.workforce.models import WorkforcePlan
from tests.conftest import World
from tests.web.conftest import CSRF, login
from tests.workforce.support import make_log

DAY = date(1999, 3, 1)


def _import(db: Database, world: World) -> None:
    with db.unit_of_work() as s:
        calls.import_call_records(
            s, history.parse_call_log(make_log(DAY, 21)).records, org_unit_id=world.units["gz"], source="bank"
        )


def test_supervisor_sees_plan_charts_and_shifts(client: TestClient, db: Database, world: World) -> None:
    _import(db, world)
    login(client, "sup_gd")
    r = client.get("/console/workforce", params={"org_unit": world.units["province"]})
    assert r.status_code == 200, r.text
    page = r.text
    for canvas in ("chart-volume", "chart-staff", "chart-sl"):
        assert f'<canvas id="{canvas}"' in page
    assert '<script src="/static/vendor/chart.umd.min.js"></script>' in page
    # opens on the operators' zone and on the newest day with calls (evening UTC calls fall on 03-22 in Beijing)
    assert 'value="1999-03-22"' in page
    assert '<option value="Asia/Shanghai" selected>北京时间（Asia/Shanghai）</option>' in page
    assert "所需与排班坐席" in page
    assert "no call history" not in page
    assert re.search(r"<td>\d\d:\d\d</td><td>\d\d:\d\d</td>", page)  # a shift row


def test_data_endpoint_redraws_with_what_if(client: TestClient, db: Database, world: World) -> None:
    _import(db, world)
    login(client, "sup_gd")
    params = {"org_unit": world.units["gz"], "day": "1999-03-22", "volume_pct": "120"}
    r = client.get("/console/workforce/data", params=params)
    assert r.status_code == 200, r.text
    base, more = r.json()["base"], r.json()["scenario"]
    assert sum(i["required"] for i in more["intervals"]) > sum(i["required"] for i in base["intervals"])
    bad = client.get("/console/workforce/data", params={**params, "sl": "1.5"})
    assert bad.status_code == 422
    assert "strictly between 0 and 1" in bad.json()["error"]["message"]


def test_page_shows_a_clear_error_without_history(client: TestClient, world: World) -> None:
    login(client, "sup_gd")
    r = client.get("/console/workforce", params={"org_unit": world.units["gz"], "day": "2026-11-24"})
    assert r.status_code == 200
    assert "no call history in the 16 weeks before 2026-11-24" in r.text
    assert '<canvas id="chart-staff"' in r.text


def test_english_page(client: TestClient, world: World) -> None:
    login(client, "sup_gd")
    client.cookies.set("lang", "en")
    r = client.get("/console/workforce", params={"org_unit": world.units["gz"], "day": "2026-11-24"})
    assert "Required vs scheduled agents per interval" in r.text


def test_saving_a_plan_from_the_console(client: TestClient, db: Database, world: World) -> None:
    _import(db, world)
    login(client, "sup_gd")
    query = f"org_unit={world.units['gz']}&day=1999-03-22"
    page = client.get(f"/console/workforce?{query}").text
    token = CSRF.search(page)
    assert token
    r = client.post(
        "/console/workforce/plans",
        data={"csrf_token": token.group(1), "name": "周一方案", "query": query},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert "周一方案" in client.get(r.headers["location"]).text
    refused = client.post(
        "/console/workforce/plans", data={"name": "x", "query": query}, follow_redirects=False
    )
    assert refused.status_code == 403
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(WorkforcePlan)) == 1


def test_saving_a_what_if_saves_the_scenario_the_page_shows(client: TestClient, db: Database, world: World) -> None:
    _import(db, world)
    login(client, "sup_gd")
    base = f"org_unit={world.units['gz']}&day=1999-03-22"
    token = CSRF.search(client.get(f"/console/workforce?{base}").text)
    assert token
    saved = client.post(
        "/console/workforce/plans",
        data={"csrf_token": token.group(1), "name": "旺季", "query": f"{base}&volume_pct=150&wi_sl=0.9"},
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    # a volume of 0 % is refused on the page, and so it is when saving: nothing is stored
    refused = client.post(
        "/console/workforce/plans",
        data={"csrf_token": token.group(1), "name": "空", "query": f"{base}&volume_pct=0"},
        follow_redirects=False,
    )
    assert refused.status_code == 422
    with db.session() as s:
        plans = list(s.scalars(select(WorkforcePlan)))
    assert [(p.name, p.inputs["volume_scale"], p.inputs["service_level"]) for p in plans] == [("旺季", 1.5, 0.9)]


def test_agent_is_refused(client: TestClient, world: World) -> None:
    login(client, "agent_gz")
    r = client.get("/console/workforce")
    assert r.status_code == 403
    assert "chart-staff" not in r.text
    assert client.get("/console/workforce/data").status_code == 403


def test_anonymous_is_sent_to_login(client: TestClient, world: World) -> None:
    r = client.get("/console/workforce", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login")
