"""A local HTTP SMS gateway on loopback: bearer-token auth, one message id per part, idempotent on the
submitter's `client_ref` (a repeated submission answers the ids it gave before and sends nothing),
503 while told to be down."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.channels import http_fake


@dataclass
class FakeGateway:
    token: str
    down: int = 0  # answer the next N submissions 503
    handsets: list[dict[str, Any]] = field(default_factory=list)  # parts that reached a handset
    by_ref: dict[str, list[str]] = field(default_factory=dict)
    url: str = ""
    _n: int = 0

    def submit(self, auth: str, body: bytes) -> tuple[int, dict[str, Any]]:
        if auth != f"Bearer {self.token}":
            return 401, {"error": "unauthorized"}
        if self.down:
            self.down -= 1
            return 503, {"error": "busy"}
        data = json.loads(body)
        if not str(data.get("mobile", "")).isdigit() or len(data["mobile"]) != 11:
            return 400, {"error": f"invalid mobile {data.get('mobile')}"}
        ref = data["client_ref"]
        if ref in self.by_ref:
            return 200, {"msg_ids": self.by_ref[ref]}
        ids = []
        for part in data["parts"]:
            if len(part["content"]) > 70:
                return 400, {"error": "part longer than 70 characters"}
            self._n += 1
            ids.append(f"G{self._n:08d}")
            self.handsets.append({"mobile": data["mobile"], **part})
        self.by_ref[ref] = ids
        return 200, {"msg_ids": ids}


@contextmanager
def serve(fake: FakeGateway) -> Iterator[FakeGateway]:
    def handle(_method: str, path: str, _query: dict[str, str], headers: dict[str, str],
               body: bytes) -> tuple[int, Any]:
        return fake.submit(headers.get("authorization", ""), body) if path == "/send" else (404, {"error": "not found"})

    with http_fake.serve(handle) as base:
        fake.url = base
        yield fake
