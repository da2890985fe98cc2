"""`kefu create-admin` and `kefu demo --no-serve`, run as a user would (the CLI on the test database)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from kefu.cli import app
from kefu.core.config import Settings
from kefu.core.db import Database
from kefu.org.models import OrgUnit, User

runner = CliRunner()


@pytest.fixture
def cli_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setattr("kefu.org.cli.get_settings", lambda: settings)
    monkeypatch.setattr("kefu.demo.cli.get_settings", lambda: settings)
    return settings


def _count(db: Database, model: type) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_create_admin_makes_the_group_and_an_admin_who_can_log_in(
    cli_settings: Settings, db: Database, client: TestClient
) -> None:
    r = runner.invoke(app, ["create-admin", "root", "--password", "root-pass-123", "--name", "根管理员"])
    assert r.exit_code == 0, r.output
    assert "created admin 'root'" in r.output
    with db.session() as s:
        user = s.scalar(select(User).where(User.username == "root"))
        assert user is not None
        assert user.role == "admin"
        assert user.display_name == "根管理员"
        unit = s.get(OrgUnit, user.org_unit_id)
        assert unit is not None
        assert unit.kind == "group"
    login = client.post("/api/v1/auth/login", json={"username": "root", "password": "root-pass-123"})
    assert login.status_code == 200


def test_create_admin_prompts_for_the_password_and_reuses_the_existing_group(
    cli_settings: Settings, db: Database
) -> None:
    assert runner.invoke(app, ["create-admin", "first", "--password", "first-pass-1"]).exit_code == 0
    r = runner.invoke(app, ["create-admin", "second"], input="second-pass-1\nsecond-pass-1\n")
    assert r.exit_code == 0, r.output
    assert _count(db, OrgUnit) == 1
    assert _count(db, User) == 2


def test_create_admin_refuses_an_existing_user_clearly_and_changes_nothing(
    cli_settings: Settings, db: Database
) -> None:
    assert runner.invoke(app, ["create-admin", "root", "--password", "root-pass-123"]).exit_code == 0
    r = runner.invoke(app, ["create-admin", "root", "--password", "other-pass-123"])
    assert r.exit_code == 1
    assert "user 'root' exists already" in r.output
    assert _count(db, User) == 1
    assert _count(db, OrgUnit) == 1


def test_create_admin_refuses_a_short_password(cli_settings: Settings, db: Database) -> None:
    r = runner.invoke(app, ["create-admin", "root", "--password", "short"])
    assert r.exit_code == 1
    assert "at least 8 characters" in r.output
    assert _count(db, User) == 0
    assert _count(db, OrgUnit) == 0


def test_demo_no_serve_builds_prints_the_accounts_and_exits(cli_settings: Settings, db: Database) -> None:
    r = runner.invoke(app, ["demo", "--no-serve", "--customers", "60", "--contacts", "30", "--port", "8123"])
    assert r.exit_code == 0, r.output
    assert "console: http://127.0.0.1:8123/ — log in as" in r.output
    assert "agent01" in r.output
    assert "kefu-demo-2026" in r.output
    assert _count(db, User) >= 30
    again = runner.invoke(app, ["demo", "--no-serve", "--customers", "60", "--contacts", "30"])
    assert again.exit_code == 0
    assert "the demo is in the database already" in again.output
