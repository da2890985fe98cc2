"""The duplicate finder's precision/recall trade-off on the console: a slider over the shipped points, each
with its threshold and the precision and recall the training curve expects there; an administrator chooses
one and the finder uses it."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from kefu.core.db import Database
from kefu.core.events import OutboxEvent
from kefu.knowledge import dupbench
from kefu.knowledge.models import KnowledgeSetting
from kefu.knowledge.text.score import pair_score
from kefu.tickets.duplicates import duplicate_threshold, ticket_text
from tests.conftest import World
from tests.tickets.helpers import T0, add_customer, add_ticket, days
from tests.web.conftest import csrf_of, login

API = "/api/v1/knowledge/duplicate-precision"


def _stored(db: Database) -> float | None:
    with db.unit_of_work() as s:
        row = s.get(KnowledgeSetting, "duplicate_precision")
        return None if row is None else float(row.value)


def test_an_administrator_sees_the_trade_off_and_chooses_a_precision(
    client: TestClient, db: Database, world: World
) -> None:
    login(client, "admin")
    page = client.get("/console/knowledge/duplicates")
    assert page.status_code == 200
    points = dupbench.points()
    for r in points:  # every point: its threshold and the precision and recall the training curve expects
        assert (f'data-target="{r["target"]:.2f}" data-threshold="{r["threshold"]:.3f}" '
                f'data-precision="{100 * r["precision"]:.1f}%" data-recall="{100 * r["recall"]:.1f}%"') in page.text
    default = dupbench.point_for(0.65)
    assert ('<input type="range" name="precision" id="dup-slider" min="0.60" max="0.95" step="0.01" '
            'value="0.65" list="dup-stops">') in page.text
    assert f'<strong id="dup-threshold">{default["threshold"]:.3f}</strong>' in page.text
    assert f'<strong id="dup-recall">{100 * default["recall"]:.1f}%</strong>' in page.text
    assert "系统默认（KEFU_DUPLICATE_PRECISION）" in page.text
    assert "训练曲线预计" in page.text
    bad = client.post("/console/knowledge/duplicates", data={"csrf_token": csrf_of(page.text), "precision": "0.725"})
    assert bad.status_code == 422
    assert "precision must be one of 0.60, 0.61, … 0.95, got 0.725" in bad.text
    assert _stored(db) is None
    r = client.post("/console/knowledge/duplicates", data={"csrf_token": csrf_of(page.text), "precision": "0.87"},
                    follow_redirects=True)
    assert r.status_code == 200
    assert 'step="0.01" value="0.87" list="dup-stops">' in r.text
    assert "由管理员设置" in r.text
    assert _stored(db) == 0.87
    chosen = dupbench.point_for(0.87)
    with db.unit_of_work() as s:
        assert duplicate_threshold(s) == chosen["threshold"]
        ev = s.scalars(select(OutboxEvent).where(OutboxEvent.name == "knowledge.duplicate_precision_set")).one()
        assert ev.payload == {"precision": 0.87, "before": None, "threshold": chosen["threshold"]}


def test_back_office_sees_the_trade_off_but_may_not_change_it(client: TestClient, db: Database, world: World) -> None:
    login(client, "support_gd")
    page = client.get("/console/knowledge/duplicates")
    assert page.status_code == 200
    assert 'value="0.65" list="dup-stops" disabled>' in page.text
    r = client.post("/console/knowledge/duplicates", data={"csrf_token": csrf_of(page.text), "precision": "0.95"})
    assert r.status_code == 403
    assert _stored(db) is None


def test_the_api_reads_and_sets_the_precision(client: TestClient, db: Database, world: World) -> None:
    got = client.get(API, headers=world.auth("agent_gz")).json()
    default = dupbench.point_for(0.65)
    assert (got["precision"], got["threshold"], got["set_by_administrator"]) == (0.65, default["threshold"], False)
    assert (got["expected_precision"], got["expected_recall"]) == (default["precision"], default["recall"])
    assert [r["target"] for r in got["rows"] if r["current"]] == [0.65]
    assert client.put(API, json={"precision": 0.8}, headers=world.auth("sup_gd")).status_code == 403
    assert _stored(db) is None
    put = client.put(API, json={"precision": 0.9}, headers=world.auth("admin"))
    assert put.status_code == 200, put.text
    assert put.json()["threshold"] == dupbench.thresholds()[0.9]
    assert _stored(db) == 0.9


def _one_customer_s_two_reports(db: Database, world: World) -> tuple[int, int, float]:
    """Two open tickets of one customer asking the same thing: their ids and their pair score."""
    with db.unit_of_work() as s:
        c = add_customer(s, org_unit_id=world.units["gz"])
        tickets = [add_ticket(s, org_unit_id=c.org_unit_id, customer_id=c.id, subject=subject, at=T0 + days(i))
                   for i, subject in enumerate(("副卡每月扣费是怎么回事", "为什么副卡每个月都扣费"))]
        return tickets[0].id, tickets[1].id, pair_score(ticket_text(tickets[0]), ticket_text(tickets[1]))


def test_the_precision_chosen_on_the_screen_decides_which_duplicates_the_ticket_page_shows(
    client: TestClient, db: Database, world: World
) -> None:
    first_id, again_id, score = _one_customer_s_two_reports(db, world)
    points = dupbench.points()
    loose = max((r for r in points if r["threshold"] <= score), key=lambda r: r["target"])
    strict = min((r for r in points if r["threshold"] > score), key=lambda r: r["target"])

    def shown() -> list[int]:
        r = client.get(f"/api/v1/tickets/{first_id}/duplicates", headers=world.auth("agent_gz"))
        assert r.status_code == 200, r.text
        return [d["ticket"]["id"] for d in r.json()]

    login(client, "admin")
    for target, expected in ((strict, []), (loose, [again_id]), (strict, [])):
        page = client.get("/console/knowledge/duplicates")
        saved = client.post("/console/knowledge/duplicates",
                            data={"csrf_token": csrf_of(page.text), "precision": f"{target['target']:.2f}"},
                            follow_redirects=False)
        assert saved.status_code == 303
        assert shown() == expected
