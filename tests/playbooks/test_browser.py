"""In Chromium against a real server: a complaint surge above the threshold starts the broadband outage
playbook by itself; the duty manager and the support person track its steps on the run page, tell the
affected customers and end it with a review."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from kefu.core import events
from kefu.core.clock import utcnow
from kefu.playbooks.models import PlaybookRun
from tests.collaboration.test_browser import _login
from tests.conftest import World
from tests.playbooks.support import make_outage, playbook_body
from tests.web.conftest import LiveServer, http

pytestmark = pytest.mark.browser


def test_a_playbook_set_off_by_a_surge_is_tracked_to_its_end(browser: Any, live_server: LiveServer,
                                                             world: World) -> None:
    base = live_server.url
    outage = make_outage(world)
    r = http.post(f"{base}/api/v1/playbooks", json=playbook_body(world, outage), headers=world.auth("admin"))
    assert r.status_code == 201, r.text
    sup = _login(browser, base, "sup_gd")
    sup.goto(f"{base}/console/playbooks")
    assert sup.locator("#playbook-runs tr[data-run]").count() == 0
    now = utcnow()
    with world.db.unit_of_work() as s:  # what the complaints domain records; the server's dispatcher reacts
        events.record(s, "complaint.surge_detected", {
            "category_id": outage.broadband, "org_unit_id": world.units["gz"], "count": 31, "baseline": 5.0,
            "window_start": (now - timedelta(hours=2)).isoformat(), "window_end": now.isoformat()},
            aggregate_type="category", aggregate_id=outage.broadband, org_unit_id=world.units["gz"], at=now)
    for _ in range(100):
        with world.db.session() as s:
            run = s.query(PlaybookRun).one_or_none()
        if run is not None:
            break
        sup.wait_for_timeout(100)
    assert run is not None
    assert run.trigger == "surge"
    sup.reload()
    sup.click(f"#playbook-runs tr[data-run='{run.id}'] a >> nth=0")
    sup.wait_for_url(f"{base}/console/playbooks/runs/{run.id}")
    assert sup.locator(".run-steps tr.step-pending").count() == 3

    support = _login(browser, base, "support_gd")
    support.goto(f"{base}/console/playbooks/runs/{run.id}")
    support.click(".run-steps tr[data-step] >> nth=0 >> button:text-is('完成')")
    support.wait_for_selector(".run-steps tr.step-done")

    sup.wait_for_selector(".run-steps tr.step-done", timeout=10_000)  # live, or on the next action
    sup.click(".run-steps tr.step-pending >> nth=0 >> button:text-is('完成')")
    sup.wait_for_selector(".run-steps tr.step-done >> nth=1")
    sup.click(".run-steps tr.step-pending >> nth=0 >> button:text-is('跳过')")
    sup.wait_for_selector(".run-steps tr.step-skipped")
    assert sup.inner_text("#affected-count") == "2"
    sup.click("form[action$='/notice'] button[type=submit]")
    sup.wait_for_selector(".run-timeline li >> text=通知客户")
    sup.fill("form[action$='/end'] textarea[name=review]", "光缆被挖断，3 小时恢复；IVR 播报及时")
    sup.click("form[action$='/end'] button[type=submit]")
    sup.wait_for_selector("#run-state >> text=已结束")
    text = sup.inner_text("#run-live")
    assert "光缆被挖断" in text
    assert "2/3" in text  # steps done of all
    with world.db.session() as s:
        ended = s.get(PlaybookRun, run.id)
        assert ended is not None
        assert ended.state == "ended"
    sup.context.close()
    support.context.close()


def test_a_threshold_playbook_defined_in_the_console_starts_by_itself_and_is_tracked_to_its_end(
        browser: Any, live_server: LiveServer, world: World) -> None:
    """The administrator defines a category × region threshold playbook with its resources and extra queues on
    the definition screen; agents' tickets reach the threshold and the run appears on the duty manager's
    console by itself; steps are tracked, the extra queues opened, customers told of the fault and of its end."""
    from kefu.tickets import service as tickets
    from tests.playbooks.test_resources import _articles, _queues, _routing

    base = live_server.url
    outage = make_outage(world)  # two broadband tickets in Guangzhou half an hour ago (two customers)
    faq, script = _articles(world)
    _queues(world)
    with world.db.session() as s:
        child_key = tickets.categories_by_id(s)[outage.broadband_child].key

    admin = _login(browser, base, "admin")
    admin.goto(f"{base}/console/playbooks/admin")
    admin.fill("input[name=key]", "bb-threshold")
    admin.fill("input[name=name]", "广州宽带故障阈值预案")
    admin.select_option("select[name=trigger]", "threshold")
    admin.select_option("select[name=category_id]", str(outage.broadband))
    admin.select_option("select[name=org_unit_id]", str(world.units["gz"]))
    admin.fill("input[name=min_count]", "4")
    admin.fill("input[name=window_minutes]", "60")
    admin.fill("textarea[name=notice_template]", "您所在区域{category}故障正在抢修。")
    admin.fill("textarea[name=restore_template]", "您所在区域{category}故障已修复。")
    admin.select_option("select[name=staff_ids]", [str(world.users["agent_sz"])])
    admin.select_option("select[name=script_article_ids]", [str(script)])
    admin.select_option("select[name=faq_article_id]", str(faq))
    admin.fill("input[name=budget_yuan]", "30000")
    admin.select_option("select[name=extra_queues]", ["chat_extra"])
    admin.fill("input[name=step0_title]", "确认故障范围并上报网管")
    admin.select_option("select[name=step0_role]", "support")
    admin.fill("input[name=step1_title]", "开启增援队列并通知客户")
    admin.select_option("select[name=step1_role]", "supervisor")
    admin.click("form.playbook-form button[type=submit]")
    admin.wait_for_url(f"{base}/console/playbooks/admin")
    assert "广州宽带故障阈值预案" in admin.inner_text("table.grid")
    admin.context.close()

    sup = _login(browser, base, "sup_gd")
    sup.goto(f"{base}/console/playbooks")
    assert sup.locator("#playbook-runs tr[data-run]").count() == 0
    for subject in ("宽带断网", "宽带又断了"):  # the third and fourth broadband tickets within the hour
        r = http.post(f"{base}/api/v1/tickets", headers=world.auth("agent_gz"),
                       json={"type": "complaint", "subject": subject, "category": child_key, "channel": "voice"})
        assert r.status_code == 201, r.text
    row = sup.wait_for_selector("#playbook-runs tr[data-run]", timeout=15_000)  # the console is told live
    assert row is not None
    assert "分类×区域阈值触发" in row.inner_text()
    assert "广州宽带故障阈值预案" in row.inner_text()
    sup.click("#playbook-runs tr[data-run] a >> nth=0")
    sup.wait_for_selector("#run-live")
    assert "窗口内工单: 4" in sup.inner_text("#run-live")
    assert sup.locator(".run-tickets li").count() == 4
    resources = sup.inner_text("#run-resources")
    for shown in ("深圳坐席", "断网安抚话术", "宽带大面积故障怎么答复", "30000 元", "在线增援"):
        assert shown in resources, shown
    run_url = sup.url

    support = _login(browser, base, "support_gd")
    support.goto(run_url)
    support.click(".run-steps tr[data-step] >> nth=0 >> button:text-is('完成')")
    support.wait_for_selector(".run-steps tr.step-done")
    support.context.close()

    sup.reload()
    sup.click("form[data-switch=extra] button[type=submit]")
    sup.wait_for_selector("form[data-switch=extra][data-on='1']")
    assert _routing(world)["chat_extra"] is True
    assert "chat_extra" in _routing(world)["agent_sz"][0]
    sup.click("form[action$='/faq-push'] button[type=submit]")
    sup.wait_for_selector("#run-resources >> text=已推送")
    assert sup.inner_text("#untold-count") == "2"
    sup.click("form[action$='/notice'] button[type=submit]")
    sup.wait_for_selector("#untold-count >> text=0")
    sup.click(".run-steps tr.step-pending >> nth=0 >> button:text-is('完成')")
    sup.wait_for_selector(".run-steps tr.step-done >> nth=1")
    sup.fill("form[action$='/end'] textarea[name=review]", "光缆抢通，阈值预案 1 分钟内自动启动")
    assert sup.is_checked("form[action$='/end'] input[name=tell_restored]")
    sup.click("form[action$='/end'] button[type=submit]")
    sup.wait_for_selector("#run-state >> text=已结束")
    assert "2/2" in sup.inner_text("#run-live")
    assert sup.inner_text("[data-told=fault]") == "2"
    assert sup.inner_text("[data-told=restored]") == "2"
    assert "恢复通知 · 2 位客户" in sup.inner_text(".run-timeline")
    after = _routing(world)
    assert after["chat_extra"] is False
    assert "chat_extra" not in after["agent_sz"][0]
    sup.context.close()
