"""Helpers shared by the channels and interactions tests: post as a gateway, count what was written."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select

from kefu.core.db import Database
from kefu.core.events import OutboxEvent
from kefu.customers.models import Customer
from kefu.interactions.models import InboundRejection, Interaction, Message
from kefu.tickets.models import Ticket
from tests.conftest import World

PHONE = "13812345678"
E164 = "+8613812345678"


def post_inbound(client: TestClient, world: World, channel: str, *, message_id: str, sender: str = PHONE,
                 text: str = "你好", **extra: Any) -> Response:
    body = {"message_id": message_id, "sender": sender, "text": text, **extra}
    return client.post(f"/api/v1/inbound/{channel}", json=body, headers=world.auth("admin"))


def counts(db: Database) -> dict[str, int]:
    with db.session() as s:
        return {name: s.scalar(select(func.count()).select_from(model)) or 0
                for name, model in (("customers", Customer), ("interactions", Interaction),
                                    ("messages", Message), ("tickets", Ticket),
                                    ("rejections", InboundRejection))}


def event_names(db: Database, *, exclude: tuple[str, ...] = ("user.created",)) -> list[str]:
    with db.session() as s:
        return [n for n in s.scalars(select(OutboxEvent.name).order_by(OutboxEvent.id)) if n not in exclude]


def rejections(db: Database) -> list[InboundRejection]:
    with db.session() as s:
        return list(s.scalars(select(InboundRejection).order_by(InboundRejection.id)))
