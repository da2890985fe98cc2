"""`kefu bench routing`: the routing engine's decision latency in process and a real day replayed through it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer


def register(app: typer.Typer, import_app: typer.Typer, bench_app: typer.Typer) -> None:
    @bench_app.command("routing")
    def routing(
        agents: int = typer.Option(2_000, min=1, max=100_000, help="agents, every one kept full"),
        waiting: int = typer.Option(20_000, min=1, max=1_000_000, help="items waiting in line"),
        decisions: int = typer.Option(5_000, min=1, max=1_000_000, help="agents freed (and items arriving)"),
        scans: int = typer.Option(20, min=1, max=1_000, help="picks by the linear-scan reference"),
        seed: int = typer.Option(0, help="seed of the synthetic province"),
        data: Path | None = typer.Option(
            None, help="folder of the Anonymous Bank call log (default ../shared/data/callcenter-anonymous-bank)"
        ),
        month: str = typer.Option("07", help="which month's file to replay a day of (01..07)"),
        day: str | None = typer.Option(None, help="YYYY-MM-DD (default: the month's busiest day)"),
        replications: int = typer.Option(10, min=2, max=1_000, help="replications of the replayed day"),
        replay: bool = typer.Option(True, help="also replay a real day (--no-replay to skip)"),
        db: str = typer.Option("none", help="also end to end through a fresh database: sqlite or postgres"),
        rounds: int = typer.Option(200, min=1, max=100_000, help="agents going ready, end to end (--db)"),
    ) -> None:
        """Decision latency (p50/p99) and assignments per second at 2,000 agents and 20,000 waiting items,
        against a FIFO heap and a linear scan measured in the same run; then a real day replayed."""
        import os

        from kefu.routing import bench

        the_day = None
        if day is not None:
            try:
                the_day = date.fromisoformat(day)
            except ValueError:
                raise typer.BadParameter(f"--day must be YYYY-MM-DD, got {day!r}") from None
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        typer.echo(f"machine: {os.cpu_count()} CPUs, load average {load:.2f} when starting")
        result = bench.latency(agents=agents, waiting=waiting, decisions=decisions, seed=seed, scans=scans)
        bench.print_latency(result, typer.echo)
        if db != "none":
            from kefu.bench.common import DB_KINDS, fresh_database
            from kefu.routing import bench_db

            if db not in DB_KINDS:
                raise typer.BadParameter(f"--db must be none or one of {', '.join(DB_KINDS)}")
            with fresh_database(db) as url:
                e2e = bench_db.end_to_end(url, agents=agents, waiting=waiting, rounds=min(rounds, agents))
            bench_db.print_end_to_end(e2e, db, typer.echo)
        if not replay:
            return
        bench.print_replay(data or bench.default_log_dir(), month, the_day, replications, seed, typer.echo)
