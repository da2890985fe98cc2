"""The `kefu` command: serve, demo, db, create-admin, import, bench, staff, simulate ..."""

from __future__ import annotations

import typer

from kefu.core.config import get_settings

app = typer.Typer(help="kefu 客服 — omnichannel customer service for telecom operators.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
import_app = typer.Typer(help="Import data from files.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks that print figures.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(import_app, name="import")
app.add_typer(bench_app, name="bench")


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("heads")) -> None:
    """Create or upgrade the schema of KEFU_DATABASE_URL (default: the SQLite file in KEFU_DATA_DIR)."""
    from kefu.core.migrate import upgrade

    url = get_settings().effective_database_url
    upgrade(url, revision)
    typer.echo(f"database at {_safe(url)} is at {revision}")


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Serve the console and the API (schema upgraded first)."""
    import uvicorn

    from kefu.core.migrate import upgrade

    upgrade(get_settings().effective_database_url)
    uvicorn.run("kefu.asgi:app", host=host, port=port, workers=workers, log_level="warning")


def _register_domain_commands() -> None:
    """Each domain may offer a `cli.py` with `register(app, import_app, bench_app)` (kefu.core.domains);
    so do the demo, the benchmarks and the scaled shape."""
    import importlib

    from kefu.core import domains

    for mod in (*domains.module_names("cli"), "kefu.demo.cli", "kefu.bench.cli", "kefu.scaled.cli"):
        importlib.import_module(mod).register(app, import_app, bench_app)


_register_domain_commands()


def main() -> None:
    app()
