"""Several skills and channels over the API and on the console: each queue's agents per interval by the
pure core, and whether the named agents on shift, by their own skills, cover them."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from kefu.core.db import Database
from kefu.org import service as org
from kefu.org.models import User
from kefu.web.i18n import LANG_COOKIE
from kefu.workforce.multiskill import Demand, required_by_demand
from kefu.workforce.staffing import StaffingTarget
from tests.conftest import World
from tests.web.conftest import login

API = "/api/v1/workforce"
TARGET = StaffingTarget(service_level=0.8, target_time=20)


def _skills(db: Database, world: World) -> dict[str, int]:
    """billing (every agent has it) and 增值业务 (vas), which only the Guangzhou agent also has."""
    with db.unit_of_work() as s:
        billing = org.ensure_skill(s, "billing")
        billing.name, billing.name_en = "账务查询", "Billing"
        vas = org.ensure_skill(s, "vas", "增值业务", "Value-added services")
        gz = s.get(User, world.users["agent_gz"])
        assert gz is not None
        org.set_skill(s, gz, "vas", 2)
        return {"billing": billing.id, "vas": vas.id}


def _body(world: World, skills: dict[str, int], **extra: Any) -> dict[str, Any]:
    return {
        "org_unit_id": world.units["province"],
        "demands": [
            {"skill_id": skills["billing"], "channel": "voice", "volumes": [0, 2, 40], "aht": 180},
            {"skill_id": skills["vas"], "channel": "email", "volumes": [0, 6, 0], "aht": 600, "answer_within": 3600},
        ],
        **extra,
    }


def test_queues_are_staffed_by_the_core_and_covered_by_the_agents_skills(
    client: TestClient, db: Database, world: World
) -> None:
    skills = _skills(db, world)
    r = client.post(f"{API}/multiskill", json=_body(world, skills), headers=world.auth("sup_gd"))
    assert r.status_code == 200, r.text
    out = r.json()
    expected = required_by_demand(
        [
            Demand("billing", "voice", [0, 2, 40], 180, TARGET),
            Demand("vas", "email", [0, 6, 0], 600, answer_within=3600),
        ],
        1800,
    )
    assert [d["required"] for d in out["demands"]] == [expected[("billing", "voice")], expected[("vas", "email")]]
    assert out["demands"][1]["skill_name"] == "增值业务"
    assert [(a["name"], a["skills"]) for a in out["agents"]] == [
        ("广州坐席", ["billing", "vas"]),
        ("深圳坐席", ["billing"]),
    ]
    first, busy = out["coverage"][1], out["coverage"][2]
    # one billing call queue and one e-mail queue: 深圳 must take billing so 广州 can take the e-mail
    assert (first["required"], first["assigned"], first["shortfall"]) == (
        expected[("billing", "voice")][1] + expected[("vas", "email")][1], 2, {}
    )
    need = expected[("billing", "voice")][2] + expected[("vas", "email")][2]
    assert busy["assigned"] == 2
    assert sum(busy["shortfall"].values()) == need - 2
    assert out["coverage"][0] == {"interval": 0, "start": "00:00", "required": 0, "assigned": 0, "shortfall": {}}
    assert out["summary"] == {
        "peak_required": need, "agents": 2, "intervals_short": 1, "shortfall_agent_intervals": need - 2,
    }


def test_named_agents_on_shift_are_the_ones_covering(client: TestClient, db: Database, world: World) -> None:
    skills = _skills(db, world)
    body = _body(world, skills, agent_ids=[world.users["agent_sz"]])
    out = client.post(f"{API}/multiskill", json=body, headers=world.auth("sup_gd")).json()
    assert [a["name"] for a in out["agents"]] == ["深圳坐席"]
    assert out["coverage"][1]["shortfall"] == {"vas/email": 1}  # only 广州 can answer e-mail on vas


def test_bad_input_is_a_clear_422_and_agents_are_refused(client: TestClient, db: Database, world: World) -> None:
    skills = _skills(db, world)
    auth = world.auth("sup_gd")
    cases = [
        ({"demands": [{"skill_id": 999_999, "volumes": [1], "aht": 100}]}, "no skill with id 999999"),
        ({"agent_ids": [world.users["agent_sz"]], "org_unit_id": world.units["gz"]}, "in this unit"),
    ]
    for change, message in cases:
        r = client.post(f"{API}/multiskill", json={**_body(world, skills), **change}, headers=auth)
        assert r.status_code == 422, r.text
        assert message in r.text
    uneven = _body(world, skills)
    uneven["demands"][1]["volumes"] = [0, 6]
    r = client.post(f"{API}/multiskill", json=uneven, headers=auth)
    assert r.status_code == 422
    assert "same number of intervals" in r.text
    twice = _body(world, skills)
    twice["demands"][1] = twice["demands"][0]
    r = client.post(f"{API}/multiskill", json=twice, headers=auth)
    assert r.status_code == 422
    assert "each skill and channel may appear once" in r.text
    r = client.post(f"{API}/multiskill", json=_body(world, skills), headers=world.auth("agent_gz"))
    assert r.status_code == 403


def test_console_page_chooses_skills_and_agents_by_name(client: TestClient, db: Database, world: World) -> None:
    skills = _skills(db, world)
    login(client, "sup_gd")
    empty = client.get("/console/workforce/skills")
    assert empty.status_code == 200
    assert f'<option value="{skills["vas"]}">增值业务</option>' in empty.text
    assert "广州坐席" in empty.text
    assert 'id="ms-coverage"' not in empty.text
    params = {
        "org_unit": str(world.units["province"]), "picked": "1", "agent": [str(world.users["agent_sz"])],
        "skill0": str(skills["billing"]), "channel0": "voice", "volumes0": "0, 2，40", "aht0": "180",
        "skill1": str(skills["vas"]), "channel1": "email", "volumes1": "0 6 0", "aht1": "600", "within1": "3600",
    }
    page = client.get("/console/workforce/skills", params=params).text
    assert 'id="ms-coverage"' in page
    assert "账务查询 · 热线" in page
    assert "增值业务 · 邮件" in page
    assert "增值业务 · 邮件 1" in page  # 深圳 alone cannot answer vas e-mail
    assert f'value="{world.users["agent_gz"]}">' in page
    assert f'value="{world.users["agent_sz"]}" checked>' in page
    bad = client.get("/console/workforce/skills", params={**params, "volumes0": "0 两 3"}).text
    assert "第 1 行的进线量应为用空格或逗号分隔的数字" in bad
    client.cookies.set(LANG_COOKIE, "en")
    en = client.get("/console/workforce/skills", params=params).text
    assert "Several skills and channels" in en
    assert "Value-added services · E-mail 1" in en
    assert "多技能" not in en
