"""`kefu bench ingest` and `kefu bench inbox`: print figures, never assert them."""

from __future__ import annotations

import typer

from kefu.bench.common import DB_KINDS


def _exit_cleanly_on_sigterm() -> None:
    """A terminated bench still stops its server and drops its throwaway database (finally blocks run)."""
    import signal
    import sys

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def _check_db(db: str) -> str:
    if db not in DB_KINDS:
        raise typer.BadParameter(f"--db is one of {', '.join(DB_KINDS)}")
    return db


def register(app: typer.Typer, import_app: typer.Typer, bench_app: typer.Typer) -> None:
    @bench_app.command("ingest")
    def ingest(
        db: str = typer.Option(
            "sqlite",
            help="sqlite (a temporary file) or postgres (a throwaway database "
            "on postgresql+psycopg://postgres@127.0.0.1:5432)",
        ),
        clients: int = typer.Option(8, min=1, max=64, help="concurrent client threads"),
        messages: int = typer.Option(20000, min=1, max=1_000_000, help="messages to post in all"),
        workers: int = typer.Option(1, min=1, max=16, help="uvicorn worker processes"),
        max_seconds: float = typer.Option(600, min=1, max=3600, help="stop posting after this long"),
        reference_seconds: int = typer.Option(
            10, min=0, max=600, help="PostgreSQL: run pgbench -N -c 8 -j 2 this long before and after (0: not)"
        ),
        drain_seconds: float = typer.Option(
            300, min=0, max=3600, help="after posting, wait this long at most for the outbox to drain"
        ),
    ) -> None:
        """Inbound messages per second through POST /api/v1/inbound/{channel} on a live local server,
        beside pgbench's commit rate on the same PostgreSQL; then the outbox's drain and the CPU per
        message in all (posting and dispatch)."""
        from kefu.bench import ingest as bench

        _exit_cleanly_on_sigterm()

        result = bench.run(
            db=_check_db(db),
            clients=clients,
            messages=messages,
            workers=workers,
            max_seconds=max_seconds,
            echo=typer.echo,
            reference_seconds=reference_seconds,
            drain_seconds=drain_seconds,
        )
        if result.accepted == 0:
            raise typer.Exit(1)

    @bench_app.command("inbox")
    def inbox(
        db: str = typer.Option("sqlite", help="sqlite or postgres (throwaway database, as for ingest)"),
        tickets: int = typer.Option(100_000, min=100, max=5_000_000, help="tickets to bulk-insert"),
        runs: int = typer.Option(200, min=10, max=100_000, help="runs per (role, filters) case"),
        http_runs: int = typer.Option(200, min=0, max=100_000, help="HTTP GET /api/v1/tickets runs per case"),
        workers: int = typer.Option(1, min=1, max=16, help="uvicorn worker processes for the HTTP part"),
        cases: int = typer.Option(11, min=1, max=11, help="filter combinations per role (the first N)"),
        http_cases: int = typer.Option(11, min=0, max=11, help="filter combinations per role over HTTP"),
    ) -> None:
        """Inbox list latency (tickets.service.list_inbox and GET /api/v1/tickets) over many tickets."""
        from kefu.bench import inbox as bench

        _exit_cleanly_on_sigterm()

        bench.run(
            db=_check_db(db),
            tickets=tickets,
            runs=runs,
            http_runs=http_runs,
            workers=workers,
            cases=cases,
            http_cases=http_cases,
            echo=typer.echo,
        )

    @bench_app.command("faults")
    def faults(
        faults: str = typer.Option(",".join(("none", "worker", "postgres", "redis")),
                                   help="phases to run, in order: none (the reference), worker, postgres, redis"),
        api: int = typer.Option(2, min=1, max=8, help="API processes"),
        workers: int = typer.Option(2, min=1, max=8, help="`kefu worker` processes"),
        clients: int = typer.Option(4, min=1, max=32, help="client threads posting messages"),
        seconds: float = typer.Option(20, min=3, max=600, help="load per phase; the fault comes at a third"),
        outage: float = typer.Option(3, min=0, max=60, help="seconds a killed worker or Redis stays down"),
    ) -> None:
        """Kill a worker, restart PostgreSQL, drop Redis under load: counts, duplicates, recovery time.

        Runs on a private PostgreSQL cluster and redis-server (own ports, own data), never on shared ones."""
        from kefu.bench import faults as bench

        _exit_cleanly_on_sigterm()
        results = bench.run(faults=tuple(f.strip() for f in faults.split(",") if f.strip()), api=api,
                            workers=workers, clients=clients, seconds=seconds, outage=outage, echo=typer.echo)
        if not all(r.ok for r in results):
            raise typer.Exit(1)
