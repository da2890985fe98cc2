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


class DeliveryRead(BaseModel):
    """The delivery of one outbound message: queued | sent | delivered | failed, with the last error."""

    model_config = ConfigDict(from_attributes=True)

    message_id: int
    channel: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    sent_at: datetime | None
    delivered_at: datetime | None
    updated_at: datetime
