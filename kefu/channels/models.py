"""Outbound delivery of replies (one row per outbound message, one per provider part) and the parts
of concatenated inbound SMS waiting for their siblings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kefu.core.db import Base, BigId, UTCDateTime

DELIVERY_STATUSES = ("queued", "sent", "delivered", "failed")


class OutboundDelivery(Base):
    """The delivery of one outbound message through its channel's adapter.

    queued → sent (the provider took it) → delivered (a delivery report said so), or failed (a
    permanent refusal, a failed delivery report, or `outbound_max_attempts` temporary failures).
    `key` is handed to the provider as the idempotency key: the same for every attempt."""

    __tablename__ = "outbound_deliveries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    message_id: Mapped[int] = mapped_column(BigId, ForeignKey("messages.id", ondelete="CASCADE"))
    interaction_id: Mapped[int] = mapped_column(BigId)
    org_unit_id: Mapped[int] = mapped_column(BigId)
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str | None] = mapped_column(String(255))
    key: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    # A notice kefu sent on its own (message.sent with notice): its kind; None for an agent's reply.
    notice_kind: Mapped[str | None] = mapped_column(String(32))
    # A notice's link (a survey's signed answer page): a WeChat template notice's button (migration 0019).
    link: Mapped[str | None] = mapped_column(String(1024))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("message_id", name="uq_outbound_deliveries_message"),
        UniqueConstraint("key", name="uq_outbound_deliveries_key"),
        CheckConstraint("status in ('queued','sent','delivered','failed')", name="status"),
        Index("ix_outbound_deliveries_due", "status", "next_attempt_at"),
    )


class OutboundPart(Base):
    """One provider message of a delivery (a long SMS is several), found again by the provider's id
    when its delivery report arrives."""

    __tablename__ = "outbound_parts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(BigId, ForeignKey("outbound_deliveries.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    provider_id: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="sent")  # sent | delivered | failed
    error: Mapped[str | None] = mapped_column(String(200))
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("channel", "provider_id", name="uq_outbound_parts_provider"),
        Index("ix_outbound_parts_delivery", "delivery_id"),
    )


class EarlyReport(Base):
    """A delivery report whose provider id is not known yet: the report beat the commit of its send (an
    SMS gateway answering the submit and reporting at once; the web chat widget showing a reply before the
    sender commits). Applied, then deleted, when the send is recorded."""

    __tablename__ = "outbound_early_reports"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))
    provider_id: Mapped[str] = mapped_column(String(128))
    delivered: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(String(200))
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("channel", "provider_id", name="uq_outbound_early_reports_provider"),
        Index("ix_outbound_early_reports_received", "received_at"),
    )


class SmsFragment(Base):
    """A part of a concatenated inbound SMS, kept until all parts of its reference have arrived."""

    __tablename__ = "sms_fragments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    sender: Mapped[str] = mapped_column(String(32))
    ref: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    message_id: Mapped[str] = mapped_column(String(255))
    text: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("sender", "ref", "total", "seq", name="uq_sms_fragments_part"),)


class ChannelConfig(Base):
    """An org unit's configuration of one channel's adapter, set by an administrator on the console
    (kefu.channels.config). Plain values in `values` (JSON); secrets encrypted in `secrets` (a Fernet
    token of a JSON object, key derived from KEFU_SECRET_KEY), never shown again. A unit without a row
    uses its nearest ancestor's, and the KEFU_* settings are the defaults under all of them."""

    __tablename__ = "channel_configs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    org_unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("org_units.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    values: Mapped[str] = mapped_column(Text, default="{}")
    secrets: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))

    __table_args__ = (UniqueConstraint("org_unit_id", "channel", name="uq_channel_configs_unit_channel"),)
