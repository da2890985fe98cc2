"""Subscribers: profile, identities on other channels, tier rules."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kefu.core.db import Base, BigId, UTCDateTime

TIERS = ("diamond", "gold", "silver", "standard")
IDENTITY_KINDS = ("phone", "wechat_openid", "wechat_unionid", "email", "weibo_id", "app_user_id", "qq",
                  "webchat")


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # Primary identity, E.164 ("+8613800138000"). NULL only for a customer known so far by another channel.
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    name: Mapped[str | None] = mapped_column(String(100))
    org_unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("org_units.id", ondelete="RESTRICT"),
                                             index=True)
    plan: Mapped[str | None] = mapped_column(String(100))
    arpu: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("0"))
    tenure_months: Mapped[int] = mapped_column(Integer, default=0)
    # The year only (age bands in the reports), never the date of birth nor the ID number it may come from.
    birth_year: Mapped[int | None] = mapped_column(SmallInteger)
    share_voice: Mapped[float] = mapped_column(Float, default=0.0)
    share_data: Mapped[float] = mapped_column(Float, default=0.0)
    share_sms: Mapped[float] = mapped_column(Float, default=0.0)
    share_vas: Mapped[float] = mapped_column(Float, default=0.0)
    tier: Mapped[str] = mapped_column(String(16), default="standard", index=True)
    vip: Mapped[bool] = mapped_column(Boolean, default=False)
    merged_into_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customers.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    identities: Mapped[list[CustomerIdentity]] = relationship(back_populates="customer", lazy="selectin")

    __table_args__ = (
        CheckConstraint("tier in ('diamond','gold','silver','standard')", name="tier"),
        CheckConstraint("arpu >= 0", name="arpu_nonneg"),
        CheckConstraint("tenure_months >= 0", name="tenure_nonneg"),
        # customer_ids_of(): the customers merged into one (migration 0002_customers).
        Index("ix_customers_merged_into_id", "merged_into_id"),
    )


class CustomerIdentity(Base):
    """An address by which a customer reaches us on some channel. (kind, value) is globally unique."""

    __tablename__ = "customer_identities"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"),
                                             index=True)
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    customer: Mapped[Customer] = relationship(back_populates="identities")

    __table_args__ = (UniqueConstraint("kind", "value", name="uq_customer_identities_kind_value"),)


class TierRule(Base):
    """Ordered rules: the first rule a customer satisfies gives the tier. An admin edits them."""

    __tablename__ = "tier_rules"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    position: Mapped[int] = mapped_column(Integer)
    tier: Mapped[str] = mapped_column(String(16))
    min_arpu: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("0"))
    min_tenure_months: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        CheckConstraint("tier in ('diamond','gold','silver','standard')", name="tier"),
        Index("ix_tier_rules_position", "position"),
    )


class CustomerSetting(Base):
    """Key/value settings of the customers domain (the VIP ARPU threshold)."""

    __tablename__ = "customer_settings"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class IdentityLinkSuggestion(Base):
    """Evidence that an address may be another customer's, too weak or too contradictory to act on by itself
    (kefu/customers/linking.py): an agent decides (link, merge, or dismiss). Migration 0903_identity_links."""

    __tablename__ = "identity_link_suggestions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    other_customer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(255))
    evidence: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("status in ('open','linked','dismissed')", name="status"),
        Index("ix_identity_link_suggestions_customer", "customer_id", "status"),
    )


class IdentityLinkCode(Base):
    """A one-time code sent by SMS to a number an address wants to bind (kept hashed; expires)."""

    __tablename__ = "identity_link_codes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(255))
    phone: Mapped[str] = mapped_column(String(20))
    code_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_identity_link_codes_address", "kind", "value", "phone"),
        Index("ix_identity_link_codes_phone", "phone", "created_at"),  # codes sent to a number lately
    )
