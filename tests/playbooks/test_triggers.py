"""Keyword and threshold playbooks start on new tickets, new tickets link themselves to a running playbook,
agents link tickets by hand, and the review counts the peak."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from kefu.core.clock import utcnow
from kefu.core.events import OutboxEvent, bus
from kefu.jobs import registry
from kefu.playbooks.models import Playbook, PlaybookRun, PlaybookRunTicket
from tests.collaboration.support import console_login
from tests.conftest import World
from tests.playbooks.support import Outage, make_outage, playbook_body, surge


def _open(world: World, subject: str, category_id: int | None, *, unit: str = "gz", at: datetime) -> int:
    """A ticket as an agent opens it, then the outbox dispatched as a server does."""
    from kefu.tickets import service as tickets

    registry.load()
    with world.db.unit_of_work() as s:
        t = tickets.create_ticket(s, type="complaint", subject=subject, org_unit_id=world.units[unit],
                                  channel="voice", at=at)
        t.category_id = category_id  # as the agent files it (make_outage does the same)
        tid = t.id
    bus.dispatch_pending(world.db)
    return tid


def _runs(world: World) -> list[tuple[str, int]]:
    with world.db.session() as s:
        return [(r.trigger, r.playbook_id) for r in s.scalars(select(PlaybookRun).order_by(PlaybookRun.id))]


def _links(world: World) -> list[tuple[int, int, str]]:
    with world.db.session() as s:
        return [(x.run_id, x.ticket_id, x.how) for x in s.scalars(
            select(PlaybookRunTicket).order_by(PlaybookRunTicket.run_id, PlaybookRunTicket.ticket_id))]


def _create(client: TestClient, world: World, outage: Outage, **extra: object) -> int:
    r = client.post("/api/v1/playbooks", json=playbook_body(world, outage, **extra), headers=world.auth("admin"))
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_a_keyword_playbook_starts_on_a_ticket_holding_one_and_links_the_next(client: TestClient,
                                                                              world: World) -> None:
    outage = make_outage(world)
    pid = _create(client, world, outage, trigger="keyword", keywords=[" 光猫 LOS ", "大面积断网"], min_count=0)
    got = client.get("/api/v1/playbooks", headers=world.auth("admin")).json()[0]
    assert got["keywords"] == ["光猫 los", "大面积断网"]
    now = utcnow()
    _open(world, "光猫亮红灯，宽带上不了网", outage.broadband_child, at=now)  # no keyword: nothing
    _open(world, "小区大面积断网", outage.billing, at=now)  # a keyword, another category: nothing
    _open(world, "小区大面积断网", outage.broadband_child, unit="sz", at=now)  # another city of the province
    assert _runs(world) == [("keyword", pid)]
    run = client.get("/api/v1/playbook-runs", headers=world.auth("sup_gd")).json()[0]
    assert run["surge"]["keyword"] == "大面积断网"
    first = run["surge"]["ticket_id"]
    second = _open(world, "光猫　ＬＯＳ 灯红了", outage.broadband, at=now + timedelta(minutes=5))
    _open(world, "话费多扣", outage.billing, at=now + timedelta(minutes=6))  # out of scope: not linked
    assert _links(world) == [(run["id"], first, "auto"), (run["id"], second, "auto")]
    kinds = [e["kind"] for e in client.get(f"/api/v1/playbook-runs/{run['id']}",
                                           headers=world.auth("sup_gd")).json()["timeline"]]
    assert kinds == ["activated", "ticket_linked", "ticket_linked"]


def test_a_threshold_playbook_starts_when_its_region_reaches_the_count(client: TestClient, world: World) -> None:
    outage = make_outage(world)  # two broadband tickets in Guangzhou half an hour ago
    pid = _create(client, world, outage, trigger="threshold", min_count=4, window_minutes=60)
    now = utcnow()
    third = _open(world, "宽带断网", outage.broadband_child, at=now)  # 3 in the hour
    _open(world, "宽带断网", outage.broadband_child, unit="group", at=now)  # above the province: not counted
    assert _runs(world) == []
    fourth = _open(world, "宽带又断了", outage.broadband, at=now + timedelta(minutes=1))
    assert _runs(world) == [("threshold", pid)]
    run = client.get("/api/v1/playbook-runs", headers=world.auth("sup_gd")).json()[0]
    assert (run["surge"]["count"], run["surge"]["ticket_id"]) == (4, fourth)
    # the tickets that set it off are linked to it
    assert sorted(t["ticket_id"] for t in run["tickets"]) == sorted([*outage.tickets[:2], third, fourth])
    assert {t["how"] for t in run["tickets"]} == {"auto"}


def test_a_bad_trigger_is_refused_and_nothing_is_saved(client: TestClient, world: World) -> None:
    outage = make_outage(world)
    for change, field in (({"trigger": "keyword", "keywords": ["  "]}, "keywords"),
                          ({"trigger": "threshold", "min_count": 0}, "min_count"),
                          ({"trigger": "keyword", "keywords": ["长" * 41]}, "keywords")):
        r = client.post("/api/v1/playbooks", json=playbook_body(world, outage, **change), headers=world.auth("admin"))
        assert r.status_code == 422, r.text
        assert r.json()["error"]["details"]["field"] == field
    assert client.get("/api/v1/playbooks", headers=world.auth("admin")).json() == []


def test_agents_link_tickets_by_hand_and_the_review_counts_the_peak(client: TestClient, world: World) -> None:
    outage = make_outage(world)
    bus.dispatch_pending(world.db)  # its tickets were filed before the outage was known
    _create(client, world, outage)
    surge(world, outage.broadband_child, 25)
    run_id = client.get("/api/v1/playbook-runs", headers=world.auth("sup_gd")).json()[0]["id"]
    now = utcnow()
    new = _open(world, "宽带断网", outage.broadband_child, at=now + timedelta(minutes=2))  # links itself
    billing = outage.tickets[2]  # a billing ticket the agent knows is the same outage
    r = client.post(f"/api/v1/playbook-runs/{run_id}/tickets", json={"ticket_id": billing},
                    headers=world.auth("agent_gz"))
    assert r.status_code == 201, r.text
    assert (r.json()["how"], r.json()["linked_by"]) == ("manual", world.users["agent_gz"])
    again = client.post(f"/api/v1/playbook-runs/{run_id}/tickets", json={"ticket_id": billing},
                        headers=world.auth("agent_gz"))
    assert (again.status_code, again.json()["error"]["code"]) == (409, "playbook_ticket_linked")
    missing = client.post(f"/api/v1/playbook-runs/{run_id}/tickets", json={"ticket_id": 987654},
                          headers=world.auth("agent_gz"))
    assert missing.status_code == 422
    assert _links(world) == [(run_id, billing, "manual"), (run_id, new, "auto")]
    ended = client.post(f"/api/v1/playbook-runs/{run_id}/end", json={"review": "恢复"},
                        headers=world.auth("sup_gd")).json()
    m = ended["measures"]
    # the run's category (the child) ticket of half an hour ago, the billing ticket (linked) and the new one
    assert (m["tickets"], m["linked"]) == (3, 2)
    # the busiest hour from the window's start: the two of half an hour ago
    assert m["peak"] == 2
    assert m["peak_at"] == ended["window_start"]
    with world.db.session() as s:
        ev = s.scalars(select(OutboxEvent).where(OutboxEvent.name == "playbook.ended")).one()
        assert ev.payload["peak"] == 2
    # an ended run takes no links
    r = client.post(f"/api/v1/playbook-runs/{run_id}/tickets", json={"ticket_id": new}, headers=world.auth("agent_gz"))
    assert (r.status_code, r.json()["error"]["code"]) == (409, "playbook_run_not_active")


def test_keywords_in_the_console_and_linking_from_the_ticket_page(client: TestClient, world: World) -> None:
    outage = make_outage(world)
    bus.dispatch_pending(world.db)
    csrf = console_login(client, "admin")
    r = client.post("/console/playbooks/admin", follow_redirects=False, data={
        "csrf_token": csrf, "key": "kw", "name": "光猫故障预案", "trigger": "keyword",
        "category_id": str(outage.broadband), "org_unit_id": str(world.units["province"]), "active": "1",
        "keywords": "大面积断网\n光猫，LOS", "window_minutes": "",
        "step0_title": "确认故障范围", "step0_role": "support", "step0_due": "15"})
    assert r.status_code == 303, r.text
    with world.db.session() as s:
        book = s.scalar(select(Playbook).where(Playbook.key == "kw"))
        assert book is not None
        assert (book.keywords, book.window_minutes) == (["大面积断网", "光猫", "los"], 60)
        book_id = book.id
    page = client.get(f"/console/playbooks/admin?edit={book_id}")
    assert "关键词触发" in page.text
    assert "大面积断网\n光猫\nlos" in page.text
    first = _open(world, "小区大面积断网", outage.broadband_child, at=utcnow())
    with world.db.session() as s:
        run_id = s.scalars(select(PlaybookRun.id)).one()
    # the agent sees the running playbook on a billing ticket's page and links it there
    console_login(client, "agent_gz")
    billing = outage.tickets[2]
    page = client.get(f"/console/tickets/{billing}")
    assert page.status_code == 200
    assert "关联到进行中的预案" in page.text
    assert "光猫故障预案" in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    r = client.post(f"/console/playbooks/tickets/{billing}/link", follow_redirects=False,
                    data={"csrf_token": csrf.group(1), "run_id": str(run_id)})
    assert (r.status_code, r.headers["location"]) == (303, f"/console/tickets/{billing}")
    page = client.get(f"/console/tickets/{billing}")
    assert f'href="/console/playbooks/runs/{run_id}"' in page.text
    assert "关联到进行中的预案" not in page.text
    run_page = client.get(f"/console/playbooks/runs/{run_id}")
    assert "关键词" in run_page.text
    assert "大面积断网" in run_page.text
    assert f'href="/console/tickets/{first}"' in run_page.text
    assert "手工关联" in run_page.text
    assert "峰值（每小时工单）" in run_page.text
    assert _links(world) == [(run_id, billing, "manual"), (run_id, first, "auto")]
