from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from kefu.core.body import Body, BodyId
from kefu.customers.pii import FreeText


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class TicketCreate(Schema, Body):
    type: str
    subject: str = Field(min_length=1, max_length=200)
    org_unit_id: BodyId | None = None  # default: the caller's own unit
    customer_id: BodyId | None = None
    channel: str | None = None
    description: str | None = Field(default=None, max_length=20_000)
    category: str | None = Field(default=None, description="category key, e.g. 'billing.refund'")
    priority: str | None = None


class TicketUpdate(Schema, Body):
    subject: str | None = Field(default=None, min_length=1, max_length=200)
    category: str | None = None
    priority: str | None = None
    type: str | None = None
    expected_version: int | None = None


class TransitionCreate(Schema, Body):
    to: str
    reason: str | None = Field(default=None, max_length=2000)
    expected_version: int | None = None


class AssignIn(Schema, Body):
    assignee_id: BodyId
    expected_version: int | None = None


class MergeIn(Schema, Body):
    into_id: BodyId
    reason: str = Field(min_length=1, max_length=2000)


class ReplyDeadline(Schema):
    due_at: datetime
    at_risk: bool
    overdue: bool


class CategoryRef(Schema):
    key: str
    name: str
    name_en: str


class TransitionRead(Schema):
    id: int
    from_status: str | None
    to_status: str
    actor_id: int | None
    reason: FreeText | None
    at: datetime


class TicketRead(Schema):
    id: int
    type: str
    status: str
    priority: str
    subject: FreeText
    channel: str | None
    category: CategoryRef | None
    customer_id: int | None
    customer_tier: str | None
    org_unit_id: int
    assignee_id: int | None
    created_by_id: int | None
    merged_into_id: int | None
    opened_at: datetime
    updated_at: datetime
    first_reply_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    version: int
    reply_deadline: ReplyDeadline | None


class TicketDetail(TicketRead):
    description: FreeText | None
    transitions: list[TransitionRead]


class TicketList(Schema):
    items: list[TicketRead]
    total: int
    limit: int
    offset: int
    total_capped: bool = False


class CategoryNode(Schema):
    key: str
    name: str
    name_en: str
    children: list[CategoryNode] = []


class PossibleDuplicateRead(Schema):
    ticket: TicketRead
    score: float
