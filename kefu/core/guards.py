"""Input guards that hold for every route, before any endpoint runs (an ASGI middleware).

- The request body is bounded while it streams in (Content-Length is not trusted alone): past the limit
  the request is answered 413 and the endpoint sees nothing. Routes that take uploads have a larger limit.
- NUL characters are refused with 422 `nul_character` in the path, the query string, JSON bodies and
  form bodies: PostgreSQL cannot store them in text, and no legitimate input contains one.
- JSON integers outside the 64-bit range that the databases store are refused with 422
  `integer_out_of_range`; JSON nested deeper than `MAX_JSON_DEPTH` with 422 `malformed_json`.

The checks of the content need the whole body, so JSON and form bodies (small by the generic limit) are
read first and replayed to the endpoint; other bodies (multipart uploads) are only counted as they pass.
Some paths can be left out entirely (`skip`): the inbound channel endpoint records every refused payload
itself, so it must see the payload whatever it holds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)
MAX_JSON_DEPTH = 64
# Room for the multipart envelope around an uploaded file (boundaries, part headers, other fields).
UPLOAD_ENVELOPE_BYTES = 64 * 1024


def json_error(status: int, code: str, message: str, details: dict[str, Any] | None = None) -> bytes:
    return json.dumps({"error": {"code": code, "message": message, "details": details or {}}},
                      ensure_ascii=False).encode()


class Refused(Exception):
    """Bad input found by a guard; answered with the JSON error shape."""

    def __init__(self, status: int, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details or {}


def _nul(location: str, field: str) -> Refused:
    return Refused(422, "nul_character", f"{field} contains a NUL character (\\u0000), which is not accepted",
                   {"location": location, "field": field})


def check_pairs(pairs: Iterable[tuple[str, str]], location: str) -> None:
    """Query string or form fields: no NUL in a name or a value."""
    for name, value in pairs:
        if "\x00" in name or "\x00" in value:
            raise _nul(location, name.replace("\x00", "\\u0000"))


def _walk(value: Any, path: str, depth: int) -> Iterator[tuple[str, Any]]:
    if depth > MAX_JSON_DEPTH:
        raise Refused(422, "malformed_json", f"the JSON body is nested deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, dict):
        for key, item in value.items():
            sub = f"{path}.{key}" if path else str(key)
            if "\x00" in key:
                raise _nul("body", sub.replace("\x00", "\\u0000"))
            yield from _walk(item, sub, depth + 1)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk(item, f"{path}.{i}" if path else str(i), depth + 1)
    else:
        yield path or "body", value


def check_json(document: Any) -> None:
    """A parsed JSON body: no NUL in any string, no integer beyond 64 bits, bounded nesting."""
    for field, value in _walk(document, "", 0):
        if isinstance(value, str) and "\x00" in value:
            raise _nul("body", field)
        if isinstance(value, int) and not isinstance(value, bool) and not INT64_MIN <= value <= INT64_MAX:
            raise Refused(422, "integer_out_of_range",
                          f"{field} is outside the range of a 64-bit integer (-2^63 .. 2^63-1)",
                          {"location": "body", "field": field})


def _reject_constant(name: str) -> Any:
    # Python's json reads NaN and Infinity, which JSON does not have and no number field can use.
    raise Refused(422, "malformed_json", f"the request body is not valid JSON ({name} is not a JSON number)")


def check_body(content_type: str, body: bytes) -> None:
    """The checks of a whole body by its media type; bodies that do not parse are left to the endpoint."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        try:
            document = json.loads(body, parse_constant=_reject_constant)
        except (ValueError, UnicodeDecodeError):
            return  # the endpoint answers malformed_json in its own words
        except RecursionError:
            raise Refused(422, "malformed_json",
                          f"the JSON body is nested deeper than {MAX_JSON_DEPTH} levels") from None
        check_json(document)
    elif media == "application/x-www-form-urlencoded":
        check_pairs(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True), "form")


def _inspected(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media in ("application/json", "application/x-www-form-urlencoded") or media.endswith("+json")


@dataclass(frozen=True)
class BodyLimits:
    default: int
    # (method, path regex) -> limit, for the routes that take uploads
    larger: tuple[tuple[str, re.Pattern[str], int], ...] = ()

    def for_request(self, method: str, path: str) -> int:
        for m, pattern, limit in self.larger:
            if m == method and pattern.fullmatch(path):
                return limit
        return self.default


class InputGuard:
    """The ASGI middleware; `skip` holds (method, path regex) pairs that pass untouched."""

    def __init__(self, app: ASGIApp, *, limits: BodyLimits,
                 skip: tuple[tuple[str, re.Pattern[str]], ...] = ()) -> None:
        self.app = app
        self.limits = limits
        self.skip = skip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or any(
            m == scope["method"] and p.fullmatch(scope["path"]) for m, p in self.skip
        ):
            await self.app(scope, receive, send)
            return
        try:
            await self._guarded(scope, receive, send)
        except Refused as exc:
            await _answer(send, exc)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        if "\x00" in scope["path"]:
            raise _nul("path", "path")
        query = scope.get("query_string", b"").decode("latin-1")
        if query:
            check_pairs(parse_qsl(query, keep_blank_values=True, encoding="utf-8", errors="replace"), "query")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        limit = self.limits.for_request(scope["method"], scope["path"])
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise _too_large(limit)
        content_type = headers.get("content-type", "")
        if _inspected(content_type):
            body = await _read_all(receive, limit)
            check_body(content_type, body)
            await self.app(scope, _replay(body, receive), send)
        else:
            await _stream_counted(self.app, scope, receive, send, limit)


def _too_large(limit: int) -> Refused:
    return Refused(413, "payload_too_large", f"the request body is larger than {limit} bytes",
                   {"limit": limit})


async def _answer(send: Send, exc: Refused) -> None:
    body = json_error(exc.status, exc.code, exc.message, exc.details)
    await send({"type": "http.response.start", "status": exc.status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def _read_all(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away: nothing to answer
            raise Refused(400, "client_disconnected", "the client disconnected")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: wait for the disconnect as the server would say it

    return replay


async def _stream_counted(app: ASGIApp, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    """Pass the body through while counting; past the limit the endpoint is told the client left, its
    answer is dropped and 413 is sent instead (unless it had started answering already)."""
    size = 0
    exceeded = False
    started = False

    async def counting() -> Message:
        nonlocal size, exceeded
        if exceeded:
            return {"type": "http.disconnect"}
        message = await receive()
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > limit:
                exceeded = True
                return {"type": "http.disconnect"}
        return message

    async def guarded_send(message: Message) -> None:
        nonlocal started
        if exceeded and not started:
            return
        if message["type"] == "http.response.start":
            started = True
        await send(message)

    try:
        await app(scope, counting, guarded_send)
    except Exception:
        if not exceeded or started:
            raise
    if exceeded and not started:
        await _answer(send, _too_large(limit))
