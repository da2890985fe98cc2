"""Editing the scorecard in the console: a new version for new samples; sampled contacts keep theirs."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from kefu.core.clock import utcnow
from kefu.quality import service
from kefu.quality.models import QualityInspection, QualityScorecard
from tests.conftest import World
from tests.quality.test_service import _resolved
from tests.routing.test_api_and_console import _login


def _sample(world: World) -> list[QualityInspection]:
    with world.db.unit_of_work() as s:
        return service.sample_resolved(s, since=utcnow() - timedelta(hours=1), until=utcnow() + timedelta(hours=1),
                                       share=1.0, seed=1)


def _rows(*items: tuple[str, str, str, str, bool]) -> dict[str, str]:
    form = {}
    for n, (key, name, weight, top, critical) in enumerate(items):
        form.update({f"item_key_{n}": key, f"item_name_{n}": name, f"item_weight_{n}": weight, f"item_max_{n}": top})
        if critical:
            form[f"item_critical_{n}"] = "1"
    return form


def test_an_inspector_saves_a_new_scorecard_version_used_by_new_samples(client: TestClient, world: World) -> None:
    first = _resolved(world, "complaint")[0]
    [old] = _sample(world)
    csrf = _login(client, "sup_gd")
    page = client.get("/console/quality")
    assert 'id="scorecard"' in page.text
    assert 'data-item="identity"' in page.text
    form = {"csrf_token": csrf, "name": "通用服务质检",
            **_rows(("greeting", "规范问候", "10", "5", False), ("script", "口径正确", "40", "5", True),
                    ("solution", "问题解决", "50", "10", False), ("", "", "", "", False))}
    r = client.post("/console/quality/scorecard", data=form, follow_redirects=False)
    assert r.status_code == 303
    _resolved(world, "complaint")
    [new] = [i for i in _sample(world) if i.ticket_id != first]
    with world.db.session() as s:
        cards = {c.id: c for c in s.scalars(select(QualityScorecard))}
        assert cards[old.scorecard_id].name == "通用服务质检"
        assert not cards[old.scorecard_id].active
        card = cards[new.scorecard_id]
        assert (card.name, card.active) == ("通用服务质检 v2", True)
        assert [(i["key"], i["weight"], i["max_marks"], i["critical"]) for i in card.items] == [
            ("greeting", 10.0, 5, False), ("script", 40.0, 5, True), ("solution", 50.0, 10, False)]
    assert 'data-item="identity"' not in client.get("/console/quality").text


def test_a_bad_scorecard_is_refused_and_nothing_changes(client: TestClient, world: World) -> None:
    csrf = _login(client, "sup_gd")
    with world.db.unit_of_work() as s:
        before = service.active_scorecard(s).id
    for rows, why in ((_rows(("greeting", "问候", "10", "5", False), ("greeting", "再问候", "5", "5", False)),
                       "item keys repeat"),
                      (_rows(("Greeting!", "问候", "10", "5", False)), "lower-case"),
                      (_rows(("greeting", "问候", "0", "5", False)), "positive"),
                      ({}, "at least one item")):
        r = client.post("/console/quality/scorecard", data={"csrf_token": csrf, "name": "新版", **rows})
        assert r.status_code == 422, why
        assert why in r.text
    with world.db.session() as s:
        assert service.active_scorecard(s).id == before
        assert s.scalar(select(QualityScorecard).where(QualityScorecard.name == "新版")) is None
    agent_csrf = _login(client, "agent_gz")
    assert client.post("/console/quality/scorecard", data={"csrf_token": agent_csrf, "name": "x",
                                                           **_rows(("a", "b", "1", "5", False))}).status_code == 403
