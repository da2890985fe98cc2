"""Appeals in the console: recorded on the ticket page (source chooser with names, received date), listed with
their deadlines and state, then accepted, answered and closed with an outcome; a bad date or dates out of order
is a 4xx with nothing written; the state is the regulator's clock on the day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kefu.complaints import appeal_rules as rules
from kefu.complaints.models import Appeal
from kefu.web.i18n import LANG_COOKIE
from tests.conftest import World
from tests.web.conftest import csrf_of, login


def test_the_state_follows_the_clock() -> None:
    recv = date(2026, 3, 2)  # a Monday: acceptance due on Monday 9 March
    due = rules.acceptance_due(recv)
    assert due == date(2026, 3, 9)
    assert rules.state(due, None, None, None, due) == "accepting"
    assert rules.state(due, None, None, None, due + timedelta(days=1)) == "accept_overdue"
    answer = rules.answer_due(date(2026, 3, 4))
    assert rules.state(due, date(2026, 3, 4), answer, None, answer) == "answering"
    assert rules.state(due, date(2026, 3, 4), answer, None, answer + timedelta(days=1)) == "answer_overdue"
    assert rules.state(due, date(2026, 3, 4), answer, date(2026, 5, 1), date(2027, 1, 1)) == "answered"


def _ticket(client: TestClient, world: World) -> int:
    r = client.post("/api/v1/tickets", json={"type": "complaint", "subject": "话费多扣了"},
                    headers=world.auth("agent_gz"))
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _count(world: World) -> int:
    with world.db.session() as s:
        return s.scalar(select(func.count()).select_from(Appeal)) or 0


def test_record_list_accept_and_answer_an_appeal(client: TestClient, world: World) -> None:
    tid = _ticket(client, world)
    today = datetime.now(UTC).date()
    login(client, "sup_gd")
    page = client.get(f"/console/tickets/{tid}").text
    form = page.split('id="record-appeal"')[1].split("</form>")[0]
    assert '<option value="miit_12300">工信部 12300</option>' in form
    assert '<option value="media">媒体曝光</option>' in form
    csrf = csrf_of(page)
    url = f"/console/complaints/tickets/{tid}/appeals"
    for bad in ({"source": "miit_12300", "received_on": "2026-13-01"},  # not a date
                {"source": "miit_12300", "received_on": ""},  # missing
                {"source": "mayor", "received_on": str(today)},  # unknown source
                {"source": "miit_12300", "received_on": str(today - timedelta(days=3))}):  # before the ticket
        r = client.post(url, data={"csrf_token": csrf, **bad}, follow_redirects=False)
        assert 400 <= r.status_code < 500, bad
    assert _count(world) == 0
    r = client.post(url, data={"csrf_token": csrf, "source": "miit_12300", "received_on": str(today),
                               "reference": "GX-7", "about_charges": "1"}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == f"/console/tickets/{tid}"
    assert _count(world) == 1
    page = client.get(f"/console/tickets/{tid}").text
    item = page.split('id="ticket-appeals"')[1].split("</ul>")[0]
    assert "工信部 12300" in item
    assert "GX-7" in item
    assert "待受理" in item
    assert f"受理期限 {rules.acceptance_due(today)}" in " ".join(item.split())

    listing = client.get("/console/complaints/appeals").text
    row = listing.split('id="appeals"')[1].split("</table>")[0]
    assert f"#{tid}" in row
    assert str(rules.acceptance_due(today)) in row
    assert 'data-state="accepting"' in row
    aid = int(row.split('data-appeal="')[1].split('"')[0])
    csrf = csrf_of(listing)
    r = client.post(f"/console/complaints/appeals/{aid}",
                    data={"csrf_token": csrf, "accepted_on": str(today - timedelta(days=1))})
    assert r.status_code == 422  # accepted before it was received
    r = client.post(f"/console/complaints/appeals/{aid}", data={"csrf_token": csrf, "accepted_on": str(today)},
                    follow_redirects=False)
    assert r.status_code == 303
    row = client.get("/console/complaints/appeals").text.split('id="appeals"')[1]
    assert 'data-state="answering"' in row
    assert str(rules.answer_due(today)) in row
    assert '<option value="partly_upheld">部分成立</option>' in row
    r = client.post(f"/console/complaints/appeals/{aid}",
                    data={"csrf_token": csrf, "answered_on": str(today), "outcome": "partly_upheld"},
                    follow_redirects=False)
    assert r.status_code == 303
    assert 'id="no-appeals"' in client.get("/console/complaints/appeals").text  # answered: not open any more
    client.cookies.set(LANG_COOKIE, "en")
    row = client.get("/console/complaints/appeals?show=all").text.split('id="appeals"')[1]
    assert 'data-state="answered"' in row
    assert "Partly upheld" in row
    assert "MIIT 12300" in row


def test_appeals_need_the_permission_and_stay_in_scope(client: TestClient, world: World) -> None:
    tid = _ticket(client, world)
    login(client, "agent_gz")  # agents do not record appeals
    page = client.get(f"/console/tickets/{tid}").text
    assert 'id="record-appeal"' not in page
    assert client.get("/console/complaints/appeals").status_code == 403
    r = client.post(f"/console/complaints/tickets/{tid}/appeals",
                    data={"csrf_token": csrf_of(page), "source": "media", "received_on": str(datetime.now(UTC).date())})
    assert r.status_code == 403
    assert _count(world) == 0
