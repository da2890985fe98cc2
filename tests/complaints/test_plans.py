"""The plan catalogue (an administrator keeps it on /console/complaints/plans) and tariff advice from a ticket:
the customer's busiest month in, the cheapest plan on sale that covers it and the saving out."""

from __future__ import annotations

from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kefu.complaints.models import TariffPlan
from kefu.customers import service as customers
from kefu.tickets import service as tickets
from tests.conftest import World
from tests.web.conftest import csrf_of, login

CATALOGUE = (
    {"key": "easy_19", "name": "畅享 19 元", "monthly_fee": "19", "data_gb": "5", "minutes": "100", "sms": "50"},
    {"key": "easy_39", "name": "畅享 39 元", "monthly_fee": "39", "data_gb": "20", "minutes": "200", "sms": "100"},
    {"key": "5g_59", "name": "5G 智享 59 元", "monthly_fee": "59", "data_gb": "40", "minutes": "300", "sms": ""},
    {"key": "5g_129", "name": "5G 尊享 129 元", "monthly_fee": "129", "data_gb": "", "minutes": "1000", "sms": ""},
)


def _count(world: World) -> int:
    with world.db.session() as s:
        return s.scalar(select(func.count()).select_from(TariffPlan)) or 0


def _catalogue(client: TestClient) -> None:
    login(client, "admin")
    csrf = csrf_of(client.get("/console/complaints/plans").text)
    for plan in CATALOGUE:
        r = client.post("/console/complaints/plans", data={"csrf_token": csrf, "active": "1", **plan},
                        follow_redirects=False)
        assert r.status_code == 303, r.text


def test_an_administrator_keeps_the_catalogue_and_bad_plans_change_nothing(client: TestClient, world: World) -> None:
    _catalogue(client)
    page = client.get("/console/complaints/plans").text
    rows = page.split('id="plans"')[1].split("</table>")[0]
    assert [r.split('"')[0] for r in rows.split('data-plan="')[1:]] == ["easy_19", "easy_39", "5g_59", "5g_129"]
    assert "不限" in rows.split('data-plan="5g_129"')[1]
    csrf = csrf_of(page)
    for bad in ({"key": "Bad Key", "name": "x", "monthly_fee": "10"}, {"key": "x1", "name": "", "monthly_fee": "10"},
                {"key": "x1", "name": "x", "monthly_fee": "ten"}, {"key": "x1", "name": "x", "monthly_fee": "-1"},
                {"key": "x1", "name": "x", "monthly_fee": "10", "minutes": "-5"},
                {"key": "x1", "name": "x", "monthly_fee": "10.001"}):
        r = client.post("/console/complaints/plans", data={"csrf_token": csrf, **bad}, follow_redirects=False)
        assert 400 <= r.status_code < 500, bad
    assert _count(world) == 4
    r = client.post("/console/complaints/plans", data={"csrf_token": csrf, **CATALOGUE[0], "monthly_fee": "18"},
                    follow_redirects=False)  # changed (and withdrawn: the box unticked)
    assert r.status_code == 303
    with world.db.session() as s:
        row = s.scalar(select(TariffPlan).where(TariffPlan.key == "easy_19"))
        assert row is not None
        assert (row.monthly_fee, row.active, row.data_gb, row.sms) == (Decimal("18.00"), False, 5.0, 50)
        assert row.updated_by_id == world.users["admin"]
    assert _count(world) == 4


def test_only_an_administrator_keeps_the_catalogue(client: TestClient, world: World) -> None:
    login(client, "agent_gz")
    assert client.get("/console/complaints/plans").status_code == 403
    csrf = csrf_of(client.get("/console/inbox").text)
    r = client.post("/console/complaints/plans", data={"csrf_token": csrf, **CATALOGUE[0]}, follow_redirects=False)
    assert r.status_code == 403
    assert _count(world) == 0


def test_an_agent_gets_the_cheapest_covering_plan_and_the_saving_from_the_ticket(client: TestClient,
                                                                                world: World) -> None:
    _catalogue(client)
    with world.db.unit_of_work() as s:
        c = customers.create_customer(s, phone="13812345678", org_unit_id=world.units["gz"], plan="5G 尊享 129 元",
                                      arpu=Decimal("135.50"))
        tid = tickets.create_ticket(s, type="complaint", subject="话费太贵了", org_unit_id=world.units["gz"],
                                    customer_id=c.id, category_key="billing.unexplained_deduction").id
    client.cookies.clear()
    login(client, "agent_gz")
    ticket_page = client.get(f"/console/tickets/{tid}").text
    assert f'href="/console/complaints/tariff-advice?ticket_id={tid}" id="tariff-advice-link"' in ticket_page
    page = client.get(f"/console/complaints/tariff-advice?ticket_id={tid}")
    assert page.status_code == 200
    assert "当前套餐 5G 尊享 129 元 ¥129.00" in " ".join(page.text.split())
    assert 'id="advice-result"' not in page.text  # nothing asked yet

    r = client.get(f"/console/complaints/tariff-advice?ticket_id={tid}&data_gb=12.5&minutes=150&sms=20")
    result = " ".join(r.text.split('id="advice-result"')[1].split("</div>")[0].split())
    assert 'data-advised="easy_39"' in result
    assert "¥39.00/月" in result
    assert "每月节省 <b>¥90.00</b>，每年 ¥1080.00" in result  # against the plan's fee, 129

    r = client.get(f"/console/complaints/tariff-advice?ticket_id={tid}&data_gb=12.5&minutes=150&current_fee=35")
    assert "已是覆盖该用量的最低价" in r.text  # pays 35 already (an old offer): nothing to advise
    r = client.get(f"/console/complaints/tariff-advice?ticket_id={tid}&minutes=5000")
    assert "没有在售套餐能覆盖该用量" in r.text
    assert client.get(f"/console/complaints/tariff-advice?ticket_id={tid}&data_gb=lots").status_code == 422


