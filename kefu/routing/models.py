"""Routing's tables: queues and the rules that fill them, agents' routing state, work items, offers, and the
routing inputs the single writer consumes (migration 0301_routing).

The engine (kefu/routing/engine.py) decides; these tables are what it restores from and what the console
reads. The database guarantees the two fatal mistakes cannot happen whatever the code does: at most one
live offer or assignment per item (a unique partial index on offers), at most one live item per ticket
(another one on items).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from kefu.core.db import Base, BigId, UTCDateTime

PRESENCES = ("available", "after_call_work", "break", "not_ready", "offline")
ITEM_STATES = ("waiting", "offered", "assigned", "completed", "withdrawn")
LIVE_ITEM = ("waiting", "offered", "assigned")
OFFER_STATES = ("offered", "accepted", "rejected", "timed_out", "revoked")
LIVE_OFFER = ("offered", "accepted")


class RoutingQueue(Base):
    """A queue by skill and channel, as an administrator configures it (QueueConfig in the engine)."""

    __tablename__ = "routing_queues"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str | None] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(16))
    # {skill key: minimum level}
    skills: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    # capacity units an item of this queue takes (an agent has 100; a call takes all of it)
    weight: Mapped[int] = mapped_column(Integer, default=100)
    base_priority: Mapped[float] = mapped_column(Float, default=0.0)
    aging_per_minute: Mapped[float] = mapped_column(Float, default=1.0)
    # [{"after": seconds, "level_drop": n, "reach": "city" | "neighbours" | "province" | "anywhere"}]
    rings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    overflow_to: Mapped[str | None] = mapped_column(String(40))
    overflow_after: Mapped[float | None] = mapped_column(Float)
    offer_timeout: Mapped[float] = mapped_column(Float, default=20.0)
    wrap_up: Mapped[float] = mapped_column(Float, default=0.0)
    preferred_window: Mapped[float] = mapped_column(Float, default=0.0)
    # opened and closed by hand (service hours come from a calendar when one is set)
    open: Mapped[bool] = mapped_column(Boolean, default=True)
    calendar_id: Mapped[int | None] = mapped_column(BigId)
    # Sent to a customer whose text contact arrives while the queue is closed (chat and message queues;
    # migration 0304). None: no reply (the work waits for the opening, or overflows).
    after_hours_reply: Mapped[str | None] = mapped_column(String(500))
    org_unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("org_units.id", ondelete="RESTRICT"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("weight >= 1", name="weight"),
        CheckConstraint("aging_per_minute >= 0", name="aging"),
        CheckConstraint("offer_timeout > 0", name="offer_timeout"),
    )


class RoutingRule(Base):
    """Which queue a piece of work goes to: the first active rule whose conditions all hold (empty = any)."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    queue_key: Mapped[str] = mapped_column(String(40), ForeignKey("routing_queues.key", ondelete="CASCADE"))
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    types: Mapped[list[str]] = mapped_column(JSON, default=list)
    # category keys; a first-level key matches its children too
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    tiers: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (Index("ix_routing_rules_position", "position", "id"),)


class RoutingAgent(Base):
    """An agent's routing profile and state (presence, idle since, wrap-up)."""

    __tablename__ = "routing_agents"

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    queues: Mapped[list[str]] = mapped_column(JSON, default=list)
    # {channel: items of it at once}
    channels: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    capacity: Mapped[int] = mapped_column(Integer, default=100)
    presence: Mapped[str] = mapped_column(String(16), default="offline")
    reason: Mapped[str | None] = mapped_column(String(40))
    presence_since: Mapped[datetime] = mapped_column(UTCDateTime)
    idle_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acw_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("presence in ('available','after_call_work','break','not_ready','offline')",
                        name="presence"),
        CheckConstraint("capacity >= 1", name="capacity"),
    )


class RoutingItem(Base):
    """A piece of work that needs an agent: a ticket without an owner (later: a call, a chat session)."""

    __tablename__ = "routing_items"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("tickets.id", ondelete="CASCADE"))
    interaction_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("interactions.id", ondelete="CASCADE"))
    queue_key: Mapped[str] = mapped_column(String(40))
    entry_queue_key: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(16))
    skills: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    weight: Mapped[int] = mapped_column(Integer, default=100)
    tier: Mapped[str | None] = mapped_column(String(16))
    kind: Mapped[str | None] = mapped_column(String(16))
    category: Mapped[str | None] = mapped_column(String(60))
    ticket_priority: Mapped[str | None] = mapped_column(String(8))  # the ticket's (raised by a customer segment)
    sla_at_risk: Mapped[bool] = mapped_column(Boolean, default=False)
    repeat_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    city: Mapped[str | None] = mapped_column(String(32))
    province: Mapped[str | None] = mapped_column(String(32))
    preferred_agent_id: Mapped[int | None] = mapped_column(BigId)
    parked_with: Mapped[int | None] = mapped_column(BigId)
    org_unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("org_units.id", ondelete="RESTRICT"))
    enqueued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    queue_since: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(12), default="waiting")
    agent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(40))

    __table_args__ = (
        CheckConstraint("state in ('waiting','offered','assigned','completed','withdrawn')", name="state"),
        # at most one live item per ticket, whatever the number of processes
        Index("uq_routing_items_live_ticket", "ticket_id", unique=True,
              sqlite_where=text("state in ('waiting','offered','assigned')"),
              postgresql_where=text("state in ('waiting','offered','assigned')")),
        Index("ix_routing_items_state_queue", "state", "queue_key", "enqueued_at"),
        Index("ix_routing_items_agent", "agent_id", "state"),
    )


class RoutingOffer(Base):
    """An offer of an item to an agent; its id is the engine's offer id."""

    __tablename__ = "routing_offers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    item_id: Mapped[int] = mapped_column(BigId, ForeignKey("routing_items.id", ondelete="CASCADE"))
    agent_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    queue_key: Mapped[str] = mapped_column(String(40))
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(12), default="offered")
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(String(40))

    __table_args__ = (
        CheckConstraint("state in ('offered','accepted','rejected','timed_out','revoked')", name="state"),
        # at most one live offer or assignment per item, whatever the code does
        Index("uq_routing_offers_live_item", "item_id", unique=True,
              sqlite_where=text("state in ('offered','accepted')"),
              postgresql_where=text("state in ('offered','accepted')")),
        Index("ix_routing_offers_agent_state", "agent_id", "state"),
    )


class RoutingInput(Base):
    """Something the routing engine must hear of, in the order the single writer reads them: a ticket to
    route, an agent's presence, an answer to an offer, a profile or queue change."""

    __tablename__ = "routing_inputs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (Index("ix_routing_inputs_pending", "processed_at", "id"),)


class RoutingState(Base):
    """The single writer's own counters (the next offer id) and who holds the writer's role."""

    __tablename__ = "routing_state"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class RoutingTicketQueue(Base):
    """A ticket sent to a queue by hand (转派 to a queue): it is routed there instead of by the rules, until
    it is sent elsewhere."""

    __tablename__ = "routing_ticket_queues"

    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    queue_key: Mapped[str] = mapped_column(String(40))
    set_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime)
