"""Refused inbound payloads: a clear 4xx, nothing half-stored, and the payload kept for inspection."""

from __future__ import annotations

import json

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.channels.support import counts, event_names, post_inbound, rejections
from tests.conftest import World

NOTHING_STORED = {"customers": 0, "interactions": 0, "messages": 0, "tickets": 0}


def _stored(world: World) -> dict[str, int]:
    c = counts(world.db)
    return {k: v for k, v in c.items() if k != "rejections"}


def test_message_over_the_size_limit_is_413_and_recorded_and_nothing_else_is_written(
        app: FastAPI, client: TestClient, world: World) -> None:
    app.state.settings.max_message_bytes = 50
    text = "话费" * 9  # 18 characters, 54 bytes in UTF-8
    raw = json.dumps({"message_id": "m-big", "sender": "13812345678", "text": text}).encode()
    r = client.post("/api/v1/inbound/sms", content=raw,
                    headers={**world.auth("admin"), "content-type": "application/json"})

    assert r.status_code == 413
    assert r.json() == {"error": {"code": "message_too_large",
                                  "message": "message body is 54 bytes; the limit is 50",
                                  "details": {"bytes": 54, "limit": 50}}}
    assert _stored(world) == NOTHING_STORED
    (rej,) = rejections(world.db)
    assert (rej.channel, rej.status_code, rej.payload_bytes) == ("sms", 413, len(raw))
    assert rej.reason == "message_too_large: message body is 54 bytes; the limit is 50"
    assert json.loads(rej.payload_excerpt or "")["text"] == text
    assert event_names(world.db) == ["inbound.rejected"]


def test_message_exactly_at_the_size_limit_is_not_refused_for_size(app: FastAPI, client: TestClient,
                                                                     world: World) -> None:
    app.state.settings.max_message_bytes = 54
    r = post_inbound(client, world, "sms", message_id="m-edge", sender="12", text="话费" * 9)
    # Refused, but for the sender (a later check), not for its size.
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid_phone"


def test_invalid_phone_is_422_with_a_clear_message_and_no_customer_or_interaction(
        client: TestClient, world: World) -> None:
    r = post_inbound(client, world, "sms", message_id="m-1", sender="12345")

    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid_phone"
    assert r.json()["error"]["message"].startswith("'12345' is not a valid phone number: ")
    assert _stored(world) == NOTHING_STORED
    (rej,) = rejections(world.db)
    assert (rej.channel, rej.status_code) == ("sms", 422)
    assert rej.reason == "invalid_phone: " + r.json()["error"]["message"]
    assert event_names(world.db) == ["inbound.rejected"]


def test_invalid_email_sender_is_422_invalid_identity(client: TestClient, world: World) -> None:
    r = post_inbound(client, world, "email", message_id="<a@x>", sender="not-an-address")
    assert r.status_code == 422
    assert r.json()["error"] == {"code": "invalid_identity",
                                 "message": "'not-an-address' is not an e-mail address", "details": {}}
    assert _stored(world) == NOTHING_STORED
    assert [x.status_code for x in rejections(world.db)] == [422]


def test_unknown_org_unit_code_is_422_and_recorded(client: TestClient, world: World) -> None:
    r = post_inbound(client, world, "sms", message_id="m-1", org_unit_code="XX")
    assert r.status_code == 422
    assert r.json()["error"] == {"code": "unknown_org_unit", "message": "unknown org unit code 'XX'",
                                 "details": {"field": "org_unit_code"}}
    assert _stored(world) == NOTHING_STORED
    assert [x.reason for x in rejections(world.db)] == ["unknown_org_unit: unknown org unit code 'XX'"]


def test_unknown_channel_is_404_and_recorded(client: TestClient, world: World) -> None:
    r = post_inbound(client, world, "fax", message_id="m-1")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "unknown_channel"
    assert r.json()["error"]["details"] == {"channel": "fax"}
    assert _stored(world) == NOTHING_STORED
    assert [(x.channel, x.status_code) for x in rejections(world.db)] == [("fax", 404)]


def test_missing_field_is_422_naming_the_field_and_recorded(client: TestClient, world: World) -> None:
    r = client.post("/api/v1/inbound/sms", json={"message_id": "m-1", "sender": "13812345678"},
                    headers=world.auth("admin"))
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "validation_error"
    assert err["message"] == "invalid or missing field(s): text"
    assert err["details"]["fields"] == [{"field": "text", "problem": "Field required"}]
    assert _stored(world) == NOTHING_STORED
    (rej,) = rejections(world.db)
    assert (rej.status_code, rej.reason) == (422, "validation_error: invalid or missing field(s): text")
    assert json.loads(rej.payload_excerpt or "") == {"message_id": "m-1", "sender": "13812345678"}


def test_malformed_json_is_422_malformed_json_and_recorded(client: TestClient, world: World) -> None:
    r = client.post("/api/v1/inbound/sms", content=b'{"message_id": "m-1", "sender":',
                    headers={**world.auth("admin"), "content-type": "application/json"})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "malformed_json"
    assert _stored(world) == NOTHING_STORED
    (rej,) = rejections(world.db)
    assert (rej.status_code, rej.reason, rej.payload_excerpt, rej.payload_bytes) == (
        422, "malformed_json: the request body is not valid JSON", '{"message_id": "m-1", "sender":', 31)


def test_only_a_gateway_token_may_post_inbound_and_nothing_is_recorded_for_others(
        client: TestClient, world: World) -> None:
    r = client.post("/api/v1/inbound/sms", json={"message_id": "m-1", "sender": "13812345678", "text": "x"},
                    headers=world.auth("agent_gz"))
    assert r.status_code == 403
    assert r.json()["error"]["details"] == {"permission": "inbound.post"}
    assert counts(world.db) == {**NOTHING_STORED, "rejections": 0}


def test_admin_lists_rejections_newest_first_and_an_agent_may_not(client: TestClient, world: World) -> None:
    post_inbound(client, world, "fax", message_id="m-1")
    post_inbound(client, world, "sms", message_id="m-2", sender="12345")
    r = client.get("/api/v1/inbound/rejections", headers=world.auth("admin"))
    assert r.status_code == 200
    page = r.json()
    assert (page["total"], page["limit"], page["offset"]) == (2, 50, 0)
    assert [(x["channel"], x["status_code"]) for x in page["items"]] == [("sms", 422), ("fax", 404)]
    only_sms = client.get("/api/v1/inbound/rejections?channel=sms", headers=world.auth("admin")).json()
    assert only_sms["total"] == 1
    assert client.get("/api/v1/inbound/rejections", headers=world.auth("agent_gz")).status_code == 403
