"""Voice's tables: the CTI events as received, and each call's state folded from them (migration
0901_voice). The call is also an interaction (kefu.interactions): the interaction carries what every
channel has (customer, times, outcome, agent); the call row carries what only a call has (ANI, DNIS, the
IVR path, queue, talk and hold seconds, the recording)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kefu.core.db import Base, BigId, UTCDateTime


class CtiEventRow(Base):
    """A CTI event as the switch sent it; (call id, event id) once."""

    __tablename__ = "cti_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(100))
    event_id: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("call_id", "event_id", name="uq_cti_events_call_event"),
        Index("ix_cti_events_call", "call_id", "at"),
    )


class VoiceCall(Base):
    """A call's state as folded from its CTI events (kefu/voice/callstate.py)."""

    __tablename__ = "voice_calls"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(100), unique=True)
    interaction_id: Mapped[int] = mapped_column(BigId, ForeignKey("interactions.id", ondelete="CASCADE"))
    org_unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("org_units.id", ondelete="RESTRICT"))
    ani: Mapped[str | None] = mapped_column(String(40))
    dnis: Mapped[str | None] = mapped_column(String(40))
    phase: Mapped[str] = mapped_column(String(12))
    queue_key: Mapped[str | None] = mapped_column(String(40))
    # [{"node": key, "at": iso}], in order
    ivr_path: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    transfers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    agent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    agent_ref: Mapped[str | None] = mapped_column(String(100))  # the agent as the switch named them
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ivr_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    queue_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    talk_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    hold_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    outcome: Mapped[str | None] = mapped_column(String(16))
    recording_url: Mapped[str | None] = mapped_column(String(1000))
    events: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("phase in ('offered','ivr','queued','ringing','talking','held','ended')", name="phase"),
        Index("ix_voice_calls_interaction", "interaction_id"),
        Index("ix_voice_calls_org_offered", "org_unit_id", "offered_at"),
        Index("ix_voice_calls_ani", "ani", "offered_at"),
    )


IVR_KINDS = ("menu", "self_service", "agent", "handoff", "callback")


class IvrNode(Base):
    """A node of the hotline's IVR menu (migration 0902_voice_ivr): a menu of digits, a self-service
    (balance, bill, data left ...), "0" for a human (an agent node names its routing queue), or a handoff
    (the customer is sent a link to finish in another channel), or a callback request (预约回拨, migration
    0904: the caller, typically outside the queue's service hours, asks to be called back; routing offers the
    request in the node's voice queue when it opens)."""

    __tablename__ = "ivr_nodes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    parent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("ivr_nodes.id", ondelete="RESTRICT"))
    digit: Mapped[str | None] = mapped_column(String(1))
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    service: Mapped[str | None] = mapped_column(String(40))  # self_service: what it reads out
    queue_key: Mapped[str | None] = mapped_column(String(40))  # agent, callback: the routing queue
    handoff_channel: Mapped[str | None] = mapped_column(String(16))  # handoff: where the link goes
    position: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("kind in ('menu','self_service','agent','handoff','callback')", name="kind"),
        UniqueConstraint("parent_id", "digit", name="uq_ivr_nodes_parent_digit"),
        Index("ix_ivr_nodes_parent", "parent_id", "position"),
    )
