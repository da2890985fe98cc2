"""`kefu bench cti`."""

from __future__ import annotations

import typer


def register(app: typer.Typer, import_app: typer.Typer, bench_app: typer.Typer) -> None:
    @bench_app.command("cti")
    def cti(
        calls: int = typer.Option(500, min=1, max=100_000, help="calls of six events each (--quick default)"),
        db: str = typer.Option("sqlite", help="sqlite or postgres"),
    ) -> None:
        """CTI events per second through the whole call path, beside the bare insert of the same events."""
        import os

        from kefu.voice import bench

        if db not in ("sqlite", "postgres"):
            raise typer.BadParameter("--db is sqlite or postgres")
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        typer.echo(f"machine: {os.cpu_count()} CPUs, load average {load:.2f} when starting")
        bench.print_result(bench.run(db, calls), typer.echo)
