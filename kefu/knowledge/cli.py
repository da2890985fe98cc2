"""`kefu knowledge ...` commands: the daily expiry sweep, a reindex, a JSON import, the latency benchmark."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from kefu.core.db import Database

knowledge_app = typer.Typer(help="Knowledge base: expiry sweep, reindex.", no_args_is_help=True)


def _db() -> Database:
    from kefu.core.config import get_settings

    return Database(get_settings().effective_database_url)


@knowledge_app.command("expire")
def expire() -> None:
    """Expire published articles whose end date has passed (run daily; search hides them anyway)."""
    from kefu.knowledge import service

    db = _db()
    with db.unit_of_work() as s:
        ids = service.expire_due(s)
    typer.echo(f"expired {len(ids)} article(s): {ids}")


@knowledge_app.command("reindex")
def reindex() -> None:
    """Rebuild the full-text index and embeddings of every live article (after a model change)."""
    from kefu.core.clock import utcnow
    from kefu.knowledge.jobs import reindex_all

    db = _db()
    with db.unit_of_work() as s:
        n = reindex_all(s, at=utcnow())
    typer.echo(f"reindexed {n} article(s)")


def import_articles(
    path: Path = typer.Argument(..., exists=True, readable=True),
    username: str = typer.Option(..., help="author (needs knowledge.write)"),
    publish: bool = typer.Option(False, help="also review and publish (needs knowledge.publish)"),
) -> None:
    """Import articles from a JSON list of {title, body, kind, department, tags, category_keys, valid_from,
    valid_until}; each becomes a draft (or a published article with --publish)."""
    from datetime import datetime

    from kefu.knowledge import service
    from kefu.org import service as org

    rows = json.loads(path.read_text(encoding="utf-8"))

    def when(v: str | None) -> datetime | None:
        return datetime.fromisoformat(v) if v else None

    db = _db()
    with db.unit_of_work() as s:
        user = org.user_by_username(s, username)
        if user is None:
            raise typer.BadParameter(f"no user '{username}'")
        principal = org.principal_for(s, user)
        for r in rows:
            a = service.create_article(
                s,
                principal,
                service.Content(
                    title=r["title"],
                    body=r["body"],
                    kind=r.get("kind", "faq"),
                    department=r.get("department", "-"),
                    tags=tuple(r.get("tags", ())),
                    category_keys=tuple(r.get("category_keys", ())),
                    valid_from=when(r.get("valid_from")),
                    valid_until=when(r.get("valid_until")),
                ),
            )
            if publish:
                service.transition(s, principal, a.id, "in_review")
                service.transition(s, principal, a.id, "published", bulk_import=True)
    typer.echo(f"imported {len(rows)} article(s)")


def bench_knowledge(
    n: int = typer.Option(100_000),
    queries: int = typer.Option(300),
    pg: str = typer.Option(None, help="PostgreSQL URL for a scratch database"),
    quality: bool = typer.Option(
        False, "--quality", help="ranking and pair-score quality on held-out question sets, with the goals met"
    ),
    max_pairs: int = typer.Option(None, "--max-pairs", help="--quality: first N pairs of each set (all: slow)"),
    only: str = typer.Option(None, help="--quality: one set (bq-heldout-half, afqmc-dev or lcqmc-test)"),
) -> None:
    """Search latency with N generated articles (benchmarks/knowledge_latency.py), or with --quality
    recall@5 and MRR@10 of every method, fusion and kefu's search, the pair score's AUC per held-out
    set and whether each goal is met (benchmarks/knowledge_quality.py)."""
    import runpy
    import sys

    bench = Path(__file__).resolve().parents[2] / "benchmarks"
    if quality:
        script = bench / "knowledge_quality.py"
        sys.path.insert(0, str(bench))
        sys.argv = [str(script)] + (["--max-pairs", str(max_pairs)] if max_pairs else []) + (
            ["--only", only] if only else []
        )
    else:
        script = bench / "knowledge_latency.py"
        sys.argv = [str(script), "--n", str(n), "--queries", str(queries)] + (["--pg", pg] if pg else [])
    runpy.run_path(str(script), run_name="__main__")


def bench_duplicates(
    per_set: int = typer.Option(1500, help="pairs scored from each training and held-out set (--full: all)"),
    full: bool = typer.Option(False, "--full", help="every pair (minutes)"),
    write: bool = typer.Option(False, "--write", help="ship the thresholds chosen on the training pairs"),
) -> None:
    """Duplicate finder: thresholds chosen on the training curve for stated precisions, their expected
    precision and recall, and the precision, recall and AUC they give on held-out pairs."""
    from kefu.knowledge import dupbench

    typer.echo(dupbench.run(10**9 if full else per_set, write=write))


def register(app: typer.Typer, import_app: typer.Typer, bench_app: typer.Typer) -> None:
    app.add_typer(knowledge_app, name="knowledge")
    import_app.command("knowledge")(import_articles)
    bench_app.command("knowledge")(bench_knowledge)
    bench_app.command("duplicates")(bench_duplicates)
