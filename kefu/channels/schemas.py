from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class InboundAccepted(Schema):
    """The answer to an inbound message; the same body when the same message is posted again."""

    customer_id: int
    interaction_id: int
    message_id: int
    ticket_id: int | None


class RejectionRead(Schema):
    id: int
    channel: str
    status_code: int
    reason: str
    payload_excerpt: str | None
    payload_bytes: int
    received_at: datetime
    org_unit_id: int | None


class RejectionPage(Schema):
    items: list[RejectionRead]
    total: int
    limit: int
    offset: int
