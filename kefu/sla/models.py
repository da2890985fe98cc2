"""SLA tables: working calendars (with their special days), policies, and the clocks of tickets
(migration 0501_sla).

A clock row is the persisted `kefu.sla.clock.Clock` plus what the periodic scan needs to find it cheaply:
`warn_at` and `due_at` (recomputed on every pause and resume; the legal deadline caps `due_at` and keeps it
set while paused) and when it warned and breached (each event is recorded once).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kefu.core.db import Base, BigId, UTCDateTime

METRICS = ("first_response", "next_response", "resolution")
DAY_KINDS = ("holiday", "workday")
ON_BREACH = ("notify", "raise_priority")


class SlaCalendar(Base):
    __tablename__ = "sla_calendars"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    zone: Mapped[str] = mapped_column(String(40), default="Asia/Shanghai")
    # Monday..Sunday, each a list of "HH:MM-HH:MM"
    weekly: Mapped[list[list[str]]] = mapped_column(JSON)
    # apply China's statutory holidays and make-up days (kefu/sla/holidays_cn.py) under this calendar's own days
    statutory: Mapped[bool] = mapped_column(Boolean, default=True)
    org_unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("org_units.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SlaCalendarDay(Base):
    """An administrator's special day: a local holiday, or a worked day (overrides the statutory schedule)."""

    __tablename__ = "sla_calendar_days"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    calendar_id: Mapped[int] = mapped_column(BigId, ForeignKey("sla_calendars.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(100), default="")

    __table_args__ = (
        UniqueConstraint("calendar_id", "day", name="uq_sla_calendar_days_day"),
        CheckConstraint("kind IN ('holiday', 'workday')", name="kind"),
    )


class SlaPolicy(Base):
    """Targets for the tickets it matches: the first active policy by position whose lists all hold (empty = any)."""

    __tablename__ = "sla_policies"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer, default=0)
    types: Mapped[list[str]] = mapped_column(JSON, default=list)
    tiers: Mapped[list[str]] = mapped_column(JSON, default=list)
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    # category keys; a first-level key matches its children too
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    first_response_minutes: Mapped[int | None] = mapped_column(Integer)
    # from a customer's message (after the first reply) to the agent's next reply (migration 0503)
    next_response_minutes: Mapped[int | None] = mapped_column(Integer)
    resolution_minutes: Mapped[int | None] = mapped_column(Integer)
    business_time: Mapped[bool] = mapped_column(Boolean, default=True)
    calendar_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("sla_calendars.id", ondelete="RESTRICT"))
    warn_percent: Mapped[int] = mapped_column(Integer, default=80)
    on_breach: Mapped[str] = mapped_column(String(16), default="notify")
    # on breach the ticket is also handed to this person (a supervisor), whatever on_breach says (migration 0504)
    breach_assignee_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    # or to this routing queue (转派到队列: the ticket loses its owner and waits there; migration 0505)
    breach_queue_key: Mapped[str | None] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("warn_percent BETWEEN 1 AND 100", name="warn_percent"),
        CheckConstraint("first_response_minutes IS NULL OR first_response_minutes > 0", name="first_response"),
        CheckConstraint("resolution_minutes IS NULL OR resolution_minutes > 0", name="resolution"),
        CheckConstraint("next_response_minutes IS NULL OR next_response_minutes > 0", name="next_response"),
    )


class SlaClock(Base):
    __tablename__ = "sla_clocks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("tickets.id", ondelete="CASCADE"))
    policy_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("sla_policies.id", ondelete="SET NULL"))
    metric: Mapped[str] = mapped_column(String(16))
    org_unit_id: Mapped[int] = mapped_column(BigId)
    target_seconds: Mapped[float] = mapped_column(Float)
    used_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    business_time: Mapped[bool] = mapped_column(Boolean, default=True)
    calendar_id: Mapped[int | None] = mapped_column(BigId)
    warn_percent: Mapped[int] = mapped_column(Integer, default=80)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    running_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    legal_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("ticket_id", "metric", name="uq_sla_clocks_ticket_metric"),
        Index("ix_sla_clocks_due", "stopped_at", "due_at"),
        Index("ix_sla_clocks_warn", "stopped_at", "warn_at"),
    )


SURVEY_STATES = ("sent", "answered", "expired", "opted_out")


class SlaSurvey(Base):
    """A satisfaction survey (回访) sent after a ticket was resolved, and the customer's answer (1-5, 5 best;
    migration 0505 moved the old 1-3 answers onto this scale)."""

    __tablename__ = "sla_surveys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("tickets.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    agent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    org_unit_id: Mapped[int] = mapped_column(BigId)
    channel: Mapped[str] = mapped_column(String(16))
    # the thread and message that asked; None for a call task (channel "call": an agent calls and records it)
    interaction_id: Mapped[int | None] = mapped_column(BigId)
    message_id: Mapped[int | None] = mapped_column(BigId)
    # the routing queue the ticket was last in when the survey went out (CSAT per queue; migration 0504)
    queue_key: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12), default="sent")
    choice: Mapped[int | None] = mapped_column(Integer)
    answer_text: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # an unsatisfied answer (1-2) is a follow-up for the supervisors of its unit until one closes it with a
    # note of what was done (migration 0505; 0506 closed, with a note and no closer, those 0505 made of the
    # answers given on the old 1-3 scale)
    followed_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    followed_up_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    follow_up_note: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (
        Index("ix_sla_surveys_customer", "customer_id", "sent_at"),
        Index("ix_sla_surveys_pending", "status", "expires_at"),
        CheckConstraint("choice IS NULL OR choice BETWEEN 1 AND 5", name="choice"),
    )
