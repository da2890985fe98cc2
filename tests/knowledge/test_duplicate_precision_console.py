"""The duplicate finder's precision/recall trade-off on the console: every shipped threshold with the
precision and recall it had on held-out pairs; an administrator chooses one and the finder uses it."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from kefu.core.db import Database
from kefu.core.events import OutboxEvent
from kefu.knowledge import dupbench
from kefu.knowledge.models import KnowledgeSetting
from kefu.tickets.duplicates import duplicate_threshold
from tests.conftest import World
from tests.web.conftest import csrf_of, login

API = "/api/v1/knowledge/duplicate-precision"


def _stored(db: Database) -> float | None:
    with db.unit_of_work() as s:
        row = s.get(KnowledgeSetting, "duplicate_precision")
        return None if row is None else float(row.value)


def test_the_table_ships_held_out_precision_and_recall_for_each_threshold() -> None:
    rows = dupbench.measured()
    assert [r["target"] for r in rows] == [0.7, 0.75, 0.8, 0.85, 0.9, 0.95]
    assert all(r["precision"] is not None and r["recall"] is not None for r in rows)
    recalls = [r["recall"] for r in rows]
    assert recalls == sorted(recalls, reverse=True)  # a surer threshold finds fewer


def test_an_administrator_sees_the_trade_off_and_chooses_a_precision(
    client: TestClient, db: Database, world: World
) -> None:
    login(client, "admin")
    page = client.get("/console/knowledge/duplicates")
    assert page.status_code == 200
    for r in dupbench.measured():
        assert f"<td class=\"num\">{r['threshold']:.3f}</td>" in page.text
        assert f"{100 * r['precision']:.1f}%" in page.text
        assert f"{100 * r['recall']:.1f}%" in page.text
    assert "系统默认（KEFU_DUPLICATE_PRECISION）" in page.text
    assert 'value="0.70" id="dup-1" checked>' in page.text  # the default precision, 0.7
    bad = client.post("/console/knowledge/duplicates", data={"csrf_token": csrf_of(page.text), "precision": "0.72"})
    assert bad.status_code == 422
    assert "precision must be one of 0.70, 0.75, 0.80, 0.85, 0.90, 0.95, got 0.72" in bad.text
    assert _stored(db) is None
    r = client.post("/console/knowledge/duplicates", data={"csrf_token": csrf_of(page.text), "precision": "0.90"},
                    follow_redirects=True)
    assert r.status_code == 200
    assert 'value="0.90" id="dup-5" checked>' in r.text
    assert "由管理员设置" in r.text
    assert _stored(db) == 0.9
    with db.unit_of_work() as s:
        assert duplicate_threshold(s) == dupbench.thresholds()[0.9]
        ev = s.scalars(select(OutboxEvent).where(OutboxEvent.name == "knowledge.duplicate_precision_set")).one()
        assert ev.payload == {"precision": 0.9, "before": None, "threshold": dupbench.thresholds()[0.9]}


def test_back_office_sees_the_trade_off_but_may_not_change_it(client: TestClient, db: Database, world: World) -> None:
    login(client, "support_gd")
    page = client.get("/console/knowledge/duplicates")
    assert page.status_code == 200
    assert 'value="0.70" id="dup-1" checked disabled>' in page.text
    r = client.post("/console/knowledge/duplicates", data={"csrf_token": csrf_of(page.text), "precision": "0.95"})
    assert r.status_code == 403
    assert _stored(db) is None


def test_the_api_reads_and_sets_the_precision(client: TestClient, db: Database, world: World) -> None:
    got = client.get(API, headers=world.auth("agent_gz")).json()
    assert (got["precision"], got["threshold"], got["set_by_administrator"]) == (
        0.7, dupbench.thresholds()[0.7], False)
    assert [r["current"] for r in got["rows"]] == [True, False, False, False, False, False]
    assert client.put(API, json={"precision": 0.8}, headers=world.auth("sup_gd")).status_code == 403
    assert _stored(db) is None
    put = client.put(API, json={"precision": 0.8}, headers=world.auth("admin"))
    assert put.status_code == 200, put.text
    assert put.json()["threshold"] == dupbench.thresholds()[0.8]
    assert _stored(db) == 0.8
