from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from kefu.core.body import Body
from kefu.routing.service import AGENT_PRESENCES, BREAK_REASONS


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class OfferRead(Schema):
    id: int
    item_id: int
    agent_id: int
    queue_key: str
    offered_at: datetime
    expires_at: datetime
    state: str
    ticket_id: int | None = None


class HeldRead(Schema):
    id: int
    ticket_id: int | None
    queue_key: str
    channel: str
    assigned_at: datetime | None


class AgentStatusRead(Schema):
    user_id: int
    presence: str
    reason: str | None
    since: datetime
    queues: list[str]
    offers: list[OfferRead]
    held: list[HeldRead]


class PresenceIn(Body):
    presence: str = Field(description=f"one of {', '.join(AGENT_PRESENCES)}", max_length=16)
    reason: str | None = Field(default=None, description=f"for a break: one of {', '.join(BREAK_REASONS)}",
                               max_length=40)


class AnswerRead(Schema):
    offer: OfferRead
    pending: bool = Field(description="the routing writer has not answered yet (it will: watch the offer)")


class QueueIn(Body):
    name: str = Field(min_length=1, max_length=100)
    name_en: str | None = Field(default=None, max_length=100)
    channel: str = Field(description="voice | chat | message | ticket", max_length=16)
    org_unit_id: int = Field(ge=1, le=2**63 - 1)
    skills: dict[str, int] = Field(default_factory=dict)
    weight: int | None = Field(default=None, ge=1, le=1000)
    base_priority: float = Field(default=0.0, ge=0, le=100)
    aging_per_minute: float = Field(default=1.0, ge=0, le=6000)
    rings: list[dict[str, Any]] = Field(default_factory=list, max_length=10)
    overflow_to: str | None = Field(default=None, max_length=40)
    overflow_after: float | None = Field(default=None, gt=0, le=86400)
    offer_timeout: float = Field(default=20.0, gt=0, le=3600)
    wrap_up: float = Field(default=0.0, ge=0, le=3600)
    preferred_window: float = Field(default=0.0, ge=0, le=30 * 86400)
    open: bool = True
    position: int = Field(default=0, ge=0, le=10000)
    after_hours_reply: str | None = Field(default=None, max_length=500,
                                          description="sent to a text contact arriving outside service hours")


class QueueRead(Schema):
    key: str
    name: str
    name_en: str | None
    channel: str
    org_unit_id: int
    skills: dict[str, int]
    weight: int
    base_priority: float
    aging_per_minute: float
    rings: list[dict[str, Any]]
    overflow_to: str | None
    overflow_after: float | None
    offer_timeout: float
    wrap_up: float
    preferred_window: float
    open: bool
    position: int
    after_hours_reply: str | None


class QueueStatsRead(Schema):
    queue: QueueRead
    waiting: int
    offered: int
    assigned: int
    oldest_since: datetime | None


class RuleIO(Schema, Body):
    queue_key: str = Field(max_length=40)
    channels: list[str] = Field(default_factory=list, max_length=20)
    types: list[str] = Field(default_factory=list, max_length=10)
    categories: list[str] = Field(default_factory=list, max_length=100)
    tiers: list[str] = Field(default_factory=list, max_length=10)


class AgentUpdate(Body):
    queues: list[str] | None = Field(default=None, max_length=100)
    channels: dict[str, int] | None = None
    capacity: int | None = Field(default=None, ge=1, le=1000)


class AgentRow(Schema):
    user_id: int
    display_name: str
    org_unit_id: int
    presence: str
    reason: str | None
    queues: list[str]
    channels: dict[str, int]
    capacity: int
    held: int
