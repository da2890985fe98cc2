"""The console: server-rendered pages (Jinja2) enhanced with htmx, for agents, supervisors and analysts.

Routes (all HTML):
    GET  /                          → /console/inbox when logged in, else /login
    GET  /login, POST /login        the login form (sets the API's `kefu_session` cookie)
    GET|POST /logout
    GET  /lang/{locale}?next=       the language switcher (sets the `lang` cookie)
    GET  /console/inbox             tickets or interactions (`view=`), filters, paging; a fragment for htmx
    GET  /console/stream            Server-Sent Events that tell open pages to refresh (kefu/web/live.py)
    GET  /console/tickets/{id}      the ticket: header, conversation, reply box, status buttons, timeline
    GET  /console/tickets/{id}/conversation   fragment (live refresh)
    POST /console/tickets/{id}/reply          outbound message on the interaction's channel
    POST /console/tickets/{id}/status         a lifecycle move (reason where required)
    GET  /console/customers?phone=  search by full number or last four digits
    GET  /console/customers/{id}    profile, tier, identities, tickets, timeline
    GET  /console/knowledge, /console/workforce   placeholders until those domains add kefu/<domain>/views.py

Every page works as plain HTML forms; with the front-end assets installed (scripts/web-assets) htmx swaps
fragments in place and the SSE stream keeps lists current. Security: see kefu/web/render.py.
"""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from kefu.core import domains
from kefu.core.auth import Principal
from kefu.core.clock import utcnow
from kefu.core.config import Settings
from kefu.core.deps import AppSettings, DbSession, Id, Offset, OptionalFormId, OptionalFormVersion, is_id_text
from kefu.core.errors import Conflict, Forbidden, InvalidInput, KefuError, NotFound, Unauthorized
from kefu.core.headers import allowed_methods
from kefu.org import audit
from kefu.web import live
from kefu.web.i18n import LANG_COOKIE, Translate, normalize_locale, translator
from kefu.web.render import (
    LOGIN_CSRF_COOKIE,
    STATIC_DIR,
    CsrfFailed,
    CsrfProtect,
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
PAGE_SIZE = 25
TIMELINE_LIMIT = 30
# Other domains' console pages: every `kefu/<domain>/views.py` (kefu.core.domains), mounted by mount().
PLACEHOLDERS = {"knowledge": "/console/knowledge", "workforce": "/console/workforce"}

# Status buttons offered on the ticket page, in this order (assigning and merging have their own flows).
ACTION_ORDER = ("in_progress", "waiting_customer", "waiting_support", "resolved", "closed")


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


# ---- the inbox ------------------------------------------------------------------------------


@dataclass
class InboxQuery:
    view: str = "tickets"
    channel: str = ""
    type: str = ""
    status: str = ""
    tier: str = ""
    category: str = ""
    org_unit: str = ""
    assignee: str = ""
    q: str = ""
    at_risk: bool = False
    offset: int = 0

    def params(self, **override: Any) -> str:
        from urllib.parse import urlencode

        values = {**self.__dict__, **override}
        pairs = [
            (k, ("1" if v is True else v))
            for k, v in values.items()
            if v not in ("", None, False, 0) and not (k == "view" and v == "tickets")
        ]
        return urlencode(pairs)


def _opt(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _org_units(session: Session, principal: Principal) -> list[Any]:
    from kefu.org import service as org

    return org.list_units(session, principal)


@router.get("/console/inbox")
def inbox(
    request: Request,
    session: DbSession,
    principal: PagePrincipal,
    view: str = "tickets",
    channel: str = "",
    type: str = "",
    status: str = "",
    tier: str = "",
    category: str = "",
    org_unit: str = "",
    assignee: str = "",
    q: Annotated[str, Query(max_length=100)] = "",
    at_risk: bool = False,
    offset: Offset = 0,
) -> HTMLResponse:
    from kefu.core.deps import Page
    from kefu.interactions import service as interactions
    from kefu.tickets import service as tickets

    view = "interactions" if view == "interactions" else "tickets"
    query = InboxQuery(view, channel, type, status, tier, category, org_unit, assignee, q, at_risk, offset)
    error: str | None = None
    rows: list[Any] = []
    total, capped = 0, False
    extra: dict[str, Any] = {}
    unit_id = int(org_unit) if is_id_text(org_unit) else None
    try:
        if assignee.isdigit() and not is_id_text(assignee):
            raise InvalidInput(f"no user has the id {assignee}")
        if view == "tickets":
            filters = tickets.InboxFilters(
                channel=_opt(channel),
                type=_opt(type),
                status=tuple(s for s in status.split(",") if s),
                tier=_opt(tier),
                category=_opt(category),
                org_unit_id=unit_id,
                assignee=_opt(assignee),
                q=_opt(q),
                at_risk=at_risk,
            )
            result = tickets.list_inbox(session, principal, filters, Page(limit=PAGE_SIZE, offset=offset))
            rows, total, capped = result.items, result.total, result.capped
            extra["customers"] = _customers_by_id(session, principal, [t.customer_id for t in rows])
            extra["clocks"] = {t.id: tickets.reply_clock(t) for t in rows}
            extra["cats"] = tickets.categories_by_id(session)
        else:
            ifilters = interactions.InteractionFilters(
                channel=_opt(channel), status=_opt(status), org_unit_id=unit_id
            )
            rows, total = interactions.list_interactions(
                session, principal, ifilters, limit=PAGE_SIZE, offset=offset
            )
            extra["last"] = interactions.last_messages(session, [i.id for i in rows])
            extra["customers"] = _customers_by_id(session, principal, [i.customer_id for i in rows])
    except (InvalidInput, NotFound) as exc:
        session.rollback()
        error = translator(request_locale(request))("filter.invalid", message=exc.message)
    ctx = {
        "query": query,
        "rows": rows,
        "total": total,
        "capped": capped,
        "error": error,
        "page_size": PAGE_SIZE,
        "categories": tickets.category_tree(session),
        "units": _org_units(session, principal),
        **extra,
    }
    return _inbox_response(request, ctx)


def _inbox_response(request: Request, ctx: dict[str, Any]) -> HTMLResponse:
    from kefu.interactions.models import CHANNELS
    from kefu.tickets import lifecycle
    from kefu.tickets.models import TICKET_TYPES

    ctx.update(
        channels=CHANNELS,
        types=TICKET_TYPES,
        statuses=lifecycle.STATUSES,
        tiers=("diamond", "gold", "silver", "standard"),
    )
    if is_htmx(request) and request.headers.get("HX-Target") == "inbox-list":
        headers = {}
        if request.headers.get("HX-Trigger") == "filters":  # the filter form: push a clean URL
            qs = ctx["query"].params()
            headers["HX-Push-Url"] = "/console/inbox" + (f"?{qs}" if qs else "")
        return render(request, "partials/inbox_list.html", ctx, headers=headers)
    return render(request, "inbox.html", ctx, active="inbox")


def _customers_by_id(session: Session, principal: Principal, ids: list[int | None]) -> dict[int, Any]:
    """The customers shown in a list, by id; those outside the principal's scope are left out."""
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    from kefu.customers import service as customers

    return customers.get_many_visible(session, principal, wanted)


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


# ---- the ticket page ------------------------------------------------------------------------


@dataclass
class Action:
    to: str
    label_key: str
    needs_reason: bool
    style: str


def _actions(ticket: Any) -> list[Action]:
    from kefu.tickets import lifecycle

    closed_at = ticket.closed_at
    targets = lifecycle.allowed_targets(ticket.status, closed_at=closed_at, at=utcnow())
    out = []
    for dst in ACTION_ORDER:
        if dst not in targets:
            continue
        reopen = lifecycle.is_reopen(ticket.status, dst)
        out.append(
            Action(
                dst,
                "action.reopen" if reopen else f"action.{dst}",
                lifecycle.requires_reason(ticket.status, dst),
                "primary" if dst == "resolved" else ("danger" if dst == "closed" else ""),
            )
        )
    return out


def _conversation(session: Session, principal: Principal, ticket_id: int) -> list[Any]:
    """The ticket's interactions (oldest first), each with its messages."""
    from kefu.interactions import service as interactions

    rows, _total = interactions.list_interactions(
        session, principal, interactions.InteractionFilters(ticket_id=ticket_id), limit=200, with_messages=True
    )
    return list(reversed(rows))


def _reply_target(conversation: list[Any]) -> Any | None:
    """The interaction a reply goes out on: the newest open one."""
    open_ = [it for it in conversation if it.status == "open"]
    return open_[-1] if open_ else None


def _ticket_context(
    session: Session, principal: Principal, ticket_id: int, *, page: bool = False
) -> dict[str, Any]:
    """What the ticket page shows. The knowledge suggestions and possible duplicates (each embeds
    text, and a suggestion is logged as a search) only for the whole page (`page=True`), not for
    the fragments htmx swaps in after a reply, a status change or a live update."""
    from kefu.channels import outbound
    from kefu.org import service as org
    from kefu.tickets import service as tickets

    ticket = tickets.get_visible(session, principal, ticket_id)
    conversation = _conversation(session, principal, ticket.id)
    cats = tickets.categories_by_id(session)
    category = cats.get(ticket.category_id) if ticket.category_id else None
    parent = cats.get(category.parent_id) if category is not None and category.parent_id else None
    customer: Any = None
    timeline: list[Any] = []
    if ticket.customer_id is not None:
        customer, timeline = _customer_and_timeline(session, principal, ticket.customer_id)
    transitions = tickets.transitions_of(session, ticket.id)
    user_ids = {
        ticket.assignee_id,
        *(tr.actor_id for tr in transitions),
        *(m.author_id for it in conversation for m in it.messages),
    }
    users = org.users(session, (x for x in user_ids if x is not None))
    extra: dict[str, Any] = {}
    if page:
        from kefu.tickets.duplicates import possible_duplicates

        if principal.can("knowledge.read"):
            from kefu.knowledge import views as knowledge_views

            extra.update(knowledge_views.suggestions_context(session, principal, ticket.id))
        extra["duplicates"] = possible_duplicates(session, principal, ticket)
        extra["panels"] = ticket_panels(session, principal, ticket)
    return {
        **extra,
        "ticket": ticket,
        "category": category,
        "category_parent": parent,
        "clock": tickets.reply_clock(ticket),
        "conversation": conversation,
        "deliveries": outbound.of_messages(
            session, (m.id for it in conversation for m in it.messages if m.direction == "outbound")),
        "reply_to": _reply_target(conversation),
        "actions": _actions(ticket),
        "transitions": transitions,
        "customer": customer,
        "timeline": timeline,
        "users": users,
        "unit": org.org_unit(session, ticket.org_unit_id),
    }


def ticket_panels(session: Session, principal: Principal, ticket: Any) -> list[tuple[str, dict[str, Any]]]:
    """The boxes other domains add to the ticket page: each views module's `ticket_panel(session, principal,
    ticket)` gives (template, context) or None; the page includes the template with the context as `p`."""
    panels = []
    for module in domains.modules("views"):
        panel = getattr(module, "ticket_panel", None)
        if callable(panel) and (found := panel(session, principal, ticket)) is not None:
            panels.append(found)
    return panels


def _customer_and_timeline(session: Session, principal: Principal, customer_id: int) -> tuple[Any, list[Any]]:
    try:
        from kefu.customers import service as customers
        from kefu.interactions.timeline import customer_timeline
    except ImportError:
        return None, []
    try:
        customer = customers.get_visible(session, principal, customer_id)
    except NotFound:
        return None, []
    return customer, customer_timeline(session, principal, customer_id, limit=TIMELINE_LIMIT)


@router.get("/console/tickets/{ticket_id}")
def ticket_page(
    request: Request, ticket_id: Id, session: DbSession, principal: PagePrincipal
) -> HTMLResponse:
    ctx = _ticket_context(session, principal, ticket_id, page=True)
    return render(request, "ticket.html", ctx, active="inbox")


@router.get("/console/tickets/{ticket_id}/conversation")
def ticket_conversation(
    request: Request, ticket_id: Id, session: DbSession, principal: PagePrincipal
) -> HTMLResponse:
    """The parts of the ticket page that change while it is open (swapped out-of-band by htmx)."""
    ctx = _ticket_context(session, principal, ticket_id)
    return render(request, "partials/ticket_live.html", ctx)


@router.post("/console/tickets/{ticket_id}/reply", dependencies=[CsrfProtect])
def ticket_reply(
    request: Request,
    ticket_id: Id,
    session: DbSession,
    principal: PagePrincipal,
    body: Annotated[str, Form(max_length=20_000)] = "",
    interaction_id: OptionalFormId = None,
) -> Response:
    from kefu.interactions import service as interactions
    from kefu.tickets import service as tickets

    t = translator(request_locale(request, principal))
    ticket = tickets.get_visible(session, principal, ticket_id)
    if not principal.can("interactions.write"):
        raise Forbidden(t("error.forbidden"))
    error: str | None = None
    error_status = 422
    message = None
    if not body.strip():
        error = t("reply.empty")
    else:
        if interaction_id is None:
            target = _reply_target(_conversation(session, principal, ticket.id))
            interaction_id = target.id if target is not None else None
        if interaction_id is None:
            error = t("reply.no_interaction")
        else:
            try:
                it = interactions.get_visible(session, principal, interaction_id, with_messages=False)
                if it.ticket_id != ticket.id:
                    raise NotFound("interaction not on this ticket", code="interaction_not_found")
                message = interactions.reply(session, it.id, body=body, actor=principal)
            except KefuError as exc:
                session.rollback()  # a refused reply leaves nothing behind
                error, error_status = _friendly(t, exc), exc.status
    status_code = error_status if error is not None else 200
    if not is_htmx(request):
        if error is not None:
            ctx = _ticket_context(session, principal, ticket_id, page=True)
            ctx.update(reply_error=error, reply_body=body)
            return render(request, "ticket.html", ctx, active="inbox", status_code=status_code)
        return RedirectResponse(
            f"/console/tickets/{ticket_id}#m{message.id if message else ''}", status_code=303
        )
    ctx = _ticket_context(session, principal, ticket_id)
    ctx.update(reply_error=error, reply_body=body if error else "", just_sent=message.id if message else None)
    return render(request, "partials/ticket_live.html", ctx, status_code=status_code)


@router.post("/console/tickets/{ticket_id}/status", dependencies=[CsrfProtect])
def ticket_status(
    request: Request,
    ticket_id: Id,
    session: DbSession,
    principal: PagePrincipal,
    to: Annotated[str, Form(max_length=24)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    version: OptionalFormVersion = None,
) -> Response:
    from kefu.tickets import service as tickets

    t = translator(request_locale(request, principal))
    tickets.get_visible(session, principal, ticket_id)
    if not principal.can("tickets.write"):
        raise Forbidden(t("error.forbidden"))
    error, status_code, moved = None, 200, None
    try:
        tickets.change_status(
            session,
            ticket_id,
            to,
            actor_id=principal.user_id,
            reason=reason or None,
            expected_version=version,
        )
        moved = t("ticket.moved", status=t(f"status.{to}"))
    except KefuError as exc:
        session.rollback()  # a refused change leaves nothing behind
        error, status_code = _friendly(t, exc), exc.status
    ctx = _ticket_context(session, principal, ticket_id, page=not is_htmx(request))
    ctx.update(status_error=error, status_done=moved, reason=reason if error else "")
    if is_htmx(request):
        return render(request, "partials/ticket_live.html", ctx, status_code=status_code)
    if error is None:
        return RedirectResponse(f"/console/tickets/{ticket_id}", status_code=303)
    return render(request, "ticket.html", ctx, active="inbox", status_code=status_code)


def _friendly(t: Translate, exc: KefuError) -> str:
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


# ---- customers ------------------------------------------------------------------------------


@router.get("/console/customers")
def customer_search(
    request: Request,
    session: DbSession,
    principal: PagePrincipal,
    phone: Annotated[str, Query(max_length=64)] = "",
) -> HTMLResponse:
    from kefu.customers import service as customers

    t = translator(request_locale(request, principal))
    results: list[Any] = []
    total = 0
    error = None
    searched = bool(phone.strip())
    if searched:
        try:
            results, total = customers.search(session, principal, phone=phone.strip(), limit=50)
            audit.customers_listed(session, principal, [c.id for c in results], total, phone=phone.strip())
        except KefuError as exc:
            session.rollback()
            error = _friendly(t, exc)
    ctx = {"phone_q": phone, "results": results, "total": total, "error": error, "searched": searched}
    if is_htmx(request) and request.headers.get("HX-Target") == "customer-results":
        return render(request, "partials/customer_results.html", ctx)
    return render(request, "customers.html", ctx, active="customers")


@router.get("/console/customers/{customer_id}")
def customer_page(
    request: Request, customer_id: Id, session: DbSession, principal: PagePrincipal
) -> HTMLResponse:
    from kefu.customers import service as customers
    from kefu.interactions.timeline import customer_timeline
    from kefu.tickets import service as tickets

    customer = customers.get_visible(session, principal, customer_id)
    audit.personal_data_read(session, principal, "customer.viewed", object_id=customer.id,
                             org_unit_id=customer.org_unit_id)
    timeline = customer_timeline(session, principal, customer_id, limit=TIMELINE_LIMIT)
    ids = customers.customer_ids_of(session, customer_id)
    visible = set(_visible_unit_ids(session, principal))
    ticket_rows = [tk for tk in tickets.list_for_customer(session, ids) if tk.org_unit_id in visible][:50]
    return render(
        request,
        "customer.html",
        {"customer": customer, "timeline": timeline, "tickets": ticket_rows},
        active="customers",
    )


def _visible_unit_ids(session: Session, principal: Principal) -> list[int]:
    from kefu.org import service as org

    return org.visible_unit_ids(session, principal)


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
        return _error_page(request, exc.status, _friendly(t, exc))

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
