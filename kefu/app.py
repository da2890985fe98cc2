"""create_app(): routers, middleware, error handlers, the job runner and live-update hub."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from kefu.core import openapi
from kefu.core.config import Settings, get_settings
from kefu.core.db import Database
from kefu.core.deps import current_principal
from kefu.core.errors import KefuError
from kefu.core.guards import UPLOAD_ENVELOPE_BYTES, BodyLimits, InputGuard
from kefu.core.headers import SecurityHeaders, allowed_methods
from kefu.core.privacy import ViewerScope
from kefu.jobs.runtime import start_in_server

log = logging.getLogger("kefu")

API_PREFIX = "/api/v1"
API_DOCS = f"{API_PREFIX}/docs"

# The API's interactive docs: Swagger UI served from the package (scripts/web-assets), started by a script
# file so the page needs no inline code; without the assets the page still names the OpenAPI document.
_DOCS_HTML = f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>kefu 客服 API</title>
<link rel="stylesheet" href="/static/vendor/swagger-ui.css"></head>
<body><div id="swagger-ui" data-openapi="{API_PREFIX}/openapi.json">
<p>接口文档 / API reference: <a href="{API_PREFIX}/openapi.json">{API_PREFIX}/openapi.json</a></p></div>
<script src="/static/vendor/swagger-ui-bundle.js"></script>
<script src="/static/api-docs.js"></script></body></html>"""


def _error(status: int, code: str, message: str, details: dict[str, Any] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "details": details or {}}},
                        status_code=status)


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or "body"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(KefuError)
    async def _kefu_error(_request: Request, exc: KefuError) -> JSONResponse:
        return JSONResponse(exc.to_dict(), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = []
        for err in exc.errors():
            if err.get("type") == "json_invalid":
                return _error(422, "malformed_json", "the request body is not valid JSON",
                              {"position": err.get("ctx", {}).get("error")})
            fields.append({"field": _field_name(tuple(err.get("loc", ()))), "problem": err.get("msg")})
        names = ", ".join(f["field"] for f in fields)
        return _error(422, "validation_error", f"invalid or missing field(s): {names}", {"fields": fields})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized"}.get(exc.status_code, "http_error")
        response = _error(exc.status_code, code, str(exc.detail))
        response.headers.update(exc.headers or {})
        if exc.status_code == 405:
            response.headers["Allow"] = ", ".join(allowed_methods(request))
        return response



def install_input_guard(app: FastAPI, settings: Settings) -> None:
    """Body size, NUL characters, 64-bit integers: refused before any endpoint runs (kefu/core/guards.py).

    POST /inbound/{channel} is left out: it records every refused payload itself, with its own limit.
    """
    upload = settings.max_upload_bytes + UPLOAD_ENVELOPE_BYTES
    limits = BodyLimits(default=settings.max_body_bytes,
                        larger=(("POST", re.compile(f"{API_PREFIX}/customers/import"), upload),))
    app.add_middleware(InputGuard, limits=limits, skip=(("POST", re.compile(f"{API_PREFIX}/inbound/[^/]+")),))


def _api_docs() -> HTMLResponse:
    return HTMLResponse(_DOCS_HTML)


def create_app(settings: Settings | None = None, db: Database | None = None, *,
               start_dispatcher: bool = True) -> FastAPI:
    settings = settings or get_settings()
    db = db or Database(settings.effective_database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The job runner or queue kicker and the live-update hub, by shape (kefu/jobs/runtime.py).
        runtime = start_in_server(settings, db, dispatch=start_dispatcher)
        app.state.dispatcher = runtime.dispatcher
        try:
            yield
        finally:
            runtime.stop()

    app = FastAPI(title="kefu 客服", version="0.1.0", lifespan=lifespan,
                  description="Omnichannel customer service and complaint management for telecom operators.",
                  openapi_url=f"{API_PREFIX}/openapi.json", docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.db = db
    app.state.dispatcher = None
    install_error_handlers(app)
    install_input_guard(app, settings)
    app.add_middleware(ViewerScope)  # who is looking, for masking personal data in responses
    app.add_middleware(SecurityHeaders, docs_path=API_DOCS)
    app.add_api_route(API_DOCS, _api_docs, methods=["GET"], include_in_schema=False)
    # The login takes credentials without needing a principal: a wrong password is its 401.
    openapi.install(app, current_principal, extra={(f"{API_PREFIX}/auth/login", "post"): [401]})

    from kefu.core import domains
    from kefu.web import views

    for module in domains.modules("api"):
        app.include_router(module.router, prefix=API_PREFIX)
    views.mount(app)
    return app
