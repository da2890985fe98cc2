"""jobs: periodic runs; on PostgreSQL the procrastinate job queue's schema

Revision ID: 0014_jobs
Revises: 0001_core

The queue's tables, types and functions are procrastinate's own SQL (procrastinate/sql/schema.sql of
the installed version, which pyproject.toml pins to one minor release). Upgrading procrastinate to a
release that ships new files in procrastinate/sql/migrations/ needs a new migration that applies them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_jobs"
down_revision: str | Sequence[str] | None = "0001_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PROCRASTINATE_TYPES = ("procrastinate_job_to_defer_v1", "procrastinate_job_event_type", "procrastinate_job_status")


def _run_raw(sql: str) -> None:
    """Many statements and $$-quoted function bodies: the driver's own cursor, no parameter parsing."""
    cursor = op.get_bind().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
    finally:
        cursor.close()


def upgrade() -> None:
    op.create_table(
        "periodic_runs",
        sa.Column("job", sa.String(length=80), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("job", "due_at", name=op.f("pk_periodic_runs")),
    )
    if op.get_bind().dialect.name == "postgresql":
        from procrastinate.schema import SchemaManager

        _run_raw(SchemaManager.get_schema())


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _run_raw(
            """
            DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs,
                procrastinate_workers CASCADE;
            DO $$
            DECLARE f regprocedure;
            BEGIN
                FOR f IN SELECT oid::regprocedure FROM pg_proc WHERE proname LIKE 'procrastinate\\_%' LOOP
                    EXECUTE 'DROP FUNCTION ' || f || ' CASCADE';
                END LOOP;
            END $$;
            """
            + "".join(f"DROP TYPE IF EXISTS {t} CASCADE;\n" for t in PROCRASTINATE_TYPES)
        )
    op.drop_table("periodic_runs")
