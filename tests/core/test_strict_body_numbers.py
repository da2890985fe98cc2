"""Integer fields of JSON request bodies take JSON integers only, float fields JSON numbers only and never
NaN or Infinity (kefu/core/body.py).

Pydantic's lax mode would read `true` as 1 and `1.0` as 1: `{"assignee_id": true}` assigned a ticket to
user 1. The walking tests go through the OpenAPI document, so a new body model that is not a `Body` fails here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kefu.tickets.models import Ticket
from tests.conftest import World

API = "/api/v1"


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].split("/")[-1]]
    return schema


def _integers(spec: dict[str, Any], schema: dict[str, Any], path: tuple[str | int, ...] = (),
              kind: str = "integer") -> Iterator[tuple[tuple[str | int, ...], dict[str, Any]]]:
    """Where an integer (or a `kind` = "number") may stand in a body, as ("targets", 0, "id") for a list of
    objects, with its schema."""
    schema = _resolve(spec, schema)
    if schema.get("type") == kind:
        yield path, schema
    for option in schema.get("anyOf", []) + schema.get("oneOf", []) + schema.get("allOf", []):
        yield from _integers(spec, option, path, kind)
    if schema.get("type") == "array" and "items" in schema:
        yield from _integers(spec, schema["items"], (*path, 0), kind)
    for name, prop in schema.get("properties", {}).items():
        yield from _integers(spec, prop, (*path, name), kind)


def _body_with(path: tuple[str | int, ...], value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    return [_body_with(rest, value)] if isinstance(head, int) else {head: _body_with(rest, value)}


def _json_operations(app: FastAPI) -> Iterator[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    spec = app.openapi()
    for url, operations in spec["paths"].items():
        for method, op in operations.items():
            content = op.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                concrete = url
                for p in op.get("parameters", []):
                    if p["in"] == "path":
                        sample = "1" if _resolve(spec, p["schema"]).get("type") == "integer" else "x"
                        concrete = concrete.replace("{" + p["name"] + "}", sample)
                yield method, concrete, content["application/json"]["schema"], spec


def test_every_integer_in_every_json_body_refuses_true_false_and_fractions(
        client: TestClient, app: FastAPI, world: World) -> None:
    admin = world.auth("admin")
    checked, lax = 0, []
    for method, url, schema, spec in _json_operations(app):
        for path in {path for path, _ in _integers(spec, schema)}:
            for value in (True, False, 1.5, 1.0, "1"):
                r = client.request(method, url, json=_body_with(path, value), headers=admin)
                field = ".".join(str(part) for part in path)
                problems = [e["problem"] for e in r.json()["error"]["details"]["fields"] if e["field"] == field
                            ] if r.status_code == 422 else []
                if r.status_code != 422 or not problems:  # refused for this field (a type or an enum error)
                    lax.append((method, url, path, value, r.status_code))
                checked += 1
    assert lax == [], lax
    assert checked >= 5 * 150  # the walk found the bodies (161 integer fields when this was written)


def test_every_float_in_every_json_body_refuses_true_text_nan_and_infinity(
        client: TestClient, app: FastAPI, world: World) -> None:
    admin = {**world.auth("admin"), "content-type": "application/json"}
    checked, lax = 0, []
    for method, url, schema, spec in _json_operations(app):
        texts = {path for path, _ in _integers(spec, schema, kind="string")}  # money (Decimal) takes "30.50"
        for path in {path for path, _ in _integers(spec, schema, kind="number")}:
            # as a careless client writes them: Python's json.dumps writes NaN and Infinity, 1e999 reads as inf
            for raw in ("true", "false", '"1.5"', "NaN", "Infinity", "-Infinity", "1e999", "-1e999"):
                if raw == '"1.5"' and path in texts:
                    continue
                body = json.dumps(_body_with(path, "\0")).replace('"\\u0000"', raw)
                r = client.request(method, url, content=body, headers=admin)
                field = ".".join(str(part) for part in path)
                error = r.json()["error"] if r.status_code == 422 else {}
                refused = error.get("code") == "malformed_json" or any(
                    e["field"] == field for e in error.get("details", {}).get("fields", []))
                if not refused:
                    lax.append((method, url, path, raw, r.status_code))
                checked += 1
    assert lax == [], lax
    assert checked >= 8 * 20  # the walk found the bodies' floats


def test_a_customer_share_of_nan_infinity_or_true_is_refused_and_a_whole_number_is_a_float(
        client: TestClient, world: World) -> None:
    admin = {**world.auth("admin"), "content-type": "application/json"}
    r = client.post(f"{API}/customers", json={"phone": "13912345678", "org_unit_id": world.units["gz"],
                                              "share_data": 0.5}, headers=admin)
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    before = client.get(f"{API}/customers/{cid}", headers=admin).json()
    for raw in ("NaN", "1e999", "true", '"0.5"'):
        r = client.patch(f"{API}/customers/{cid}", content=f'{{"share_data": {raw}}}', headers=admin)
        assert r.status_code == 422, raw
    assert client.get(f"{API}/customers/{cid}", headers=admin).json() == before
    r = client.patch(f"{API}/customers/{cid}", content='{"share_data": 1}', headers=admin)
    assert (r.status_code, r.json()["share_data"]) == (200, 1.0)


def test_every_id_in_a_json_body_starts_at_1(app: FastAPI) -> None:
    below_one = []
    for method, url, schema, spec in _json_operations(app):
        for path, integer in _integers(spec, schema):
            name = next(part for part in reversed(path) if isinstance(part, str))
            if (name == "id" or name.endswith(("_id", "_ids"))) and integer.get("minimum", 0) < 1:
                below_one.append((method, url, path))
    assert below_one == [], below_one


def _tickets(world: World) -> int:
    with world.db.session() as s:
        return int(s.scalar(select(func.count()).select_from(Ticket)) or 0)


@pytest.mark.parametrize("value", [True, False, 1.5, 0, -1])
def test_a_ticket_is_not_assigned_to_true_or_a_fraction(client: TestClient, world: World, value: Any) -> None:
    agent = world.auth("agent_gz")
    t = client.post(f"{API}/tickets", json={"type": "complaint", "subject": "话费多扣了"}, headers=agent).json()
    r = client.post(f"{API}/tickets/{t['id']}/assign", json={"assignee_id": value}, headers=world.auth("admin"))
    assert r.status_code == 422
    after = client.get(f"{API}/tickets/{t['id']}", headers=agent).json()
    assert (after["assignee_id"], after["status"], after["version"]) == (None, t["status"], t["version"])
    r = client.post(f"{API}/tickets/{t['id']}/assign", json={"assignee_id": world.users["agent_gz"]},
                    headers=world.auth("admin"))
    assert (r.status_code, r.json()["assignee_id"]) == (200, world.users["agent_gz"])


def test_a_ticket_for_customer_true_or_unit_false_is_not_opened(client: TestClient, world: World) -> None:
    before = _tickets(world)
    for extra in ({"customer_id": True}, {"org_unit_id": False}, {"org_unit_id": float(world.units["gz"])}):
        r = client.post(f"{API}/tickets", json={"type": "complaint", "subject": "话费多扣了", **extra},
                        headers=world.auth("agent_gz"))
        assert r.status_code == 422, extra
    assert _tickets(world) == before


def test_a_compensation_of_true_yuan_is_not_granted(client: TestClient, world: World) -> None:
    agent = world.auth("agent_gz")
    tid = client.post(f"{API}/tickets", json={"type": "complaint", "subject": "话费多扣了"}, headers=agent).json()["id"]
    url = f"{API}/complaints/tickets/{tid}/compensations"
    for amount in (True, False):
        assert client.post(url, json={"kind": "bill_credit", "amount": amount}, headers=agent).status_code == 422
    assert client.get(url, headers=agent).json() == {"items": []}
    assert client.post(url, json={"kind": "bill_credit", "amount": "30"}, headers=agent).status_code == 201


def test_routing_refuses_a_queue_position_or_agent_capacity_of_true(client: TestClient, world: World) -> None:
    admin = world.auth("admin")
    body = {"name": "宽带报修", "channel": "ticket", "org_unit_id": world.units["province"], "position": 5}
    for bad in ({"position": True}, {"org_unit_id": True}, {"weight": 2.5}):
        r = client.put(f"{API}/routing/queues/broadband", json={**body, **bad}, headers=admin)
        assert r.status_code == 422, bad
    assert "broadband" not in [q["key"] for q in client.get(f"{API}/routing/queues", headers=admin).json()]
    agent = world.users["agent_gz"]
    before = client.get(f"{API}/routing/agents", headers=admin).json()
    for capacity in (True, 2.0):
        r = client.patch(f"{API}/routing/agents/{agent}", json={"capacity": capacity}, headers=admin)
        assert r.status_code == 422, capacity
    assert client.get(f"{API}/routing/agents", headers=admin).json() == before
    assert client.put(f"{API}/routing/queues/broadband", json=body, headers=admin).status_code == 200
