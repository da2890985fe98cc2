"""Playbooks in the console: an administrator defines one with choosers, a duty manager starts it by hand,
the step owners complete their steps on the run page, customers are told, the run ends with its review."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from kefu.playbooks.models import Playbook, PlaybookRun, PlaybookRunStep
from tests.collaboration.support import console_login
from tests.conftest import World
from tests.playbooks.support import make_outage


def test_define_start_track_inform_and_end_in_the_console(client: TestClient, world: World) -> None:
    outage = make_outage(world)
    csrf = console_login(client, "admin")
    page = client.get("/console/playbooks/admin")
    assert page.status_code == 200
    assert "宽带与固网" in page.text  # categories by name
    assert "广东" in page.text  # units by name
    r = client.post("/console/playbooks/admin", follow_redirects=False, data={
        "csrf_token": csrf, "key": "bb", "name": "宽带故障预案", "trigger": "surge",
        "category_id": str(outage.broadband),
        "org_unit_id": str(world.units["province"]), "min_count": "20", "active": "1",
        "notice_template": "您所在区域{category}故障抢修中",
        "step0_title": "确认故障范围", "step0_role": "support", "step0_due": "15",
        "step1_title": "IVR 播报", "step1_role": "supervisor", "step1_due": "30",
        "step1_user": str(world.users["sup_gd"])})
    assert r.status_code == 303, r.text
    with world.db.session() as s:
        book = s.scalar(select(Playbook).where(Playbook.key == "bb"))
        assert book is not None
        assert (book.trigger, book.min_count, book.category_id) == ("surge", 20, outage.broadband)
        pid = book.id
    # a step without an owner role that exists is refused and the definition stays as it was
    r = client.post("/console/playbooks/admin", data={
        "csrf_token": csrf, "playbook_id": str(pid), "key": "bb", "name": "改名", "trigger": "surge",
        "org_unit_id": str(world.units["province"]), "step0_title": "x", "step0_role": "nobody", "step0_due": "5"})
    assert r.status_code == 422
    with world.db.session() as s:
        assert s.get(Playbook, pid).name == "宽带故障预案"  # type: ignore[union-attr]
    client.post("/logout", data={"csrf_token": csrf})

    csrf = console_login(client, "sup_gd")
    assert "宽带故障预案" in client.get("/console/playbooks").text
    r = client.post("/console/playbooks/start", follow_redirects=False, data={
        "csrf_token": csrf, "playbook_id": str(pid), "org_unit_id": str(world.units["gz"]), "category_id": ""})
    assert r.status_code == 303
    run_id = int(re.search(r"/runs/(\d+)$", r.headers["location"]).group(1))  # type: ignore[union-attr]
    page = client.get(f"/console/playbooks/runs/{run_id}").text
    assert "确认故障范围" in page
    assert "值班长" in page  # the named owner of the IVR step
    assert "您所在区域宽带与固网故障抢修中" in page  # the notice, from the template
    assert '<b id="affected-count">2</b>' in page
    with world.db.session() as s:
        steps = list(s.scalars(select(PlaybookRunStep).where(PlaybookRunStep.run_id == run_id)
                               .order_by(PlaybookRunStep.position)))
    r = client.post(f"/console/playbooks/runs/{run_id}/steps/{steps[1].id}", data={"csrf_token": csrf,
                                                                                  "action": "done"},
                    follow_redirects=False)
    assert r.status_code == 303
    r = client.post(f"/console/playbooks/runs/{run_id}/notice", data={"csrf_token": csrf,
                                                                      "body": "您所在区域宽带故障抢修中"},
                    follow_redirects=False)
    assert r.status_code == 303
    live = client.get(f"/console/playbooks/runs/{run_id}?part=live").text
    assert "通知客户" in live
    assert "2 位客户" in live
    r = client.post(f"/console/playbooks/runs/{run_id}/end", data={"csrf_token": csrf, "review": "已恢复"},
                    follow_redirects=False)
    assert r.status_code == 303
    with world.db.session() as s:
        run = s.get(PlaybookRun, run_id)
        assert run is not None
        assert (run.state, run.review, run.trigger) == ("ended", "已恢复", "manual")
    assert "已结束" in client.get(f"/console/playbooks/runs/{run_id}").text
