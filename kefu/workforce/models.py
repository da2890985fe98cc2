"""Workforce tables: saved plans and the shift rules an administrator sets per org unit."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kefu.core.db import Base, BigId, UTCDateTime


class WorkforcePlan(Base):
    """A plan a manager saved: its inputs (what-if knobs included) and the computed result."""

    __tablename__ = "workforce_plans"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    org_unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("org_units.id", ondelete="RESTRICT"))
    channel: Mapped[str] = mapped_column(String(16))
    day: Mapped[date] = mapped_column(Date)
    interval_minutes: Mapped[int] = mapped_column(Integer)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_workforce_plans_org_day", "org_unit_id", "day"),)


class WorkforceRules(Base):
    """Shift rules of one org unit (in minutes); units without a row inherit their nearest ancestor's."""

    __tablename__ = "workforce_rules"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    org_unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("org_units.id", ondelete="CASCADE"))
    rules: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("org_unit_id", name="uq_workforce_rules_org_unit_id"),)


class WorkforceSpecialDay(Base):
    """A run of days an administrator marks for the forecast of a unit (and the units below it): a campaign,
    an outage or a local holiday, with the effect on calls they expect (None: learnt from earlier days of
    the same kind)."""

    __tablename__ = "workforce_special_days"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    org_unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("org_units.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    effect_pct: Mapped[float | None] = mapped_column(Float)
    created_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("kind in ('campaign','outage','holiday')", name="kind"),
        CheckConstraint("last_day >= first_day", name="days"),
        Index("ix_workforce_special_days_org_day", "org_unit_id", "first_day"),
    )


class WorkforceShift(Base):
    """One seat of a unit's day roster: a named agent (or none: an open shift) from start to end, with
    its break."""

    __tablename__ = "workforce_shifts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    org_unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("org_units.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    break_start_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    break_end_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_workforce_shifts_org_day", "org_unit_id", "day"),
        Index("ix_workforce_shifts_user_start", "user_id", "start_at"),
    )


class WorkforceAgentState(Base):
    """An agent's presence change as routing reported it (event routing.agent_presence_changed)."""

    __tablename__ = "workforce_agent_states"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    presence: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    event_id: Mapped[int] = mapped_column(BigId)

    __table_args__ = (
        Index("ix_workforce_agent_states_user_at", "user_id", "at"),
        UniqueConstraint("event_id", name="uq_workforce_agent_states_event_id"),
    )
