"""The console's administration pages: API tokens and the audit log (zh-CN and English).

    GET  /console/admin                         → the first admin page this user may open
    GET  /console/admin/tokens                  tokens of the users in my subtree; the form to make one
    POST /console/admin/tokens                  make a token (CSRF); the page shows its secret once
    GET  /console/admin/tokens/{id}/revoke      "revoke this token?" (works without JavaScript)
    POST /console/admin/tokens/{id}/revoke      revoke (CSRF); back to the list
    GET  /console/admin/audit                   search the audit log: user, action, object, days

Tokens need `tokens.admin`, the audit log `audit.read` (403 otherwise). Everything is scoped to the
administrator's org subtree: a token or user outside it is "not found".
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from kefu.core.auth import Principal, grantable_scopes
from kefu.core.clock import utcnow
from kefu.core.deps import AppSettings, DbSession, Id
from kefu.core.errors import Forbidden, KefuError
from kefu.interactions.models import CHANNELS
from kefu.org import audit
from kefu.org import service as org
from kefu.web.i18n import translator
from kefu.web.render import DISPLAY_TZ, CsrfProtect, PagePrincipal, render, request_locale

router = APIRouter(include_in_schema=False)
BASE = "/console/admin"
PAGE_SIZE = 50
# Every scope a token may carry, as offered on the form (what the owner's role allows is checked on submit).
SCOPE_CHOICES = grantable_scopes("admin", CHANNELS)


def _allowed(request: Request, principal: Principal, permission: str) -> None:
    if not principal.can(permission):
        raise Forbidden(translator(request_locale(request, principal))("error.forbidden"),
                        details={"permission": permission})


def _day_start(day: date) -> datetime:
    """Midnight of a day as staff read it (Beijing time)."""
    return datetime.combine(day, time(0), DISPLAY_TZ)


def _parse_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _people(session: Session, principal: Principal) -> dict[str, Any]:
    users = org.list_users(session, principal)
    return {"users": users, "users_by_id": {u.id: u for u in users},
            "units": {u.id: u for u in org.list_units(session, principal)}}


def _action_options() -> list[str]:
    """The action chooser: each family ("login.": every login action) before its actions."""
    out: list[str] = []
    for action in audit.ACTIONS:
        family = action.split(".")[0] + "."
        if "." in action and family not in out:
            out.append(family)
        out.append(action)
    return out


@router.get(BASE)
def admin_home(principal: PagePrincipal) -> RedirectResponse:
    target = "tokens" if principal.can("tokens.admin") else "audit"
    return RedirectResponse(f"{BASE}/{target}", status_code=303)


# ---- tokens -------------------------------------------------------------------------------------

def _tokens_page(request: Request, session: Session, principal: Principal, settings: Any, *,
                 offset: int = 0, form: dict[str, Any] | None = None, error: str | None = None,
                 created: dict[str, Any] | None = None, done: str | None = None,
                 status_code: int = 200) -> HTMLResponse:
    rows, total = org.list_tokens(session, principal, limit=PAGE_SIZE, offset=offset)
    default_expiry = (utcnow().astimezone(DISPLAY_TZ) + timedelta(days=settings.token_days)).date()
    ctx = {
        **_people(session, principal),
        "rows": rows,
        "total": total,
        "offset": offset,
        "page_size": PAGE_SIZE,
        "now": utcnow(),
        "channel_scopes": [s for s in SCOPE_CHOICES if s.startswith("inbound:")],
        "permission_scopes": [s for s in SCOPE_CHOICES if not s.startswith("inbound:")],
        "form": form or {"user_id": "", "name": "", "scopes": [], "expires": default_expiry.isoformat()},
        "error": error,
        "created": created,
        "done": done,
        "base": BASE,
    }
    return render(request, "org/tokens.html", ctx, active="admin", status_code=status_code)


@router.get(f"{BASE}/tokens")
def tokens_page(request: Request, session: DbSession, settings: AppSettings, principal: PagePrincipal,
                offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0, msg: str = "") -> HTMLResponse:
    _allowed(request, principal, "tokens.admin")
    done = translator(request_locale(request, principal))("admin.token_revoked") if msg == "revoked" else None
    return _tokens_page(request, session, principal, settings, offset=offset, done=done)


@router.post(f"{BASE}/tokens", dependencies=[CsrfProtect])
def create_token(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    principal: PagePrincipal,
    user_id: Annotated[str, Form(max_length=18)] = "",
    name: Annotated[str, Form(max_length=100)] = "",
    scopes: Annotated[list[str], Form(max_length=64)] = [],  # noqa: B006 (FastAPI copies defaults)
    expires: Annotated[str, Form(max_length=10)] = "",
) -> HTMLResponse:
    _allowed(request, principal, "tokens.admin")
    t = translator(request_locale(request, principal))
    form: dict[str, Any] = {"user_id": user_id, "name": name.strip(), "scopes": scopes, "expires": expires}
    expiry = _parse_day(expires)
    error: str | None = None
    if not form["user_id"].isdigit():
        error = t("admin.pick_user")
    elif not form["name"]:
        error = t("admin.name_required")
    elif expiry is None:
        error = t("admin.expiry_required")
    if error is None:
        try:
            owner = org.user_visible(session, principal, int(form["user_id"]))
            assert expiry is not None
            secret, tok = org.create_api_token(
                session, owner.id, form["name"], scopes=scopes or None,
                expires_at=_day_start(expiry + timedelta(days=1)), created_by=principal.user_id)
        except KefuError as exc:
            session.rollback()
            error = t("error.invalid", message=exc.message)
        else:
            created = {"secret": secret, "name": tok.name, "owner": owner.display_name}
            return _tokens_page(request, session, principal, settings, created=created, status_code=201)
    return _tokens_page(request, session, principal, settings, form=form, error=error, status_code=422)


@router.get(f"{BASE}/tokens/{{token_id}}/revoke")
def confirm_revoke(request: Request, token_id: Id, session: DbSession,
                   principal: PagePrincipal) -> HTMLResponse:
    _allowed(request, principal, "tokens.admin")
    tok = org.token_visible(session, principal, token_id)
    owner = org.user(session, tok.user_id)
    return render(request, "org/token_revoke.html", {"token": tok, "owner": owner, "base": BASE}, active="admin")


@router.post(f"{BASE}/tokens/{{token_id}}/revoke", dependencies=[CsrfProtect])
def revoke_token(request: Request, token_id: Id, session: DbSession,
                 principal: PagePrincipal) -> Response:
    _allowed(request, principal, "tokens.admin")
    org.token_visible(session, principal, token_id)
    org.revoke_api_token(session, token_id, actor_id=principal.user_id)
    return RedirectResponse(f"{BASE}/tokens?msg=revoked", status_code=303)


# ---- the audit log ------------------------------------------------------------------------------

@router.get(f"{BASE}/audit")
def audit_page(
    request: Request,
    session: DbSession,
    principal: PagePrincipal,
    user: Annotated[str, Query(max_length=18)] = "",
    action: Annotated[str, Query(max_length=40)] = "",
    object_type: Annotated[str, Query(max_length=32)] = "",
    object_id: Annotated[str, Query(max_length=64)] = "",
    since: Annotated[str, Query(max_length=10)] = "",
    until: Annotated[str, Query(max_length=10)] = "",
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> HTMLResponse:
    _allowed(request, principal, "audit.read")
    since_day, until_day = _parse_day(since), _parse_day(until)
    filters = audit.AuditFilters(
        actor_id=int(user) if user.isdigit() else None,
        action=action if action in audit.ACTIONS or action in audit.FAMILIES else None,
        object_type=object_type if object_type in audit.OBJECT_TYPES else None,
        object_id=object_id.strip() or None,
        since=_day_start(since_day) if since_day else None,
        until=_day_start(until_day + timedelta(days=1)) if until_day else None,
    )
    rows, total = audit.search(session, principal, org.visible_unit_ids(session, principal), filters,
                               limit=PAGE_SIZE, offset=offset)
    query = {"user": user, "action": action, "object_type": object_type, "object_id": object_id,
             "since": since, "until": until}

    def page_url(new_offset: int) -> str:
        return f"{BASE}/audit?" + urlencode({**{k: v for k, v in query.items() if v}, "offset": new_offset})

    ctx = {
        **_people(session, principal),
        "rows": rows,
        "total": total,
        "offset": offset,
        "page_size": PAGE_SIZE,
        "query": query,
        "actions": _action_options(),
        "object_types": audit.OBJECT_TYPES,
        "page_url": page_url,
        "base": BASE,
    }
    return render(request, "org/audit.html", ctx, active="admin")

