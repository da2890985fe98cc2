"""In Chromium against a real server: a complaint surge above the threshold starts the broadband outage
playbook by itself; the duty manager and the support person track its steps on the run page, tell the
affected customers and end it with a review."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from kefu.core import events
from kefu.core.clock import utcnow
from kefu.playbooks.models import PlaybookRun
from tests.collaboration.test_browser import _login
from tests.conftest import World
from tests.playbooks.support import make_outage, playbook_body
from tests.web.conftest import LiveServer

pytestmark = pytest.mark.browser


def test_a_playbook_set_off_by_a_surge_is_tracked_to_its_end(browser: Any, live_server: LiveServer,
                                                             world: World) -> None:
    base = live_server.url
    outage = make_outage(world)
    r = httpx.post(f"{base}/api/v1/playbooks", json=playbook_body(world, outage), headers=world.auth("admin"))
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
