from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from kefu.core.body import Body
from kefu.voice.callstate import CtiEvent, derived_event_id

Kind = Literal["offered", "ivr", "queued", "ringing", "answered", "held", "retrieved", "transferred", "abandoned",
               "ended"]
Ref = Field(default=None, min_length=1, max_length=100, pattern=r"^[^\x00-\x1f]+$")


class CtiEventIn(Body):
    """One event of the switch. `at` carries its zone; `event_id` is the switch's own id (sequence number),
    derived from kind, time and detail when the switch sends none."""

    model_config = ConfigDict(extra="forbid")

    call_id: str = Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f]+$")
    kind: Kind
    at: AwareDatetime
    event_id: str | None = Ref
    ani: str | None = Field(default=None, max_length=40)
    dnis: str | None = Field(default=None, max_length=40)
    node: str | None = Field(default=None, min_length=1, max_length=40, description="ivr: the menu node's key")
    queue: str | None = Field(default=None, min_length=1, max_length=40, description="queued, transferred")
    agent: str | None = Field(default=None, min_length=1, max_length=100,
                              description="ringing, answered, transferred: the agent's kefu username")
    recording_url: str | None = Field(default=None, max_length=1000, pattern=r"^https?://")

    def event(self) -> CtiEvent:
        detail = self.node or self.agent or self.queue
        return CtiEvent(call_id=self.call_id, event_id=self.event_id or derived_event_id(self.kind, self.at, detail),
                        kind=self.kind, at=self.at, ani=self.ani or None, dnis=self.dnis or None, node=self.node,
                        queue=self.queue, agent=self.agent, recording_url=self.recording_url)


class CtiBatch(Body):
    model_config = ConfigDict(extra="forbid")

    events: list[CtiEventIn] = Field(min_length=1, max_length=1000)


class CallResultRead(BaseModel):
    call_id: str
    interaction_id: int
    accepted: int
    duplicates: int
    phase: str


class CtiAccepted(BaseModel):
    accepted: int
    duplicates: int
    calls: list[CallResultRead]


class CallRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    call_id: str
    interaction_id: int
    org_unit_id: int
    ani: str | None
    dnis: str | None
    phase: str
    queue_key: str | None
    ivr_path: list[dict[str, Any]]
    transfers: list[dict[str, Any]]
    agent_id: int | None
    agent_ref: str | None
    offered_at: datetime
    queued_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    ivr_seconds: float
    queue_seconds: float
    talk_seconds: float
    hold_seconds: float
    outcome: str | None
    recording_url: str | None
    events: int


class IvrNodeIn(Body):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    name_en: str | None = Field(default=None, max_length=100)
    kind: Literal["menu", "self_service", "agent", "handoff", "callback"]
    parent_key: str | None = Field(default=None, max_length=40)
    digit: str | None = Field(default=None, max_length=1)
    service: str | None = Field(default=None, max_length=40)
    queue_key: str | None = Field(default=None, max_length=40)
    handoff_channel: str | None = Field(default=None, max_length=16)
    position: int = Field(default=0, ge=0, le=10_000)


class IvrNodeRead(BaseModel):
    key: str
    name: str
    name_en: str | None
    kind: str
    digit: str | None
    service: str | None
    queue_key: str | None
    handoff_channel: str | None
    position: int
    children: list[IvrNodeRead] = []


class IvrMenu(BaseModel):
    roots: list[IvrNodeRead]
