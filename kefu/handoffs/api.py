"""Handoffs' API (thin): an agent sends a link, the app or web portal reports completion, the supervisor
wall reads the figures."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from kefu.core.auth import Principal
from kefu.core.body import Body
from kefu.core.deps import AppSettings, DbSession, require
from kefu.core.errors import InvalidInput
from kefu.handoffs import service
from kefu.handoffs.models import Handoff

router = APIRouter(tags=["handoffs"])


class HandoffIn(Body):
    model_config = ConfigDict(extra="forbid")

    customer_id: int = Field(ge=1, le=2**63 - 1)
    to_channel: Literal["sms", "wechat", "app"]
    task: str = Field(min_length=1, max_length=100)
    interaction_id: int | None = Field(default=None, ge=1, le=2**63 - 1, description="the call it comes from")


class CompleteIn(Body):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=5, max_length=200)


class HandoffRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    customer_id: int
    source: str
    from_channel: str
    to_channel: str
    task: str
    ivr_node: str | None
    status: str
    offered_at: datetime
    expires_at: datetime
    opened_at: datetime | None
    completed_at: datetime | None
    returned_at: datetime | None
    saved_seconds: float


class DirectionRead(BaseModel):
    from_channel: str
    to_channel: str
    offered: int
    opened: int
    completed: int
    returned: int
    completion_rate: float | None
    return_rate: float | None


class StatsRead(BaseModel):
    start: datetime
    end: datetime
    calls: int
    offered: int
    opened: int
    completed: int
    returned: int
    handoff_rate: float | None = Field(description="handoffs offered / hotline calls offered")
    completion_rate: float | None
    return_rate: float | None
    hotline_minutes_saved: float
    directions: list[DirectionRead]


@router.post("/handoffs", response_model=HandoffRead, status_code=201)
def send_handoff(body: HandoffIn, session: DbSession, settings: AppSettings,
                 principal: Principal = require("handoffs.send")) -> Handoff:
    """An agent sends the customer a link that opens the task in another channel (409 no_address when the
    customer has no address there)."""
    from kefu.customers import service as customers

    c = customers.get_visible(session, principal, body.customer_id)
    h, _ = service.offer(session, customer_id=c.id, org_unit_id=principal.org_unit_id, to_channel=body.to_channel,
                         task=body.task, source="agent", secret=settings.secret_key.get_secret_value().encode(),
                         public_url=settings.public_url, link_hours=settings.handoff_link_hours,
                         from_interaction_id=body.interaction_id, agent_id=principal.user_id)
    return h


@router.post("/handoffs/complete", response_model=HandoffRead,
             responses={410: {"description": "the handoff's link has expired"}})
def complete_handoff(body: CompleteIn, session: DbSession, settings: AppSettings,
                     principal: Principal = require("inbound.post")) -> Handoff:
    """The app or web portal (掌厅/网厅) reports the task finished, by the handoff's token."""
    h = service.by_token(session, body.token, secret=settings.secret_key.get_secret_value().encode())
    return service.complete(session, h)


@router.get("/handoffs/stats", response_model=StatsRead)
def handoff_stats(session: DbSession, start: Annotated[AwareDatetime, Query()],
                  end: Annotated[AwareDatetime, Query()],
                  principal: Principal = require("handoffs.read")) -> StatsRead:
    """For the supervisor wall: handoff rate, by direction (from → to), effect (completed, returned) and
    hotline minutes saved, in the principal's subtree."""
    from kefu.org import service as org

    if end <= start or (end - start).days > 366:
        raise InvalidInput("end must follow start, within a year", code="invalid_period")
    s = service.stats(session, org.visible_unit_ids(session, principal), start=start, end=end)
    return StatsRead(start=start, end=end, calls=s.calls, offered=s.offered, opened=s.opened, completed=s.completed,
                     returned=s.returned, handoff_rate=s.handoff_rate,
                     completion_rate=s.completed / s.offered if s.offered else None,
                     return_rate=s.returned / s.offered if s.offered else None,
                     hotline_minutes_saved=s.minutes_saved,
                     directions=[DirectionRead(from_channel=d.from_channel, to_channel=d.to_channel, offered=d.offered,
                                               opened=d.opened, completed=d.completed, returned=d.returned,
                                               completion_rate=d.completion_rate, return_rate=d.return_rate)
                                 for d in s.directions])