def test_a_ticket_outside_the_agent_s_scope_gives_no_advice(client: TestClient, world: World) -> None:
    with world.db.unit_of_work() as s:
        tid = tickets.create_ticket(s, type="complaint", subject="话费太贵了", org_unit_id=world.units["sz"]).id
    login(client, "agent_gz")
    assert client.get(f"/console/complaints/tariff-advice?ticket_id={tid}&data_gb=3").status_code == 404


def test_the_api_keeps_the_catalogue_for_administrators_and_advises_anyone_who_reads_complaints(
        client: TestClient, world: World) -> None:
    body = {"name": "畅享 39 元", "monthly_fee": "39", "data_gb": 20, "minutes": 200, "sms": 100}
    assert client.put("/api/v1/complaints/plans/easy_39", json=body, headers=world.auth("agent_gz")).status_code == 403
    assert client.put("/api/v1/complaints/plans/Bad Key", json=body, headers=world.auth("admin")).status_code == 422
    assert client.put("/api/v1/complaints/plans/x", json={**body, "monthly_fee": "-1"},
                      headers=world.auth("admin")).status_code == 422
    assert _count(world) == 0
    r = client.put("/api/v1/complaints/plans/easy_39", json=body, headers=world.auth("admin"))
    assert r.status_code == 200, r.text
    r = client.put("/api/v1/complaints/plans/5g_129", json={"name": "5G 尊享 129 元", "monthly_fee": "129",
                                                            "minutes": 1000}, headers=world.auth("admin"))
    assert r.json()["data_gb"] is None  # unlimited
    items = client.get("/api/v1/complaints/plans", headers=world.auth("agent_gz")).json()["items"]
    assert [(p["key"], p["monthly_fee"]) for p in items] == [("easy_39", "39.00"), ("5g_129", "129.00")]

    r = client.post("/api/v1/complaints/tariff-advice", json={"data_gb": 12.5, "minutes": 150, "current_fee": "129"},
                    headers=world.auth("agent_gz"))
    got = r.json()
    assert (got["plan"]["key"], got["monthly_saving"], got["yearly_saving"], got["covering"], got["current_plan"]) == (
        "easy_39", "90.00", "1080.00", 2, None)
    r = client.post("/api/v1/complaints/tariff-advice", json={"data_gb": 50, "minutes": 150, "current_fee": "99"},
                    headers=world.auth("agent_gz"))
    assert (r.json()["plan"], r.json()["monthly_saving"], r.json()["covering"]) == (None, None, 1)  # 129 covers
    assert client.post("/api/v1/complaints/tariff-advice", json={"minutes": -1},
                       headers=world.auth("agent_gz")).status_code == 422


def test_tariff_advice_reads_the_plan_catalogue_once_per_request(client: TestClient, world: World) -> None:
    """The customer's plan, the plans on sale and the advised plan come from one read of the catalogue, on the
    API and on the console page, with the same answer as before."""
    from sqlalchemy import event

    _catalogue(client)
    with world.db.unit_of_work() as s:
        c = customers.create_customer(s, phone="13812345679", org_unit_id=world.units["gz"], plan="5G 尊享 129 元")
        tid = tickets.create_ticket(s, type="complaint", subject="话费太贵了", org_unit_id=world.units["gz"],
                                    customer_id=c.id).id
    client.cookies.clear()
    login(client, "agent_gz")
    reads: list[str] = []

    def count(_conn, _cursor, statement, *_a) -> None:  # type: ignore[no-untyped-def]
        if "FROM tariff_plans" in statement:
            reads.append(statement)

    event.listen(world.db.engine, "before_cursor_execute", count)
    try:
        api = client.post("/api/v1/complaints/tariff-advice", json={"data_gb": 12.5, "minutes": 150, "ticket_id": tid},
                          headers=world.auth("agent_gz"))
        after_api = len(reads)
        page = client.get(f"/console/complaints/tariff-advice?ticket_id={tid}&data_gb=12.5&minutes=150")
        after_page = len(reads)
        plain = client.get(f"/console/complaints/tariff-advice?ticket_id={tid}")
    finally:
        event.remove(world.db.engine, "before_cursor_execute", count)
    got = api.json()
    assert (got["plan"]["key"], got["current_plan"], got["current_fee"], got["monthly_saving"]) == (
        "easy_39", "5g_129", "129.00", "90.00")
    assert 'data-advised="easy_39"' in page.text
    assert "当前套餐 5G 尊享 129 元 ¥129.00" in " ".join(plain.text.split())
    assert (after_api, after_page - after_api, len(reads) - after_page) == (1, 1, 1)
