"""`kefu bench wall` (KPI query latency on a generated day against a COUNT over the same rows), `kefu bench
reports` (the summary tables at the issue's scale) and `kefu analytics rebuild` (the summaries' backfill)."""

from __future__ import annotations

import typer


def register(app: typer.Typer, import_app: typer.Typer, bench_app: typer.Typer) -> None:
    @bench_app.command("wall")
    def bench_wall(
        contacts: int = typer.Option(20_000, min=1_000, max=2_000_000,
                                     help="contacts in the generated day (the documented figures: 100000)"),
        repeats: int = typer.Option(3, min=1, max=50, help="timed runs of each query (median printed)"),
        database_url: str | None = typer.Option(
            None, help="an empty PostgreSQL database to use (default: a fresh SQLite file)"),
    ) -> None:
        """Latency of the KPI queries over the raw rows, and of the wall and the daily report over the
        summary tables (rebuilt from the raw rows first, timed), for one day of contacts, with the ratio
        to a plain COUNT of the same raw rows measured in the same run. The default (20,000 contacts)
        takes about 15 s; `--contacts 100000` is the day docs/kpis.md reports."""
        import os
        import tempfile

        from kefu.analytics import bench
        from kefu.core.db import Database
        from kefu.core.migrate import upgrade

        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        typer.echo(f"machine: {os.cpu_count()} CPUs, load average {load:.2f} when starting")
        with tempfile.TemporaryDirectory() as tmp:
            url = database_url or f"sqlite:///{tmp}/bench.sqlite3"
            upgrade(url)
            db = Database(url)
            try:
                bench.run(db, contacts, repeats, typer.echo)
            finally:
                db.dispose()

    @bench_app.command("reports")
    def bench_reports(
        interactions: int = typer.Option(1_000_000, min=10_000, max=100_000_000,
                                         help="interactions the summary rows stand for (the issue: 10000000)"),
        days: int = typer.Option(30, min=1, max=366, help="days they span (from 2026-03-02)"),
        cities: int = typer.Option(21, min=1, max=99, help="cities of the province"),
        agents: int = typer.Option(1_000, min=1, max=100_000, help="agents (each on one channel's queue)"),
        repeats: int = typer.Option(3, min=1, max=50, help="timed runs of each query (median printed)"),
        database_url: str | None = typer.Option(
            None, help="an empty PostgreSQL database to use (default: a fresh SQLite file)"),
    ) -> None:
        """Latency of the reports and the wall over the summary tables that `--interactions` contacts make,
        with the ratio to a one-column SUM over the same summary rows measured in the same run. The rows
        are generated at summary level (drawn per day, city, channel and queue, cut by hour and by agent ×
        category × tier); `kefu bench wall` measures the backfill from raw rows."""
        import os
        import tempfile

        from kefu.analytics import bench
        from kefu.core.db import Database
        from kefu.core.migrate import upgrade

        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        typer.echo(f"machine: {os.cpu_count()} CPUs, load average {load:.2f} when starting")
        with tempfile.TemporaryDirectory() as tmp:
            url = database_url or f"sqlite:///{tmp}/bench.sqlite3"
            upgrade(url)
            db = Database(url)
            try:
                bench.run_reports(db, interactions, days, cities, agents, repeats, typer.echo)
            finally:
                db.dispose()

    analytics_app = typer.Typer(help="Analytics: the summary tables kept from events.")
    app.add_typer(analytics_app, name="analytics")

    @analytics_app.command("rebuild")
    def rebuild(
        since: str | None = typer.Option(None, help="first local day (YYYY-MM-DD) to rebuild; default: all"),
        until: str | None = typer.Option(None, help="last local day (YYYY-MM-DD), inclusive; default: all"),
    ) -> None:
        """Recompute the contact facts, the hourly and daily summaries and the complaint / appeal /
        first-contact summary and the satisfaction survey summary from the raw tables (after an
        import, or to check the counters the events consumer keeps). Whole local days (China time)."""
        from datetime import date, timedelta

        from kefu.analytics import handoffs, quality, satisfaction, summary
        from kefu.analytics.reports import local_instant
        from kefu.core.config import get_settings
        from kefu.core.db import Database

        def day(text: str | None, name: str) -> date | None:
            if text is None:
                return None
            try:
                return date.fromisoformat(text)
            except ValueError:
                raise typer.BadParameter(f"{name} is a date YYYY-MM-DD, got {text!r}") from None

        first, last = day(since, "--since"), day(until, "--until")
        if first is not None and last is not None and last < first:
            raise typer.BadParameter("--until is before --since")
        db = Database(get_settings().effective_database_url)
        try:
            with db.unit_of_work() as s:
                lo = None if first is None else local_instant(first)
                hi = None if last is None else local_instant(last + timedelta(days=1))
                n = summary.rebuild(s, start=lo, end=hi)
                m = quality.rebuild(s, start=lo, end=hi)
                k = satisfaction.rebuild(s, start=lo, end=hi)
                h = handoffs.rebuild(s, start=lo, end=hi)
        finally:
            db.dispose()
        typer.echo(f"counted {n} contacts into the summary tables, {m} complaints, appeals and contacts of known "
                   f"customers into the quality summary, {k} satisfaction surveys into the survey summary, "
                   f"{h} handoffs and hotline calls into the handoff summary")
