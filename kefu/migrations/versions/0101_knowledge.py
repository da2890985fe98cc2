"""knowledge: articles and scripts with versions, search index, feedback, gaps, FAQ push, Q&A

Revision ID: 0101_knowledge
Revises: 0001_core

The full-text index is dialect-specific and not in the models: an FTS5 table `knowledge_fts` over
two-character pieces on SQLite, a `tsv tsvector` column with a GIN index on `knowledge_index` on
PostgreSQL. kefu.knowledge.index keeps them in sync (no triggers).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0101_knowledge"
down_revision: str | Sequence[str] | None = "0001_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "knowledge_index_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_index_state")),
    )
    op.create_table(
        "knowledge_articles",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("department", sa.String(length=100), nullable=False),
        sa.Column("owner_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("org_unit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("scope_path", sa.String(length=400), nullable=False),
        sa.Column("latest_version", sa.Integer(), nullable=False),
        sa.Column("live_version", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("source_answer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind in ('faq','business','terminal','network_fault','pre_handling','script')",
            name=op.f("ck_knowledge_articles_kind"),
        ),
        sa.CheckConstraint(
            "status in ('draft','in_review','published','expired','withdrawn')",
            name=op.f("ck_knowledge_articles_status"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_knowledge_articles_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_unit_id"],
            ["org_units.id"],
            name=op.f("fk_knowledge_articles_org_unit_id_org_units"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_knowledge_articles_owner_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_articles")),
    )
    with op.batch_alter_table("knowledge_articles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_knowledge_articles_org_unit_id"), ["org_unit_id"], unique=False)
        batch_op.create_index("ix_knowledge_articles_status_updated", ["status", "updated_at"], unique=False)

    op.create_table(
        "knowledge_points",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("org_path", sa.String(length=400), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("answer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_knowledge_points_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_points")),
    )
    with op.batch_alter_table("knowledge_points", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_knowledge_points_org_path"), ["org_path"], unique=False)
        batch_op.create_index(batch_op.f("ix_knowledge_points_user_id"), ["user_id"], unique=False)

    op.create_table(
        "knowledge_questions",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("asker_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("org_unit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("category_key", sa.String(length=60), nullable=True),
        sa.Column("skill_key", sa.String(length=40), nullable=True),
        sa.Column("accepted_answer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["asker_id"],
            ["users.id"],
            name=op.f("fk_knowledge_questions_asker_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["org_unit_id"],
            ["org_units.id"],
            name=op.f("fk_knowledge_questions_org_unit_id_org_units"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_questions")),
    )
    with op.batch_alter_table("knowledge_questions", schema=None) as batch_op:
        batch_op.create_index("ix_knowledge_questions_created", ["created_at"], unique=False)

    op.create_table(
        "knowledge_search_log",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("query", sa.String(length=300), nullable=False),
        sa.Column("query_key", sa.String(length=300), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("org_unit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("result_count", sa.Integer(), nullable=False),
        sa.Column("top_article_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("top_score", sa.Float(), nullable=True),
        sa.Column("useful_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("vector", sa.LargeBinary(), nullable=True),
        sa.Column("embedder", sa.String(length=40), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_knowledge_search_log_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_search_log")),
    )
    with op.batch_alter_table("knowledge_search_log", schema=None) as batch_op:
        batch_op.create_index("ix_knowledge_search_log_at", ["at"], unique=False)

    op.create_table(
        "knowledge_answers",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("question_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("author_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("is_expert", sa.Boolean(), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("helpful_count", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_knowledge_answers_author_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["knowledge_questions.id"],
            name=op.f("fk_knowledge_answers_question_id_knowledge_questions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_answers")),
    )
    with op.batch_alter_table("knowledge_answers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_knowledge_answers_question_id"), ["question_id"], unique=False)

    op.create_table(
        "knowledge_article_transitions",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("article_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_knowledge_article_transitions_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["knowledge_articles.id"],
            name=op.f("fk_knowledge_article_transitions_article_id_knowledge_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_article_transitions")),
    )
    with op.batch_alter_table("knowledge_article_transitions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_knowledge_article_transitions_article_id"), ["article_id"], unique=False
        )

    op.create_table(
        "knowledge_article_versions",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("article_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("base_number", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("department", sa.String(length=100), nullable=False),
        sa.Column("org_unit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("category_keys", sa.JSON(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("author_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["knowledge_articles.id"],
            name=op.f("fk_knowledge_article_versions_article_id_knowledge_articles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_knowledge_article_versions_author_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_unit_id"],
            ["org_units.id"],
            name=op.f("fk_knowledge_article_versions_org_unit_id_org_units"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_article_versions")),
        sa.UniqueConstraint("article_id", "number", name="uq_knowledge_article_versions_number"),
    )
    op.create_table(
        "knowledge_feedback",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("article_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("context_key", sa.String(length=300), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("ticket_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("search_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["knowledge_articles.id"],
            name=op.f("fk_knowledge_feedback_article_id_knowledge_articles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_knowledge_feedback_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_feedback")),
        sa.UniqueConstraint("article_id", "user_id", "context_key", name="uq_knowledge_feedback_vote"),
    )
    with op.batch_alter_table("knowledge_feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_knowledge_feedback_article_id"), ["article_id"], unique=False)

    op.create_table(
        "knowledge_hot_topics",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("faq_article_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("plan_article_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("org_unit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_knowledge_hot_topics_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["faq_article_id"],
            ["knowledge_articles.id"],
            name=op.f("fk_knowledge_hot_topics_faq_article_id_knowledge_articles"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_unit_id"],
            ["org_units.id"],
            name=op.f("fk_knowledge_hot_topics_org_unit_id_org_units"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["plan_article_id"],
            ["knowledge_articles.id"],
            name=op.f("fk_knowledge_hot_topics_plan_article_id_knowledge_articles"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_hot_topics")),
    )
    op.create_table(
        "knowledge_index",
        sa.Column("article_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("live", sa.Boolean(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("org_unit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("scope_path", sa.String(length=400), nullable=False),
        sa.Column("scope_kind", sa.String(length=16), nullable=False),
        sa.Column("categories", sa.String(length=1000), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("title_pieces", sa.Text(), nullable=False),
        sa.Column("body_pieces", sa.Text(), nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=True),
        sa.Column("embedder", sa.String(length=40), nullable=True),
        sa.Column("indexed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["knowledge_articles.id"],
            name=op.f("fk_knowledge_index_article_id_knowledge_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_knowledge_index")),
    )
    with op.batch_alter_table("knowledge_index", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_knowledge_index_seq"), ["seq"], unique=False)

    op.create_table(
        "knowledge_answer_votes",
        sa.Column("answer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["answer_id"],
            ["knowledge_answers.id"],
            name=op.f("fk_knowledge_answer_votes_answer_id_knowledge_answers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_knowledge_answer_votes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("answer_id", "user_id", name=op.f("pk_knowledge_answer_votes")),
    )
    op.create_table(
        "knowledge_push_deliveries",
        sa.Column("topic_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["knowledge_hot_topics.id"],
            name=op.f("fk_knowledge_push_deliveries_topic_id_knowledge_hot_topics"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_knowledge_push_deliveries_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("topic_id", "user_id", name=op.f("pk_knowledge_push_deliveries")),
    )
    with op.batch_alter_table("knowledge_push_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_knowledge_push_deliveries_user", ["user_id", "acknowledged_at"], unique=False
        )

    state = sa.table("knowledge_index_state", sa.column("id", sa.Integer), sa.column("seq", sa.Integer))
    op.bulk_insert(state, [{"id": 1, "seq": 0}])
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        # rowid = article id; title and body pieces as two columns so bm25 can weigh the title.
        op.execute("CREATE VIRTUAL TABLE knowledge_fts USING fts5(title, body, tokenize='unicode61')")
    elif dialect == "postgresql":
        op.execute("ALTER TABLE knowledge_index ADD COLUMN tsv tsvector")
        op.execute("CREATE INDEX ix_knowledge_index_tsv ON knowledge_index USING gin (tsv)")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TABLE IF EXISTS knowledge_fts")
    with op.batch_alter_table("knowledge_push_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_knowledge_push_deliveries_user")

    op.drop_table("knowledge_push_deliveries")
    op.drop_table("knowledge_answer_votes")
    with op.batch_alter_table("knowledge_index", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_knowledge_index_seq"))

    op.drop_table("knowledge_index")
    op.drop_table("knowledge_hot_topics")
    with op.batch_alter_table("knowledge_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_knowledge_feedback_article_id"))

    op.drop_table("knowledge_feedback")
    op.drop_table("knowledge_article_versions")
    with op.batch_alter_table("knowledge_article_transitions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_knowledge_article_transitions_article_id"))

    op.drop_table("knowledge_article_transitions")
    with op.batch_alter_table("knowledge_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_knowledge_answers_question_id"))

    op.drop_table("knowledge_answers")
    with op.batch_alter_table("knowledge_search_log", schema=None) as batch_op:
        batch_op.drop_index("ix_knowledge_search_log_at")

    op.drop_table("knowledge_search_log")
    with op.batch_alter_table("knowledge_questions", schema=None) as batch_op:
        batch_op.drop_index("ix_knowledge_questions_created")

    op.drop_table("knowledge_questions")
    with op.batch_alter_table("knowledge_points", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_knowledge_points_user_id"))
        batch_op.drop_index(batch_op.f("ix_knowledge_points_org_path"))

    op.drop_table("knowledge_points")
    with op.batch_alter_table("knowledge_articles", schema=None) as batch_op:
        batch_op.drop_index("ix_knowledge_articles_status_updated")
        batch_op.drop_index(batch_op.f("ix_knowledge_articles_org_unit_id"))

    op.drop_table("knowledge_articles")
    op.drop_table("knowledge_index_state")
