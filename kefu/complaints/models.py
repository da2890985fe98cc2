"""Complaints' tables (migrations 0401_complaints, 0402_complaint_segments, 0403_tariff_plans): what the
classifier said about each ticket and what the agent made of it (the corrections are labelled data for
`kefu complaints retrain`), and the rest of the domain's records."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kefu.core.db import Base, BigId, UTCDateTime

#: applied: a confident type or category was set on the ticket; suggested: nothing was sure enough;
#: confirmed / corrected: an agent reviewed it (the final_* columns are then the labels).
STATUSES = ("applied", "suggested", "confirmed", "corrected")


class Classification(Base):
    __tablename__ = "complaint_classifications"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("tickets.id", ondelete="CASCADE"), unique=True)
    org_unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("org_units.id", ondelete="RESTRICT"))
    predicted_type: Mapped[str] = mapped_column(String(16))
    type_confidence: Mapped[float] = mapped_column(Float)
    predicted_category: Mapped[str] = mapped_column(String(16))
    category_confidence: Mapped[float] = mapped_column(Float)
    escalation: Mapped[bool] = mapped_column(Boolean, default=False)
    escalation_terms: Mapped[list[str]] = mapped_column(JSON, default=list)
    applied_type: Mapped[str | None] = mapped_column(String(16))
    applied_category: Mapped[str | None] = mapped_column(String(16))
    model_version: Mapped[str] = mapped_column(String(40))  # the model's training time
    status: Mapped[str] = mapped_column(String(12))
    final_type: Mapped[str | None] = mapped_column(String(16))
    final_category: Mapped[str | None] = mapped_column(String(16))
    final_escalation: Mapped[bool | None] = mapped_column(Boolean)
    reviewed_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # a repeat complaint: the same customer's earlier ticket of the same category within 30 days
    repeat_of_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("tickets.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("status in ('applied','suggested','confirmed','corrected')", name="status"),
        Index("ix_complaint_classifications_status", "status", "reviewed_at"),
    )


SURGE_STATUSES = ("open", "acknowledged")


class Surge(Base):
    """A significant rise of one category's complaints in one city on one channel (kefu/complaints/surge.py)."""

    __tablename__ = "complaint_surges"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    category: Mapped[str] = mapped_column(String(16))
    org_unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("org_units.id", ondelete="RESTRICT"))
    channel: Mapped[str] = mapped_column(String(16))  # "" when the tickets have no channel
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    observed: Mapped[int] = mapped_column(Integer)
    expected: Mapped[float] = mapped_column(Float)
    p_value: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(12), default="open")
    acknowledged_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("status in ('open','acknowledged')", name="status"),
        Index("ix_complaint_surges_key", "category", "org_unit_id", "channel", "detected_at"),
        Index("ix_complaint_surges_detected", "detected_at"),
    )


COMPENSATION_KINDS = ("bill_credit", "refund", "data_pack", "minutes", "free_trial", "gift_points")
COMPENSATION_STATUSES = ("granted", "pending_approval", "rejected")


class Compensation(Base):
    """A compensation on a ticket, in yuan of value (a data pack or minutes at their price), granted within the
    granter's authority or waiting for someone whose authority covers it."""

    __tablename__ = "complaint_compensations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customers.id", ondelete="SET NULL"))
    org_unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("org_units.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    note: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16))
    requested_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    decided_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    decision_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("kind in ('bill_credit','refund','data_pack','minutes','free_trial','gift_points')",
                        name="kind"),
        CheckConstraint("status in ('granted','pending_approval','rejected')", name="status"),
        CheckConstraint("amount > 0", name="amount"),
    )


