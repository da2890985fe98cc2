"""Interactions: the agent's reply, closing, call times, the inbox, scope and masking, the timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from kefu.channels import inbound
from kefu.channels.inbound import InboundMessage
from kefu.core.config import Settings
from kefu.core.db import Database
from kefu.core.errors import KefuError
from kefu.core.events import OutboxEvent
from kefu.interactions import service
from kefu.interactions.models import Interaction, Message
from kefu.tickets.models import Ticket
from tests.channels.support import E164, counts, post_inbound
from tests.conftest import World

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _sms(client: TestClient, world: World, message_id: str = "sms-1", **kw: Any) -> dict[str, Any]:
    r = post_inbound(client, world, "sms", message_id=message_id, **kw)
    assert r.status_code in (200, 201), r.text
    body: dict[str, Any] = r.json()
    return body


def test_agent_reply_is_outbound_on_the_same_channel_and_sets_first_reply_at(client: TestClient,
                                                                             world: World) -> None:
    got = _sms(client, world, text="宽带断了")
    r = client.post(f"/api/v1/interactions/{got['interaction_id']}/messages", json={"body": " 已为您报修 "},
                    headers=world.auth("agent_gz"))

    assert r.status_code == 201
    sent = r.json()
    assert (sent["interaction_id"], sent["channel"], sent["direction"], sent["body"], sent["author_id"],
            sent["sender"], sent["external_id"]) == (got["interaction_id"], "sms", "outbound", "已为您报修",
                                                     world.users["agent_gz"], None, None)
    with world.db.session() as s:
        it = s.get(Interaction, got["interaction_id"])
        t = s.get(Ticket, got["ticket_id"])
        m = s.get(Message, sent["id"])
        assert it is not None
        assert t is not None
        assert m is not None
        assert (it.answered_at, it.agent_id, it.last_message_at) == (m.created_at, world.users["agent_gz"],
                                                                     m.created_at)
        assert t.first_reply_at == m.created_at
        ev = s.scalars(select(OutboxEvent).where(OutboxEvent.name == "message.sent")).one()
        assert (ev.aggregate_type, ev.aggregate_id, ev.org_unit_id) == ("interaction", it.id,
                                                                        world.units["gz"])
        assert ev.payload == {"interaction_id": it.id, "message_id": m.id, "channel": "sms", "to": E164,
                              "customer_id": got["customer_id"], "ticket_id": got["ticket_id"],
                              "author_id": world.users["agent_gz"]}


def test_second_reply_keeps_the_first_answer_times(db: Database, settings: Settings, world: World) -> None:
    from kefu.org import service as org
    from kefu.org.models import User

    with db.unit_of_work() as s:
        got = inbound.receive(s, settings, "sms", InboundMessage(message_id="m-1", sender="13812345678",
                                                                 text="你好"), at=T0)
        gz = org.principal_for(s, s.get(User, world.users["agent_gz"]))  # type: ignore[arg-type]
        sup = org.principal_for(s, s.get(User, world.users["sup_gd"]))  # type: ignore[arg-type]
        service.reply(s, got.interaction_id, body="第一", actor=gz, at=T0 + timedelta(seconds=30))
        service.reply(s, got.interaction_id, body="第二", actor=sup, at=T0 + timedelta(seconds=90))
    with db.session() as s:
        it = s.get(Interaction, got.interaction_id)
        t = s.get(Ticket, got.ticket_id)
        assert it is not None
        assert t is not None
        assert (it.answered_at, it.agent_id, it.last_message_at) == (
            T0 + timedelta(seconds=30), world.users["agent_gz"], T0 + timedelta(seconds=90))
        assert t.first_reply_at == T0 + timedelta(seconds=30)


def test_interaction_detail_lists_the_conversation_in_order(client: TestClient, world: World) -> None:
    got = _sms(client, world, text="一")
    client.post(f"/api/v1/interactions/{got['interaction_id']}/messages", json={"body": "二"},
                headers=world.auth("agent_gz"))
    _sms(client, world, "sms-2", text="三")

    r = client.get(f"/api/v1/interactions/{got['interaction_id']}", headers=world.auth("agent_gz"))
    assert r.status_code == 200
    d = r.json()
    assert (d["channel"], d["status"], d["ticket_id"], d["customer_id"]) == (
        "sms", "open", got["ticket_id"], got["customer_id"])
    assert [(m["direction"], m["body"], m["sender"]) for m in d["messages"]] == [
        ("inbound", "一", E164), ("outbound", "二", None), ("inbound", "三", E164)]


def test_roles_without_pii_see_the_sender_number_masked(client: TestClient, world: World) -> None:
    got = _sms(client, world)
    r = client.get(f"/api/v1/interactions/{got['interaction_id']}", headers=world.auth("analyst"))
    assert r.status_code == 200
    assert [m["sender"] for m in r.json()["messages"]] == ["138****5678"]


def test_roles_without_pii_see_an_email_sender_masked(client: TestClient, world: World) -> None:
    got = post_inbound(client, world, "email", message_id="<m1@mail.example>", sender="zhang.san@example.com")
    assert got.status_code == 201, got.text
    iid = got.json()["interaction_id"]
    analyst = client.get(f"/api/v1/interactions/{iid}", headers=world.auth("analyst")).json()
    agent = client.get(f"/api/v1/interactions/{iid}", headers=world.auth("agent_gz")).json()
    assert [m["sender"] for m in analyst["messages"]] == ["z***@example.com"]
    assert [m["sender"] for m in agent["messages"]] == ["zhang.san@example.com"]


def test_agent_in_shenzhen_cannot_read_or_answer_a_guangzhou_interaction(client: TestClient,
                                                                         world: World) -> None:
    got = _sms(client, world, org_unit_code="GZ")
    iid = got["interaction_id"]
    h = world.auth("agent_sz")

    read = client.get(f"/api/v1/interactions/{iid}", headers=h)
    assert read.status_code == 404
    assert read.json()["error"] == {"code": "interaction_not_found",
                                    "message": f"interaction {iid} not found", "details": {}}
    assert client.post(f"/api/v1/interactions/{iid}/messages", json={"body": "x"},
                       headers=h).status_code == 404
    assert client.post(f"/api/v1/interactions/{iid}/close", json={"outcome": "answered"},
                       headers=h).status_code == 404
    assert client.get(f"/api/v1/customers/{got['customer_id']}/timeline", headers=h).status_code == 404
    assert client.get("/api/v1/interactions", headers=h).json()["total"] == 0
    assert counts(world.db)["messages"] == 1
    assert client.get(f"/api/v1/interactions/{iid}", headers=world.auth("agent_gz")).status_code == 200


def test_close_records_outcome_and_end_and_a_closed_interaction_takes_no_reply(client: TestClient,
                                                                              world: World) -> None:
    got = _sms(client, world)
    iid = got["interaction_id"]
    h = world.auth("agent_gz")

    r = client.post(f"/api/v1/interactions/{iid}/close", json={"outcome": "self_served"}, headers=h)
    assert r.status_code == 200
    assert (r.json()["status"], r.json()["outcome"]) == ("closed", "self_served")
    assert r.json()["ended_at"] is not None

    again = client.post(f"/api/v1/interactions/{iid}/close", json={"outcome": "answered"}, headers=h)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "interaction_closed"
    reply = client.post(f"/api/v1/interactions/{iid}/messages", json={"body": "迟到的回复"}, headers=h)
    assert reply.status_code == 409
    assert reply.json()["error"]["code"] == "interaction_closed"
    with world.db.session() as s:
        it = s.get(Interaction, iid)
        assert it is not None
        assert (it.outcome, it.answered_at) == ("self_served", None)
        assert s.scalars(select(OutboxEvent.name).where(OutboxEvent.name.like("interaction.%"))
                         .order_by(OutboxEvent.id)).all() == ["interaction.opened", "interaction.closed"]
    assert counts(world.db)["messages"] == 1

    # The customer writes again: a new contact on the same open ticket.
    later = _sms(client, world, "sms-2", text="还有问题")
    assert later["interaction_id"] != iid
    assert later["ticket_id"] == got["ticket_id"]


def test_unknown_outcome_is_422_and_changes_nothing(client: TestClient, world: World) -> None:
    got = _sms(client, world)
    r = client.post(f"/api/v1/interactions/{got['interaction_id']}/close", json={"outcome": "happy"},
                    headers=world.auth("agent_gz"))
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid_outcome"
    assert client.get(f"/api/v1/interactions/{got['interaction_id']}",
                      headers=world.auth("agent_gz")).json()["status"] == "open"


def test_analyst_may_read_but_not_reply(client: TestClient, world: World) -> None:
    got = _sms(client, world)
    r = client.post(f"/api/v1/interactions/{got['interaction_id']}/messages", json={"body": "x"},
                    headers=world.auth("analyst"))
    assert r.status_code == 403
    assert r.json()["error"]["details"] == {"permission": "interactions.write"}


def test_empty_reply_is_422_naming_the_field(client: TestClient, world: World) -> None:
    got = _sms(client, world)
    r = client.post(f"/api/v1/interactions/{got['interaction_id']}/messages", json={"body": ""},
                    headers=world.auth("agent_gz"))
    assert r.status_code == 422
    assert [f["field"] for f in r.json()["error"]["details"]["fields"]] == ["body"]


def test_call_times_are_recorded_and_an_unanswered_call_ends_abandoned(db: Database, settings: Settings,
                                                                       world: World) -> None:
    def call(call_id: str, event_id: str) -> InboundMessage:
        return InboundMessage(message_id=event_id, sender="13812345678", text="来电", thread_ref=call_id)

    with db.unit_of_work() as s:
        answered = inbound.receive(s, settings, "voice", call("call-1", "call-1/offered"), at=T0)
        service.update_times(s, answered.interaction_id, queued_at=T0 + timedelta(seconds=8))
        service.update_times(s, answered.interaction_id, answered_at=T0 + timedelta(seconds=20),
                             agent_id=world.users["agent_gz"])
        service.update_times(s, answered.interaction_id, ended_at=T0 + timedelta(minutes=4))
    with db.unit_of_work() as s:
        dropped = inbound.receive(s, settings, "voice", call("call-2", "call-2/offered"),
                                  at=T0 + timedelta(hours=1))
        service.update_times(s, dropped.interaction_id, queued_at=T0 + timedelta(hours=1, seconds=5),
                             ended_at=T0 + timedelta(hours=1, seconds=65))
    assert dropped.interaction_id != answered.interaction_id
    with db.session() as s:
        a = s.get(Interaction, answered.interaction_id)
        d = s.get(Interaction, dropped.interaction_id)
        assert a is not None
        assert d is not None
        assert (a.offered_at, a.queued_at, a.answered_at, a.ended_at, a.status, a.outcome, a.agent_id) == (
            T0, T0 + timedelta(seconds=8), T0 + timedelta(seconds=20), T0 + timedelta(minutes=4), "closed",
            "answered", world.users["agent_gz"])
        assert (d.answered_at, d.ended_at, d.outcome, d.external_ref) == (
            None, T0 + timedelta(hours=1, seconds=65), "abandoned", "call-2")
        names = s.scalars(select(OutboxEvent.name).where(OutboxEvent.aggregate_id == a.id,
                                                         OutboxEvent.aggregate_type == "interaction")
                          .order_by(OutboxEvent.id)).all()
    assert names == ["interaction.opened", "message.received", "interaction.updated", "interaction.updated",
                     "interaction.closed"]


def test_update_times_refuses_an_unknown_outcome_before_changing_anything(db: Database, settings: Settings,
                                                                          world: World) -> None:
    with db.unit_of_work() as s:
        got = inbound.receive(s, settings, "voice", InboundMessage(message_id="c/1", sender="13812345678",
                                                                   text="来电", thread_ref="c"), at=T0)
    with db.session() as s:
        with pytest.raises(KefuError) as exc:
            service.update_times(s, got.interaction_id, queued_at=T0, ended_at=T0, outcome="lost")
        # checked before any write: in this very session, before any rollback, nothing has changed
        it = s.get(Interaction, got.interaction_id)
        assert it is not None
        assert (it.queued_at, it.ended_at, it.status) == (None, None, "open")
        assert not s.dirty
        assert not s.new
    assert exc.value.code == "invalid_outcome"


def test_inbox_lists_interactions_in_scope_latest_activity_first_with_filters(client: TestClient,
                                                                            world: World) -> None:
    gz = _sms(client, world, "sms-1", text="广州短信")
    sz = _sms(client, world, "sms-2", sender="13912345678", org_unit_code="SZ", text="深圳短信")
    wx = post_inbound(client, world, "wechat", message_id="wx-1", sender="oWx_1", org_unit_code="GZ",
                      text="微信消息").json()
    _sms(client, world, "sms-3", text="广州又一条")  # the GZ sms thread is now the latest activity

    sup = client.get("/api/v1/interactions", headers=world.auth("sup_gd")).json()
    assert (sup["total"], sup["limit"], sup["offset"]) == (3, 50, 0)
    assert [(i["id"], i["last_message"]) for i in sup["items"]] == [
        (gz["interaction_id"], "广州又一条"), (wx["interaction_id"], "微信消息"),
        (sz["interaction_id"], "深圳短信")]

    agent = client.get("/api/v1/interactions", headers=world.auth("agent_gz")).json()
    assert [i["id"] for i in agent["items"]] == [gz["interaction_id"], wx["interaction_id"]]

    def ids(query: str) -> list[int]:
        r = client.get(f"/api/v1/interactions?{query}", headers=world.auth("sup_gd"))
        assert r.status_code == 200, r.text
        return [i["id"] for i in r.json()["items"]]

    assert ids("channel=wechat") == [wx["interaction_id"]]
    assert ids(f"org_unit_id={world.units['sz']}") == [sz["interaction_id"]]
    assert ids(f"customer_id={sz['customer_id']}") == [sz["interaction_id"]]
    assert ids(f"ticket_id={gz['ticket_id']}") == [gz["interaction_id"]]
    assert ids("status=closed") == []
    assert ids("limit=1&offset=1") == [wx["interaction_id"]]
    bad = client.get("/api/v1/interactions?channel=fax", headers=world.auth("sup_gd"))
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "unknown_channel")
    outside = client.get(f"/api/v1/interactions?org_unit_id={world.units['sz']}",
                         headers=world.auth("agent_gz"))
    assert outside.status_code == 404


def test_timeline_pages_backwards_in_time(db: Database, settings: Settings, client: TestClient,
                                          world: World) -> None:
    with db.unit_of_work() as s:
        first = inbound.receive(s, settings, "sms", InboundMessage(message_id="m-1", sender="13812345678",
                                                                   text="第一次"), at=T0)
    with db.unit_of_work() as s:
        service.close(s, first.interaction_id, outcome="replied", at=T0 + timedelta(hours=1))
    with db.unit_of_work() as s:
        inbound.receive(s, settings, "sms", InboundMessage(message_id="m-2", sender="13812345678",
                                                           text="第二次"), at=T0 + timedelta(days=1))
    h = world.auth("agent_gz")
    url = f"/api/v1/customers/{first.customer_id}/timeline"
    page1 = client.get(url, params={"limit": 2}, headers=h).json()
    assert [(e["kind"], e["summary"], e["at"], e["status"]) for e in page1["items"]] == [
        ("interaction", "第二次", "2026-03-03T09:00:00Z", "open"),
        ("interaction", "第一次", "2026-03-02T09:00:00Z", "closed")]
    page2 = client.get(url, params={"limit": 2, "offset": 2}, headers=h).json()
    assert [(e["kind"], e["summary"], e["status"], e["ticket_id"]) for e in page2["items"]] == [
        ("ticket", "第一次", "new", first.ticket_id)]
    before = client.get(url, params={"before": "2026-03-03T09:00:00Z"}, headers=h).json()
    assert [(e["kind"], e["outcome"]) for e in before["items"]] == [("interaction", "replied"),
                                                                     ("ticket", None)]


def test_inbox_page_costs_the_same_statements_however_many_interactions(db: Database, settings: Settings,
                                                                        world: World) -> None:
    from sqlalchemy import event

    from kefu.org import service as org
    from kefu.org.models import User

    def add(n: int, start: int) -> None:
        with db.unit_of_work() as s:
            for i in range(start, start + n):
                msg = InboundMessage(message_id=f"m-{i}", sender=f"+86139{i:08d}", text=f"第{i}条")
                inbound.receive(s, settings, "sms", msg, at=T0 + timedelta(minutes=i))

    def statements() -> int:
        seen: list[str] = []

        def count(_c: object, _cur: object, sql: str, *_a: object) -> None:
            seen.append(sql)

        with db.session() as s:
            sup = org.principal_for(s, s.get(User, world.users["sup_gd"]))  # type: ignore[arg-type]
            event.listen(db.engine, "before_cursor_execute", count)
            try:
                rows, _total = service.list_interactions(s, sup, service.InteractionFilters())
                service.last_messages(s, (r.id for r in rows))
            finally:
                event.remove(db.engine, "before_cursor_execute", count)
        return len(seen)

    add(2, 0)
    few = statements()
    add(6, 2)
    assert statements() == few == 4  # units in scope, total, page, last messages
