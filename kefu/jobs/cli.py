"""`kefu worker`: a background worker of the scaled shape (PostgreSQL job queue)."""

from __future__ import annotations

import logging

import typer


def worker(
    concurrency: int = typer.Option(4, min=1, max=64, help="jobs run at once (each in a thread)"),
    queues: str = typer.Option(
        "", help="comma-separated queues to serve (default: all), e.g. events,default or maintenance"
    ),
    name: str = typer.Option(None, help="the worker's name in logs (default: worker)"),
    import_: list[str] = typer.Option(
        [], "--import", help="also import this module (it declares more jobs or event consumers); repeatable"
    ),
) -> None:
    """Run background jobs and outbox consumers from the queue until SIGTERM / Ctrl-C.

    Needs KEFU_DATABASE_URL on PostgreSQL with the schema upgraded (`kefu db upgrade`: once per release,
    not by each of several processes at once) and, for live updates to reach the console,
    KEFU_REDIS_URL. The API processes must run with KEFU_JOB_QUEUE=procrastinate."""
    from kefu.core.config import get_settings
    from kefu.core.migrate import is_current
    from kefu.jobs import queue

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("procrastinate").setLevel(logging.WARNING)  # a line per job is too much by default
    settings = get_settings()
    if settings.job_queue != "procrastinate":
        typer.echo("note: KEFU_JOB_QUEUE is not 'procrastinate': servers of this environment run their jobs "
                   "themselves", err=True)
    try:
        if not is_current(settings.effective_database_url):
            raise typer.BadParameter("the database schema is not current: run `kefu db upgrade` first")
        queue.run_worker(settings, concurrency=concurrency,
                         queues=[q.strip() for q in queues.split(",") if q.strip()] or None,
                         name=name, imports=import_)
    except queue.WorkerNeedsPostgres as exc:
        raise typer.BadParameter(str(exc)) from None


def register(app: typer.Typer, import_app: typer.Typer, bench_app: typer.Typer) -> None:
    app.command("worker")(worker)
