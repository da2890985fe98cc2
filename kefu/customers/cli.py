"""`kefu import customers FILE` and `kefu bench customers-import`."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from kefu.core.auth import Principal

# The operator running the CLI holds the database URL: they act over the whole organisation.
_CLI_PATH = "/"


def _system_principal() -> Principal:
    from kefu.core.auth import Principal

    return Principal(user_id=0, username="cli", display_name="kefu CLI", role="admin", org_unit_id=0,
                     org_path=_CLI_PATH, authority_limit=Decimal(0))


def register(app: typer.Typer, import_app: typer.Typer, bench_app: typer.Typer) -> None:
    @import_app.command("customers")
    def import_customers(
        file: Path = typer.Argument(..., help="CSV: phone,name,city,plan,arpu,tenure_months,share_voice,"
                                               "share_data,share_sms,share_vas (UTF-8 or GBK)"),
        org_unit: str | None = typer.Option(None, "--org-unit",
                                            help="code of the unit to import into: rows may only name it or "
                                                 "units below it; a blank city means this unit"),
    ) -> None:
        """Import customers into KEFU_DATABASE_URL; prints the report. Exit 1 if the file cannot be read."""
        from kefu.core.config import get_settings
        from kefu.core.db import Database
        from kefu.core.errors import KefuError
        from kefu.customers import service
        from kefu.org import service as org

        try:
            data = file.read_bytes()
        except OSError as exc:
            typer.echo(f"cannot read {file}: {exc.strerror or exc}", err=True)
            raise typer.Exit(1) from None
        db = Database(get_settings().effective_database_url)
        try:
            with db.unit_of_work() as s:
                units = org.list_units(s, _system_principal())
                default = None
                if org_unit is not None:
                    top = next((u for u in units if u.code == org_unit), None)
                    if top is None:
                        typer.echo(f"unknown org unit code '{org_unit}'", err=True)
                        raise typer.Exit(1)
                    units = [u for u in units if u.path.startswith(top.path)]
                    default = top.id
                report = service.import_customers_csv(s, data, actor_org_unit_ids=[u.id for u in units],
                                                      default_org_unit_id=default)
        except KefuError as exc:
            typer.echo(f"{file}: {exc.message}", err=True)
            raise typer.Exit(1) from None
        finally:
            db.dispose()
        typer.echo(f"{file}: {report.imported} imported, {report.updated} updated, "
                   f"{len(report.rejected)} rejected")
        for r in report.rejected:
            typer.echo(f"line {r.line}: {r.reason}")

    @bench_app.command("customers-import")
    def bench_customers_import(rows: int = typer.Option(5000, help="rows in the generated CSV")) -> None:
        """Time a CSV import of N customers (plus a re-import that updates them) on a fresh SQLite file."""
        import random
        import tempfile
        import time

        from kefu.core.db import Database
        from kefu.core.migrate import upgrade
        from kefu.customers import service
        from kefu.org import service as org

        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/bench.sqlite3"
            upgrade(url)
            db = Database(url)
            with db.unit_of_work() as s:
                g = org.create_org_unit(s, kind="group", code="G", name="集团")
                p = org.create_org_unit(s, kind="province", code="GD", name="广东", parent_id=g.id)
                cities = [org.create_org_unit(s, kind="city", code=c, name=n, parent_id=p.id)
                          for c, n in (("GZ", "广州"), ("SZ", "深圳"), ("FS", "佛山"))]
                unit_ids = [g.id, p.id, *(c.id for c in cities)]
            rnd = random.Random(7)
            lines = ["phone,name,city,plan,arpu,tenure_months,share_voice,share_data,share_sms,share_vas"]
            for i in range(rows):
                arpu = f"{rnd.randint(8, 400)}.{rnd.randint(0, 99):02d}"
                lines.append(f"138{i:08d},客户{i},{rnd.choice(['GZ', '深圳', 'FS'])},5G畅享,{arpu},"
                             f"{rnd.randint(0, 240)},0.3,0.6,0.05,0.05")
            data = "\n".join(lines).encode()
            for label in ("import", "re-import (updates)"):
                t0 = time.perf_counter()
                with db.unit_of_work() as s:
                    report = service.import_customers_csv(s, data, actor_org_unit_ids=unit_ids)
                dt = time.perf_counter() - t0
                typer.echo(f"{label}: {rows} rows in {dt:.2f} s ({rows / dt:,.0f} rows/s): "
                           f"{report.imported} imported, {report.updated} updated, "
                           f"{len(report.rejected)} rejected")
            db.dispose()
