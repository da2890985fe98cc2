"""Surges in the product: a wave of one category's complaints in one city raises one surge, announced as
`complaint.surge_detected`, listed for supervisors of that city and acknowledged; quiet keys raise nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from kefu.complaints import classifier, service, surges
from kefu.complaints.models import Surge
from kefu.core.events import OutboxEvent
from kefu.tickets import service as tickets
from tests.conftest import World
from tests.web.conftest import csrf_of, login

NOW = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
TEXT = "这个月话费多扣了50元，账单不对，太坑了！"


def _ticket(world: World, at: datetime, unit: str = "gz", text: str = TEXT) -> int:
    with world.db.unit_of_work() as s:
        t = tickets.create_ticket(s, type="inquiry", subject=text, org_unit_id=world.units[unit], channel="sms",
                                  at=at)
        service.classify_ticket(s, t.id, at=at, model=classifier.model())
        surges.check(s, t.id, at=at)
        return t.id


def test_a_wave_raises_one_surge_and_an_event(world: World) -> None:
    for day in range(1, 15):  # a quiet baseline: one billing complaint a day
        _ticket(world, NOW - timedelta(days=day))
    for i in range(14):  # then fourteen in the same hour
        _ticket(world, NOW + timedelta(minutes=i))
    with world.db.session() as s:
        found = list(s.scalars(select(Surge)))
        assert len(found) == 1
        sg = found[0]
        assert (sg.category, sg.org_unit_id, sg.channel, sg.status) == ("billing", world.units["gz"], "sms", "open")
        assert sg.observed == 10
        assert sg.window_end == datetime(2026, 3, 2, 11, tzinfo=UTC)
        ev = s.scalars(select(OutboxEvent).where(OutboxEvent.name == "complaint.surge_detected")).all()
        assert [e.payload["surge_id"] for e in ev] == [sg.id]
        assert ev[0].payload["category"] == "billing"
        assert ev[0].payload["observed"] == 10


def test_a_steady_trickle_raises_nothing(world: World) -> None:
    for h in range(0, 24 * 10, 6):
        _ticket(world, NOW - timedelta(hours=h))
    with world.db.session() as s:
        assert s.scalars(select(Surge)).all() == []


def test_supervisors_see_and_acknowledge_surges_of_their_units(client: TestClient, world: World) -> None:
    for i in range(12):
        _ticket(world, NOW + timedelta(minutes=i))
    r = client.get("/api/v1/complaints/surges", headers=world.auth("sup_gd"))
    assert r.status_code == 200
    assert r.json()["total"] == 1
    sid = r.json()["items"][0]["id"]
    assert client.get("/api/v1/complaints/surges", headers=world.auth("agent_gz")).status_code == 403
    login(client, "sup_gd")
    page = client.get("/console/complaints/surges")
    assert page.status_code == 200
    assert 'id="surges"' in page.text
    assert "话费与账单" in page.text
    r = client.post(f"/console/complaints/surges/{sid}/ack", data={"csrf_token": csrf_of(page.text)},
                    follow_redirects=False)
    assert r.status_code == 303
    body = client.get("/api/v1/complaints/surges?status=acknowledged", headers=world.auth("sup_gd")).json()
    assert [x["id"] for x in body["items"]] == [sid]
    assert body["items"][0]["acknowledged_by_id"] == world.users["sup_gd"]
    assert client.post("/api/v1/complaints/surges/999999/acknowledge",
                       headers=world.auth("sup_gd")).status_code == 404


def test_a_batch_judges_as_one_by_one_would(world: World) -> None:
    """check_many reads the keys' surges and hourly counts at once: the same surges as checking each ticket
    in turn, also when a surge found early in the batch quiets its key for the later tickets."""
    ids: list[tuple[int, datetime]] = []
    with world.db.unit_of_work() as s:
        for day in range(1, 15):
            for unit in ("gz", "sz"):
                t = tickets.create_ticket(s, type="inquiry", subject=TEXT, org_unit_id=world.units[unit],
                                          channel="sms", at=NOW - timedelta(days=day))
                service.classify_ticket(s, t.id, at=t.opened_at, model=classifier.model())
        for i in range(40):  # a wave in Guangzhou over two hours, a smaller one in Shenzhen
            unit = "gz" if i % 4 else "sz"
            at = NOW + timedelta(minutes=3 * i)
            t = tickets.create_ticket(s, type="inquiry", subject=TEXT, org_unit_id=world.units[unit],
                                      channel="sms", at=at)
            service.classify_ticket(s, t.id, at=at, model=classifier.model())
            ids.append((t.id, at))

    def found(s: object) -> list[tuple[str, int, str, datetime, int]]:
        return sorted((g.category, g.org_unit_id, g.channel, g.window_end, g.observed)
                      for g in s.scalars(select(Surge)))  # type: ignore[attr-defined]

    with world.db.unit_of_work() as s:
        one_by_one = [surges.check(s, tid, at=at) for tid, at in ids]
        expected = found(s)
        s.rollback()
    with world.db.unit_of_work() as s:
        batch = surges.check_many(s, ids)
        assert found(s) == expected
        assert [x is not None for x in batch] == [x is not None for x in one_by_one]
        assert expected  # the wave was a surge
