"""Local fakes of the Weibo and QQ bot APIs on loopback, refusing what the real ones refuse.

Weibo (fans-service customer-service messages): `POST /2/messages/reply.json?access_token=`, form-encoded
`receiver_id`, `type`, `data` (JSON {"text"}), `save_sender_box`; answers {"result": true, "sender_id",
"receiver_id", "type", "data"}, or {"error", "error_code", "request"}: 21332 for another access token, 10001
(system error) while told to be busy (`busy` requests, or once after `busy_after` texts); a receiver who has
not written within 48 hours, who unfollowed, or whose mention was answered already (one reply a mention), and a
text of 300 characters or more, are refused with HTTP 400 (the error codes of these refusals are the fake's own).

QQ bot: `POST /app/getAppAccessToken` {"appId", "clientSecret"} → {"access_token", "expires_in": "7200"};
`POST /v2/users/{openid}/messages` and `/v2/groups/{group_openid}/messages` with `Authorization: QQBot
<token>` (401 code 11244 otherwise), JSON {"content", "msg_type": 0, "msg_id"?, "msg_seq"}: a passive reply
names a message it received from that user (group) within 60 (5) minutes; an active one (no msg_id) is
limited to 4 a month per user (group); a repeat of msg_id + msg_seq is dropped (400, code 40054005).
Answers {"id", "timestamp"}.

App push (JPush-compatible v3): `POST /v3/push` with HTTP Basic app key : master secret (401, error 1004
otherwise), {"platform", "audience": {"alias": [...]}, "notification": {"alert", ...}, "options"}; an alias
no device registered is refused (400, error 1011), the rate limit answered 429 (error 2002) while told to
be busy. Answers {"sendno", "msg_id"}.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import parse_qs

from tests.channels import http_fake

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class FakeWeibo:
    token: str
    wrote: dict[str, datetime] = field(default_factory=dict)  # uid -> their last private message
    mentioned: dict[str, datetime] = field(default_factory=dict)  # uid -> their mention, not answered yet
    unfollowed: set[str] = field(default_factory=set)
    busy: int = 0
    busy_after: int | None = None  # busy once when this many texts have been taken
    sent: list[dict[str, Any]] = field(default_factory=list)
    clock: Clock = _now
    base: str = ""

    def handle(self, method: str, path: str, query: dict[str, str], _headers: dict[str, str],
               body: bytes) -> tuple[int, Any]:
        if (method, path) != ("POST", "/2/messages/reply.json"):
            return 404, self._error(10014, "Insufficient app permissions", path)
        if query.get("access_token") != self.token:
            return 403, self._error(21332, "invalid_access_token")
        if self.busy or self.busy_after == len(self.sent):
            self.busy = max(self.busy - 1, 0)
            if self.busy_after == len(self.sent):
                self.busy_after = None
            return 500, self._error(10001, "system error")
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        to, kind = form.get("receiver_id", ""), form.get("type")
        try:
            data = json.loads(form.get("data", ""))
        except ValueError:
            return 400, self._error(10008, "param data error")
        if kind != "text" or not isinstance(data, dict) or not isinstance(data.get("text"), str):
            return 400, self._error(10008, "param type or data error")
        if len(data["text"]) >= 300:
            return 400, self._error(20019, "text too long")
        if to in self.unfollowed:
            return 400, self._error(20016, "receiver unfollowed")
        now = self.clock()
        if to in self.mentioned and now - self.mentioned[to] < timedelta(hours=48):
            del self.mentioned[to]  # one reply a mention
        elif not (to in self.wrote and now - self.wrote[to] < timedelta(hours=48)):
            return 400, self._error(20015, "no message quota for this receiver")
        self.sent.append({"receiver_id": to, "text": data["text"], "save_sender_box": form.get("save_sender_box")})
        return 200, {"result": True, "sender_id": "1902538057", "receiver_id": to, "type": "text",
                     "data": form["data"]}

    @staticmethod
    def _error(code: int, message: str, request: str = "/2/messages/reply.json") -> dict[str, Any]:
        return {"error": message, "error_code": code, "request": request}


@dataclass
class FakeQQ:
    app_id: str
    secret: str
    received: dict[str, tuple[str, datetime]] = field(default_factory=dict)  # msg_id -> (user or group, at)
    tokens: set[str] = field(default_factory=set)
    token_fetches: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)  # {"to", "kind", **body}
    active: dict[str, int] = field(default_factory=dict)  # active messages this month per target
    clock: Clock = _now
    base: str = ""
    _seen: set[tuple[str, int]] = field(default_factory=set)

    def handle(self, method: str, path: str, _query: dict[str, str], headers: dict[str, str],
               body: bytes) -> tuple[int, Any]:
        doc = json.loads(body or b"{}")
        if (method, path) == ("POST", "/app/getAppAccessToken"):
            if (doc.get("appId"), doc.get("clientSecret")) != (self.app_id, self.secret):
                return 200, {"code": 100016, "message": "invalid appid or secret"}
            token = secrets.token_urlsafe(24)
            self.tokens.add(token)
            self.token_fetches += 1
            return 200, {"access_token": token, "expires_in": "7200"}
        auth = headers.get("authorization", "")
        if not auth.startswith("QQBot ") or auth[6:] not in self.tokens:
            return 401, {"code": 11244, "message": "token not exist or expire"}
        parts = path.strip("/").split("/")
        if method != "POST" or len(parts) != 4 or parts[:1] != ["v2"] or parts[1] not in ("users", "groups") \
                or parts[3] != "messages":
            return 404, {"code": 404, "message": "not found"}
        kind, to = parts[1], parts[2]
        content, seq, mid = doc.get("content"), doc.get("msg_seq"), doc.get("msg_id")
        if not isinstance(content, str) or not content or doc.get("msg_type") != 0 or not isinstance(seq, int):
            return 400, {"code": 40034002, "message": "invalid message"}
        if mid is not None:
            origin = self.received.get(mid)
            window = timedelta(minutes=60 if kind == "users" else 5)
            if origin is None or origin[0] != to or self.clock() - origin[1] > window:
                return 400, {"code": 40034025, "message": "passive reply out of window or unknown msg_id"}
            if (mid, seq) in self._seen:
                return 400, {"code": 40054005, "message": "消息被去重，请检查请求msgseq"}
            self._seen.add((mid, seq))
        else:
            if self.active.get(to, 0) >= 4:
                return 400, {"code": 22009, "message": "msg limit exceed"}
            self.active[to] = self.active.get(to, 0) + 1
        self.sent.append({"to": to, "kind": kind, **doc})
        return 200, {"id": f"ROBOT1.0_out{len(self.sent)}", "timestamp": self.clock().isoformat()}

    def revoke_tokens(self) -> None:
        self.tokens.clear()


@dataclass
class FakePush:
    key: str
    secret: str
    aliases: set[str] = field(default_factory=set)  # app users with a device registered
    busy: int = 0
    pushed: list[dict[str, Any]] = field(default_factory=list)
    base: str = ""

    def handle(self, method: str, path: str, _query: dict[str, str], headers: dict[str, str],
               body: bytes) -> tuple[int, Any]:
        if (method, path) != ("POST", "/v3/push"):
            return 404, {"error": {"code": 1000, "message": "not found"}}
        want = "Basic " + base64.b64encode(f"{self.key}:{self.secret}".encode()).decode()
        if headers.get("authorization") != want:
            return 401, {"error": {"code": 1004, "message": "Authen failed"}}
        if self.busy:
            self.busy -= 1
            return 429, {"error": {"code": 2002, "message": "Rate limit exceeded"}}
        doc = json.loads(body)
        alias = (doc.get("audience") or {}).get("alias") or []
        alert = (doc.get("notification") or {}).get("alert")
        if doc.get("platform") not in ("all", ["android", "ios"]) or not isinstance(alert, str) or not alert:
            return 400, {"error": {"code": 1003, "message": "Parameter value is invalid"}}
        if not any(a in self.aliases for a in alias):
            return 400, {"error": {"code": 1011, "message": "cannot find user by this audience"}}
        self.pushed.append(doc)
        return 200, {"sendno": str(doc.get("options", {}).get("sendno", 0)), "msg_id": str(54043195500000 +
                                                                                         len(self.pushed))}


F = TypeVar("F", FakeWeibo, FakeQQ, FakePush)


@contextmanager
def serve(fake: F) -> Iterator[F]:
    with http_fake.serve(fake.handle) as base:
        fake.base = base
        yield fake
