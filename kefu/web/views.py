"""The console's shell: server-rendered pages (Jinja2) enhanced with htmx, for agents, supervisors and
analysts. The domains' pages live with their domains (kefu/<domain>/views.py: the inbox and the ticket page
in kefu/tickets/views.py, customers in kefu/customers/views.py), mounted here.

Routes (all HTML):
    GET  /                          → /console/inbox when logged in, else /login
    GET  /login, POST /login        the login form (sets the API's `kefu_session` cookie)
    GET|POST /logout
    GET  /lang/{locale}?next=       the language switcher (sets the `lang` cookie)
    GET  /console/stream            Server-Sent Events that tell open pages to refresh (kefu/web/live.py)
    GET  /console/knowledge, /console/workforce   placeholders until those domains add kefu/<domain>/views.py

Every page works as plain HTML forms; with the front-end assets installed (scripts/web-assets) htmx swaps
fragments in place and the SSE stream keeps lists current. Security: see kefu/web/render.py.
"""

from __future__ import annotations

import inspect
import logging
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from kefu.core import domains
from kefu.core.config import Settings
from kefu.core.deps import AppSettings, DbSession
from kefu.core.errors import Conflict, Forbidden, InvalidInput, KefuError, NotFound, Unauthorized
from kefu.core.headers import allowed_methods
from kefu.web import live
from kefu.web.i18n import LANG_COOKIE, Translate, normalize_locale, translator
from kefu.web.render import (
    LOGIN_CSRF_COOKIE,
    STATIC_DIR,
    CsrfFailed,
    LoginRequired,
    PagePrincipal,
    is_htmx,
    new_login_csrf,
    render,
    request_locale,
    safe_next,
)

log = logging.getLogger("kefu.web")

router = APIRouter(include_in_schema=False)
TIMELINE_LIMIT = 30
# Other domains' console pages: every `kefu/<domain>/views.py` (kefu.core.domains), mounted by mount().
PLACEHOLDERS = {"knowledge": "/console/knowledge", "workforce": "/console/workforce"}


# ---- entry, login, language -----------------------------------------------------------------


@router.get("/")
def home(request: Request, session: DbSession) -> RedirectResponse:
    from kefu.org import service as org

    target = "/console/inbox" if org.console_principal(session, request) else "/login"
    return RedirectResponse(target, status_code=303)


def _login_page(
    request: Request,
    *,
    error: str | None = None,
    info: str | None = None,
    username: str = "",
    next_url: str = "/console/inbox",
    status_code: int = 200,
) -> HTMLResponse:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or new_login_csrf()
    resp = render(
        request,
        "login.html",
        {"error": error, "info": info, "username": username, "next": next_url, "login_csrf": token},
        status_code=status_code,
    )
    settings: Settings = request.app.state.settings
    resp.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        path="/login",
        secure=settings.env == "production",
    )
    return resp


@router.get("/login")
def login_form(request: Request, next: str | None = None, msg: str | None = None) -> HTMLResponse:
    info = {"required": "login.required", "logged_out": "login.logged_out"}.get(msg or "")
    t = translator(request_locale(request))
    return _login_page(request, info=t(info) if info else None, next_url=safe_next(next))


@router.post("/login")
def login_submit(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    login_csrf: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/console/inbox",
) -> Response:
    from kefu.org import service as org

    t = translator(request_locale(request))
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not cookie or cookie != login_csrf:
        return _login_page(
            request, error=t("login.expired"), username=username, next_url=safe_next(next), status_code=403
        )
    from kefu.org import login as login_guard

    try:
        token, _user = login_guard.attempt_login(request, session, settings, username.strip(), password)
    except Unauthorized:
        return _login_page(
            request, error=t("login.failed"), username=username, next_url=safe_next(next), status_code=401
        )
    except login_guard.AccountLocked as exc:
        error = t("login.locked", minutes=exc.details["minutes"])
        return _login_page(request, error=error, username=username, next_url=safe_next(next), status_code=429)
    except (login_guard.TooManyAttempts, login_guard.LoginBusy) as exc:
        error = t(f"login.{exc.code}")
        return _login_page(request, error=error, username=username, next_url=safe_next(next), status_code=exc.status)
    resp = RedirectResponse(safe_next(next), status_code=303)
    resp.set_cookie(
        org.SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        max_age=settings.session_hours * 3600,
        secure=settings.env == "production",
    )
    resp.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return resp


@router.api_route("/logout", methods=["GET", "POST"])
def logout(request: Request, session: DbSession) -> RedirectResponse:
    """GET is safe too: the SameSite=strict cookie is not sent with a cross-site navigation."""
    from kefu.org import service as org

    token = request.cookies.get(org.SESSION_COOKIE)
    if token:
        org.logout(session, token, ip=org.client_ip(request))
    resp = RedirectResponse("/login?msg=logged_out", status_code=303)
    resp.delete_cookie(org.SESSION_COOKIE)
    return resp


