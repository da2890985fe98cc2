"""Phone and ID numbers typed into free text reach roles without `pii` masked, in the API and the console;
roles with `pii` see them as typed, and what is stored is never changed."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from kefu.core.db import Database
from kefu.tickets.models import Ticket
from tests.channels.support import post_inbound
from tests.conftest import World
from tests.web.conftest import login

API = "/api/v1"
MOBILE, ID = "13912345678", "11010519491231002X"
SUBJECT = f"客户{MOBILE}反映扣费"
DESCRIPTION = f"身份证{ID}，回电020-87654321"
M_SUBJECT = "客户139****5678反映扣费"
M_DESCRIPTION = "身份证110***********002X，回电020****4321"


def _case(client: TestClient, world: World) -> dict[str, int]:
    r = post_inbound(client, world, "sms", message_id="m1", sender="13800138001",
                     text=f"我的另一个号码{MOBILE}也被扣费了", org_unit_code="GZ")
    assert r.status_code == 201, r.text
    ids = r.json()
    t = client.post(f"{API}/tickets", headers=world.auth("agent_gz"),
                    json={"type": "complaint", "subject": SUBJECT, "description": DESCRIPTION, "channel": "voice"})
    assert t.status_code == 201, t.text
    ids["ticket_id"] = t.json()["id"]
    q = client.post(f"{API}/knowledge/questions", headers=world.auth("agent_gz"),
                    json={"title": f"{MOBILE}的副卡怎么销户", "body": f"客户身份证{ID}"})
    assert q.status_code == 201, q.text
    return {**ids, "question_id": q.json()["id"]}


def test_free_text_is_masked_in_api_responses_for_roles_without_pii(client: TestClient, world: World,
                                                                   db: Database) -> None:
    ids = _case(client, world)
    for who, subject, description, question in (
        ("support_gd", M_SUBJECT, M_DESCRIPTION, "139****5678的副卡怎么销户"),
        ("agent_gz", SUBJECT, DESCRIPTION, f"{MOBILE}的副卡怎么销户"),
    ):
        h = world.auth(who)
        t = client.get(f"{API}/tickets/{ids['ticket_id']}", headers=h).json()
        assert (t["subject"], t["description"]) == (subject, description)
        inbox = client.get(f"{API}/tickets", headers=h).json()["items"]
        assert subject in [x["subject"] for x in inbox]
        it = client.get(f"{API}/interactions/{ids['interaction_id']}", headers=h).json()
        assert [m["body"] for m in it["messages"]] == [f"我的另一个号码{subject[2:13]}也被扣费了"]
        listed = client.get(f"{API}/interactions", headers=h).json()["items"]
        assert [x["last_message"] for x in listed] == [f"我的另一个号码{subject[2:13]}也被扣费了"]
        q = client.get(f"{API}/knowledge/questions/{ids['question_id']}", headers=h).json()
        assert (q["title"], q["body"]) == (question, f"客户身份证{description[3:21]}")
    with db.session() as s:  # stored as typed
        assert s.scalar(select(Ticket.description).where(Ticket.id == ids["ticket_id"])) == DESCRIPTION


def test_free_text_is_masked_on_console_pages_for_roles_without_pii(client: TestClient, world: World) -> None:
    ids = _case(client, world)
    login(client, "support_gd")
    for page in (f"/console/tickets/{ids['ticket_id']}", "/console/inbox",
                 f"/console/knowledge/qa/{ids['question_id']}", "/console/knowledge/qa"):
        html = client.get(page).text
        assert MOBILE not in html, page
        assert ID not in html, page
        assert "87654321" not in html, page
    assert M_SUBJECT in client.get(f"/console/tickets/{ids['ticket_id']}").text
    client.cookies.clear()
    login(client, "agent_gz")
    html = client.get(f"/console/tickets/{ids['ticket_id']}").text
    assert SUBJECT in html
    assert ID in html


def test_a_role_without_pii_cannot_find_the_masked_digits_by_searching_tickets(client: TestClient, world: World,
                                                                               db: Database) -> None:
    """The inbox's search (`q`) matches the subject as the role sees it: a guess at the hidden digits finds
    nothing, what is shown finds the ticket; with `pii` the typed number finds it. Both the console's ticket
    (ORM) and the inbound message's ticket (the Core insert path) are covered."""
    ids = _case(client, world)
    with db.session() as s:
        inbound = s.scalar(select(Ticket.id).where(Ticket.id != ids["ticket_id"]))
        masked = s.scalar(select(Ticket.subject_masked).where(Ticket.id == inbound))
        assert masked == "我的另一个号码139****5678也被扣费了"

    def found(who: str, q: str) -> list[int]:
        r = client.get(f"{API}/tickets", headers=world.auth(who), params={"q": q})
        assert r.status_code == 200, r.text
        return sorted(x["id"] for x in r.json()["items"])

    both = sorted([ids["ticket_id"], inbound])
    for guess in ("1391234", "12345678", MOBILE, "9123", "1391"):
        assert found("support_gd", guess) == [], guess
    assert found("support_gd", "139****5678") == both
    assert found("support_gd", "5678") == both  # the digits shown
    assert found("support_gd", "反映扣费") == [ids["ticket_id"]]
    assert found("agent_gz", "1391234") == both
    assert found("agent_gz", MOBILE) == both
    # an edit of the subject keeps the masked copy right
    r = client.patch(f"{API}/tickets/{ids['ticket_id']}", headers=world.auth("agent_gz"),
                     json={"subject": "客户13700001111反映扣费"})
    assert r.status_code == 200, r.text
    assert found("support_gd", "1391") == []
    assert found("support_gd", "137****1111") == [ids["ticket_id"]]
    assert found("support_gd", "0000") == []