class Appeal(Base):
    """An escalated complaint or an appeal to the regulator (12300, a provincial authority, 12315, the media,
    group headquarters) linked to the original ticket, with the regulator's dates."""

    __tablename__ = "complaint_appeals"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    org_unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("org_units.id", ondelete="RESTRICT"))
    source: Mapped[str] = mapped_column(String(24))
    about_charges: Mapped[bool] = mapped_column(Boolean, default=False)
    reference: Mapped[str | None] = mapped_column(String(64))  # the regulator's case number
    received_on: Mapped[date] = mapped_column(Date)
    acceptance_due: Mapped[date] = mapped_column(Date)
    accepted_on: Mapped[date | None] = mapped_column(Date)
    answer_due: Mapped[date | None] = mapped_column(Date)
    answered_on: Mapped[date | None] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(String(16))
    created_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("source in ('miit_12300','provincial_authority','consumer_12315','media','group_hq')",
                        name="source"),
        CheckConstraint("outcome is null or outcome in ('upheld','partly_upheld','not_upheld','withdrawn')",
                        name="outcome"),
    )


class SegmentModel(Base):
    """A fitted segmentation of kefu's customers (kefu/complaints/segments.py): what it kept, how it scales,
    its centroids and each segment's profile and handling. The newest one assigns customers."""

    __tablename__ = "complaint_segment_models"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    variables: Mapped[list[list[str]]] = mapped_column(JSON)  # [key, Chinese name, role] in row order
    kept: Mapped[list[str]] = mapped_column(JSON)
    mean: Mapped[list[float]] = mapped_column(JSON)
    std: Mapped[list[float]] = mapped_column(JSON)
    centroids: Mapped[list[list[float]]] = mapped_column(JSON)
    segments: Mapped[list[dict[str, object]]] = mapped_column(JSON)  # index, size, profile, priority, ...
    choice: Mapped[list[list[float]]] = mapped_column(JSON)  # (k, silhouette, stability)
    customers: Mapped[int] = mapped_column(Integer)
    fitted_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CustomerSegment(Base):
    """The segment a customer is in, with the handling it brings (copied from the model at assignment, so a
    ticket page reads one row)."""

    __tablename__ = "complaint_customer_segments"

    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"),
                                             primary_key=True)
    model_id: Mapped[int] = mapped_column(BigId, ForeignKey("complaint_segment_models.id", ondelete="CASCADE"),
                                          index=True)
    segment: Mapped[int] = mapped_column(Integer)
    priority: Mapped[str] = mapped_column(String(8))
    authority_multiplier: Mapped[Decimal] = mapped_column(Numeric(4, 2))
    offer: Mapped[str] = mapped_column(String(16))
    profile: Mapped[str] = mapped_column(String(200))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (CheckConstraint("priority in ('low','normal','high','urgent')", name="priority"),)


class Budget(Base):
    """The most an org unit (and everything below it) may grant in compensation in one calendar month
    (China time). No row: no budget limit."""

    __tablename__ = "complaint_budgets"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    org_unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("org_units.id", ondelete="CASCADE"))
    month: Mapped[date] = mapped_column(Date)  # the first day of the month
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    set_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("org_unit_id", "month", name="uq_complaint_budgets_unit_month"),
        CheckConstraint("amount >= 0", name="amount"),
    )


class TariffPlan(Base):
    """A plan of the operator's catalogue, kept by an administrator (migration 0403_tariff_plans): its monthly
    fee and allowances (None: unlimited). Tariff advice (kefu/complaints/tariffs.py) chooses among the active
    ones."""

    __tablename__ = "tariff_plans"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str | None] = mapped_column(String(100))
    monthly_fee: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    data_gb: Mapped[float | None] = mapped_column(Float)
    minutes: Mapped[int | None] = mapped_column(Integer)
    sms: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))

    __table_args__ = (
        CheckConstraint("monthly_fee >= 0", name="fee"),
        CheckConstraint("data_gb IS NULL OR data_gb >= 0", name="data_gb"),
        CheckConstraint("minutes IS NULL OR minutes >= 0", name="minutes"),
        CheckConstraint("sms IS NULL OR sms >= 0", name="sms"),
    )