@router.get("/lang/{code}")
def switch_language(request: Request, code: str, next: str | None = None) -> RedirectResponse:
    locale = normalize_locale(code)
    resp = RedirectResponse(safe_next(next, "/console/inbox"), status_code=303)
    if locale is not None:
        resp.set_cookie(LANG_COOKIE, locale, max_age=365 * 24 * 3600, samesite="lax")
    return resp


# ---- the live stream ------------------------------------------------------------------------


@router.get("/console/stream")
async def stream(request: Request) -> StreamingResponse:
    """Server-Sent Events: `inbox` and `ticket-<id>` notices for what this user may see."""
    who = await run_in_threadpool(_stream_units, request)
    if who is None:
        raise LoginRequired()
    sub = live.broadcaster.subscribe(who[1], user_id=who[0])
    return StreamingResponse(
        live.stream(sub, request.is_disconnected),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _stream_units(request: Request) -> tuple[int, frozenset[int]] | None:
    """The stream's user and the org units they see (None: not logged in). No session stays open for the
    stream."""
    from kefu.org import service as org

    db = request.app.state.db
    with db.session() as session:
        principal = org.console_principal(session, request)
        if principal is None:
            return None
        return principal.user_id, frozenset(org.visible_unit_ids(session, principal))


def friendly(t: Translate, exc: KefuError) -> str:
    """A refused action in the user's language (the service's message where we have no better words)."""
    if exc.code == "illegal_transition":
        d = exc.details
        allowed = "、".join(t(f"status.{s}") for s in d.get("allowed", [])) or "—"
        return t(
            "error.illegal_transition",
            **{"from": t(f"status.{d.get('from')}"), "to": t(f"status.{d.get('to')}"), "allowed": allowed},
        )
    if exc.code in ("stale_ticket", "reason_required", "pii_required"):
        return t(f"error.{exc.code}")
    if isinstance(exc, NotFound):
        return t("error.not_found")
    if isinstance(exc, Forbidden):
        return t("error.forbidden")
    if isinstance(exc, Conflict):
        return t("error.conflict", message=exc.message)
    if isinstance(exc, InvalidInput):
        return t("error.invalid", message=exc.message)
    return t("error.generic", message=exc.message)


# ---- placeholders for other domains' pages --------------------------------------------------


def _placeholder(key: str) -> Any:
    def page(request: Request, principal: PagePrincipal) -> HTMLResponse:
        return render(request, "placeholder.html", {"key": key}, active=key)

    page.__name__ = f"placeholder_{key}"
    return page


# ---- errors as pages ------------------------------------------------------------------------

CONSOLE_PREFIXES = ("/console", "/login", "/logout", "/lang")


def _is_console(request: Request) -> bool:
    path = request.url.path
    return path == "/" or path.startswith(CONSOLE_PREFIXES)


def _error_page(request: Request, status_code: int, message: str) -> HTMLResponse:
    if is_htmx(request):
        return render(
            request,
            "partials/flash.html",
            {"error": message},
            status_code=status_code,
            headers={"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"},
        )
    return render(request, "error.html", {"message": message, "status": status_code}, status_code=status_code)


def install_handlers(app: FastAPI) -> None:
    previous_kefu = app.exception_handlers.get(KefuError)
    previous_http = app.exception_handlers.get(StarletteHTTPException)

    async def login_required(request: Request, _exc: Exception) -> Response:
        target = "/login"
        if request.method == "GET" and request.url.path.startswith("/console"):
            from urllib.parse import quote

            here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            target = f"/login?msg=required&next={quote(here, safe='')}"
        if request.headers.get("HX-Request") == "true":
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    async def csrf_failed(request: Request, _exc: Exception) -> Response:
        t = translator(request_locale(request))
        return _error_page(request, 403, t("error.csrf"))

    async def kefu_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, KefuError)
        if not _is_console(request) and previous_kefu is not None:
            result = previous_kefu(request, exc)
            return await result if inspect.isawaitable(result) else result
        t = translator(request_locale(request))
        return _error_page(request, exc.status, friendly(t, exc))

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if not _is_console(request) and previous_http is not None:
            result = previous_http(request, exc)
            return await result if inspect.isawaitable(result) else result
        t = translator(request_locale(request))
        msg = t("error.not_found") if exc.status_code == 404 else t("error.generic", message=str(exc.detail))
        page = _error_page(request, exc.status_code, msg)
        if exc.status_code == 405:
            page.headers["Allow"] = ", ".join(allowed_methods(request))
        return page

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(CsrfFailed, csrf_failed)
    app.add_exception_handler(KefuError, kefu_error)
    app.add_exception_handler(StarletteHTTPException, http_error)


# ---- mounting -------------------------------------------------------------------------------


def mount(app: FastAPI) -> None:
    """Static files, the console's routes, other domains' console routers, the live-update consumer."""
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR), check_dir=False), name="static")
    install_handlers(app)
    present = set()
    for module in domains.modules("views"):
        app.include_router(module.router)
        present.add(module.__name__.split(".")[1])
    app.include_router(router)
    for key, path in PLACEHOLDERS.items():
        if key not in present:
            app.add_api_route(
                path, _placeholder(key), methods=["GET"], include_in_schema=False, response_class=HTMLResponse
            )
    live.register()


__all__ = ["mount", "render", "router"]
