"""Channel configuration per org unit, set by an administrator on the console (/console/channels/config).

Each channel's fields map onto the KEFU_* settings of its adapter (`FIELDS`). A unit's configuration
applies to it and to the units below it that have none of their own; the KEFU_* settings are the
defaults under everything. `settings_for(session, settings, org_unit_id)` gives the settings an adapter
works with for a unit (outbound deliveries use the conversation's unit; the WeChat callback the unit
named in its URL, `?org=<code>`).

Secrets (tokens, keys, passwords) are write-only: stored encrypted (Fernet, a key derived from
KEFU_SECRET_KEY), never sent back to a page: the form shows whether each is set, a blank input keeps
it, and "clear" removes it. A change is recorded as the event `channel.config_changed` naming the
fields changed (never their values).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography.fernet import Fernet, InvalidToken
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.channels.models import ChannelConfig
from kefu.core import events
from kefu.core.config import Settings
from kefu.core.errors import InvalidInput
from kefu.org import service as org


@dataclass(frozen=True)
class Field:
    name: str  # the Settings attribute (KEFU_<NAME>); its label is channels.field.<name> in i18n
    kind: str = "text"  # text | url | int | bool | choice | secret
    choices: tuple[str, ...] = ()
    max_length: int = 255
    setting: bool = True  # False: not a KEFU_* setting, read by `extras_for` (a WeChat template id)

    @property
    def secret(self) -> bool:
        return self.kind == "secret"


FIELDS: dict[str, tuple[Field, ...]] = {
    "wechat": (
        Field("wechat_app_id", max_length=64),
        Field("wechat_app_secret", "secret"),
        Field("wechat_token", "secret", max_length=64),
        Field("wechat_aes_key", "secret", max_length=43),
        Field("wechat_api_base", "url"),
        Field("wechat_notice_template", max_length=64, setting=False),
    ),
    "sms": (
        Field("sms_transport", "choice", ("http", "cmpp")),
        Field("sms_gateway_url", "url"),
        Field("sms_gateway_token", "secret"),
        Field("cmpp_host", max_length=255),
        Field("cmpp_port", "int"),
        Field("cmpp_source_addr", max_length=6),
        Field("cmpp_shared_secret", "secret"),
        Field("cmpp_src_id", max_length=21),
        Field("cmpp_service_id", max_length=10),
    ),
    "email": (
        Field("smtp_host"),
        Field("smtp_port", "int"),
        Field("smtp_username"),
        Field("smtp_password", "secret"),
        Field("smtp_starttls", "bool"),
        Field("email_from"),
        Field("imap_host", setting=False),
        Field("imap_port", "int", setting=False),
        Field("imap_username", setting=False),
        Field("imap_password", "secret", setting=False),
        Field("imap_ssl", "bool", setting=False),
        Field("imap_ca_file", max_length=500, setting=False),
        Field("imap_mailbox", max_length=100, setting=False),
    ),
    "weibo": (Field("weibo_app_secret", "secret"), Field("weibo_access_token", "secret"),
              Field("weibo_api_base", "url")),
    "app": (Field("app_push_key", max_length=64), Field("app_push_secret", "secret"), Field("app_push_base", "url")),
    "im": (Field("qq_app_id", max_length=32), Field("qq_bot_secret", "secret"), Field("qq_api_base", "url"),
           Field("qq_auth_base", "url")),
}


class InvalidChannelConfig(InvalidInput):
    code = "invalid_channel_config"


# ---- the pure part: a form into values ------------------------------------------------------------

@dataclass(frozen=True)
class Change:
    values: dict[str, Any]  # every plain field (None: not set, the default applies)
    secrets: dict[str, str | None]  # the secrets to set (a value) or clear (None); absent ones are kept


def clean(channel: str, form: Mapping[str, str]) -> Change:
    """Check a submitted form: each plain field blank (the default applies) or valid; a secret set when
    typed in, cleared when `clear_<name>` is ticked, kept otherwise. InvalidChannelConfig names the field."""
    if channel not in FIELDS:
        raise InvalidChannelConfig(f"channel '{channel[:16]}' has no configuration (one of {', '.join(FIELDS)})",
                                   details={"field": "channel"})
    values: dict[str, Any] = {}
    secrets: dict[str, str | None] = {}
    for f in FIELDS[channel]:
        raw = (form.get(f.name) or "").strip()
        if "\x00" in raw or len(raw) > f.max_length:
            raise InvalidChannelConfig(f"{f.name}: at most {f.max_length} characters, no NUL",
                                       details={"field": f.name})
        if f.secret:
            if form.get(f"clear_{f.name}"):
                secrets[f.name] = None
            elif raw:
                secrets[f.name] = raw
            continue
        values[f.name] = _value(f, raw) if raw else None
    return Change(values, secrets)


def _value(f: Field, raw: str) -> Any:
    if f.kind == "bool":
        if raw not in ("1", "0"):
            raise InvalidChannelConfig(f"{f.name}: 1 (yes), 0 (no) or blank", details={"field": f.name})
        return raw == "1"
    if f.kind == "int":
        if not raw.isdigit() or not 1 <= int(raw) <= 65535:
            raise InvalidChannelConfig(f"{f.name}: a port number 1-65535", details={"field": f.name})
        return int(raw)
    if f.kind == "choice" and raw not in f.choices:
        raise InvalidChannelConfig(f"{f.name}: one of {', '.join(f.choices)}", details={"field": f.name})
    if f.kind == "url":
        parts = urlsplit(raw)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidChannelConfig(f"{f.name}: an http(s) URL", details={"field": f.name})
        return raw.rstrip("/")
    return raw


def overlay(settings: Settings, layers: list[tuple[dict[str, Any], dict[str, str]]]) -> Settings:
    """The settings with each layer's values and secrets over them, the first layer first (the top
    unit) and the last (the nearest unit) winning. A value None in a layer leaves what is below."""
    update: dict[str, Any] = {}
    for values, secrets in layers:
        update.update({k: v for k, v in values.items() if v is not None and k in Settings.model_fields})
        update.update({k: SecretStr(v) if _is_secret_str(k) else v for k, v in secrets.items()})
    return settings.model_copy(update=update) if update else settings


def _is_secret_str(name: str) -> bool:
    return Settings.model_fields[name].annotation not in (str, str | None)


# ---- encryption of the secrets --------------------------------------------------------------------

def _fernet(settings: Settings) -> Fernet:
    key = hashlib.sha256(b"kefu.channels.config:" + settings.secret_key.get_secret_value().encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def _secrets_of(settings: Settings, row: ChannelConfig) -> dict[str, str]:
    if not row.secrets:
        return {}
    try:
        got: dict[str, str] = json.loads(_fernet(settings).decrypt(row.secrets.encode()))
    except InvalidToken:  # KEFU_SECRET_KEY changed: the stored secrets cannot be read, set them again
        return {}
    return got


# ---- the service ----------------------------------------------------------------------------------

def get(session: Session, org_unit_id: int, channel: str) -> ChannelConfig | None:
    return session.scalar(select(ChannelConfig).where(ChannelConfig.org_unit_id == org_unit_id,
                                                      ChannelConfig.channel == channel))


def save(session: Session, settings: Settings, *, org_unit_id: int, channel: str, form: Mapping[str, str],
         actor_id: int | None, at: datetime) -> ChannelConfig:
    """Store a unit's configuration of a channel from the submitted form (see `clean`). Flushes."""
    change = clean(channel, form)
    row = get(session, org_unit_id, channel)
    if row is None:
        row = ChannelConfig(org_unit_id=org_unit_id, channel=channel, values="{}", secrets=None, updated_at=at)
        session.add(row)
    old_values: dict[str, Any] = json.loads(row.values or "{}")
    stored = _secrets_of(settings, row)
    changed = sorted({k for k, v in change.values.items() if old_values.get(k) != v}
                     | {k for k, v in change.secrets.items() if stored.get(k) != v})
    for k, v in change.secrets.items():
        if v is None:
            stored.pop(k, None)
        else:
            stored[k] = v
    row.values = json.dumps(change.values, ensure_ascii=False, sort_keys=True)
    row.secrets = _fernet(settings).encrypt(json.dumps(stored).encode()).decode() if stored else None
    row.updated_at, row.updated_by = at, actor_id
    session.flush()
    events.record(session, "channel.config_changed", {"channel": channel, "org_unit_id": org_unit_id,
                                                      "fields": changed, "actor_id": actor_id},
                  aggregate_type="channel", org_unit_id=org_unit_id, at=at)
    return row


