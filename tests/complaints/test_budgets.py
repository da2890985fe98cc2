"""Monthly compensation budgets per org unit: a grant or an approval that would overrun the budget of the
ticket's unit or of a unit above it is 409 `budget_exceeded` with nothing written; the console's forms grant,
ask for approval, approve, reject with a reason and set budgets (zh-CN and en)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kefu.complaints import budgets
from kefu.complaints.models import Budget, Compensation
from kefu.core.clock import utcnow
from tests.conftest import World
from tests.web.conftest import csrf_of, login

MONTH = f"{budgets.month_of(utcnow()):%Y-%m}"


def _ticket(client: TestClient, world: World, who: str = "agent_gz") -> int:
    r = client.post("/api/v1/tickets", json={"type": "complaint", "subject": "话费多扣了"}, headers=world.auth(who))
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _granted(world: World) -> list[str]:
    with world.db.session() as s:
        return [str(a) for a in s.scalars(select(Compensation.amount).where(Compensation.status == "granted")
                                          .order_by(Compensation.id))]


def test_months_are_china_time() -> None:
    from datetime import UTC, date, datetime

    assert budgets.month_of(datetime(2026, 11, 30, 16, 0, tzinfo=UTC)) == date(2026, 12, 1)  # 00:00 in Beijing
    assert budgets.month_of(datetime(2026, 11, 30, 15, 59, tzinfo=UTC)) == date(2026, 11, 1)
    assert budgets.parse_month("2026-02") == date(2026, 2, 1)


def test_a_grant_above_the_units_budget_is_refused(client: TestClient, world: World) -> None:
    put = client.put(f"/api/v1/complaints/budgets/{world.units['gz']}", json={"month": MONTH, "amount": "60"},
                     headers=world.auth("sup_gd"))
    assert put.status_code == 200, put.text
    assert put.json() == {"org_unit_id": world.units["gz"], "org_unit_name": "广州", "month": MONTH,
                          "amount": "60.00", "spent": "0.00", "left": "60.00"}
    tid = _ticket(client, world)
    url = f"/api/v1/complaints/tickets/{tid}/compensations"
    r = client.post(url, json={"kind": "bill_credit", "amount": "40"}, headers=world.auth("agent_gz"))
    assert r.status_code == 201
    r = client.post(url, json={"kind": "refund", "amount": "20.01"}, headers=world.auth("agent_gz"))
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "budget_exceeded"
    assert r.json()["error"]["details"] == {"org_unit_id": world.units["gz"], "month": MONTH, "budget": "60.00",
                                            "spent": "40.00", "amount": "20.01"}
    assert _granted(world) == ["40.00"]
    assert client.post(url, json={"kind": "refund", "amount": "20"}, headers=world.auth("agent_gz")).status_code == 201
    # Shenzhen has no budget of its own, but the province's holds for it too
    client.put(f"/api/v1/complaints/budgets/{world.units['province']}", json={"month": MONTH, "amount": "100"},
               headers=world.auth("sup_gd"))
    sz = _ticket(client, world, "agent_sz")
    r = client.post(f"/api/v1/complaints/tickets/{sz}/compensations", json={"kind": "refund", "amount": "41"},
                    headers=world.auth("agent_sz"))
    assert r.status_code == 409
    assert r.json()["error"]["details"]["org_unit_id"] == world.units["province"]
    got = client.get(f"/api/v1/complaints/budgets?month={MONTH}", headers=world.auth("sup_gd")).json()["items"]
    assert [(b["org_unit_name"], b["amount"], b["spent"], b["left"]) for b in got] == [
        ("广东", "100.00", "60.00", "40.00"), ("广州", "60.00", "60.00", "0.00")]


def test_an_approval_above_the_budget_is_refused_and_stays_pending(client: TestClient, world: World) -> None:
    client.put(f"/api/v1/complaints/budgets/{world.units['gz']}", json={"month": MONTH, "amount": "150"},
               headers=world.auth("sup_gd"))
    tid = _ticket(client, world)
    r = client.post(f"/api/v1/complaints/tickets/{tid}/compensations",
                    json={"kind": "data_pack", "amount": "200", "request_approval": True},
                    headers=world.auth("agent_gz"))
    assert r.status_code == 201
    assert r.json()["status"] == "pending_approval"  # waiting takes nothing from the budget
    cid = r.json()["id"]
    pending = client.get("/api/v1/complaints/compensations/pending", headers=world.auth("sup_gd")).json()["items"]
    assert [p["id"] for p in pending] == [cid]
    assert client.get("/api/v1/complaints/compensations/pending",
                      headers=world.auth("agent_sz")).json()["items"] == []  # another city's
    r = client.post(f"/api/v1/complaints/compensations/{cid}/decision", json={"approve": True},
                    headers=world.auth("sup_gd"))
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "budget_exceeded"
    with world.db.session() as s:
        c = s.get(Compensation, cid)
        assert c is not None
        assert (c.status, c.decided_by_id) == ("pending_approval", None)


def test_budgets_bad_input_and_permissions(client: TestClient, world: World) -> None:
    url = f"/api/v1/complaints/budgets/{world.units['gz']}"
    assert client.put(url, json={"month": MONTH, "amount": "10"}, headers=world.auth("agent_gz")).status_code == 403
    for bad in ({"month": "2026-13", "amount": "10"}, {"month": "12/2026", "amount": "10"},
                {"month": MONTH, "amount": "-1"}, {"month": MONTH, "amount": "1.001"}):
        assert client.put(url, json=bad, headers=world.auth("sup_gd")).status_code == 422, bad
    above = client.put(f"/api/v1/complaints/budgets/{world.units['group']}", json={"month": MONTH, "amount": "1"},
                          headers=world.auth("sup_gd"))
    assert above.status_code == 404  # the group is above the supervisor's province
    with world.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Budget)) == 0
    assert client.put(url, json={"month": MONTH, "amount": "10"}, headers=world.auth("sup_gd")).status_code == 200
    r = client.put(url, json={"month": MONTH, "amount": "25.5"}, headers=world.auth("sup_gd"))  # changed, not added
    assert r.json()["amount"] == "25.50"
    with world.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Budget)) == 1


def test_the_console_grants_asks_approves_rejects_and_sets_budgets(client: TestClient, world: World) -> None:
    tid = _ticket(client, world)
    login(client, "agent_gz")
    page = client.get(f"/console/tickets/{tid}").text
    assert 'id="grant-compensation"' in page
    assert "您对该客户的补偿权限：¥50.00" in page
    form = {"csrf_token": csrf_of(page), "kind": "minutes", "amount": "12.5", "note": "通话异常"}
    r = client.post(f"/console/complaints/tickets/{tid}/compensations", data=form, follow_redirects=False)
    assert r.status_code == 303
    r = client.post(f"/console/complaints/tickets/{tid}/compensations", data={**form, "amount": "90"})
    assert r.status_code == 403  # above authority, no approval asked: the error page, nothing written
    r = client.post(f"/console/complaints/tickets/{tid}/compensations", data={**form, "amount": "abc"})
    assert r.status_code == 422
    for amount in ("90", "95"):
        r = client.post(f"/console/complaints/tickets/{tid}/compensations",
                        data={**form, "amount": amount, "request_approval": "1"}, follow_redirects=False)
        assert r.status_code == 303
    page = client.get(f"/console/tickets/{tid}").text
    assert "通话分钟 ¥12.50" in page
    assert page.count("待审批") == 2
    assert client.get("/console/complaints/compensations").status_code == 200  # agents see approvals, no budgets

    login(client, "sup_gd")
    page = client.get("/console/complaints/compensations").text
    assert 'id="approvals"' in page
    assert 'id="budget-form"' in page
    assert "广州坐席" in page
    assert "¥90.00" in page
    with world.db.session() as s:
        ids = list(s.scalars(select(Compensation.id).where(Compensation.status == "pending_approval")
                             .order_by(Compensation.id)))
    csrf = csrf_of(page)
    r = client.post(f"/console/complaints/compensations/{ids[0]}/decision",
                    data={"csrf_token": csrf, "decision": "approve"}, follow_redirects=False)
    assert r.status_code == 303
    r = client.post(f"/console/complaints/compensations/{ids[1]}/decision",
                    data={"csrf_token": csrf, "decision": "reject"})
    assert r.status_code == 422  # a rejection needs a reason
    r = client.post(f"/console/complaints/compensations/{ids[1]}/decision",
                    data={"csrf_token": csrf, "decision": "reject", "reason": "已补偿过"}, follow_redirects=False)
    assert r.status_code == 303
    r = client.post("/console/complaints/budgets", data={"csrf_token": csrf, "org_unit_id": world.units["gz"],
                                                         "month": MONTH, "amount": "300"}, follow_redirects=False)
    assert r.status_code == 303
    page = client.get(f"/console/complaints/compensations?month={MONTH}").text
    assert 'id="no-approvals"' in page
    assert "<td>广州</td><td>¥300.00</td><td>¥102.50</td>" in page
    assert client.post("/console/complaints/budgets", data={"csrf_token": csrf, "org_unit_id": world.units["gz"],
                                                            "month": "2026-99", "amount": "1"}).status_code == 422
    client.cookies.set("lang", "en")
    page = client.get("/console/complaints/compensations").text
    assert "Monthly compensation budgets" in page
    assert "Set a budget" in page
    page = client.get(f"/console/tickets/{tid}").text
    assert "Grant compensation" in page
    assert "已补偿过" in page
    login(client, "agent_gz")
    client.cookies.delete("lang")
    csrf = csrf_of(client.get(f"/console/tickets/{tid}").text)
    r = client.post("/console/complaints/budgets", data={"csrf_token": csrf,
                                                         "org_unit_id": world.units["gz"], "month": MONTH,
                                                         "amount": "1"})
    assert r.status_code == 403
    assert _granted(world) == ["12.50", "90.00"]
