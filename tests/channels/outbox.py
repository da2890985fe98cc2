"""Outbound test helpers: a customer writes, an agent replies, the outbox and jobs run."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from kefu.channels import adapters
from kefu.channels.models import OutboundDelivery
from kefu.core.config import Settings
from kefu.core.events import bus
from kefu.jobs import registry
from tests.channels.support import post_inbound
from tests.conftest import World


@contextmanager
def jobs_with(settings: Settings) -> Iterator[None]:
    """Consumers and jobs loaded, running with these settings."""
    registry.load()
    registry.configure(settings)
    try:
        yield
    finally:
        registry._settings = None


@contextmanager
def adapter(channel: str, a: adapters.Adapter | None) -> Iterator[None]:
    adapters.override(channel, a)
    try:
        yield
    finally:
        adapters.override(channel, None)


def converse(client: TestClient, world: World, channel: str, sender: str, *, text: str = "你好",
             reply: str = "您好，已处理", message_id: str = "in-1") -> dict[str, Any]:
    """A customer's message and the agent's reply; returns the reply (MessageRead) with the inbound result."""
    r = post_inbound(client, world, channel, message_id=message_id, sender=sender, text=text)
    assert r.status_code in (200, 201), r.text
    got = r.json()
    r = client.post(f"/api/v1/interactions/{got['interaction_id']}/messages", json={"body": reply},
                    headers=world.auth("agent_gz"))
    assert r.status_code == 201, r.text
    return {**r.json(), "inbound": got}


def settle(world: World) -> None:
    """Deliver the outbox until it is empty (a consumer's jobs are events too)."""
    for _ in range(10):
        bus.dispatch_pending(world.db)
        if not bus.has_pending(world.db):
            return


def delivery(world: World, message_id: int) -> OutboundDelivery:
    with world.db.session() as s:
        d = s.scalars(select(OutboundDelivery).where(OutboundDelivery.message_id == message_id)).one()
        s.expunge(d)
        return d


def retry_at(world: World, when: datetime) -> None:
    """The periodic retry job's run for the tick `when`."""
    registry.run_periodic(world.db, "channels.retry", when)
    settle(world)
