"""`kefu bench wall`: KPI query latency on a generated day against a COUNT over the same rows."""

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
        """Latency of the KPI queries, the wall and the daily report over one day of contacts, with the
        ratio to a plain COUNT of the same rows measured in the same run. The default (20,000 contacts)
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
