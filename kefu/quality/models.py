"""Quality inspection's tables: scorecards and inspections with their appeal (migration 0551_quality)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kefu.core.db import Base, BigId, UTCDateTime

INSPECTION_STATES = ("pending", "scored", "appealed", "final")
REASONS = ("complaint", "low_csat", "random", "manual")


class QualityScorecard(Base):
    __tablename__ = "quality_scorecards"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # [{"key", "name", "weight", "max_marks", "critical"}]
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class QualityInspection(Base):
    """One contact (a ticket) chosen for inspection, its score, and the agent's appeal of it."""

    __tablename__ = "quality_inspections"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("tickets.id", ondelete="CASCADE"))
    agent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    org_unit_id: Mapped[int] = mapped_column(BigId)
    scorecard_id: Mapped[int] = mapped_column(BigId, ForeignKey("quality_scorecards.id", ondelete="RESTRICT"))
    reason: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(12), default="pending")
    inspector_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    marks: Mapped[dict[str, int] | None] = mapped_column(JSON)
    total: Mapped[float | None] = mapped_column(Float)
    comment: Mapped[str | None] = mapped_column(Text)
    sampled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    scored_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    appeal_reason: Mapped[str | None] = mapped_column(Text)
    appealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision: Mapped[str | None] = mapped_column(String(12))  # upheld | revised
    decided_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("ticket_id", name="uq_quality_inspections_ticket"),
        Index("ix_quality_inspections_agent", "agent_id", "status"),
    )
