"""Interactions (one touch on one channel) and their messages; refused inbound payloads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kefu.core.db import Base, BigId, UTCDateTime

CHANNELS = ("voice", "sms", "email", "wechat", "im", "weibo", "app", "web", "webchat")
#: The customer identity kind a channel's sender address is (customers.models.IDENTITY_KINDS).
IDENTITY_KIND: dict[str, str] = {
    "sms": "phone",
    "voice": "phone",
    "web": "phone",  # 网厅: the web portal's users are logged in with their number
    "email": "email",
    "wechat": "wechat_openid",
    "weibo": "weibo_id",
    "app": "app_user_id",
    "im": "qq",
    "webchat": "webchat",
}
assert set(IDENTITY_KIND) == set(CHANNELS)
DIRECTIONS = ("inbound", "outbound")
OUTCOMES = ("answered", "abandoned", "self_served", "replied", "transferred", "no_reply")


class Interaction(Base):
    __tablename__ = "interactions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customers.id", ondelete="RESTRICT"))
    org_unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("org_units.id", ondelete="RESTRICT"))
    channel: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(8), default="open")  # open | closed
    subject: Mapped[str | None] = mapped_column(String(200))
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(16))
    agent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    ticket_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("tickets.id", ondelete="SET NULL"))
    # Channel-side identifier of the thread or call (CTI call id, e-mail thread root, chat session id).
    external_ref: Mapped[str | None] = mapped_column(String(255))

    messages: Mapped[list[Message]] = relationship(back_populates="interaction", lazy="raise",
                                                   order_by="Message.id")

    __table_args__ = (
        CheckConstraint("channel in ('voice','sms','email','wechat','im','weibo','app','web','webchat')",
                        name="channel"),
        CheckConstraint("direction in ('inbound','outbound')", name="direction"),
        CheckConstraint("status in ('open','closed')", name="status"),
        Index("ix_interactions_customer_offered", "customer_id", "offered_at"),
        Index("ix_interactions_open_thread", "customer_id", "channel", "status"),
        Index("ix_interactions_org_offered", "org_unit_id", "offered_at"),
        Index("ix_interactions_ticket", "ticket_id"),
    )


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    interaction_id: Mapped[int] = mapped_column(BigId, ForeignKey("interactions.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(8))
    body: Mapped[str] = mapped_column(Text)
    sender: Mapped[str | None] = mapped_column(String(255))
    # The sender's (provider's) message id: the idempotency key for inbound messages.
    external_id: Mapped[str | None] = mapped_column(String(255))
    author_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    # When kefu received (inbound) or wrote (outbound) it.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When the provider says it was sent (the gateway's own time; migration 0015_channels_inbound).
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    interaction: Mapped[Interaction] = relationship(back_populates="messages")

    __table_args__ = (
        UniqueConstraint("channel", "external_id", name="uq_messages_channel_external_id"),
        Index("ix_messages_interaction", "interaction_id", "id"),
    )


class InboundRejection(Base):
    """A channel payload we refused (too large, unparseable, invalid sender): kept for inspection."""

    __tablename__ = "inbound_rejections"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(32))
    status_code: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(500))
    payload_excerpt: Mapped[str | None] = mapped_column(Text)
    payload_bytes: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The refused gateway's org unit: an administrator sees the refusals of their subtree.
    org_unit_id: Mapped[int | None] = mapped_column(BigId)

    __table_args__ = (Index("ix_inbound_rejections_org_unit", "org_unit_id", "id"),)
