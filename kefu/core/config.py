"""Settings: the only module that reads the environment (KEFU_* variables)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET = "dev-insecure-change-me"
ENVIRONMENTS = ("development", "test", "production")
# What people type for the three environments; anything else is refused at start-up.
_ENV_ALIASES = {"dev": "development", "develop": "development", "testing": "test", "prod": "production"}
MIN_SECRET_CHARS = 32


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
    # Live updates, presence and the per-address login limit across processes: a Redis URL
    # (redis://host:6379/0) selects Redis; unset, they stay in the process (the embedded shape).
    redis_url: str | None = None
    # Prefix of every Redis key and channel, so that several kefu installations can share one Redis.
    redis_prefix: str = "kefu"
    # Where background jobs run: "inline" (a thread of the server process, the embedded shape) or
    # "procrastinate" (a job queue in PostgreSQL, run by `kefu worker` processes: the scaled shape).
    job_queue: Literal["inline", "procrastinate"] = "inline"
    # Run the routing writer in this process (kefu/routing/runner.py): every server and worker may; the one
    # holding the writer's lock routes. Off for processes that must never route.
    routing_writer: bool = True
    page_size_max: int = 200
    # Handoffs (kefu/handoffs): the address customers open links at, how long a link lives, and how long after
    # a handoff a call from the same customer counts as "returned to the hotline".
    public_url: str = "http://127.0.0.1:8000"
    handoff_link_hours: int = 48
    handoff_return_hours: int = 24
    # Org unit code (a city) for messages from senders we cannot place; default: the first city.
    default_org_unit: str | None = None
    # Login hardening. A username (known or not) is locked for `login_lockout_minutes` after
    # `login_max_failures` failed logins within `login_failure_window_minutes` (kept in the database, so
    # every process agrees). One client address may try `login_per_ip_per_minute` logins a minute.
    login_max_failures: int = Field(5, ge=1)
    login_failure_window_minutes: int = Field(15, ge=1)
    login_lockout_minutes: int = Field(15, ge=1)
    login_per_ip_per_minute: int = Field(20, ge=1)
    # The providers' callbacks (WeChat, Weibo, QQ) carry no token: one that fails its signature or names no
    # configured account is refused and kept for inspection. After `webhook_refusals_per_ip_per_minute`
    # such refusals from one address, its further refusals that minute are answered 429 and not kept.
    # Callbacks that pass never count and are never held up, however many a provider sends.
    webhook_refusals_per_ip_per_minute: int = Field(30, ge=1)
    # One-time login codes by SMS (a web chat visitor logging in with a number): at most
    # `login_codes_per_number_per_hour` codes to one number in any hour, and one every
    # `login_code_interval_seconds`, whichever visitor asks (counted in the database: every process agrees).
    login_codes_per_number_per_hour: int = Field(5, ge=1)
    login_code_interval_seconds: int = Field(60, ge=0)
    # Password hashes computed at once per process (Argon2 takes 64 MiB each), and how long a login
    # waits for a free slot before it is answered 503.
    password_hash_concurrency: int = Field(2, ge=1)
    password_hash_wait_seconds: float = Field(5.0, gt=0)
    # API tokens: lifetime of a new token when none is given; how long a process trusts its cached
    # copy of a token's principal (the bound on how late another process sees a revocation).
    token_days: int = Field(365, ge=1)
    token_cache_seconds: float = Field(10.0, ge=0)

    # Every request body is bounded while it streams in (413 past it); the inbound channel endpoint keeps
    # its own limit (max_message_bytes). Routes that take uploads (customer CSV import) have the larger one.
    max_body_bytes: int = Field(1024 * 1024, ge=1024)
    max_upload_bytes: int = Field(50 * 1024 * 1024, ge=1024)

    # ---- channel adapters (kefu/channels) ----
    # Outbound delivery: attempts before a message is marked failed, and the first retry's delay
    # (each further retry waits 4 times longer, at most `outbound_backoff_max_seconds`).
    outbound_max_attempts: int = Field(6, ge=1)
    outbound_backoff_seconds: float = Field(30.0, ge=0)
    outbound_backoff_max_seconds: float = Field(3600.0, ge=0)
    outbound_timeout_seconds: float = Field(10.0, gt=0)
    # WeChat official account (公众号): server URL token, EncodingAESKey (safe mode when set), app id and
    # secret, and the API base (the real one, or a proxy / a test double).
    wechat_token: str | None = None
    wechat_aes_key: str | None = None
    wechat_app_id: str | None = None
    wechat_app_secret: SecretStr | None = None
    wechat_api_base: str = "https://api.weixin.qq.com"
    # Weibo (fans-service platform): the app secret that signs its pushes, the access token of the
    # developer mode (replies through the customer-service message API) and the API base.
    weibo_app_secret: SecretStr | None = None
    weibo_access_token: SecretStr | None = None
    weibo_api_base: str = "https://m.api.weibo.com"
    # QQ bot (open platform): AppID and AppSecret (callbacks' Ed25519 key; the access token for replies),
    # the OpenAPI base and the base of the token endpoint (app/getAppAccessToken).
    qq_app_id: str | None = None
    qq_bot_secret: SecretStr | None = None
    qq_api_base: str = "https://api.sgroup.qq.com"
    qq_auth_base: str = "https://bots.qq.com"
    # App push (the operator's app, 掌厅): a JPush-compatible push API (v3 /v3/push, HTTP Basic with the
    # app key and master secret), the customer addressed by the alias their app registered (their app user id).
    app_push_base: str = "https://api.jpush.cn"
    app_push_key: str | None = None
    app_push_secret: SecretStr | None = None
    # SMS: "http" (an HTTP SMS gateway) or "cmpp" (China Mobile CMPP 2.0 over TCP to the ISMG).
    sms_transport: Literal["http", "cmpp"] = "http"
    sms_gateway_url: str | None = None
    sms_gateway_token: SecretStr | None = None
    cmpp_host: str | None = None
    cmpp_port: int = 7890
    cmpp_source_addr: str | None = None  # the SP's enterprise code (6 characters)
    cmpp_shared_secret: SecretStr | None = None
    cmpp_service_id: str = ""
    cmpp_src_id: str = ""  # the SP's access number (e.g. 10086xxx)
    # E-mail: SMTP for sending; the address replies come from; inbound attachment limits.
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    email_from: str = "kefu@localhost"
    email_max_attachment_bytes: int = Field(5 * 1024 * 1024, ge=0)
    email_attachment_types: str = "image/jpeg,image/png,image/gif,application/pdf,text/plain"
    # Duplicate tickets: the precision (on training question pairs) the finder's threshold is chosen for,
    # until an administrator chooses one on the console; higher shows fewer, surer duplicates, lower finds
    # more (kefu/knowledge/text/duplicate_thresholds.json: 0.60 to 0.95 in steps of 0.01). 0.65 (threshold
    # 0.44) reaches about as far as the finder did before the curve was made out-of-fold; the candidates are
    # one customer's open tickets, where duplicates are far more common than in the question-pair sets.
    duplicate_precision: float = Field(0.65, ge=0.5, le=1.0)

    @field_validator("env", mode="before")
    @classmethod
    def _normalise_env(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        env = value.strip().lower()
        env = _ENV_ALIASES.get(env, env)
        if env not in ENVIRONMENTS:
            raise ValueError(f"KEFU_ENV must be one of {', '.join(ENVIRONMENTS)} (got {value!r})")
        return env

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        secret = self.secret_key.get_secret_value()
        if self.env == "production" and (secret == PLACEHOLDER_SECRET or PLACEHOLDER_SECRET in secret):
            raise ValueError("KEFU_SECRET_KEY must be set to a real secret in production")
        if self.env == "production" and (len(secret) < MIN_SECRET_CHARS or len(set(secret)) < 8):
            raise ValueError(f"KEFU_SECRET_KEY must have at least {MIN_SECRET_CHARS} characters, "
                             "not mostly the same few, in production "
                             "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)")
        return self

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'kefu.sqlite3').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
