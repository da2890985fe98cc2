"""`kefu demo`: build the demo operator into the local database (once) and serve the console."""

from __future__ import annotations

from pathlib import Path

import typer

from kefu.core.config import Settings, get_settings


def _sqlite_path(url: str) -> Path | None:
    from sqlalchemy.engine import make_url

    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def prepare(
    settings: Settings,
    *,
    reset: bool = False,
    seed: int = 2026,
    customers: int = 5000,
    contacts: int = 3000,
    progress: bool = True,
    echo: bool = True,
) -> bool:
    """Migrate the database and build the demo unless it is there already. True when it was built."""
    from kefu.core.clock import utcnow
    from kefu.core.db import Database
    from kefu.core.migrate import upgrade
    from kefu.demo import build as demo_build
    from kefu.demo.generate import generate

    url = settings.effective_database_url
    if reset:
        path = _sqlite_path(url)
        if path is None:
            raise typer.BadParameter(
                "--reset drops the SQLite file only; for PostgreSQL drop the database yourself"
            )
        for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            p.unlink(missing_ok=True)
    upgrade(url)
    db = Database(url)
    try:
        if demo_build.demo_exists(db):
            if echo:
                typer.echo("the demo is in the database already (use --reset to build it again)")
            return False
        now = utcnow()
        demo = generate(seed=seed, customers=customers, contacts=contacts, day=demo_build.demo_day(now))
        if echo:
            typer.echo(
                f"building the demo operator: {len(demo.people)} people, {len(demo.customers)} customers, "
                f"{len(demo.contacts)} contacts on {demo.day.isoformat()} (CST)"
            )
        report = demo_build.build(db, settings, demo, now=now, progress=progress)
        if echo:
            statuses = ", ".join(f"{k} {v}" for k, v in sorted(report.tickets_by_status.items()))
            typer.echo(
                f"built in {report.seconds:.1f} s ({report.cpu_seconds:.1f} s CPU): "
                f"{report.contacts} contacts; "
                f"tickets: {statuses}"
            )
            k = report.knowledge
            if k is not None:
                typer.echo(
                    f"knowledge: {sum(k.articles.values())} articles ({k.articles.get('published', 0)} published), "
                    f"{k.pushes} pushes ({k.acknowledged}/{k.deliveries} read), "
                    f"{k.questions} questions, {k.answers} answers"
                )
            if report.skipped:
                typer.echo(
                    f"{len(report.skipped)} contacts were refused and skipped, e.g. "
                    f"#{report.skipped[0][0]}: {report.skipped[0][1]}",
                    err=True,
                )
        return True
    finally:
        db.dispose()


def _width(text: str) -> int:
    """Columns the text takes in a terminal: CJK characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def accounts_table(seed: int = 2026) -> str:
    from kefu.demo.build import accounts
    from kefu.demo.generate import DEMO_PASSWORD, generate

    demo = generate(seed=seed, customers=0, contacts=0)
    rows = [("username", "role", "title", "unit"), *accounts(demo)]
    widths = [max(_width(r[i]) for r in rows) for i in range(3)]
    lines = ["  ".join(r[i] + " " * (widths[i] - _width(r[i])) for i in range(3)) + "  " + r[3] for r in rows]
    return "\n".join(lines) + f"\n\nevery demo account's password: {DEMO_PASSWORD}"


def register(app: typer.Typer, import_app: typer.Typer, bench_app: typer.Typer) -> None:
    @app.command()
    def demo(
        host: str = typer.Option("127.0.0.1", help="interface to serve on"),
        port: int = typer.Option(8000, help="port to serve on"),
        reset: bool = typer.Option(False, "--reset", help="delete the SQLite database file and build afresh"),
        no_serve: bool = typer.Option(False, "--no-serve", help="build (if needed) and exit"),
        customers: int = typer.Option(5000, help="subscribers in the demo operator"),
        contacts: int = typer.Option(3000, help="contacts in the simulated day"),
        seed: int = typer.Option(2026, help="random seed: the same seed gives the same operator"),
    ) -> None:
        """Build the demo operator 示例通信 (once) into KEFU_DATA_DIR's SQLite file (or KEFU_DATABASE_URL),
        then serve the console."""
        settings = get_settings()
        prepare(settings, reset=reset, seed=seed, customers=customers, contacts=contacts)
        typer.echo(f"\nconsole: http://{host}:{port}/ — log in as one of\n")
        typer.echo(accounts_table(seed))
        if no_serve:
            return
        import uvicorn

        uvicorn.run("kefu.asgi:app", host=host, port=port, log_level="warning")
