"""A handoff: the customer was sent a link to finish a task in another channel (migration 0951_handoffs)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from kefu.core.db import Base, BigId, UTCDateTime

STATUSES = ("offered", "opened", "completed", "returned")
TO_CHANNELS = ("sms", "wechat", "app")
SOURCES = ("ivr", "agent")


class Handoff(Base):
    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    org_unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("org_units.id", ondelete="RESTRICT"))
    source: Mapped[str] = mapped_column(String(8))
    from_channel: Mapped[str] = mapped_column(String(16))
    to_channel: Mapped[str] = mapped_column(String(16))
    task: Mapped[str] = mapped_column(String(100))
    ivr_node: Mapped[str | None] = mapped_column(String(40))
    from_interaction_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("interactions.id", ondelete="SET NULL"))
    # the outbound interaction that carries the link (delivered by the channel's outbound delivery)
    link_interaction_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("interactions.id", ondelete="SET NULL"))
    agent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(10), default="offered")
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # hotline seconds the handoff saved: the mean talk time of answered calls, for a completed handoff
    saved_seconds: Mapped[float] = mapped_column(Float, default=0.0)

    __table_args__ = (
        CheckConstraint("status in ('offered','opened','completed','returned')", name="status"),
        CheckConstraint("to_channel in ('sms','wechat','app')", name="to_channel"),
        Index("ix_handoffs_customer_offered", "customer_id", "offered_at"),
        Index("ix_handoffs_org_offered", "org_unit_id", "offered_at"),
        Index("ix_handoffs_from_interaction", "from_interaction_id"),
    )
