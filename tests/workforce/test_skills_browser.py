"""In Chromium against a real server: a supervisor plans two skills on two channels on
/console/workforce/skills, choosing skills and agents by name, and sees who covers what."""

from __future__ import annotations

from typing import Any

import pytest

from tests.collaboration.test_browser import _login
from tests.conftest import World
from tests.web.conftest import LiveServer
from tests.workforce.test_multiskill_api import _skills

pytestmark = pytest.mark.browser


def test_supervisor_plans_two_skills_and_sees_the_cover(browser: Any, live_server: LiveServer, world: World) -> None:
    base = live_server.url
    _skills(live_server.db, world)  # 账务查询 for both agents, 增值业务 for 广州坐席 only
    page = _login(browser, base, "sup_gd")
    page.goto(f"{base}/console/workforce")
    page.click("#wf-skills-link")
    page.wait_for_url(f"{base}/console/workforce/skills")
    assert page.locator("#ms-coverage").count() == 0
    page.select_option("select[name=org_unit]", str(world.units["province"]))
    page.select_option("select[name=skill0]", label="账务查询")
    page.select_option("select[name=channel0]", label="热线")
    page.fill("input[name=volumes0]", "0, 2，40")
    page.fill("input[name=aht0]", "180")
    page.select_option("select[name=skill1]", label="增值业务")
    page.select_option("select[name=channel1]", label="邮件")
    page.fill("input[name=volumes1]", "0 6 0")
    page.fill("input[name=aht1]", "600")
    page.fill("input[name=within1]", "3600")
    # (a 3600 s answer window is a valid number: the field's steps count from 60, not from 1)
    # only 深圳坐席 on shift: nobody with 增值业务 answers the e-mail
    page.locator(f"#ms-agents input[value='{world.users['agent_gz']}']").uncheck()
    page.click("#ms-form button[type=submit]")
    page.wait_for_selector("#ms-coverage")
    assert page.locator("#ms-coverage thead").inner_text().split("\t")[1:3] == ["账务查询 · 热线", "增值业务 · 邮件"]
    first = page.locator("#ms-coverage tbody tr").first
    assert "增值业务 · 邮件 1" in first.inner_text()
    assert page.locator("#ms-summary").inner_text().count("\n") > 0
    assert not page.locator(f"#ms-agents input[value='{world.users['agent_gz']}']").is_checked()
    assert page.locator(f"#ms-agents input[value='{world.users['agent_sz']}']").is_checked()
    # with 广州坐席 back, 深圳 takes billing and 广州 the e-mail: the first busy interval is covered
    page.locator(f"#ms-agents input[value='{world.users['agent_gz']}']").check()
    page.click("#ms-form button[type=submit]")
    page.wait_for_selector("#ms-coverage")
    first = page.locator("#ms-coverage tbody tr").first
    assert first.get_attribute("class") != "warn"
    assert first.inner_text().rstrip().endswith("—")
    assert page.locator("#ms-error").is_hidden()
