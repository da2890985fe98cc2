"""Security headers on every response, Allow on 405, and the OpenAPI document's error responses."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from kefu.core.headers import CSP
from tests.conftest import World

API = "/api/v1"


@pytest.mark.parametrize("path", ["/login", f"{API}/me", f"{API}/tickets", "/static/kefu.css", "/nowhere"])
def test_every_response_carries_the_security_headers(client: TestClient, world: World, path: str) -> None:
    r = client.get(path, headers=world.auth("agent_gz"))
    assert r.headers["content-security-policy"] == CSP
    assert "script-src 'self';" in CSP
    assert "frame-ancestors 'none'" in CSP
    assert (r.headers["x-frame-options"], r.headers["x-content-type-options"], r.headers["referrer-policy"]) == (
        "DENY", "nosniff", "same-origin")


def test_the_api_docs_page_loads_scripts_from_kefu_only(client: TestClient) -> None:
    r = client.get(f"{API}/docs")
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    assert "script-src 'self';" in csp
    assert "style-src 'self' 'unsafe-inline';" in csp
    assert "frame-ancestors 'none'" in csp
    assert "http" not in csp  # nothing from another origin
    assert '<script src="/static/vendor/swagger-ui-bundle.js">' in r.text
    assert "<script>" not in r.text  # no inline bootstrap


@pytest.mark.parametrize(("method", "path", "allow"), [
    ("DELETE", f"{API}/tickets", "GET, POST"),
    ("PUT", f"{API}/tickets/1", "GET, PATCH"),
    ("POST", f"{API}/me", "GET"),
    ("DELETE", "/console/inbox", "GET"),
])
def test_405_names_every_allowed_method(client: TestClient, world: World, method: str, path: str,
                                        allow: str) -> None:
    r = client.request(method, path, headers=world.auth("admin"))
    assert r.status_code == 405
    assert r.headers["allow"] == allow
    if path.startswith(API):
        assert r.json()["error"]["code"] == "method_not_allowed"


def _operations(client: TestClient) -> dict[tuple[str, str], dict[str, Any]]:
    doc = client.get(f"{API}/openapi.json").json()
    return {(path, method): op for path, item in doc["paths"].items() for method, op in item.items()}


def test_every_operation_documents_its_errors_in_the_one_error_shape(client: TestClient) -> None:
    doc = client.get(f"{API}/openapi.json").json()
    assert doc["components"]["schemas"]["Error"]["properties"]["error"]["required"] == ["code", "message",
                                                                                       "details"]
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    ops = _operations(client)
    assert len(ops) >= 70
    for (path, method), op in ops.items():
        errors = {int(s) for s in op["responses"] if int(s) >= 400}
        assert 422 in errors, (path, method)
        for status in errors:
            schema = op["responses"][str(status)]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Error"}, (path, method, status)


@pytest.mark.parametrize(("method", "path", "statuses"), [
    ("patch", f"{API}/tickets/{{ticket_id}}", {400, 401, 403, 404, 409, 413, 422}),
    ("get", f"{API}/tickets", {401, 403, 404, 422}),
    ("post", f"{API}/auth/login", {400, 413, 422}),
    ("post", f"{API}/customers/import", {400, 401, 403, 404, 409, 413, 422}),
])
def test_error_statuses_follow_what_the_operation_does(client: TestClient, method: str, path: str,
                                                       statuses: set[int]) -> None:
    op = _operations(client)[(path, method)]
    assert {int(s) for s in op["responses"] if int(s) >= 400} >= statuses
