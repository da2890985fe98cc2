"""Alembic, driven from code: the only way the schema is made, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Objects made by hand in migrations that no model describes: the knowledge full-text index
    (an FTS5 virtual table and its shadow tables on SQLite, a tsvector column on PostgreSQL), and the
    job queue's tables on PostgreSQL (procrastinate's own schema, 0014_jobs)."""
    if type_ == "table" and name and name.startswith(("knowledge_fts", "procrastinate_")):
        return False
    if type_ == "index" and name == "ix_knowledge_index_tsv":
        return False
    return not (type_ == "column" and name == "tsv")


def schema_drift(url: str) -> list[object]:
    """What autogenerate would change to make the database match the models: empty when they agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    from kefu.models import metadata

    eng = create_engine(url)
    try:
        with eng.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"include_object": include_object, "compare_type": True})
            return list(compare_metadata(ctx, metadata))
    finally:
        eng.dispose()


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "heads") -> None:
    """Bring the database to ``revision``; an embedded SQLite file's folder is created if missing."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    if u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:":
        Path(u.database).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def current_heads(url: str) -> set[str]:
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    eng = create_engine(url)
    try:
        with eng.connect() as conn:
            return set(MigrationContext.configure(conn).get_current_heads())
    finally:
        eng.dispose()


def script_heads() -> set[str]:
    """The heads the migrations in the package define (one per domain branch)."""
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def is_current(url: str) -> bool:
    """Whether the database is at every head of the migrations this code ships."""
    return current_heads(url) == script_heads()
