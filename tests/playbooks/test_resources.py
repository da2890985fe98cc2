"""A playbook's resources (staff, scripts, the FAQ pushed to the front line, a compensation budget), its extra
queues opened in one action with the staff on them until the run ends, and customers told of the fault and of
its end on the channel they used, each once."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from kefu.interactions.models import Interaction, Message
from kefu.knowledge.models import PushDelivery
from kefu.org import service as org
from kefu.playbooks.models import PlaybookRun
from kefu.routing import service as routing
from tests.collaboration.support import console_login
from tests.conftest import World
from tests.knowledge.conftest import principal_of, publish
from tests.playbooks.support import make_outage, playbook_body

API = "/api/v1"
RESTORED = "【广东移动】您所在区域宽带故障已修复，感谢您的耐心等待。"


def _articles(world: World) -> tuple[int, int]:
    admin = principal_of(world.db, "admin")
    faq = publish(world.db, admin, {"title": "宽带大面积故障怎么答复", "body": "先安抚，再告知预计恢复时间。",
                                    "kind": "faq"})
    script = publish(world.db, admin, {"title": "断网安抚话术", "body": "非常抱歉给您带来不便……", "kind": "script"})
    return faq, script


def _queues(world: World) -> None:
    with world.db.unit_of_work() as s:
        for key, name, channel, is_open in (("voice_gz", "广州热线", "voice", True),
                                            ("voice_backup", "省热线后备", "voice", True),
                                            ("chat_extra", "在线增援", "chat", False)):
            routing.save_queue(s, None, routing.QueueSpec(key=key, name=name, channel=channel, open=is_open,
                                                          org_unit_id=world.units["province"]))
        sup = org.principal_for(s, org.user(s, world.users["sup_gd"]))  # type: ignore[arg-type]
        routing.update_agent(s, sup, world.users["agent_sz"], queues=["voice_backup"], channels={"voice": 1})
        routing.update_agent(s, sup, world.users["agent_gz"], queues=["voice_gz"], channels={"voice": 1, "chat": 2})


def _routing(world: World) -> dict[str, Any]:
    with world.db.session() as s:
        out: dict[str, Any] = {q.key: q.open for q in routing.queues(s)}
        for who in ("agent_gz", "agent_sz"):
            row = routing.default_profile(s, world.users[who])
            out[who] = (sorted(row.queues), dict(row.channels))
        return out


def test_resources_the_extra_queues_switch_and_the_faq_push(client: TestClient, world: World) -> None:
    outage = make_outage(world)
    faq, script = _articles(world)
    _queues(world)
    body = playbook_body(world, outage, trigger="manual", staff_ids=[world.users["agent_sz"], world.users["agent_gz"]],
                         script_article_ids=[script], faq_article_id=faq, budget_yuan=50000,
                         extra_queues=["chat_extra", "voice_gz"], restore_template=RESTORED)
    r = client.post(f"{API}/playbooks", json=body, headers=world.auth("admin"))
    assert r.status_code == 201, r.text
    got = r.json()
    assert (got["staff_ids"], got["script_article_ids"], got["faq_article_id"], got["budget_yuan"],
            got["extra_queues"], got["restore_template"]) == (
        sorted([world.users["agent_sz"], world.users["agent_gz"]]), [script], faq, 50000,
        ["chat_extra", "voice_gz"], RESTORED)
    # what cannot be a resource is refused, naming the field
    for bad, field in (({"faq_article_id": 10**9}, "faq_article_id"), ({"extra_queues": ["nope"]}, "extra_queues"),
                       ({"staff_ids": [10**9]}, "staff_ids")):
        r = client.put(f"{API}/playbooks/{got['id']}", json={**body, **bad}, headers=world.auth("admin"))
        assert (r.status_code, r.json()["error"]["details"]["field"]) == (422, field), r.text
    r = client.put(f"{API}/playbooks/{got['id']}", json={**body, "budget_yuan": -1}, headers=world.auth("admin"))
    assert r.status_code == 422

    before = _routing(world)
    assert (before["chat_extra"], before["voice_gz"]) == (False, True)
    run = client.post(f"{API}/playbooks/{got['id']}/runs", json={"org_unit_id": world.units["gz"]},
                      headers=world.auth("sup_gd")).json()
    rid = run["id"]
    r = client.post(f"{API}/playbook-runs/{rid}/switches", json={"switch": "extra", "on": True},
                    headers=world.auth("sup_gd"))
    assert r.status_code == 200, r.text
    assert r.json()["switches"]["extra"] == {
        "queues": ["chat_extra", "voice_gz"], "opened": ["chat_extra"],
        "staff": {str(world.users["agent_sz"]): {"queues": ["chat_extra", "voice_gz"], "media": ["chat"]},
                  str(world.users["agent_gz"]): {"queues": ["chat_extra"], "media": []}},
        "media": ["chat", "voice"], "staff_ids": sorted([world.users["agent_sz"], world.users["agent_gz"]])}
    during = _routing(world)
    assert (during["chat_extra"], during["voice_gz"]) == (True, True)
    assert during["agent_sz"] == (["chat_extra", "voice_backup", "voice_gz"], {"voice": 1, "chat": 1})
    assert during["agent_gz"] == (["chat_extra", "voice_gz"], {"voice": 1, "chat": 2})
    r = client.post(f"{API}/playbook-runs/{rid}/switches", json={"switch": "extra", "on": True},
                    headers=world.auth("sup_gd"))
    assert (r.status_code, r.json()["error"]["code"]) == (409, "playbook_switch_unavailable")

    # the FAQ goes to the front line of the run's unit (广州: its agent), with the script as the handling plan
    r = client.post(f"{API}/playbook-runs/{rid}/faq-push", headers=world.auth("agent_gz"))
    assert r.status_code == 403
    r = client.post(f"{API}/playbook-runs/{rid}/faq-push", headers=world.auth("sup_gd"))
    assert r.status_code == 201, r.text
    with world.db.session() as s:
        assert list(s.scalars(select(PushDelivery.user_id).where(PushDelivery.topic_id == r.json()["topic_id"]))) \
            == [world.users["agent_gz"]]
    inbox = client.get(f"{API}/knowledge/pushes/inbox", headers=world.auth("agent_gz")).json()
    assert [(x["faq_article_id"], x["plan_article_id"]) for x in inbox["items"]] == [(faq, script)]
    r = client.post(f"{API}/playbook-runs/{rid}/faq-push", headers=world.auth("sup_gd"))
    assert (r.status_code, r.json()["error"]["code"]) == (409, "playbook_faq_pushed")

    # compensation granted on the run's linked tickets counts against its budget; on other tickets it does not
    r = client.post(f"{API}/playbook-runs/{rid}/tickets", json={"ticket_id": outage.tickets[0]},
                    headers=world.auth("agent_gz"))
    assert r.status_code == 201
    for tid, amount in ((outage.tickets[0], "20"), (outage.tickets[1], "30")):
        r = client.post(f"{API}/complaints/tickets/{tid}/compensations", headers=world.auth("agent_gz"),
                        json={"kind": "bill_credit", "amount": amount})
        assert r.status_code == 201, r.text
    assert client.get(f"{API}/playbook-runs/{rid}", headers=world.auth("sup_gd")).json()["measures"][
        "compensation_yuan"] == 20.0

    # the end switches the extra queues off: what the run opened closes, what it added is taken away
    r = client.post(f"{API}/playbook-runs/{rid}/end", json={"review": "恢复"}, headers=world.auth("sup_gd"))
    assert r.json()["switches"] is None
    assert _routing(world) == before
    assert [e["kind"] for e in r.json()["timeline"]] == ["activated", "switch_on", "faq_pushed", "ticket_linked",
                                                         "switch_off", "ended"]


def _notices(world: World) -> list[tuple[int | None, str, str]]:
    """(customer, channel, body) of every outbound message (the notices), in order."""
    with world.db.session() as s:
        rows = s.execute(select(Interaction.customer_id, Message.channel, Message.body)
                         .join(Interaction, Interaction.id == Message.interaction_id)
                         .where(Message.direction == "outbound").order_by(Message.id))
        return [(c, ch, b) for c, ch, b in rows]


def test_customers_are_told_of_the_fault_and_of_its_end_once_each(client: TestClient, world: World) -> None:
    from kefu.customers import service as customers
    from kefu.tickets import service as tickets

    outage = make_outage(world)
    body = playbook_body(world, outage, trigger="manual", restore_template="{category}故障已修复。")
    pid = client.post(f"{API}/playbooks", json=body, headers=world.auth("admin")).json()["id"]
    rid = client.post(f"{API}/playbooks/{pid}/runs", json={}, headers=world.auth("sup_gd")).json()["id"]
    a, b, billing_customer = outage.customers  # a called (voice), b wrote on WeChat, the third is about billing
    r = client.post(f"{API}/playbook-runs/{rid}/notices", json={"body": "故障抢修中"}, headers=world.auth("sup_gd"))
    assert r.json() == {"messages": 2}
    assert _notices(world) == [(a, "sms", "故障抢修中"), (b, "wechat", "故障抢修中")]
    # sending again tells nobody twice
    r = client.post(f"{API}/playbook-runs/{rid}/notices", json={"body": "故障抢修中"}, headers=world.auth("sup_gd"))
    assert r.json() == {"messages": 0}
    # a customer whose ticket is linked by hand (billing, outside the scope) is affected too, and told once
    r = client.post(f"{API}/playbook-runs/{rid}/tickets", json={"ticket_id": outage.tickets[2]},
                    headers=world.auth("agent_gz"))
    assert r.status_code == 201
    with world.db.unit_of_work() as s:  # and a new caller in scope
        c, _ = customers.identify(s, kind="phone", value="13800138009", org_unit_id=world.units["gz"])
        t = tickets.create_ticket(s, type="complaint", subject="又断网", org_unit_id=world.units["gz"],
                                  customer_id=c.id, channel="voice")
        t.category_id = outage.broadband
        late = c.id
    r = client.post(f"{API}/playbook-runs/{rid}/notices", json={"body": "更新：今晚恢复"},
                    headers=world.auth("sup_gd"))
    assert r.json() == {"messages": 2}
    assert _notices(world)[2:] == [(billing_customer, "sms", "更新：今晚恢复"), (late, "sms", "更新：今晚恢复")]
    r = client.post(f"{API}/playbook-runs/{rid}/notices", json={"body": "x", "state": "over"},
                    headers=world.auth("sup_gd"))
    assert (r.status_code, r.json()["error"]["details"]["field"]) == (422, "state")

    # the end tells every affected customer the fault is over, from the playbook's template, once
    r = client.post(f"{API}/playbook-runs/{rid}/end", json={"review": "已修复", "tell_restored": True},
                    headers=world.auth("sup_gd"))
    assert r.status_code == 200, r.text
    restored = _notices(world)[4:]
    assert sorted(restored) == sorted([(a, "sms", "宽带与固网故障已修复。"), (b, "wechat", "宽带与固网故障已修复。"),
                                       (billing_customer, "sms", "宽带与固网故障已修复。"),
                                       (late, "sms", "宽带与固网故障已修复。")])
    told = r.json()["told"]
    assert sorted((x["customer_id"], x["state"]) for x in told) == sorted(
        [(a, "fault"), (b, "fault"), (billing_customer, "fault"), (late, "fault"),
         (a, "restored"), (b, "restored"), (billing_customer, "restored"), (late, "restored")])
    assert r.json()["measures"]["notices"] == 4  # three fault sends (one reaching nobody) and the restoration


def test_the_console_edits_resources_with_choosers_and_shows_them_on_the_run(client: TestClient,
                                                                             world: World) -> None:
    outage = make_outage(world)
    faq, script = _articles(world)
    _queues(world)
    csrf = console_login(client, "admin")
    page = client.get("/console/playbooks/admin").text
    for shown in ("宽带大面积故障怎么答复", "断网安抚话术", "在线增援", "深圳坐席"):  # choosers by name
        assert shown in page
    r = client.post("/console/playbooks/admin", follow_redirects=False, data={
        "csrf_token": csrf, "key": "bb", "name": "宽带故障预案", "trigger": "manual",
        "category_id": str(outage.broadband), "org_unit_id": str(world.units["province"]), "active": "1",
        "notice_template": "{category}故障抢修中", "restore_template": "{category}故障已修复",
        "staff_ids": [str(world.users["agent_sz"])], "script_article_ids": [str(script)],
        "faq_article_id": str(faq), "budget_yuan": "20000", "extra_queues": ["chat_extra"],
        "step0_title": "确认故障范围", "step0_role": "support", "step0_due": "15"})
    assert r.status_code == 303, r.text
    book = client.get(f"{API}/playbooks", headers=world.auth("admin")).json()[0]
    assert (book["staff_ids"], book["script_article_ids"], book["faq_article_id"], book["budget_yuan"],
            book["extra_queues"]) == ([world.users["agent_sz"]], [script], faq, 20000, ["chat_extra"])
    page = client.get(f"/console/playbooks/admin?edit={book['id']}").text
    assert f'<option value="{faq}" selected>' in page
    client.post("/logout", data={"csrf_token": csrf})

    csrf = console_login(client, "sup_gd")
    r = client.post("/console/playbooks/start", follow_redirects=False, data={
        "csrf_token": csrf, "playbook_id": str(book["id"]), "org_unit_id": str(world.units["gz"])})
    run_url = r.headers["location"]
    page = client.get(run_url).text
    assert '<b id="budget-used">0.00</b>' in page
    for shown in ("深圳坐席", "断网安抚话术", "宽带大面积故障怎么答复", "20000 元", "在线增援", "开启增援队列",
                  "宽带与固网故障已修复"):
        assert shown in page, shown
    assert '<b id="untold-count">2</b>' in page
    client.post(f"{run_url}/faq-push", data={"csrf_token": csrf})
    client.post(f"{run_url}/switches", data={"csrf_token": csrf, "switch": "extra", "on": "1"})
    client.post(f"{run_url}/notice", data={"csrf_token": csrf, "body": "宽带与固网故障抢修中"})
    page = client.get(run_url).text
    assert "已推送 · 1 人" in page
    assert '<b id="untold-count">0</b>' in page
    assert '<b data-told="fault">2</b>' in page
    assert _routing(world)["chat_extra"] is True
    r = client.post(f"{run_url}/end", follow_redirects=False, data={
        "csrf_token": csrf, "review": "修复", "tell_restored": "1", "restored_body": "宽带与固网故障已修复"})
    assert r.status_code == 303
    page = client.get(run_url).text
    assert '<b data-told="restored">2</b>' in page
    assert "恢复通知 · 2 位客户" in page
    assert _routing(world)["chat_extra"] is False


def _run_with_extra(client: TestClient, world: World, body: dict[str, Any]) -> int:
    book = client.post(f"{API}/playbooks", json=body, headers=world.auth("admin"))
    assert book.status_code == 201, book.text
    rid: int = client.post(f"{API}/playbooks/{book.json()['id']}/runs", json={"org_unit_id": world.units["gz"]},
                           headers=world.auth("sup_gd")).json()["id"]
    r = client.post(f"{API}/playbook-runs/{rid}/switches", json={"switch": "extra", "on": True},
                    headers=world.auth("sup_gd"))
    assert r.status_code == 200, r.text
    return rid


def _end(client: TestClient, world: World, rid: int) -> None:
    r = client.post(f"{API}/playbook-runs/{rid}/end", json={"review": "恢复"}, headers=world.auth("sup_gd"))
    assert (r.status_code, r.json()["switches"]) == (200, None)


def test_two_runs_holding_the_same_extra_queue_close_it_only_when_both_have_ended(
        client: TestClient, world: World) -> None:
    """Run A opens 在线增援 and puts agent_sz on it (with a chat place); run B, of another playbook, names the
    same queue and the same person and finds it all done. Ending A leaves everything to B; ending B undoes
    it. The other way round, ending B first changes nothing and ending A undoes it."""
    outage = make_outage(world)
    _queues(world)
    before = _routing(world)
    sz = world.users["agent_sz"]
    opened = (["chat_extra", "voice_backup"], {"voice": 1, "chat": 1})
    for first, second in (("a", "b"), ("b", "a")):
        runs = {name: _run_with_extra(client, world, playbook_body(
            world, outage, key=f"bb-outage-{name}-{first}", trigger="manual", staff_ids=[sz],
            extra_queues=["chat_extra"])) for name in ("a", "b")}
        during = _routing(world)
        assert (during["chat_extra"], during["agent_sz"]) == (True, opened)
        if first == "a":  # B switched on before runs kept their media and staff: they are worked out
            with world.db.unit_of_work() as s:
                b = s.get(PlaybookRun, runs["b"])
                assert b is not None
                assert b.switches is not None
                b.switches = {"extra": {k: v for k, v in b.switches["extra"].items()
                                        if k not in ("media", "staff_ids")}}
        _end(client, world, runs[first])
        after_first = _routing(world)
        assert (after_first["chat_extra"], after_first["agent_sz"]) == (True, opened)
        _end(client, world, runs[second])
        assert _routing(world) == before
