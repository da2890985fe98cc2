"""Settings: the environment name is normalised and production refuses weak secrets."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from kefu.core.config import PLACEHOLDER_SECRET, Settings

STRONG = "k3fu-pr0d-6f1d2c9a8b7e4d3c2b1a0f9e8d7c6b5a"


@pytest.mark.parametrize(("raw", "env"), [("Production", "production"), ("prod", "production"),
                                          (" PRODUCTION ", "production"), ("Dev", "development"),
                                          ("test", "test")])
def test_env_names_are_normalised(raw: str, env: str) -> None:
    assert Settings(env=raw, secret_key=STRONG).env == env


def test_an_unknown_env_is_refused() -> None:
    with pytest.raises(ValidationError, match="KEFU_ENV must be one of development, test, production"):
        Settings(env="staging")


@pytest.mark.parametrize("env", ["Production", "prod", "production"])
@pytest.mark.parametrize("secret", [PLACEHOLDER_SECRET, "x", "a" * 64, "short-but-varied-123", None])
def test_production_refuses_a_weak_or_placeholder_secret(env: str, secret: str | None) -> None:
    with pytest.raises(ValidationError, match="KEFU_SECRET_KEY"):
        Settings(env=env) if secret is None else Settings(env=env, secret_key=secret)


def test_production_accepts_a_strong_secret_and_development_keeps_the_placeholder() -> None:
    assert Settings(env="prod", secret_key=STRONG).secret_key.get_secret_value() == STRONG
    assert Settings(env="development").secret_key.get_secret_value() == PLACEHOLDER_SECRET


def test_env_from_the_environment_is_normalised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEFU_ENV", "Production")
    monkeypatch.setenv("KEFU_SECRET_KEY", "1")
    with pytest.raises(ValidationError, match="at least 32 characters"):
        Settings()
