"""Helpers for the voice tests: a switch's gateway token, events as the switch sends them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient

from kefu.org import service as org
from tests.conftest import World


def switch_token(world: World, unit: str = "gz", scopes: list[str] | None = None) -> dict[str, str]:
    """A gateway (渠道网关) of the unit's switch with a token scoped to voice."""
    with world.db.unit_of_work() as s:
        name = f"cti_{unit}_{len(world.users)}"
        user = org.create_user(s, username=name, display_name="CTI", role="gateway",
                               org_unit_id=world.units[unit])
        world.users[name] = user.id
        secret = org.create_api_token(s, user.id, "cti", scopes=scopes or ["inbound:voice"])[0]
    return {"Authorization": f"Bearer {secret}"}


def event(call_id: str, kind: str, at: datetime, **extra: Any) -> dict[str, Any]:
    return {"call_id": call_id, "kind": kind, "at": at.isoformat(), **extra}


def post(client: TestClient, auth: dict[str, str], *events: dict[str, Any]) -> dict[str, Any]:
    r = client.post("/api/v1/cti/events", json={"events": list(events)}, headers=auth)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def console_login(client: TestClient, username: str, page: str) -> str:
    """Log in to the console as `username`; the CSRF token of `page`."""
    from tests.web.conftest import csrf_of, login

    login(client, username)
    return csrf_of(client.get(page).text)
