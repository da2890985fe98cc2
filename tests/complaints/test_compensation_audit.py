"""Every compensation request, grant, approval and rejection is in the audit log (who, which compensation, the
ticket, kind and amount), visible to the administrators of its unit; a refused attempt writes no entry."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from kefu.org.models import AuditEntry
from tests.conftest import World
from tests.web.conftest import login


def _entries(world: World) -> list[tuple[str, str | None, str | None, str | None, dict[str, object]]]:
    with world.db.session() as s:
        return [(e.action, e.actor_name, e.object_type, e.object_id, e.details)
                for e in s.scalars(select(AuditEntry).where(AuditEntry.action.like("complaint.%"))
                                   .order_by(AuditEntry.id))]


def test_grants_requests_and_decisions_are_audited(client: TestClient, world: World) -> None:
    r = client.post("/api/v1/tickets", json={"type": "complaint", "subject": "话费多扣了"},
                    headers=world.auth("agent_gz"))
    tid = int(r.json()["id"])
    url = f"/api/v1/complaints/tickets/{tid}/compensations"
    a = client.post(url, json={"kind": "bill_credit", "amount": "30"}, headers=world.auth("agent_gz")).json()
    assert client.post(url, json={"kind": "refund", "amount": "80"},  # above 50: refused, not audited
                       headers=world.auth("agent_gz")).status_code == 403
    b = client.post(url, json={"kind": "data_pack", "amount": "200", "request_approval": True},
                    headers=world.auth("agent_gz")).json()
    c = client.post(url, json={"kind": "refund", "amount": "150", "request_approval": True},
                    headers=world.auth("agent_gz")).json()
    assert client.post(f"/api/v1/complaints/compensations/{b['id']}/decision", json={"approve": True},
                       headers=world.auth("agent_gz")).status_code == 403  # not enough authority: no entry
    assert client.post(f"/api/v1/complaints/compensations/{b['id']}/decision", json={"approve": True},
                       headers=world.auth("sup_gd")).status_code == 200
    assert client.post(f"/api/v1/complaints/compensations/{c['id']}/decision",
                       json={"approve": False, "reason": "已退过"}, headers=world.auth("sup_gd")).status_code == 200

    def d(kind: str, amount: str) -> dict[str, object]:
        return {"ticket_id": tid, "customer_id": None, "kind": kind, "amount": amount}

    assert _entries(world) == [
        ("complaint.compensation_granted", "agent_gz", "compensation", str(a["id"]), d("bill_credit", "30.00")),
        ("complaint.compensation_requested", "agent_gz", "compensation", str(b["id"]), d("data_pack", "200.00")),
        ("complaint.compensation_requested", "agent_gz", "compensation", str(c["id"]), d("refund", "150.00")),
        ("complaint.compensation_granted", "sup_gd", "compensation", str(b["id"]), d("data_pack", "200.00")),
        ("complaint.compensation_rejected", "sup_gd", "compensation", str(c["id"]),
         {**d("refund", "150.00"), "reason": "已退过"}),
    ]
    login(client, "admin")
    page = client.get("/console/admin/audit?action=complaint.").text
    assert page.count("发放补偿") >= 2
    assert "驳回补偿" in page
    assert "申请补偿审批" in page