def shown(settings: Settings, row: ChannelConfig | None, channel: str) -> dict[str, Any]:
    """What the form shows: each plain value, and for a secret only whether it is set."""
    values: dict[str, Any] = json.loads(row.values) if row is not None else {}
    secrets = _secrets_of(settings, row) if row is not None else {}
    return {f.name: (f.name in secrets) if f.secret else values.get(f.name) for f in FIELDS[channel]}


def settings_for(session: Session, settings: Settings, channel: str, org_unit_id: int | None) -> Settings:
    """The settings `channel`'s adapter works with for this unit: the KEFU_* defaults under the
    configurations of the unit's ancestors and its own (the nearest wins)."""
    if org_unit_id is None or channel not in FIELDS or session.scalar(
            select(ChannelConfig.id).where(ChannelConfig.channel == channel).limit(1)) is None:
        return settings
    unit = org.units(session, [org_unit_id])
    if not unit:
        return settings
    chain = [int(p) for p in unit[0].path.strip("/").split("/") if p]
    rows = {r.org_unit_id: r for r in session.scalars(
        select(ChannelConfig).where(ChannelConfig.channel == channel, ChannelConfig.org_unit_id.in_(chain)))}
    if not rows:
        return settings
    layers = [(json.loads(rows[u].values), _secrets_of(settings, rows[u])) for u in chain if u in rows]
    return overlay(settings, layers)


