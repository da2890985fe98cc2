"""A local fake of the WeChat API on loopback, checking credentials and access tokens as the real one does.

- GET  /cgi-bin/token?grant_type=client_credential&appid=&secret=  → {"access_token", "expires_in": 7200}
  (40013 invalid appid, 40125 invalid appsecret, 40002 invalid grant_type)
- POST /cgi-bin/message/custom/send?access_token=  JSON {"touser", "msgtype": "text", "text": {"content"}}
  (41001 access_token missing, 40001 invalid credential, 42001 access_token expired, 40003 invalid openid,
  45015 response out of time limit: the user has not written within 48 hours, -1 system busy when told)
- POST /cgi-bin/message/template/send?access_token=  JSON {"touser", "template_id", "url"?, "data": {key:
  {"value", "color"?}}} → {"errcode": 0, "msgid"}: the access token checked as above; any follower, also
  outside the 48 hours (43004 require subscribe for one who unsubscribed, 40003 invalid openid), 40037
  invalid template_id (not one of the account's templates), 47001 data format error, 40062 url too long.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.channels import http_fake


@dataclass
class FakeWeChat:
    appid: str
    secret: str
    followers: set[str] = field(default_factory=set)  # openids that wrote within 48 hours
    followers_silent: set[str] = field(default_factory=set)  # followers whose window closed
    tokens: dict[str, bool] = field(default_factory=dict)  # token -> still valid
    sent: list[dict[str, Any]] = field(default_factory=list)
    token_fetches: int = 0
    busy: int = 0  # answer the next N sends with -1 (system busy)
    templates: set[str] = field(default_factory=set)  # the account's template ids
    unsubscribed: set[str] = field(default_factory=set)
    template_sent: list[dict[str, Any]] = field(default_factory=list)
    base: str = ""

    def expire_tokens(self) -> None:
        for t in self.tokens:
            self.tokens[t] = False

    def handle(self, method: str, path: str, query: dict[str, str], body: bytes) -> dict[str, Any]:
        if method == "GET" and path == "/cgi-bin/token":
            if query.get("grant_type") != "client_credential":
                return {"errcode": 40002, "errmsg": "invalid grant_type"}
            if query.get("appid") != self.appid:
                return {"errcode": 40013, "errmsg": "invalid appid"}
            if query.get("secret") != self.secret:
                return {"errcode": 40125, "errmsg": "invalid appsecret"}
            token = secrets.token_urlsafe(48)
            self.tokens[token] = True
            self.token_fetches += 1
            return {"access_token": token, "expires_in": 7200}
        refused = self._check_token(query.get("access_token"))
        if refused is not None and method == "POST" and path.startswith("/cgi-bin/message/"):
            return refused
        if method == "POST" and path == "/cgi-bin/message/template/send":
            return self._template(body)
        if method == "POST" and path == "/cgi-bin/message/custom/send":
            try:
                data = json.loads(body)
            except ValueError:
                return {"errcode": 47001, "errmsg": "data format error"}
            if self.busy:
                self.busy -= 1
                return {"errcode": -1, "errmsg": "system error"}
            to = data.get("touser")
            if to in self.followers_silent:
                return {"errcode": 45015, "errmsg": "response out of time limit or subscription is canceled"}
            if to not in self.followers:
                return {"errcode": 40003, "errmsg": "invalid openid"}
            if data.get("msgtype") != "text" or not isinstance(data.get("text"), dict):
                return {"errcode": 40008, "errmsg": "invalid message type"}
            self.sent.append(data)
            return {"errcode": 0, "errmsg": "ok"}
        return {"errcode": 48001, "errmsg": "api unauthorized"}

    def _check_token(self, token: str | None) -> dict[str, Any] | None:
        if not token:
            return {"errcode": 41001, "errmsg": "access_token missing"}
        if token not in self.tokens:
            return {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"}
        if not self.tokens[token]:
            return {"errcode": 42001, "errmsg": "access_token expired"}
        return None

    def _template(self, body: bytes) -> dict[str, Any]:
        try:
            data = json.loads(body)
        except ValueError:
            return {"errcode": 47001, "errmsg": "data format error"}
        if not isinstance(data, dict):
            return {"errcode": 47001, "errmsg": "data format error"}
        to = data.get("touser")
        if to in self.unsubscribed:
            return {"errcode": 43004, "errmsg": "require subscribe"}
        if to not in self.followers | self.followers_silent:
            return {"errcode": 40003, "errmsg": "invalid openid"}
        if data.get("template_id") not in self.templates:
            return {"errcode": 40037, "errmsg": "invalid template_id"}
        fields = data.get("data")
        if not isinstance(fields, dict) or not all(
                isinstance(v, dict) and isinstance(v.get("value"), str) for v in fields.values()):
            return {"errcode": 47001, "errmsg": "data format error"}
        if len(str(data.get("url") or "")) > 1024:
            return {"errcode": 40062, "errmsg": "invalid url size"}
        self.template_sent.append(data)
        return {"errcode": 0, "errmsg": "ok", "msgid": 200000 + len(self.template_sent)}


@contextmanager
def serve(fake: FakeWeChat) -> Iterator[FakeWeChat]:
    with http_fake.serve(lambda method, path, query, _headers, body: (200, fake.handle(method, path, query, body))) \
            as base:
        fake.base = base
        yield fake
