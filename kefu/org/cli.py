"""`kefu create-admin`: the first administrator (and, on an empty database, the group unit above all)."""

from __future__ import annotations

import typer
from sqlalchemy import select

from kefu.core.config import get_settings
from kefu.core.db import Database
from kefu.core.errors import KefuError

GROUP_CODE = "GROUP"


def create_admin(
    db: Database, username: str, password: str, display_name: str | None = None
) -> tuple[int, int]:
    """Creates the admin in the group unit (created first if the database has none).

    Returns (user id, group unit id). Raises Conflict (code "user_exists") if the username is taken.
    """
    from kefu.org import service as org
    from kefu.org.models import OrgUnit

    with db.unit_of_work() as s:
        group = s.scalar(select(OrgUnit).where(OrgUnit.kind == "group").order_by(OrgUnit.id).limit(1))
        if group is None:
            group = org.create_org_unit(s, kind="group", code=GROUP_CODE, name="集团", name_en="Group")
        user = org.create_user(
            s,
            username=username,
            display_name=display_name or username,
            role="admin",
            org_unit_id=group.id,
            password=password,
            authority_limit=100000,
        )
        return user.id, group.id


def register(app: typer.Typer, import_app: typer.Typer, bench_app: typer.Typer) -> None:
    @app.command("create-admin")
    def create_admin_cmd(
        username: str = typer.Argument(..., help="login name of the new administrator"),
        password: str = typer.Option(None, "--password", help="at least 8 characters; prompted if omitted"),
        name: str = typer.Option(None, "--name", help="display name (default: the username)"),
    ) -> None:
        """Create an administrator in the group org unit (the group is created if the database has none)."""
        from kefu.core.migrate import upgrade

        if password is None:
            password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
        url = get_settings().effective_database_url
        upgrade(url)
        db = Database(url)
        try:
            user_id, group_id = create_admin(db, username, password, name)
        except KefuError as exc:
            typer.echo(f"error: {exc.message}", err=True)
            raise typer.Exit(1) from None
        finally:
            db.dispose()
        typer.echo(f"created admin '{username}' (user {user_id}) in org unit {group_id}")
