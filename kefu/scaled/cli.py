"""`kefu scaled`: the scaled shape on this machine with one command (API ×N, worker ×M, Redis, PostgreSQL)."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import typer


def scaled(
    api: int = typer.Option(2, min=1, max=16, help="API processes (uvicorn workers behind one port)"),
    workers: int = typer.Option(2, min=1, max=16, help="`kefu worker` processes"),
    concurrency: int = typer.Option(4, min=1, max=64, help="jobs each worker runs at once"),
    port: int = typer.Option(8000, help="the port of the console and API on 127.0.0.1"),
    directory: Path = typer.Option(Path("data/scaled"), "--dir", help="PostgreSQL's data and the logs"),
    fresh: bool = typer.Option(False, help="start from an empty database (deletes --dir first)"),
    pg_url: str = typer.Option(None, help="use this PostgreSQL database instead of starting one"),
    redis_url: str = typer.Option(None, help="use this Redis instead of starting one"),
    demo: bool = typer.Option(False, help="build the demo operator into the database first (once)"),
) -> None:
    """Start the scaled shape locally and keep it running until Ctrl-C (or SIGTERM), which stops it all.

    PostgreSQL and Redis are private ones (their own data directory and loopback ports) unless URLs
    are given; PostgreSQL's data stays in --dir between runs, Redis keeps nothing. A worker that dies
    is started again, as systemd would on a server (docs/deploy.md)."""
    import shutil

    from kefu.scaled.shape import ScaledShape

    if fresh and directory.exists():
        shutil.rmtree(directory)
    directory = directory.resolve()
    shape = ScaledShape(directory, api=api, workers=workers, concurrency=concurrency, port=port,
                        pg_url=pg_url, redis_url=redis_url)
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    typer.echo("starting the scaled shape ...")
    try:
        if demo:
            _start_with_demo(shape)
        else:
            shape.start()
        typer.echo("kefu scaled is up:")
        for line in shape.describe():
            typer.echo(f"  {line}")
        typer.echo("stop it with Ctrl-C (or `kill -TERM` this process): everything it started stops with it")
        while not stopping:
            for i in shape.supervise():
                typer.echo(f"worker-{i + 1} had died: started again")
            time.sleep(1)
    finally:
        typer.echo("stopping ...")
        shape.stop()
        typer.echo("stopped")


def _start_with_demo(shape: object) -> None:
    from kefu.core.config import Settings
    from kefu.demo.cli import prepare
    from kefu.scaled.shape import ScaledShape

    assert isinstance(shape, ScaledShape)
    if shape.pg is not None:
        shape.pg.start()
        shape.pg.create_database(shape.database)
    prepare(Settings(database_url=shape.database_url))
    shape.start()


def register(app: typer.Typer, import_app: typer.Typer, bench_app: typer.Typer) -> None:
    app.command("scaled")(scaled)
