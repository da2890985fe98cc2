"""Outbound delivery: a reply is delivered once through its channel's adapter, retried with back-off,
its status kept and shown (API and the ticket page)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from kefu.channels import outbound
from kefu.channels.adapters import DeliveryReport, Outbound, Parsed, PermanentFailure, Sent, TemporaryFailure
from kefu.channels.ingest import ingest
from kefu.channels.models import EarlyReport, OutboundDelivery, OutboundPart
from kefu.core.clock import utcnow
from kefu.core.config import Settings
from tests.channels.outbox import adapter, converse, delivery, jobs_with, retry_at, settle
from tests.channels.support import E164, PHONE
from tests.conftest import World
from tests.web.conftest import login


class Gateway:
    """An SMS provider at the edge: takes messages, or fails as told, remembering what it got."""

    channel = "sms"

    def __init__(self, failures: list[Exception] | None = None) -> None:
        self.got: list[Outbound] = []
        self.failures = list(failures or [])

    def send(self, out: Outbound) -> Sent:
        self.got.append(out)
        if self.failures:
            raise self.failures.pop(0)
        return Sent((f"gw-{len(self.got)}-a", f"gw-{len(self.got)}-b"))


@pytest.fixture
def cfg(settings: Settings) -> Iterator[Settings]:
    s = settings.model_copy(update={"outbound_backoff_seconds": 30.0, "outbound_max_attempts": 3})
    with jobs_with(s):
        yield s


def test_a_reply_is_sent_once_through_the_adapter_and_its_status_shown(client: TestClient, world: World,
                                                                       cfg: Settings) -> None:
    gw = Gateway()
    with adapter("sms", gw):
        sent = converse(client, world, "sms", PHONE, reply="您的宽带已修复")
        settle(world)
        settle(world)  # nothing more to do: never twice

    assert [(o.to, o.body, o.message_id) for o in gw.got] == [(E164, "您的宽带已修复", sent["id"])]
    d = delivery(world, sent["id"])
    assert (d.status, d.attempts, d.last_error, d.recipient) == ("sent", 1, None, E164)
    assert gw.got[0].key == d.key
    assert len(d.key) == 32
    r = client.get(f"/api/v1/interactions/{sent['interaction_id']}/deliveries", headers=world.auth("agent_gz"))
    assert r.status_code == 200
    assert [(x["message_id"], x["status"], x["attempts"]) for x in r.json()] == [(sent["id"], "sent", 1)]
    r = client.get(f"/api/v1/interactions/{sent['interaction_id']}/deliveries", headers=world.auth("agent_sz"))
    assert r.status_code == 404  # another city's conversation

    # Delivery reports for both parts: delivered only when every part is.
    with world.db.unit_of_work() as s:
        now = d.sent_at + timedelta(seconds=5)  # type: ignore[operator]
        assert outbound.apply_report(s, "sms", DeliveryReport("gw-1-a", True), now=now) == "sent"
        assert outbound.apply_report(s, "sms", DeliveryReport("nobody", True), now=now) is None
        assert outbound.apply_report(s, "sms", DeliveryReport("gw-1-b", True), now=now) == "delivered"
    assert delivery(world, sent["id"]).status == "delivered"

    login(client, "agent_gz")
    page = client.get(f"/console/tickets/{sent['inbound']['ticket_id']}")
    assert page.status_code == 200
    assert 'data-delivery="delivered"' in page.text
    assert "已送达" in page.text


def test_a_report_that_comes_before_its_send_is_recorded_is_held_then_applied(client: TestClient, world: World,
                                                                           cfg: Settings) -> None:
    """A gateway can report delivery before kefu has committed the send (the web chat widget shows a reply
    the moment it is published): the report is held, not dropped, and applied when the send is recorded."""
    gw = Gateway()
    with adapter("sms", gw):
        sent = converse(client, world, "sms", PHONE, reply="您的宽带已修复")
        early = ingest(world.db, cfg, "sms", Parsed(reports=[DeliveryReport("gw-1-a", True),
                                                             DeliveryReport("gw-1-b", True)]))
        assert early.reports == 0  # nothing to apply them to yet
        ingest(world.db, cfg, "sms", Parsed(reports=[DeliveryReport("gw-1-a", True)]))  # a repeat: held once
        assert held(world) == [("gw-1-a", True), ("gw-1-b", True)]
        settle(world)
    d = delivery(world, sent["id"])
    assert (d.status, d.attempts) == ("delivered", 1)
    assert held(world) == []

    # The send recorded by a transaction that committed after the report's own second look (both at
    # once): the minute's retry job applies it. A report for an id never sent is dropped after three days.
    with adapter("sms", gw):
        second = converse(client, world, "sms", PHONE, reply="再次确认", message_id="in-2")
        settle(world)
    assert delivery(world, second["id"]).status == "sent"
    with world.db.unit_of_work() as s:
        s.query(OutboundPart).filter(OutboundPart.provider_id == "gw-2-a").delete()
    ingest(world.db, cfg, "sms", Parsed(reports=[DeliveryReport("gw-2-a", False, "UNDELIV"),
                                                 DeliveryReport("never-sent", True)]))
    assert held(world) == [("gw-2-a", False), ("never-sent", True)]
    with world.db.unit_of_work() as s:
        s.add(OutboundPart(delivery_id=delivery(world, second["id"]).id, channel="sms", provider_id="gw-2-a",
                           status="sent"))
    retry_at(world, utcnow())
    d = delivery(world, second["id"])
    assert (d.status, d.last_error) == ("failed", "delivery_report: UNDELIV")
    assert held(world) == [("never-sent", True)]
    retry_at(world, utcnow() + outbound.HOLD_REPORTS + timedelta(minutes=1))
    assert held(world) == []


def held(world: World) -> list[tuple[str, bool]]:
    with world.db.session() as s:
        return [(r.provider_id, r.delivered) for r in s.scalars(select(EarlyReport).order_by(EarlyReport.id))]


def test_temporary_failures_are_retried_with_back_off_then_sent(client: TestClient, world: World,
                                                                cfg: Settings) -> None:
    gw = Gateway([TemporaryFailure("gateway busy (503)"), TemporaryFailure("timeout")])
    with adapter("sms", gw):
        sent = converse(client, world, "sms", PHONE)
        settle(world)
        d = delivery(world, sent["id"])
        assert (d.status, d.attempts, d.last_error) == ("queued", 1, "gateway busy (503)")
        first = d.next_attempt_at
        assert first is not None
        assert first - d.updated_at == timedelta(seconds=30)

        retry_at(world, first - timedelta(seconds=1))  # not due yet
        assert delivery(world, sent["id"]).attempts == 1
        retry_at(world, first)
        d = delivery(world, sent["id"])
        assert (d.status, d.attempts, d.last_error) == ("queued", 2, "timeout")
        assert d.next_attempt_at == first + timedelta(seconds=120)
        retry_at(world, d.next_attempt_at)
        retry_at(world, d.next_attempt_at + timedelta(minutes=5))

    d = delivery(world, sent["id"])
    assert (d.status, d.attempts) == ("sent", 3)
    assert len(gw.got) == 3
    assert len({o.key for o in gw.got}) == 1


def test_gives_up_after_the_last_attempt_and_permanent_refusals_fail_at_once(client: TestClient, world: World,
                                                                            cfg: Settings) -> None:
    gw = Gateway([TemporaryFailure("down")] * 3)
    with adapter("sms", gw):
        sent = converse(client, world, "sms", PHONE)
        settle(world)
        for _ in range(3):
            retry_at(world, delivery(world, sent["id"]).next_attempt_at or delivery(world, sent["id"]).updated_at)
    d = delivery(world, sent["id"])
    assert (d.status, d.attempts, d.last_error) == ("failed", 3, "down (gave up after 3 attempts)")
    assert len(gw.got) == 3

    gw2 = Gateway([PermanentFailure("40003: invalid openid")])
    with adapter("sms", gw2):
        sent2 = converse(client, world, "sms", "13900001111", message_id="in-2")
        settle(world)
    d = delivery(world, sent2["id"])
    assert (d.status, d.attempts, d.last_error) == ("failed", 1, "40003: invalid openid")


def test_a_channel_without_an_adapter_fails_visibly_and_a_crashing_adapter_is_retried(
        client: TestClient, world: World, cfg: Settings) -> None:
    sent = converse(client, world, "app", "user-77")
    settle(world)
    d = delivery(world, sent["id"])
    assert (d.status, d.last_error) == ("failed", "no_adapter: no outbound adapter is configured for channel 'app'")

    gw = Gateway([KeyError("msgid")])
    with adapter("sms", gw):
        sent = converse(client, world, "sms", PHONE, message_id="in-3")
        settle(world)
    d = delivery(world, sent["id"])
    assert (d.status, d.last_error) == ("queued", "KeyError: 'msgid'")
    with world.db.session() as s:
        assert s.scalar(select(func.count()).select_from(OutboundDelivery)) == 2


@given(st.integers(min_value=1, max_value=200), st.floats(min_value=0, max_value=1e4),
       st.floats(min_value=0, max_value=1e6))
def test_backoff_grows_and_stays_under_the_cap(n: int, base: float, cap: float) -> None:
    assert 0 <= outbound.backoff(n, base, cap) <= cap
    assert outbound.backoff(n, base, cap) <= outbound.backoff(n + 1, base, cap)
    assert outbound.backoff(1, base, cap) == min(base, cap)


def test_the_channels_page_shows_adapters_deliveries_and_refusals(client: TestClient, world: World,
                                                                  cfg: Settings) -> None:
    gw = Gateway([PermanentFailure("invalid number")])
    with adapter("sms", gw):
        converse(client, world, "sms", PHONE)
        settle(world)
    client.post("/api/v1/inbound/sms", json={"message_id": "x", "sender": "12", "text": "hi"},
                headers=world.auth("admin"))
    login(client, "admin")
    page = client.get("/console/channels")
    assert page.status_code == 200
    assert "微信公众号" in page.text
    row = page.text.split('data-channel="sms"')[1].split("</tr>")[0]
    assert row.count("—") == 1  # the gateway's URL is not set; the last message in and out are shown
    assert "1 / 0" in row  # one failed delivery, none waiting
    for channel in ("webchat", "weibo", "im", "app"):
        assert f'data-channel="{channel}"' in page.text
    assert "invalid number" in page.text
    assert "invalid_phone" in page.text
    assert 'href="/console/channels"' in page.text
    client.cookies.clear()
    login(client, "agent_gz")
    assert client.get("/console/channels").status_code == 403
