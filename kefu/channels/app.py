"""App push (the operator's app, 掌厅): notices and handoff links pushed to the customer's app, outbound.

The push goes through a JPush-compatible push API (极光推送 REST API v3, which the common Chinese push
services and self-hosted gateways speak): `POST <app_push_base>/v3/push` with HTTP Basic authentication
(app key : master secret) and the JSON

    {"platform": "all", "audience": {"alias": ["<app user id>"]},
     "notification": {"alert": "<text>", "android": {"alert", "title", "extras"}, "ios": {"alert", "extras"}},
     "options": {"sendno": <n>, "time_to_live": 86400}}

answered {"sendno", "msg_id"}: the push is "sent" with the msg_id as its provider id (the platform reports
arrival only through its own statistics API, which kefu does not poll). Errors come as {"error": {"code",
"message"}}: 5xx, 429 and code 2002 (rate limit) are tried again; 1011 (no device registered under the
alias: the customer has not logged in to the app), bad parameters and refused credentials fail for good.
"""

from __future__ import annotations

from typing import Any

import httpx

from kefu.channels.adapters import Outbound, PermanentFailure, Sent, TemporaryFailure, register
from kefu.core.config import Settings

CHANNEL = "app"
TITLE = "在线客服"
TTL_SECONDS = 86400
_TEMPORARY = {2002}  # API call frequency over the limit


def payload(out: Outbound) -> dict[str, Any]:
    extras = {"kefu_message_id": out.message_id, "kind": out.notice_kind or "reply"}
    return {"platform": "all", "audience": {"alias": [out.to]},
            "notification": {"alert": out.body,
                             "android": {"alert": out.body, "title": out.subject or TITLE, "extras": extras},
                             "ios": {"alert": out.body, "extras": extras}},
            "options": {"sendno": out.message_id % 2**31, "time_to_live": TTL_SECONDS}}


class AppPushAdapter:
    channel = CHANNEL

    def __init__(self, settings: Settings) -> None:
        assert settings.app_push_key
        assert settings.app_push_secret
        self.url = settings.app_push_base.rstrip("/") + "/v3/push"
        self.auth = (settings.app_push_key, settings.app_push_secret.get_secret_value())
        self.timeout = settings.outbound_timeout_seconds

    def send(self, out: Outbound) -> Sent:
        try:
            r = httpx.post(self.url, json=payload(out), auth=self.auth, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise TemporaryFailure(f"app push API unreachable: {type(exc).__name__}") from None
        try:
            doc = r.json()
        except ValueError:
            doc = {}
        doc = doc if isinstance(doc, dict) else {}
        if r.status_code == 200 and doc.get("msg_id") is not None:
            return Sent((str(doc["msg_id"]),))
        got = doc.get("error")
        err: dict[str, Any] = got if isinstance(got, dict) else {}
        what = f"app push {r.status_code} {err.get('code')}: {str(err.get('message') or r.text)[:200]}"
        if r.status_code >= 500 or r.status_code == 429 or err.get("code") in _TEMPORARY or r.status_code == 200:
            raise TemporaryFailure(what)
        raise PermanentFailure(what)


@register(CHANNEL)
def _adapter(settings: Settings) -> AppPushAdapter | None:
    return AppPushAdapter(settings) if settings.app_push_key and settings.app_push_secret else None
