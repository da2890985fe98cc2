"""Knowledge base: versioned articles and scripts, the search index, feedback, gaps, FAQ push, Q&A.

Scripts (口径) are articles of kind "script": the same versions, review and publishing, so an
approved wording is versioned and diffed exactly like an article.

The search index (`knowledge_index`) holds one row per article that has ever been published: the
live version's text as FTS pieces, its embedding, and the metadata search filters on. The
full-text part lives beside it and is dialect-specific (created by migration 0101 only): an FTS5
table `knowledge_fts` on SQLite, a `tsv tsvector` column with a GIN index on PostgreSQL. The
service keeps both in sync when a version is published, withdrawn or expired.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kefu.core.db import Base, BigId, UTCDateTime

ARTICLE_KINDS = ("faq", "business", "terminal", "network_fault", "pre_handling", "script")
STATUSES = ("draft", "in_review", "published", "expired", "withdrawn")
_KINDS_SQL = ",".join(f"'{k}'" for k in ARTICLE_KINDS)
_STATUSES_SQL = ",".join(f"'{s}'" for s in STATUSES)


class Article(Base):
    """The article as the editor sees it: its latest version's metadata and its lifecycle."""

    __tablename__ = "knowledge_articles"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    title: Mapped[str] = mapped_column(String(200))
    # Owning department (计费支撑中心, 网络支撑 ...) and the person answerable for it.
    department: Mapped[str] = mapped_column(String(100))
    owner_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    # Org scope: the unit (group, province or city) whose agents the article is for.
    org_unit_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("org_units.id", ondelete="RESTRICT"), index=True
    )
    scope_path: Mapped[str] = mapped_column(String(400))
    # Number of the newest version; an edit must name it as its base (optimistic concurrency).
    latest_version: Mapped[int] = mapped_column(Integer, default=1)
    # Version agents are shown (None: never published, or withdrawn / expired).
    live_version: Mapped[int | None] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    # When an accepted Q&A answer was turned into this article.
    source_answer_id: Mapped[int | None] = mapped_column(BigId)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint(f"kind in ({_KINDS_SQL})", name="kind"),
        CheckConstraint(f"status in ({_STATUSES_SQL})", name="status"),
        Index("ix_knowledge_articles_status_updated", "status", "updated_at"),
    )


class ArticleVersion(Base):
    """Every saved version, kept for ever; content lives here, never edited in place."""

    __tablename__ = "knowledge_article_versions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    article_id: Mapped[int] = mapped_column(BigId, ForeignKey("knowledge_articles.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    base_number: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    # Stored exactly as written (it may contain HTML); rendered escaped everywhere.
    body: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    department: Mapped[str] = mapped_column(String(100))
    org_unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("org_units.id", ondelete="RESTRICT"))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    category_keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Campaigns and tariffs: shown only between these instants (either may be open).
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(String(500))
    author_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("article_id", "number", name="uq_knowledge_article_versions_number"),)


