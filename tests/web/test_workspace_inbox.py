"""The inbox as the agent's workspace: open work by default, 我的工作, a supervisor's team and queue views."""

from __future__ import annotations

from fastapi.testclient import TestClient

from kefu.core.db import Database
from kefu.routing import service as routing
from kefu.tickets import service as tickets
from tests.web.conftest import Console, login
from tests.web.test_console_pages import ticket_ids


def test_the_inbox_defaults_to_open_work(client: TestClient, console: Console, db: Database) -> None:
    t = console.tickets
    with db.unit_of_work() as s:
        tickets.change_status(s, t["bill_sms"], "resolved", actor_id=None, reason="answered")
    login(client, "agent_gz")
    r = client.get("/console/inbox")
    assert ticket_ids(r.text) == [t["complaint"]]  # the resolved one is not open work
    assert ticket_ids(client.get("/console/inbox?status=all").text) == [t["complaint"], t["bill_sms"]]


def test_my_work_lists_what_is_assigned_to_me(client: TestClient, console: Console, db: Database) -> None:
    t = console.tickets
    with db.unit_of_work() as s:
        tickets.assign(s, t["bill_sms"], assignee_id=console.world.users["agent_gz"], actor_id=None)
    login(client, "agent_gz")
    page = client.get("/console/inbox").text
    assert '<a href="/console/inbox?assignee=me" class="">我的工作</a>' in page
    r = client.get("/console/inbox?assignee=me")
    assert '<a href="/console/inbox?assignee=me" class="on">我的工作</a>' in r.text
    assert ticket_ids(r.text) == [t["bill_sms"]]
    assert 'name="queue"' not in r.text  # an agent has no queue view


def test_a_supervisor_picks_a_person_by_name_and_a_queue(client: TestClient, console: Console, db: Database) -> None:
    t, w = console.tickets, console.world
    with db.unit_of_work() as s:
        tickets.assign(s, t["bill_sms"], assignee_id=w.users["agent_gz"], actor_id=None)
        routing.ensure_defaults(s, w.units["province"])
    from tests.routing.flow import Flow

    flow = Flow(w, client.app.state.settings)  # type: ignore[attr-defined]
    flow.settle()  # the unowned tickets become work items in their queues
    login(client, "sup_gd")
    page = client.get("/console/inbox").text
    with db.session() as s:
        from kefu.org import service as org

        name = org.user(s, w.users["agent_gz"]).display_name  # type: ignore[union-attr]
    assert f'<option value="{w.users["agent_gz"]}">{name}</option>' in page
    assert '<option value="complaints">投诉处理</option>' in page
    assert ticket_ids(client.get(f"/console/inbox?assignee={w.users['agent_gz']}").text) == [t["bill_sms"]]
    assert ticket_ids(client.get("/console/inbox?queue=complaints").text) == [t["complaint"]]
    assert ticket_ids(client.get("/console/inbox?queue=chat").text) == [t["broadband_wx"]]  # WeChat is chat
    assert ticket_ids(client.get("/console/inbox?queue=messages").text) == []  # bill_sms has an owner
    r = client.get("/console/inbox?queue=nope")
    assert "筛选条件无效" in r.text
    assert ticket_ids(r.text) == []
