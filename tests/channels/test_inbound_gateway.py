"""The gateway's side of inbound posts: authentication before the body, bounded reads, NUL characters,
the provider's time, and org scope (a province's gateway and administrators stay in their province)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from kefu.interactions.models import Message
from kefu.org import service as org
from tests.channels.support import counts, post_inbound, rejections
from tests.conftest import World

NOTHING = {"customers": 0, "interactions": 0, "messages": 0, "tickets": 0, "rejections": 0}


def _asgi_post(app: FastAPI, path: str, chunks: list[bytes], headers: dict[str, str]) -> tuple[int, int]:
    """POST through the ASGI interface itself, counting the body bytes the app pulled.
    Returns (status, bytes read by the app)."""
    pulled = 0
    sent: list[dict[str, Any]] = []
    queue = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        if queue:
            msg = queue.pop(0)
            pulled += len(msg["body"])
            return msg
        await asyncio.sleep(3600)  # a client that sends nothing more
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
             "root_path": "", "client": ("127.0.0.1", 5000), "server": ("testserver", 80),
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}
    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, pulled


def test_an_anonymous_post_is_refused_before_a_byte_of_its_body_is_read(app: FastAPI, client: TestClient,
                                                                         world: World) -> None:
    chunk = b"x" * 65536
    status, pulled = _asgi_post(app, "/api/v1/inbound/sms", [chunk] * 100,
                                {"content-type": "application/json", "content-length": str(len(chunk) * 100)})
    assert (status, pulled) == (401, 0)
    assert counts(world.db) == NOTHING


def test_a_body_over_the_limit_is_refused_while_it_streams_whatever_content_length_claims(
        app: FastAPI, client: TestClient, world: World) -> None:
    app.state.settings.max_message_bytes = 1000  # body limit 4 * 1000 + 64 KiB
    limit = 4 * 1000 + 64 * 1024
    chunk = b"y" * 16384
    # No Content-Length (chunked): the app stops pulling soon after the limit.
    status, pulled = _asgi_post(app, "/api/v1/inbound/sms", [chunk] * 64,
                                {**world.auth("admin"), "content-type": "application/json"})
    assert status == 413
    assert limit < pulled <= limit + len(chunk)
    # A Content-Length above the limit: refused without reading.
    status, pulled = _asgi_post(app, "/api/v1/inbound/sms", [chunk] * 64,
                                {**world.auth("admin"), "content-type": "application/json",
                                 "content-length": str(len(chunk) * 64)})
    assert (status, pulled) == (413, 0)
    first, second = rejections(world.db)
    assert (first.status_code, first.payload_bytes, second.status_code, second.payload_bytes) == (
        413, pulled_size(limit, len(chunk)), 413, len(chunk) * 64)
    assert first.reason.startswith("message_too_large: payload is ")
    assert first.org_unit_id == world.units["group"]  # the posting gateway's unit


def pulled_size(limit: int, chunk: int) -> int:
    """How many bytes a chunked body of `chunk`-sized pieces has delivered when it first passes `limit`."""
    return (limit // chunk + 1) * chunk


def test_nul_characters_are_refused_422_naming_the_field_recorded_and_nothing_stored(
        client: TestClient, world: World) -> None:
    r = post_inbound(client, world, "sms", message_id="m-1", text="话费\u0000多扣了")
    assert r.status_code == 422
    assert r.json()["error"] == {"code": "nul_character",
                                 "message": "field 'text' contains a NUL character (\\u0000)",
                                 "details": {"field": "text"}}
    r = post_inbound(client, world, "wechat", message_id="m-2", sender="oWx\u0000evil", text="你好")
    assert (r.status_code, r.json()["error"]["details"]) == (422, {"field": "sender"})
    r = client.post("/api/v1/inbound/sms%00", json={"message_id": "m", "sender": "13812345678", "text": "x"},
                    headers=world.auth("admin"))
    assert r.status_code == 404
    assert {k: v for k, v in counts(world.db).items() if k != "rejections"} == {
        "customers": 0, "interactions": 0, "messages": 0, "tickets": 0}
    stored = rejections(world.db)
    assert [(x.channel, x.status_code) for x in stored] == [("sms", 422), ("wechat", 422), ("sms", 404)]
    # Kept as posted: the JSON escape is text any database can store.
    assert "\x00" not in (stored[0].payload_excerpt or "")
    assert json.loads(stored[0].payload_excerpt or "")["text"] == "话费\u0000多扣了"


def test_the_providers_sending_time_is_kept_beside_the_time_kefu_received_it(client: TestClient,
                                                                               world: World) -> None:
    r = post_inbound(client, world, "sms", message_id="m-1", sent_at="2026-03-02T08:59:30+08:00")
    assert r.status_code == 201
    with world.db.session() as s:
        m = s.get(Message, r.json()["message_id"])
        assert m is not None
        assert m.sent_at == datetime(2026, 3, 2, 0, 59, 30, tzinfo=UTC)
        assert m.created_at > m.sent_at


def _province_with_gateway(world: World) -> dict[str, Any]:
    """A second province (北京, one city) with its own administrator, and a gateway admin for 广东."""
    with world.db.unit_of_work() as s:
        bj = org.create_org_unit(s, kind="province", code="BJ", name="北京", parent_id=world.units["group"])
        bjc = org.create_org_unit(s, kind="city", code="BJC", name="北京市区", parent_id=bj.id)
        gd_gw = org.create_user(s, username="gw_gd", display_name="广东网关", role="admin",
                                org_unit_id=world.units["province"])
        bj_admin = org.create_user(s, username="admin_bj", display_name="北京管理员", role="admin", org_unit_id=bj.id)
        return {"bj": bj.id, "bjc": bjc.id, "gd_gw": org.create_api_token(s, gd_gw.id, "t")[0],
                "bj_admin": org.create_api_token(s, bj_admin.id, "t")[0]}


def test_a_provinces_gateway_cannot_place_a_customer_in_another_province(client: TestClient,
                                                                          world: World) -> None:
    extra = _province_with_gateway(world)
    gw = {"Authorization": f"Bearer {extra['gd_gw']}"}
    body = {"message_id": "m-1", "sender": "13812345678", "text": "你好", "org_unit_code": "BJC"}
    r = client.post("/api/v1/inbound/sms", json=body, headers=gw)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "unknown_org_unit"  # as if it did not exist: nothing leaks
    assert client.post("/api/v1/inbound/sms", json={**body, "org_unit_code": "SZ"}, headers=gw).status_code == 201
    assert counts(world.db)["customers"] == 1


def test_administrators_see_the_refusals_of_their_own_provinces_gateways_only(client: TestClient,
                                                                              world: World) -> None:
    extra = _province_with_gateway(world)
    gw = {"Authorization": f"Bearer {extra['gd_gw']}"}
    client.post("/api/v1/inbound/fax", json={"message_id": "m", "sender": "1", "text": "x"}, headers=gw)
    post_inbound(client, world, "sms", message_id="m-2", sender="12345")  # the group's gateway

    bj = client.get("/api/v1/inbound/rejections", headers={"Authorization": f"Bearer {extra['bj_admin']}"})
    group = client.get("/api/v1/inbound/rejections", headers=world.auth("admin"))
    assert (bj.status_code, bj.json()["total"], bj.json()["items"]) == (200, 0, [])
    assert [(x["channel"], x["org_unit_id"]) for x in group.json()["items"]] == [
        ("sms", world.units["group"]), ("fax", world.units["province"])]


def test_a_gateway_token_scoped_to_sms_posts_sms_and_nothing_else(client: TestClient, world: World) -> None:
    with world.db.unit_of_work() as s:
        gw = org.create_user(s, username="sms_gw", display_name="短信网关", role="gateway",
                             org_unit_id=world.units["province"])
        secret = org.create_api_token(s, gw.id, "sms", scopes=["inbound:sms"])[0]
    auth = {"Authorization": f"Bearer {secret}"}
    body = {"message_id": "m-1", "sender": "13812345678", "text": "查话费"}
    assert client.post("/api/v1/inbound/sms", json=body, headers=auth).status_code == 201
    r = client.post("/api/v1/inbound/wechat", json={**body, "sender": "oWx-1"}, headers=auth)
    assert r.status_code == 403
    assert r.json()["error"] == {"code": "channel_not_allowed", "message": "this token may not post on channel "
                                 "'wechat'", "details": {"channel": "wechat"}}
    # Nothing else: no reading, no tickets, not even the list of its own refusals.
    assert client.get("/api/v1/tickets", headers=auth).status_code == 403
    assert client.get("/api/v1/inbound/rejections", headers=auth).status_code == 403
    assert counts(world.db) == {"customers": 1, "interactions": 1, "messages": 1, "tickets": 1, "rejections": 0}