class ArticleTransition(Base):
    __tablename__ = "knowledge_article_transitions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    article_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("knowledge_articles.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    actor_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(String(500))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class IndexEntry(Base):
    """Search index row of an article's live version (kept with live=False once taken down)."""

    __tablename__ = "knowledge_index"

    article_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("knowledge_articles.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer)
    # Change sequence (from IndexState): per-process vector caches load rows newer than they hold.
    seq: Mapped[int] = mapped_column(Integer, index=True)
    live: Mapped[bool] = mapped_column(Boolean)
    kind: Mapped[str] = mapped_column(String(16))
    org_unit_id: Mapped[int] = mapped_column(BigId)
    scope_path: Mapped[str] = mapped_column(String(400))
    scope_kind: Mapped[str] = mapped_column(String(16))
    # " billing billing.refund " (spaces around every key) so a category filter is one LIKE.
    categories: Mapped[str] = mapped_column(String(1000), default=" ")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    title: Mapped[str] = mapped_column(String(200))
    title_pieces: Mapped[str] = mapped_column(Text)
    body_pieces: Mapped[str] = mapped_column(Text)
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: The title alone (an FAQ's question), for the pair model; NULL for rows indexed before 0102.
    title_embedding: Mapped[bytes | None] = mapped_column(LargeBinary)
    embedder: Mapped[str | None] = mapped_column(String(40))
    indexed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IndexState(Base):
    """One row: the index change counter (bumped in the transaction that changes the index)."""

    __tablename__ = "knowledge_index_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)


class Feedback(Base):
    """An agent's helpful / not helpful on an article, for a query or a ticket category."""

    __tablename__ = "knowledge_feedback"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    article_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("knowledge_articles.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    # The context the answer was for: "q:<normalised query terms>" or "c:<category key>".
    context_key: Mapped[str] = mapped_column(String(300))
    helpful: Mapped[bool] = mapped_column(Boolean)
    ticket_id: Mapped[int | None] = mapped_column(BigId)
    search_id: Mapped[int | None] = mapped_column(BigId)
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("article_id", "user_id", "context_key", name="uq_knowledge_feedback_vote"),
    )


class SearchLog(Base):
    """Every search; those that found nothing useful are the knowledge gaps."""

    __tablename__ = "knowledge_search_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    query: Mapped[str] = mapped_column(String(300))
    query_key: Mapped[str] = mapped_column(String(300))
    user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    org_unit_id: Mapped[int | None] = mapped_column(BigId)
    source: Mapped[str] = mapped_column(String(16), default="search")  # search | suggestion
    result_count: Mapped[int] = mapped_column(Integer)
    top_article_id: Mapped[int | None] = mapped_column(BigId)
    top_score: Mapped[float | None] = mapped_column(Float)
    # Set when the agent opened a result or marked one helpful.
    useful_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    vector: Mapped[bytes | None] = mapped_column(LargeBinary)
    embedder: Mapped[str | None] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_knowledge_search_log_at", "at"),)


class HotTopic(Base):
    """A pushed hot topic: an FAQ plus a pre-handling plan, sent to chosen agents."""

    __tablename__ = "knowledge_hot_topics"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)
    faq_article_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("knowledge_articles.id", ondelete="SET NULL")
    )
    plan_article_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("knowledge_articles.id", ondelete="SET NULL")
    )
    # {"skills": [...], "unit_ids": [...], "queues": [...]}
    targets: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    org_unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("org_units.id", ondelete="RESTRICT"))
    created_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PushDelivery(Base):
    __tablename__ = "knowledge_push_deliveries"

    topic_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("knowledge_hot_topics.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    delivered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_knowledge_push_deliveries_user", "user_id", "acknowledged_at"),)


class Question(Base):
    __tablename__ = "knowledge_questions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    asker_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="RESTRICT"))
    org_unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("org_units.id", ondelete="RESTRICT"))
    category_key: Mapped[str | None] = mapped_column(String(60))
    # Skill whose level >= 4 makes an answerer an expert here (default: the category's first level).
    skill_key: Mapped[str | None] = mapped_column(String(40))
    accepted_answer_id: Mapped[int | None] = mapped_column(BigId)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_knowledge_questions_created", "created_at"),)


class Answer(Base):
    __tablename__ = "knowledge_answers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    question_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("knowledge_questions.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="RESTRICT"))
    body: Mapped[str] = mapped_column(Text)
    is_expert: Mapped[bool] = mapped_column(Boolean, default=False)
    accepted: Mapped[bool] = mapped_column(Boolean, default=False)
    helpful_count: Mapped[int] = mapped_column(Integer, default=0)
    article_id: Mapped[int | None] = mapped_column(BigId)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AnswerVote(Base):
    __tablename__ = "knowledge_answer_votes"

    answer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("knowledge_answers.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class PointsEntry(Base):
    """Points ledger: append-only; a leaderboard is a sum over it."""

    __tablename__ = "knowledge_points"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    org_path: Mapped[str] = mapped_column(String(400), index=True)
    points: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(32))  # answer_accepted | answer_helpful
    answer_id: Mapped[int | None] = mapped_column(BigId)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class KnowledgeSetting(Base):
    """Settings of the knowledge domain an administrator changes on the console (key -> JSON value), e.g.
    the precision the duplicate-ticket finder keeps (``duplicate_precision``)."""

    __tablename__ = "knowledge_settings"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
