"""Playbooks' tables (migration 0651_playbooks): emergency plans (应急预案) and their runs.

A playbook names its trigger (by hand, or a complaint surge of a category in a region above a count), its
steps (each with an owner role or person and a deadline after activation) and its customer notice
template. A run is one activation: its steps as they are tracked, the notices sent to affected customers,
and a timeline. At most one active run per playbook (a unique partial index).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from kefu.core.db import Base, BigId, UTCDateTime

TRIGGERS = ("manual", "surge", "keyword", "threshold")
LINK_KINDS = ("auto", "manual")
RUN_STATES = ("active", "ended")
STEP_STATES = ("pending", "done", "skipped")
NOTICE_STATES = ("fault", "restored")


class Playbook(Base):
    __tablename__ = "playbooks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    trigger: Mapped[str] = mapped_column(String(16), default="manual")
    # keyword triggers (migration 0653_playbook_triggers): folded keywords (kefu.playbooks.matching); a keyword
    # playbook starts on (and links) new tickets in scope holding one; a threshold playbook starts when
    # min_count tickets in scope opened within window_minutes
    keywords: Mapped[list[str] | None] = mapped_column(JSON)
    window_minutes: Mapped[int] = mapped_column(Integer, default=60)
    # the surge it answers: a category (a first-level one covers its children; none: any) in a unit's subtree
    category_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("categories.id", ondelete="RESTRICT"))
    org_unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("org_units.id", ondelete="RESTRICT"))
    min_count: Mapped[int] = mapped_column(Integer, default=0)
    notice_template: Mapped[str | None] = mapped_column(Text)
    # one-action switches (migration 0652_playbook_switches): an IVR announcement, a queue overflowing into another
    ivr_text: Mapped[str | None] = mapped_column(Text)
    overflow_from: Mapped[str | None] = mapped_column(String(40))
    overflow_to: Mapped[str | None] = mapped_column(String(40))
    # resources (migration 0654_playbook_resources): the staff it calls in (put on the extra queues while that
    # switch is on), the scripts agents answer with and the FAQ pushed to the front line (knowledge articles),
    # the compensation budget; the queues the "extra queues" switch opens; the notice that the fault is over
    staff_ids: Mapped[list[int] | None] = mapped_column(JSON)
    script_article_ids: Mapped[list[int] | None] = mapped_column(JSON)
    faq_article_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("knowledge_articles.id",
                                                                         ondelete="SET NULL"))
    budget_yuan: Mapped[int | None] = mapped_column(Integer)
    extra_queues: Mapped[list[str] | None] = mapped_column(JSON)
    restore_template: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (CheckConstraint("trigger in ('manual','surge','keyword','threshold')", name="trigger"),
                      CheckConstraint("min_count >= 0", name="min_count"),
                      CheckConstraint("window_minutes >= 1", name="window_minutes"),
                      CheckConstraint("budget_yuan >= 0", name="budget_yuan"))


class PlaybookStep(Base):
    __tablename__ = "playbook_steps"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    playbook_id: Mapped[int] = mapped_column(BigId, ForeignKey("playbooks.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(200))
    owner_role: Mapped[str] = mapped_column(String(16))
    owner_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    due_minutes: Mapped[int] = mapped_column(Integer, default=60)

    __table_args__ = (Index("ix_playbook_steps_playbook", "playbook_id", "position"),
                      CheckConstraint("due_minutes >= 1", name="due_minutes"))


class PlaybookRun(Base):
    __tablename__ = "playbook_runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    playbook_id: Mapped[int] = mapped_column(BigId, ForeignKey("playbooks.id", ondelete="RESTRICT"))
    state: Mapped[str] = mapped_column(String(8), default="active")
    trigger: Mapped[str] = mapped_column(String(16))
    org_unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("org_units.id", ondelete="RESTRICT"))
    category_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("categories.id", ondelete="RESTRICT"))
    # affected customers: those whose tickets of the category in the unit's subtree opened from window_start on
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    surge: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    started_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    review: Mapped[str | None] = mapped_column(Text)
    # switches that are on, with what they replaced: {"ivr": {"node_key"}, "overflow": {"queue", "to",
    # "prev_to", "prev_after"}} (turned off again when the run ends)
    switches: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # incident roles (Netflix Dispatch): {"commander": user id, "communications": user id, "support_lead": ...}
    roles: Mapped[dict[str, int] | None] = mapped_column(JSON)

    __table_args__ = (
        CheckConstraint("state in ('active','ended')", name="state"),
        Index("uq_playbook_runs_one_active", "playbook_id", unique=True,
              sqlite_where=text("state = 'active'"), postgresql_where=text("state = 'active'")),
        Index("ix_playbook_runs_started", "started_at"),
    )


class PlaybookRunStep(Base):
    __tablename__ = "playbook_run_steps"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(BigId, ForeignKey("playbook_runs.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(200))
    owner_role: Mapped[str] = mapped_column(String(16))
    owner_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(8), default="pending")
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (CheckConstraint("state in ('pending','done','skipped')", name="state"),
                      Index("ix_playbook_run_steps_run", "run_id", "position"),
                      Index("ix_playbook_run_steps_due", "state", "due_at"))


class PlaybookRunLog(Base):
    """The run's timeline: activation, steps done, notices sent, surges seen again, the end."""

    __tablename__ = "playbook_run_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(BigId, ForeignKey("playbook_runs.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (Index("ix_playbook_run_log_run", "run_id", "id"),)


class PlaybookRunTicket(Base):
    """A ticket linked to a run (migration 0653_playbook_triggers): by itself when it was opened in the run's
    scope while the run was active (`auto`), or by an agent from the ticket page (`manual`)."""

    __tablename__ = "playbook_run_tickets"

    run_id: Mapped[int] = mapped_column(BigId, ForeignKey("playbook_runs.id", ondelete="CASCADE"), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    how: Mapped[str] = mapped_column(String(8))
    linked_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (CheckConstraint("how in ('auto','manual')", name="how"),
                      Index("ix_playbook_run_tickets_ticket", "ticket_id"))


class PlaybookRunNotice(Base):
    """A customer told of a run's state (migration 0654_playbook_resources): once per state (the fault, its
    restoration) and run, whatever the number of sends; the message went on the channel of their ticket."""

    __tablename__ = "playbook_run_notices"

    run_id: Mapped[int] = mapped_column(BigId, ForeignKey("playbook_runs.id", ondelete="CASCADE"), primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    state: Mapped[str] = mapped_column(String(8), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    ticket_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("tickets.id", ondelete="SET NULL"))
    message_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("messages.id", ondelete="SET NULL"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (CheckConstraint("state in ('fault','restored')", name="state"),)
