"""The regulator's measures: complaints per 10,000 customers, repeat and escalation rates and appeals per
million, by province or city, per month or quarter (China time), on a hand-counted world."""

from __future__ import annotations

from datetime import UTC, date, datetime

from fastapi.testclient import TestClient

from kefu.complaints import measures, service
from kefu.customers import service as customers
from kefu.tickets import service as tickets
from tests.conftest import World
from tests.web.conftest import login

DAY = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)
TEXT = "我的话费怎么无缘无故多扣了50元？太坑了，赶紧给我退回来！"


def test_periods_and_rates() -> None:
    assert measures.periods(date(2026, 11, 15), date(2027, 2, 1), "quarter") == ["2026Q4", "2027Q1"]
    assert measures.periods(date(2026, 11, 15), date(2027, 2, 1), "month") == ["2026-11", "2026-12", "2027-01",
                                                                                "2027-02"]
    m = measures.Measure("2026-11", 1, "广东", customers=5, complaints=3, classified=2, repeats=1, escalated=1,
                         appeals=1)
    assert (m.per_10k, m.repeat_rate, m.escalation_rate, m.appeals_per_million) == (6000.0, 0.5, 0.3333, 200000.0)
    empty = measures.Measure("2026-11", 1, "广东", 0, 0, 0, 0, 0, 0)
    assert (empty.per_10k, empty.repeat_rate, empty.escalation_rate, empty.appeals_per_million) == (None,) * 4


def _world(client: TestClient, world: World) -> None:
    """Guangzhou: 4 customers (and one merged away), two complaints of one customer (the second a repeat,
    the first escalated to 12300); Shenzhen: 1 customer, one complaint without a customer. One complaint
    in December."""
    with world.db.unit_of_work() as s:
        gz = [customers.create_customer(s, phone=f"1390000000{i}", org_unit_id=world.units["gz"]).id
              for i in range(5)]
        customers.merge(s, gz[0], gz[4])
        customers.create_customer(s, phone="13800000009", org_unit_id=world.units["sz"])
        first = tickets.create_ticket(s, type="complaint", subject=TEXT, org_unit_id=world.units["gz"],
                                      customer_id=gz[0], at=DAY).id
        second = tickets.create_ticket(s, type="complaint", subject=TEXT, org_unit_id=world.units["gz"],
                                       customer_id=gz[0], at=DAY.replace(day=20)).id
        third = tickets.create_ticket(s, type="complaint", subject="信号差", org_unit_id=world.units["sz"], at=DAY).id
        tickets.create_ticket(s, type="complaint", subject="信号差", org_unit_id=world.units["sz"],
                              at=datetime(2026, 12, 2, tzinfo=UTC))
        tickets.create_ticket(s, type="inquiry", subject="查话费", org_unit_id=world.units["gz"], at=DAY)
    with world.db.unit_of_work() as s:
        service.classify_ticket(s, first, at=DAY)
        c = service.classify_ticket(s, second, at=DAY.replace(day=20))
        assert c is not None
        assert c.repeat_of_id == first
        service.classify_ticket(s, third, at=DAY)
    r = client.post(f"/api/v1/complaints/tickets/{first}/appeals",
                    json={"source": "miit_12300", "received_on": "2026-11-25"}, headers=world.auth("sup_gd"))
    assert r.status_code == 201, r.text


def test_measures_by_province_and_city(client: TestClient, world: World) -> None:
    _world(client, world)
    url = "/api/v1/complaints/measures?start=2026-11-01&end=2026-12-31"
    got = client.get(url, headers=world.auth("analyst")).json()["items"]
    assert [(m["period"], m["unit"], m["customers"], m["complaints"], m["per_10k"], m["repeat_rate"],
             m["escalation_rate"], m["appeals"], m["appeals_per_million"]) for m in got] == [
        ("2026-11", "广东", 5, 3, 6000.0, 0.3333, 0.3333, 1, 200000.0),
        ("2026-12", "广东", 5, 1, 2000.0, None, 0.0, 0, 0.0)]
    got = client.get(url + "&level=city&period=quarter", headers=world.auth("sup_gd")).json()["items"]
    assert [(m["period"], m["unit"], m["customers"], m["complaints"], m["repeats"], m["escalated"],
             m["appeals_per_million"]) for m in got] == [
        ("2026Q4", "广州", 4, 2, 1, 1, 250000.0), ("2026Q4", "深圳", 1, 2, 0, 0, 0.0)]
    assert client.get(url, headers=world.auth("agent_gz")).status_code == 403
    r = client.get("/api/v1/complaints/measures?start=2026-12-01&end=2026-11-01", headers=world.auth("analyst"))
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid_range"
    # year 1 would overflow the China-time bounds: refused, not a server error
    r = client.get("/api/v1/complaints/measures?start=0001-01-01&end=0001-01-01", headers=world.auth("analyst"))
    assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_range")


def test_the_measures_page(client: TestClient, world: World) -> None:
    _world(client, world)
    login(client, "sup_gd")
    page = client.get("/console/complaints/measures?start=2026-11&end=2026-12&level=city").text
    assert '<tr data-period="2026-11" data-unit="' in page
    assert "<td>2026-11</td><td>广州</td><td>4</td><td>2</td>" in page
    assert '<progress max="250000.0" value="250000.0" aria-hidden="true"></progress>' in page
    assert "百万用户申诉率" in page
    client.cookies.set("lang", "en")
    assert "Appeals per million" in client.get("/console/complaints/measures").text
