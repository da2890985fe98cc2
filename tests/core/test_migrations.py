from __future__ import annotations

from kefu.core.migrate import current_heads, schema_drift, script_heads


def test_migrations_build_exactly_the_schema_the_models_describe(db_url: str) -> None:
    assert schema_drift(db_url) == []


def test_the_database_is_at_every_head_after_upgrade(db_url: str) -> None:
    assert "0001_core" not in script_heads()  # every domain's branch grows from the core
    assert current_heads(db_url) == script_heads()


def test_upgrade_creates_the_data_folder_of_a_fresh_sqlite_install(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from kefu.core.migrate import upgrade

    target = tmp_path / "not" / "yet" / "there" / "kefu.sqlite3"
    upgrade(f"sqlite:///{target}")
    assert target.exists()
    assert current_heads(f"sqlite:///{target}") == script_heads()


def test_a_database_is_current_only_at_every_head(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from kefu.core.migrate import downgrade, is_current, upgrade

    url = f"sqlite:///{tmp_path}/k.sqlite3"
    upgrade(url)
    assert is_current(url)
    downgrade(url, "0014_jobs-1")
    assert not is_current(url)