def extras_for(session: Session, channel: str, org_unit_id: int, settings: Settings | None = None) -> dict[str, Any]:
    """The values of the channel's fields that are not KEFU_* settings, the nearest unit's winning (with
    their secrets when `settings` is given to decrypt them)."""
    if channel not in FIELDS or not any(not f.setting for f in FIELDS[channel]):
        return {}
    unit = org.units(session, [org_unit_id])
    chain = [int(p) for p in unit[0].path.strip("/").split("/") if p] if unit else []
    rows = {r.org_unit_id: r for r in session.scalars(
        select(ChannelConfig).where(ChannelConfig.channel == channel, ChannelConfig.org_unit_id.in_(chain)))}
    out: dict[str, Any] = {}
    for u in chain:
        if u in rows:
            out.update({k: v for k, v in json.loads(rows[u].values).items()
                        if v is not None and k not in Settings.model_fields})
            if settings is not None:
                out.update({k: v for k, v in _secrets_of(settings, rows[u]).items() if k not in Settings.model_fields})
    return out


def settings_for_code(session: Session, settings: Settings, channel: str, code: str | None) -> Settings:
    """As settings_for, the unit named by its code (a provider callback's `?org=`); the top unit when
    none is named."""
    if session.scalar(select(ChannelConfig.id).where(ChannelConfig.channel == channel).limit(1)) is None:
        return settings  # nothing configured on the console: the KEFU_* settings
    if code:
        unit = org.unit_by_code_or_none(session, code)
        return settings_for(session, settings, channel, unit.id if unit is not None else None)
    top = org.units(session)[:1]
    return settings_for(session, settings, channel, top[0].id if top else None)
