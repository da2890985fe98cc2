"""Collaboration's tables (migration 0601_collaboration): consults (会商) from a ticket's owner to several
addressees at once, expert teams across regions (专家团队), frontline suggestions (一线建议).

A consult never changes who owns its ticket: the ticket's assignee stays in charge; each consult has its own
addressee, question, due time, state and answer.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kefu.core.db import Base, BigId, UTCDateTime

# open → answered → accepted (the owner takes the answer and closes it); open | answered → cancelled.
CONSULT_STATES = ("open", "answered", "accepted", "cancelled")
LIVE_CONSULT = ("open", "answered")
# Whom a consult is addressed to: a department (an org unit and below), a role (its holders who see the
# ticket's unit), an expert team (its members, wherever they sit), a named person.
TARGET_KINDS = ("unit", "role", "team", "user")
TEAM_DOMAINS = ("billing", "network", "broadband", "terminal", "roaming", "marketing", "data", "other")


class ExpertTeam(Base):
    """A virtual team of experts from several cities (and lines), addressed as one by consults."""

    __tablename__ = "expert_teams"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str | None] = mapped_column(String(100))
    domain: Mapped[str] = mapped_column(String(16))
    description: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ExpertTeamMember(Base):
    __tablename__ = "expert_team_members"

    team_id: Mapped[int] = mapped_column(BigId, ForeignKey("expert_teams.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    lead: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_expert_team_members_user", "user_id"),)


class Consult(Base):
    """One question from a ticket's owner to one addressee, with its own due time, state and answer."""

    __tablename__ = "consults"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("tickets.id", ondelete="CASCADE"))
    # the ticket's unit and its path when asked (who may see it; role addressees are found by it)
    org_unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("org_units.id", ondelete="RESTRICT"))
    unit_path: Mapped[str] = mapped_column(String(255))
    requester_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="RESTRICT"))
    target_kind: Mapped[str] = mapped_column(String(8))
    target_unit_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("org_units.id", ondelete="RESTRICT"))
    target_role: Mapped[str | None] = mapped_column(String(16))
    target_team_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("expert_teams.id", ondelete="RESTRICT"))
    target_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="RESTRICT"))
    question: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(12), default="open")
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    # when consult.overdue was recorded (once per consult)
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the knowledge article drafted from its accepted answer (migration 0602_consult_articles)
    article_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("knowledge_articles.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("state in ('open','answered','accepted','cancelled')", name="state"),
        CheckConstraint("target_kind in ('unit','role','team','user')", name="target_kind"),
        CheckConstraint(
            "(target_kind = 'unit' AND target_unit_id IS NOT NULL)"
            " OR (target_kind = 'role' AND target_role IS NOT NULL)"
            " OR (target_kind = 'team' AND target_team_id IS NOT NULL)"
            " OR (target_kind = 'user' AND target_user_id IS NOT NULL)", name="target"),
        Index("ix_consults_ticket", "ticket_id", "id"),
        Index("ix_consults_state_due", "state", "due_at"),
    )


class Suggestion(Base):
    """A problem or an improvement the frontline reports (一线建议); the owner department reviews it."""

    __tablename__ = "suggestions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(12))
    topic: Mapped[str] = mapped_column(String(12))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    submitter_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="RESTRICT"))
    # the submitter's unit (who may see it) and the department that owns the answer
    org_unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("org_units.id", ondelete="RESTRICT"))
    owner_unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("org_units.id", ondelete="RESTRICT"))
    ticket_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("tickets.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(12), default="submitted")
    reason: Mapped[str | None] = mapped_column(Text)
    merged_into_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("suggestions.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("kind in ('problem','suggestion')", name="kind"),
        CheckConstraint("status in ('submitted','accepted','rejected','in_progress','done','merged')", name="status"),
        Index("ix_suggestions_owner_status", "owner_unit_id", "status"),
    )


class SuggestionChange(Base):
    """The visible history of a suggestion: each status change, by whom, with its note."""

    __tablename__ = "suggestion_changes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    suggestion_id: Mapped[int] = mapped_column(BigId, ForeignKey("suggestions.id", ondelete="CASCADE"))
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12))
    actor_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_suggestion_changes_suggestion", "suggestion_id", "id"),)


class ConsultNote(Base):
    """The shared timeline of a consult (a 会诊 when it is addressed to an expert team): notes by whoever asked,
    the ticket's owner and the addressees, in order (migration 0603_consult_notes)."""

    __tablename__ = "consult_notes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    consult_id: Mapped[int] = mapped_column(BigId, ForeignKey("consults.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="RESTRICT"))
    body: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_consult_notes_consult", "consult_id", "id"),)


class NoticeTemplate(Base):
    """An administrator's text for a state of the coordinated handling told to customers (migration
    0604_customer_notices); a state without one uses the built-in text (service.CUSTOMER_NOTICES)."""

    __tablename__ = "collab_notice_templates"

    state: Mapped[str] = mapped_column(String(16), primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CustomerNotice(Base):
    """A customer told the state of their ticket's coordinated handling (migration 0604_customer_notices): the
    ticket's history of notices; the same state is not told twice in a row."""

    __tablename__ = "collab_customer_notices"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("tickets.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    message_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("messages.id", ondelete="SET NULL"))
    actor_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_collab_customer_notices_ticket", "ticket_id", "id"),)
