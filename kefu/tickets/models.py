"""Tickets, the category tree and the recorded lifecycle."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Computed, ForeignKey, Index, Integer, SmallInteger, String, Text, text
from sqlalchemy.engine.interfaces import ExecutionContext
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from kefu.core.db import Base, BigId, UTCDateTime

TICKET_TYPES = ("inquiry", "complaint", "request", "suggestion", "appeal")
PRIORITIES = ("low", "normal", "high", "urgent")
# Work order: urgent 0 .. low 3, then the reply deadline (a far date for none), then age.
WORK_RANK_SQL = "CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END"
WORK_DUE_SQL = "COALESCE(reply_due_at, '9000-01-01 00:00:00')"


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    parent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("categories.id", ondelete="RESTRICT"))
    key: Mapped[str] = mapped_column(String(60), unique=True)  # "billing", "billing.refund"
    name: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(Integer, default=0)


def masked_subject(subject: str | None) -> str | None:
    """The subject as a role without `pii` sees it (ID and phone numbers masked): what such a role's
    search matches, so a search cannot find the digits the mask hides."""
    from kefu.customers.pii import mask_pii_text

    return None if subject is None else mask_pii_text(subject)[:200]


def _masked_subject_default(context: ExecutionContext) -> str | None:
    # Core inserts (the inbound fast path, bulk loads) that name no subject_masked get it from their subject
    return masked_subject(context.get_current_parameters().get("subject"))  # type: ignore[attr-defined]


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(24), default="new")
    priority: Mapped[str] = mapped_column(String(8), default="normal")
    subject: Mapped[str] = mapped_column(String(200))
    #: ``subject`` with ID and phone numbers masked (kept by every writer: the ORM through ``_mask``, Core
    #: inserts through the column default): roles without `pii` search this, not the subject.
    subject_masked: Mapped[str | None] = mapped_column(String(200), default=_masked_subject_default,
                                                       deferred=True)
    description: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str | None] = mapped_column(String(16))
    category_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("categories.id", ondelete="RESTRICT"))
    customer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customers.id", ondelete="RESTRICT"))
    org_unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("org_units.id", ondelete="RESTRICT"))
    assignee_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    merged_into_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("tickets.id", ondelete="SET NULL"))
    # Tier of the customer when the ticket was opened (inbox filter without a join).
    customer_tier: Mapped[str | None] = mapped_column(String(16))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Legal reply deadline for complaints (opened + 15 days, Order No. 35 of 2016).
    reply_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Optimistic concurrency: bumped on every change; a stale write is refused.
    version: Mapped[int] = mapped_column(Integer, default=1)
    # The inbox's work order (priority, then reply deadline, then age), computed by the database from the
    # row whoever writes it (migration 0303_tickets_work_order; virtual on SQLite). Only ever ordered by,
    # never loaded: deferred.
    work_rank: Mapped[int | None] = mapped_column(SmallInteger, Computed(WORK_RANK_SQL, persisted=True),
                                                  deferred=True)
    work_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, Computed(WORK_DUE_SQL, persisted=True),
                                                         deferred=True)

    transitions: Mapped[list[TicketTransition]] = relationship(
        back_populates="ticket", lazy="raise", order_by="TicketTransition.id")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    @validates("subject")
    def _mask(self, _key: str, subject: str) -> str:
        self.subject_masked = masked_subject(subject)
        return subject

    __table_args__ = (
        CheckConstraint("type in ('inquiry','complaint','request','suggestion','appeal')", name="type"),
        CheckConstraint("priority in ('low','normal','high','urgent')", name="priority"),
        CheckConstraint("status in ('new','assigned','in_progress','waiting_customer','waiting_support',"
                        "'resolved','closed','merged')", name="status"),
        Index("ix_tickets_org_updated", "org_unit_id", "updated_at"),
        Index("ix_tickets_status_updated", "status", "updated_at"),
        Index("ix_tickets_customer", "customer_id", "opened_at"),
        Index("ix_tickets_assignee_status", "assignee_id", "status"),
        Index("ix_tickets_updated", "updated_at", "id"),
        # Migration 0003_tickets: one index per inbox filter, continuing in inbox order.
        Index("ix_tickets_channel_updated", "channel", "updated_at", "id"),
        Index("ix_tickets_type_updated", "type", "updated_at", "id"),
        Index("ix_tickets_tier_updated", "customer_tier", "updated_at", "id"),
        Index("ix_tickets_category_updated", "category_id", "updated_at", "id"),
        Index("ix_tickets_assignee_updated", "assignee_id", "updated_at", "id"),
        Index("ix_tickets_org_status_updated", "org_unit_id", "status", "updated_at", "id"),
        Index("ix_tickets_work", "work_rank", "work_due_at", "opened_at", "id"),
        Index("ix_tickets_assignee_work", "assignee_id", "work_rank", "work_due_at", "opened_at", "id"),
        Index("ix_tickets_org_work", "org_unit_id", "work_rank", "work_due_at", "opened_at", "id"),
        Index("ix_tickets_reply_open", "reply_due_at", sqlite_where=text("first_reply_at IS NULL"),
              postgresql_where=text("first_reply_at IS NULL")),
    )


class TicketTransition(Base):
    __tablename__ = "ticket_transitions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    actor_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    ticket: Mapped[Ticket] = relationship(back_populates="transitions")
