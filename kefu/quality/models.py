"""Quality inspection's tables: scorecards and inspections with their appeal (migration 0551_quality)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
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


# ---- training and certification (migration 0552_quality_certification) ------------------------------------

class CertCourse(Base):
    """A course for one skill: knowledge articles and scripts to study, an exam on them (each question cites
    the article it comes from), the mark that passes and how long the certificate holds."""

    __tablename__ = "cert_courses"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    skill: Mapped[str] = mapped_column(String(40))
    # who may take it: the holders of cert.take in this unit's subtree
    org_unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("org_units.id", ondelete="RESTRICT"))
    article_ids: Mapped[list[int]] = mapped_column(JSON)
    # [{"article_id", "text", "options": [str, ...], "answer": index}]
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    pass_percent: Mapped[int] = mapped_column(Integer, default=80)
    valid_days: Mapped[int] = mapped_column(Integer, default=365)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (CheckConstraint("pass_percent BETWEEN 1 AND 100", name="pass_percent"),
                      CheckConstraint("valid_days >= 1", name="valid_days"),
                      Index("ix_cert_courses_skill", "skill"))


class CertAttempt(Base):
    __tablename__ = "cert_attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    course_id: Mapped[int] = mapped_column(BigId, ForeignKey("cert_courses.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    answers: Mapped[list[int]] = mapped_column(JSON)
    score: Mapped[float] = mapped_column(Float)
    passed: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_cert_attempts_user", "user_id", "course_id", "at"),)


class Certificate(Base):
    """A skill certificate from a passed exam, valid until `expires_at` (or until revoked)."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    skill: Mapped[str] = mapped_column(String(40))
    course_id: Mapped[int] = mapped_column(BigId, ForeignKey("cert_courses.id", ondelete="CASCADE"))
    attempt_id: Mapped[int] = mapped_column(BigId, ForeignKey("cert_attempts.id", ondelete="CASCADE"))
    org_unit_id: Mapped[int] = mapped_column(BigId)  # the holder's unit when issued (who sees it)
    score: Mapped[float] = mapped_column(Float)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # certificate.expiring recorded (once)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_certificates_user_skill", "user_id", "skill", "expires_at"),
                      Index("ix_certificates_expiry", "warned_at", "expires_at"))
