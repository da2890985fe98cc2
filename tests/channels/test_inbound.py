"""The generic inbound endpoint: identify, thread, ticket; idempotent on the sender's message id."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select

from kefu.channels import inbound
from kefu.channels.inbound import InboundMessage
from kefu.core.config import Settings
from kefu.core.db import Database
from kefu.core.events import Event, OutboxEvent, bus
from kefu.customers.models import Customer, CustomerIdentity
from kefu.interactions.models import Interaction, Message
from kefu.tickets.models import Ticket, TicketTransition
from tests.channels.support import E164, counts, event_names, post_inbound
from tests.conftest import World

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_first_sms_from_a_new_number_creates_customer_interaction_and_ticket(client: TestClient,
                                                                             world: World) -> None:
    text = "我的话费这个月多扣了三十元，请帮我查一下是什么业务扣的费用，我没有订过任何增值业务，谢谢"
    assert len(text) > 40
    r = post_inbound(client, world, "sms", message_id="sms-1", sender="138 1234 5678", text=text)

    assert r.status_code == 201
    body = r.json()
    assert set(body) == {"customer_id", "interaction_id", "message_id", "ticket_id"}
    with world.db.session() as s:
        c = s.get(Customer, body["customer_id"])
        it = s.get(Interaction, body["interaction_id"])
        m = s.get(Message, body["message_id"])
        t = s.get(Ticket, body["ticket_id"])
        assert c is not None
        assert it is not None
        assert m is not None
        assert t is not None
        assert (c.phone, c.org_unit_id) == (E164, world.units["gz"])  # default: first city of first province
        assert (it.customer_id, it.org_unit_id, it.channel, it.direction, it.status) == (
            c.id, world.units["gz"], "sms", "inbound", "open")
        assert it.offered_at == it.last_message_at == m.created_at
        assert (it.answered_at, it.ended_at, it.outcome, it.ticket_id) == (None, None, None, t.id)
        assert (m.interaction_id, m.channel, m.direction, m.body, m.sender, m.external_id) == (
            it.id, "sms", "inbound", text, E164, "sms-1")
        assert (t.type, t.status, t.channel, t.customer_id, t.org_unit_id) == (
            "inquiry", "new", "sms", c.id, world.units["gz"])
        assert t.subject == text[:40] + "…"
        assert t.description == text
    assert counts(world.db) == {"customers": 1, "interactions": 1, "messages": 1, "tickets": 1,
                                "rejections": 0}
    assert event_names(world.db) == ["customer.created", "ticket.created", "interaction.opened",
                                     "message.received"]


def test_second_sms_threads_into_the_same_interaction_and_ticket(client: TestClient, world: World) -> None:
    first = post_inbound(client, world, "sms", message_id="sms-1", text="流量用得太快").json()
    second = post_inbound(client, world, "sms", message_id="sms-2", sender="+86 138-1234-5678", text="还在吗")

    assert second.status_code == 201
    body = second.json()
    assert (body["customer_id"], body["interaction_id"], body["ticket_id"]) == (
        first["customer_id"], first["interaction_id"], first["ticket_id"])
    assert body["message_id"] != first["message_id"]
    with world.db.session() as s:
        bodies = s.scalars(select(Message.body).where(Message.interaction_id == body["interaction_id"])
                           .order_by(Message.id)).all()
    assert bodies == ["流量用得太快", "还在吗"]
    assert counts(world.db) == {"customers": 1, "interactions": 1, "messages": 2, "tickets": 1,
                                "rejections": 0}
    assert event_names(world.db)[-2:] == ["message.received", "message.received"]


def test_same_message_id_twice_is_stored_once_and_answered_the_same(client: TestClient, world: World) -> None:
    r1 = post_inbound(client, world, "sms", message_id="sms-1", text="查询余额")
    events_after_first = event_names(world.db)
    r2 = post_inbound(client, world, "sms", message_id="sms-1", text="查询余额")

    assert (r1.status_code, r2.status_code) == (201, 200)
    assert r2.json() == r1.json()
    assert counts(world.db) == {"customers": 1, "interactions": 1, "messages": 1, "tickets": 1,
                                "rejections": 0}
    assert event_names(world.db) == events_after_first


def test_the_same_message_id_on_another_channel_is_another_message(client: TestClient, world: World) -> None:
    a = post_inbound(client, world, "sms", message_id="42", text="短信")
    b = post_inbound(client, world, "wechat", message_id="42", sender="oWx_openid_1", text="微信")
    assert (a.status_code, b.status_code) == (201, 201)
    assert a.json()["message_id"] != b.json()["message_id"]


def test_org_unit_code_places_a_new_customer_in_that_city(client: TestClient, world: World) -> None:
    r = post_inbound(client, world, "sms", message_id="sms-1", org_unit_code="SZ", customer_name="张三")
    with world.db.session() as s:
        c = s.get(Customer, r.json()["customer_id"])
        it = s.get(Interaction, r.json()["interaction_id"])
        assert c is not None
        assert it is not None
        assert (c.org_unit_id, c.name, it.org_unit_id) == (world.units["sz"], "张三", world.units["sz"])


def test_wechat_and_sms_are_different_customers_until_merged_then_one_timeline_newest_first(
        client: TestClient, world: World) -> None:
    wx = post_inbound(client, world, "wechat", message_id="wx-1", sender="oWx_openid_1",
                      text="宽带报修").json()
    sms = post_inbound(client, world, "sms", message_id="sms-1", text="宽带还是不通").json()
    assert wx["customer_id"] != sms["customer_id"]
    assert wx["ticket_id"] != sms["ticket_id"]

    h = world.auth("admin")
    merged = client.post(f"/api/v1/customers/{sms['customer_id']}/merge",
                         json={"merge_id": wx["customer_id"]}, headers=h)
    assert merged.status_code == 200

    r = client.get(f"/api/v1/customers/{sms['customer_id']}/timeline", headers=h)
    assert r.status_code == 200
    items = r.json()["items"]
    assert [(e["kind"], e["channel"], e["summary"]) for e in items] == [
        ("interaction", "sms", "宽带还是不通"),
        ("ticket", "sms", "宽带还是不通"),
        ("interaction", "wechat", "宽带报修"),
        ("ticket", "wechat", "宽带报修"),
    ]
    assert [e["customer_id"] for e in items] == [sms["customer_id"]] * 2 + [wx["customer_id"]] * 2
    assert (r.json()["limit"], r.json()["offset"]) == (50, 0)

    # After the merge the openid identifies the survivor, and its new message joins the survivor's ticket.
    again = post_inbound(client, world, "wechat", message_id="wx-2", sender="oWx_openid_1",
                         text="修好了吗").json()
    assert again["customer_id"] == sms["customer_id"]
    assert again["ticket_id"] == sms["ticket_id"]
    assert again["interaction_id"] not in (wx["interaction_id"], sms["interaction_id"])


def test_email_reply_threads_by_in_reply_to_and_a_new_thread_ref_opens_a_new_interaction(
        client: TestClient, world: World) -> None:
    first = post_inbound(client, world, "email", message_id="<a1@mail.example>", sender="Li.Si@Example.com",
                         subject="发票申请", text="请开具三月发票").json()
    reply = post_inbound(client, world, "email", message_id="<a2@mail.example>", sender="li.si@example.com",
                         thread_ref="<a1@mail.example>", text="补充：抬头是公司").json()
    other = post_inbound(client, world, "email", message_id="<b1@mail.example>", sender="li.si@example.com",
                         thread_ref="<unknown@elsewhere>", subject="Re: 旧邮件", text="另一件事").json()

    assert reply["interaction_id"] == first["interaction_id"]
    assert other["interaction_id"] != first["interaction_id"]
    assert first["customer_id"] == reply["customer_id"] == other["customer_id"]
    assert first["ticket_id"] == reply["ticket_id"] == other["ticket_id"]  # the customer's open case
    with world.db.session() as s:
        it = s.get(Interaction, first["interaction_id"])
        t = s.get(Ticket, first["ticket_id"])
        ident = s.scalars(select(CustomerIdentity.value).where(CustomerIdentity.kind == "email")).all()
        assert it is not None
        assert t is not None
        assert (it.subject, it.external_ref) == ("发票申请", "<a1@mail.example>")
        assert t.subject == "发票申请"
        assert ident == ["li.si@example.com"]


def test_customer_writing_on_a_ticket_waiting_on_them_moves_it_back_to_in_progress(
        client: TestClient, world: World) -> None:
    from kefu.tickets import service as tickets

    first = post_inbound(client, world, "sms", message_id="sms-1", text="套餐变更").json()
    with world.db.unit_of_work() as s:
        tickets.change_status(s, first["ticket_id"], "in_progress", actor_id=world.users["agent_gz"])
        tickets.change_status(s, first["ticket_id"], "waiting_customer", actor_id=world.users["agent_gz"])

    again = post_inbound(client, world, "sms", message_id="sms-2", text="我想换成128元套餐").json()

    assert again["ticket_id"] == first["ticket_id"]
    with world.db.session() as s:
        t = s.get(Ticket, first["ticket_id"])
        assert t is not None
        assert t.status == "in_progress"
        last = s.scalars(select(TicketTransition).where(TicketTransition.ticket_id == t.id)
                         .order_by(TicketTransition.id.desc())).first()
        assert last is not None
        assert (last.from_status, last.to_status, last.actor_id) == ("waiting_customer", "in_progress", None)


def test_message_after_the_ticket_was_closed_starts_a_new_interaction_and_ticket(
        client: TestClient, world: World) -> None:
    from kefu.tickets import service as tickets

    first = post_inbound(client, world, "sms", message_id="sms-1", text="退订彩铃").json()
    with world.db.unit_of_work() as s:
        tickets.change_status(s, first["ticket_id"], "closed", actor_id=world.users["agent_gz"],
                              reason="done")
    with world.db.unit_of_work() as s:  # beyond the reopen window: terminal
        s.get(Ticket, first["ticket_id"]).closed_at = T0 - timedelta(days=30)  # type: ignore[union-attr]

    again = post_inbound(client, world, "sms", message_id="sms-2", text="又被扣了彩铃费").json()

    assert again["customer_id"] == first["customer_id"]
    assert again["interaction_id"] != first["interaction_id"]
    assert again["ticket_id"] != first["ticket_id"]
    with world.db.session() as s:
        old = s.get(Interaction, first["interaction_id"])
        assert old is not None
        assert (old.status, old.outcome) == ("closed", "no_reply")
    # The first message is still answered as it was.
    assert post_inbound(client, world, "sms", message_id="sms-1", text="退订彩铃").json() == first


def test_inbound_events_are_in_the_outbox_and_dispatched_once_per_consumer(client: TestClient,
                                                                           world: World) -> None:
    seen: list[tuple[str, int, dict[str, object]]] = []

    def handler(_session: object, ev: Event) -> None:
        seen.append((ev.name, ev.aggregate_id or 0, ev.payload))

    bus.subscribe("test_inbound", ["interaction.*", "message.*"], handler)
    try:
        r1 = post_inbound(client, world, "sms", message_id="sms-1", text="话费").json()
        r2 = post_inbound(client, world, "sms", message_id="sms-2", text="还有").json()
        bus.dispatch_pending(world.db)
        bus.dispatch_pending(world.db)
    finally:
        bus.unsubscribe("test_inbound")

    it = r1["interaction_id"]
    common = {"interaction_id": it, "customer_id": r1["customer_id"], "channel": "sms",
              "ticket_id": r1["ticket_id"]}
    assert seen == [
        ("interaction.opened", it, {"customer_id": r1["customer_id"], "channel": "sms",
                                    "direction": "inbound", "ticket_id": r1["ticket_id"]}),
        ("message.received", it, {**common, "message_id": r1["message_id"], "external_id": "sms-1"}),
        ("message.received", it, {**common, "message_id": r2["message_id"], "external_id": "sms-2"}),
    ]
    with world.db.session() as s:
        pending = s.scalars(select(OutboxEvent.name).where(OutboxEvent.dispatched_at.is_(None))).all()
        org_units = set(s.scalars(select(OutboxEvent.org_unit_id)
                                  .where(OutboxEvent.name.in_(["interaction.opened", "message.received"]))))
    assert pending == []
    assert org_units == {world.units["gz"]}


def _msg(message_id: str, text: str = "并发") -> InboundMessage:
    return InboundMessage(message_id=message_id, sender="13812345678", text=text)


def test_receive_with_an_explicit_time_and_duplicate_flag(db: Database, settings: Settings,
                                                          world: World) -> None:
    with db.unit_of_work() as s:
        first = inbound.receive(s, settings, "sms", _msg("m-1"), at=T0)
    with db.unit_of_work() as s:
        again = inbound.receive(s, settings, "sms", _msg("m-1"), at=T0 + timedelta(minutes=5))
        it = s.get(Interaction, first.interaction_id)
        assert it is not None
        assert it.offered_at == T0
    assert (first.duplicate, again.duplicate) == (False, True)
    assert (again.customer_id, again.interaction_id, again.message_id, again.ticket_id) == (
        first.customer_id, first.interaction_id, first.message_id, first.ticket_id)


@pytest.mark.parametrize("same_message", [True, False], ids=["same_message", "two_messages"])
def test_two_posts_of_a_new_customer_at_once_store_one_customer_and_the_right_messages(
        db: Database, settings: Settings, world: World, same_message: bool) -> None:
    barrier = threading.Barrier(2)
    results: list[inbound.InboundResult] = []
    errors: list[BaseException] = []

    def post(i: int) -> None:
        try:
            barrier.wait()
            with db.unit_of_work() as s:
                results.append(inbound.receive_retrying(s, settings, "sms",
                                                        _msg("m-1" if same_message else f"m-{i}")))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert len({r.customer_id for r in results}) == 1
    expected = {"customers": 1, "interactions": 1, "messages": 1 if same_message else 2, "tickets": 1,
                "rejections": 0}
    assert counts(db) == expected
    if same_message:
        assert sorted(r.duplicate for r in results) == [False, True]
        assert len({r.message_id for r in results}) == 1


class Statements:
    """The SQL statements run meanwhile (transaction control, BEGIN, is not counted)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.sql: list[str] = []

    def __enter__(self) -> Statements:
        event.listen(self.db.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.db.engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        if not statement.startswith("BEGIN"):
            self.sql.append(statement)

    def verbs(self) -> list[str]:
        return [" ".join(s.split()[:3]) for s in self.sql]


def test_inbound_path_stays_few_statements_and_a_duplicate_is_one_read(db: Database, settings: Settings,
                                                                       world: World) -> None:
    with db.unit_of_work() as s:  # a running server knows its default org unit already
        inbound.receive(s, settings, "sms", _msg("warm-up"), at=T0)
    with Statements(db) as new, db.unit_of_work() as s:
        inbound.receive(s, settings, "wechat", _wx("w-1"), at=T0)
    with Statements(db) as threaded, db.unit_of_work() as s:
        inbound.receive(s, settings, "wechat", _wx("w-2"), at=T0 + timedelta(seconds=1))
    with Statements(db) as duplicate, db.unit_of_work() as s:
        assert inbound.receive(s, settings, "wechat", _wx("w-2")).duplicate
    # A new customer: one read, then the customer and its identity, the ticket and its first transition,
    # the interaction, the message, and the four events in one statement (on PostgreSQL each pair is one
    # statement: data-modifying CTEs).
    if db.dialect == "postgresql":
        assert new.verbs() == ["SELECT dup.mid, dup.iid,", "WITH c AS", "WITH t AS", "WITH i AS",
                               "INSERT INTO outbox_events"], new.sql
    else:
        assert new.verbs() == ["SELECT dup.mid, dup.iid,", "INSERT INTO customers", "INSERT INTO customer_identities",
                               "INSERT INTO tickets", "INSERT INTO ticket_transitions", "INSERT INTO interactions",
                               "INSERT INTO messages", "INSERT INTO outbox_events"], new.sql
    # A returning customer: one read; the ticket, the message, the interaction's activity, the event (on
    # PostgreSQL the message and the activity are one statement).
    message = (["WITH m AS"] if db.dialect == "postgresql" else ["INSERT INTO messages", "UPDATE interactions SET"])
    assert threaded.verbs() == ["SELECT dup.mid, dup.iid,", "UPDATE tickets SET", *message,
                                "INSERT INTO outbox_events"], threaded.sql
    assert len(duplicate.sql) == 1, duplicate.sql


def _wx(message_id: str) -> InboundMessage:
    return InboundMessage(message_id=message_id, sender="oWx_statements", text="查一下流量")
