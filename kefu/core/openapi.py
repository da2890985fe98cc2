"""The OpenAPI document tells every error an operation can answer, in kefu's one error shape.

FastAPI documents only the success and a 422 in its own validation shape ({"detail": [...]}), which is not
what kefu sends. Each operation gets, with the `Error` schema ({"error": {"code", "message", "details"}}):

- 422 always: malformed or invalid input, including a NUL character or a 64-bit overflow (kefu/core/guards.py),
  which may come in the query string of any request;
- 400 and 413 when it takes a body (a body that cannot be parsed; the body size limit);
- 401 and 403 when it needs a principal (no or bad credentials; a role without the permission);
- 404 when it needs a principal or has path parameters (unknown ids; records outside the caller's scope are
  reported as not found);
- 409 when it changes state (POST, PUT, PATCH, DELETE) for a principal (conflicts, stale versions, merges).

What an endpoint declares itself (`responses=` on the route) is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from kefu.core.deps import Requirement

ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string", "description": "machine-readable, e.g. ticket_not_found"},
                "message": {"type": "string", "description": "what is wrong, for a person"},
                "details": {"type": "object", "description": "the fields at fault, limits, ids"},
            },
        }
    },
}
DESCRIPTIONS = {
    429: "Too many attempts",
    400: "The body could not be read",
    401: "Authentication required, or the credentials are not valid",
    403: "The caller's role may not do this",
    404: "Not found (or outside the caller's scope)",
    409: "Conflict with the current state",
    413: "The request body is too large",
    422: "Invalid input",
}
WRITES = {"post", "put", "patch", "delete"}


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dep in dependant.dependencies:
        if dep.call is not None:
            yield dep.call
        yield from _calls(dep)


def _authenticated_operations(app: FastAPI, principal_dependency: Callable[..., Any]) -> set[tuple[str, str]]:
    found = set()
    for rc in iter_route_contexts(app.routes):
        route = rc.original_route
        if not isinstance(route, APIRoute):
            continue
        calls = list(_calls(route.dependant))
        # The principal dependency itself, or a permission requirement that resolves the principal its own way
        # (TokenRequirement: the token cache of the hot inbound route).
        if principal_dependency in calls or any(isinstance(c, Requirement) for c in calls):
            for method in route.methods or ():
                found.add((rc.path_format or route.path_format, method.lower()))
    return found


def error_statuses(method: str, operation: dict[str, Any], authenticated: bool) -> list[int]:
    statuses = [422]
    if "requestBody" in operation:
        statuses += [400, 413]
    if authenticated:
        statuses += [401, 403, 404]
        if method in WRITES:
            statuses.append(409)
    elif any(p.get("in") == "path" for p in operation.get("parameters", [])):
        statuses.append(404)
    return sorted(statuses)


def document_errors(schema: dict[str, Any], authenticated: set[tuple[str, str]],
                    extra: dict[tuple[str, str], list[int]] | None = None) -> dict[str, Any]:
    schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            statuses = error_statuses(method, operation, (path, method) in authenticated)
            declared_errors = {int(s) for s in responses if s.isdigit() and int(s) >= 400}
            for status in sorted({*statuses, *declared_errors, *(extra or {}).get((path, method), [])}):
                declared = responses.get(str(status), {})
                if status == 422:  # FastAPI's own 422 ({"detail": [...]}) is not what kefu sends
                    declared = {}
                if "content" not in declared:
                    responses[str(status)] = {"description": declared.get("description", DESCRIPTIONS.get(status, "")),
                                              "content": {"application/json": {"schema": ref}}}
    for unused in ("HTTPValidationError", "ValidationError"):
        schema["components"]["schemas"].pop(unused, None)
    return schema


def install(app: FastAPI, principal_dependency: Callable[..., Any],
            extra: dict[tuple[str, str], list[int]] | None = None) -> None:
    """Replace app.openapi with one that documents the errors (built once, like FastAPI's). `extra` adds
    statuses to operations the rules above cannot tell, {(path, method): [status, ...]}."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_errors(original(), _authenticated_operations(app, principal_dependency),
                                                 extra)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
