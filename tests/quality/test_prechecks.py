"""Automatic pre-checks on text conversations: forbidden words, a missing greeting, long silences in chat."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from kefu.channels import inbound
from kefu.channels.inbound import InboundMessage
from kefu.core.config import Settings
from kefu.core.events import bus
from kefu.quality.prechecks import Line, precheck
from kefu.tickets import service as tickets
from tests.conftest import World

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_polite_quick_chat_has_no_findings() -> None:
    lines = [Line(_at(0), False, "宽带断了"), Line(_at(30), True, "您好，很高兴为您服务，正在为您查询"),
             Line(_at(60), False, "多久能修好"), Line(_at(150), True, "今晚22点前恢复")]
    assert precheck(lines) == []


def test_forbidden_words_a_missing_greeting_and_a_long_silence_are_found() -> None:
    lines = [Line(_at(0), False, "话费多扣了", channel="webchat"),
             Line(_at(10), True, "【满意度回访】…", by_agent=False),  # a notice is not the agent's greeting
             Line(_at(20), True, "这个不归我管，你自己查", channel="webchat"),
             Line(_at(40), False, "那找谁？", channel="webchat"),
             Line(_at(41), False, "人呢", channel="webchat"),  # the wait counts from the first unanswered line
             Line(_at(400), True, "没办法", channel="webchat")]
    found = [(f.kind, f.detail) for f in precheck(lines)]
    assert found == [("no_greeting", "这个不归我管，你自己查"), ("forbidden_word", "不归我管"),
                     ("forbidden_word", "你自己查"), ("forbidden_word", "没办法"), ("long_silence", "360")]


def test_silences_are_not_counted_outside_chat() -> None:
    lines = [Line(_at(0), False, "查话费", channel="sms"), Line(_at(3600), True, "您好，已为您查询", channel="sms")]
    assert precheck(lines) == []


def inspected_reply(client: TestClient, world: World, settings: Settings, *, text: str, reply: str,
                    category: str | None = None) -> tuple[int, list[dict[str, str]]]:
    """A customer's SMS, answered by the agent of Guangzhou and resolved, sampled for inspection: the
    inspection's id and the pre-check findings the inspector reads."""
    msg = InboundMessage(message_id=f"m-{time.monotonic_ns()}", sender="13800138000", text=text,
                         org_unit_code="GZ")
    with world.db.unit_of_work() as s:
        r = inbound.receive_retrying(s, settings, "sms", msg)
        assert r.ticket_id is not None
        if category is not None:
            tickets.update(s, r.ticket_id, actor_id=None, category_key=category)
        tickets.assign(s, r.ticket_id, assignee_id=world.users["agent_gz"], actor_id=world.users["sup_gd"])
    bus.dispatch_pending(world.db)
    sent = client.post(f"/api/v1/interactions/{r.interaction_id}/messages", headers=world.auth("agent_gz"),
                       json={"body": reply})
    assert sent.status_code == 201, sent.text
    with world.db.unit_of_work() as s:
        tickets.change_status(s, r.ticket_id, "resolved", actor_id=world.users["agent_gz"], reason="已答复")
    sampled = client.post("/api/v1/quality/sample", headers=world.auth("sup_gd"), json={"days": 1, "share": 1})
    [iid] = [i["id"] for i in sampled.json() if i["ticket_id"] == r.ticket_id]
    found = client.get(f"/api/v1/quality/inspections/{iid}/prechecks", headers=world.auth("sup_gd")).json()
    return iid, found


def test_the_inspector_sees_the_findings_of_a_contact(client: TestClient, world: World, settings: Settings) -> None:
    iid, found = inspected_reply(client, world, settings, text="话费多扣了", reply="不知道，你自己查")
    assert [(f["kind"], f["detail"]) for f in found] == [("no_greeting", "不知道，你自己查"),
                                                          ("forbidden_word", "不知道"), ("forbidden_word", "你自己查")]
    assert client.get(f"/api/v1/quality/inspections/{iid}/prechecks",
                      headers=world.auth("agent_gz")).status_code == 403
