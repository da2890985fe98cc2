"""Every integer path parameter is an id bounded to 1 .. 2^63-1: larger ones are 422, the largest is 404."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from kefu.app import create_app
from kefu.core.config import Settings
from kefu.core.db import Database
from tests.conftest import World

BIG = [2**63, 2**64, 10**30]


def _walk(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        elif hasattr(route, "original_router"):  # FastAPI's included router
            yield from _walk(route.original_router.routes, prefix + route.include_context.prefix)


def _id_routes() -> list[tuple[str, str, list[str]]]:
    """(method, path, integer path parameters) of every route, API and console alike."""
    url = f"sqlite:///{Path(tempfile.gettempdir()) / 'kefu-routes-unused.sqlite3'}"  # never connected to
    app = create_app(Settings(env="test", database_url=url), db=Database(url), start_dispatcher=False)
    found = []
    for path, route in _walk(app.routes):
        ints = [p.name for p in route.dependant.path_params if p.field_info.annotation is int]
        for method in sorted(route.methods) if ints else ():
            found.append((method, path, ints))
    return found


ROUTES = _id_routes()


def test_the_routes_with_id_parameters_are_found() -> None:
    paths = {p for _, p, _ in ROUTES}
    assert {"/api/v1/tickets/{ticket_id}", "/api/v1/customers/{customer_id}",
            "/console/tickets/{ticket_id}"} <= paths


def _url(path: str, value: int) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(value) if m.group(1).endswith("_id") or m.group(1) == "number"
                  else "accept", path)


def test_ids_beyond_64_bits_are_422_and_the_largest_id_is_not_found(client: TestClient, world: World) -> None:
    headers = {**world.auth("admin"), "X-CSRF-Token": "unused"}
    wrong = []
    for method, path, params in ROUTES:
        for value in [*BIG, 0, -1]:
            r = client.request(method, _url(path, value), headers=headers, json={})
            details = r.json()["error"]["details"] if r.status_code == 422 else {}
            fields = {f["field"] for f in details.get("fields", [])}
            if not set(params) & fields:
                wrong.append((method, path, value, r.status_code))
        r = client.request(method, _url(path, 2**63 - 1) + "?from=1&to=2", headers=headers, json={})
        if r.status_code >= 500 or (method == "GET" and r.status_code != 404):
            wrong.append((method, path, 2**63 - 1, r.status_code))
    assert wrong == []


def test_ids_given_as_text_in_filters_are_bounded_too(client: TestClient, world: World) -> None:
    from tests.web.conftest import login

    big = "9" * 23
    r = client.get(f"/api/v1/tickets?assignee={big}", headers=world.auth("admin"))
    assert (r.status_code, r.json()["error"]["details"]["fields"][0]["field"]) == (422, "assignee")
    assert client.get("/api/v1/tickets?assignee=me", headers=world.auth("admin")).status_code == 200
    login(client, "admin")
    r = client.get(f"/console/inbox?assignee={big}&org_unit={big}")
    assert r.status_code == 200
    assert f"no user has the id {big}" in r.text
    assert client.get(f"/console/workforce?org_unit={big}&day=2026-01-01").status_code == 200
