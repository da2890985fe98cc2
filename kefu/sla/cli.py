"""`kefu bench sla`: business-time arithmetic against plain timedelta arithmetic, measured in one run."""

from __future__ import annotations

import typer


def register(app: typer.Typer, import_app: typer.Typer, bench_app: typer.Typer) -> None:
    @bench_app.command("sla")
    def sla(n: int = typer.Option(5_000, min=10, max=200_000, help="random clocks"),
            seed: int = typer.Option(0, help="seed")) -> None:
        """Microseconds per due-time and per used-time computation on China's office calendar, and the ratio to
        the same computation in plain calendar time."""
        from kefu.sla import bench

        bench.run(n, seed, typer.echo)
