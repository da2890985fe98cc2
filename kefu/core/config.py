"""Settings: the only module that reads the environment (KEFU_* variables)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET = "dev-insecure-change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KEFU_", env_file=None, extra="ignore")

    env: str = Field("development", description="development | test | production")
    data_dir: Path = Path("data")
    database_url: str | None = None
    secret_key: SecretStr = SecretStr(PLACEHOLDER_SECRET)
    # Inbound channel messages larger than this (bytes of body text) are refused with 413 and recorded.
    max_message_bytes: int = 20_000
    session_hours: int = 12
    default_locale: str = "zh-CN"
    # Complaint legal reply window (Order No. 35, 2016) and the share of it after which a case is "at risk".
    complaint_reply_days: int = 15
    complaint_risk_after_days: int = 12
    # In-process event dispatch after each commit (the embedded shape). Workers can turn it off.
    dispatch_events_inline: bool = True
    # Live updates and presence across processes: a Redis URL (redis://host:6379/0) selects Redis
    # pub/sub; unset, they stay in the process (the embedded shape).
    redis_url: str | None = None
    # Prefix of every Redis key and channel, so that several kefu installations can share one Redis.
    redis_prefix: str = "kefu"
    # Where background jobs run: "inline" (a thread of the server process, the embedded shape) or
    # "procrastinate" (a job queue in PostgreSQL, run by `kefu worker` processes: the scaled shape).
    job_queue: Literal["inline", "procrastinate"] = "inline"
    page_size_max: int = 200
    # Org unit code (a city) for messages from senders we cannot place; default: the first city.
    default_org_unit: str | None = None

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        if self.env == "production" and self.secret_key.get_secret_value() == PLACEHOLDER_SECRET:
            raise ValueError("KEFU_SECRET_KEY must be set to a real secret in production")
        return self

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'kefu.sqlite3').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
