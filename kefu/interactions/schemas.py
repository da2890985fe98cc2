from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from kefu.core.body import Body
from kefu.customers.pii import FreeText


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class MessageRead(Schema):
    id: int
    interaction_id: int
    channel: str
    direction: str
    body: FreeText
    sender: str | None
    external_id: str | None
    author_id: int | None
    created_at: datetime


class InteractionRead(Schema):
    id: int
    customer_id: int | None
    org_unit_id: int
    channel: str
    direction: str
    status: str
    subject: FreeText | None
    offered_at: datetime
    queued_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    last_message_at: datetime | None
    outcome: str | None
    agent_id: int | None
    ticket_id: int | None
    external_ref: str | None
    last_message: FreeText | None = None


class InteractionDetail(InteractionRead):
    messages: list[MessageRead]


class InteractionPage(Schema):
    items: list[InteractionRead]
    total: int
    limit: int
    offset: int


class ReplyCreate(Schema, Body):
    body: str = Field(min_length=1, max_length=20_000)


class CloseRequest(Schema, Body):
    outcome: str


class TimelineEntryRead(Schema):
    kind: str
    at: datetime
    channel: str | None
    summary: FreeText
    status: str
    customer_id: int | None
    interaction_id: int | None
    ticket_id: int | None
    direction: str | None
    outcome: str | None
    ticket_type: str | None


class TimelinePage(Schema):
    customer_id: int
    items: list[TimelineEntryRead]
    limit: int
    offset: int
