"""Rendering console pages, for kefu/web and for other domains' console views.

Other domains add pages by writing `kefu/<domain>/views.py` with a `router` (an APIRouter; `mount` in
kefu/web/views.py includes it when the module exists) and rendering through this module:

    from kefu.web.render import CsrfProtect, PagePrincipal, render

    @router.get("/console/knowledge")
    def knowledge_home(request: Request, session: DbSession, principal: PagePrincipal) -> HTMLResponse:
        return render(request, "knowledge/home.html", {"articles": ...}, active="knowledge")

    @router.post("/console/knowledge/...", dependencies=[CsrfProtect])
    ...

Templates are looked up in kefu/web/templates/ first, then `<domain>/<name>` in kefu/<domain>/templates/
(so "knowledge/home.html" is kefu/knowledge/templates/home.html). Extend "base.html"; its blocks are
listed at its top. Every template gets `t(key, **fields)` (translated UI text), `principal`, `locale`,
`csrf_token`, `vendor` (front-end assets installed?), `active` (nav key) and the filters `dt`,
`label('status', 'new')` (a translated value name), and the PIPL masks, which show the value as it is only
to principals holding `pii`: `phone(e164)`, `person(name)`, `ident(kind, value)` (an identity or a sender),
`redact(text)` (free text: the ID and phone numbers in it).

Security: pages are authenticated by the session cookie (`kefu_session`, HttpOnly, SameSite=strict, set
by the same login as the API). Every state-changing console request (POST) must also carry the
per-session CSRF token: `csrf_token` form field, or the `X-CSRF-Token` header that base.html sets for
every htmx request. The token is HMAC-SHA256(secret_key, session token): bound to the session, rotated
at each login, nothing stored. The login form itself uses a double-submit cookie (`kefu_login_csrf`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, select_autoescape
from markupsafe import Markup

from kefu.core.auth import Principal
from kefu.core.config import Settings
from kefu.core.deps import DbSession
from kefu.core.privacy import record_viewer
from kefu.core.text import BIDI_CONTROLS, strip_bidi
from kefu.interactions.models import IDENTITY_KIND
from kefu.web.i18n import DEFAULT_LOCALE, LANG_COOKIE, LOCALES, pick_locale, translator

log = logging.getLogger("kefu.web")

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
VENDOR_DIR = STATIC_DIR / "vendor"
VENDOR_FILES = ("htmx.min.js", "htmx-ext-sse.min.js")
# Chinese operators' staff read Beijing time; China has no daylight saving, so a fixed offset is exact.
DISPLAY_TZ = timezone(timedelta(hours=8), "CST")
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
LOGIN_CSRF_COOKIE = "kefu_login_csrf"


# ---- templates ------------------------------------------------------------------------------


def _domain_loaders() -> dict[str, FileSystemLoader]:
    root = WEB_DIR.parent
    return {
        p.parent.name: FileSystemLoader(str(p))
        for p in sorted(root.glob("*/templates"))
        if p.is_dir() and p.parent.name != "web"
    }


def _dt(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    if value.tzinfo is None:  # stored as UTC
        value = value.replace(tzinfo=timezone.utc)  # noqa: UP017
    return value.astimezone(DISPLAY_TZ).strftime(fmt)


env = Environment(
    loader=ChoiceLoader([FileSystemLoader(str(TEMPLATES_DIR)), PrefixLoader(_domain_loaders())]),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
env.filters["dt"] = _dt


def _finalize(value: Any) -> Any:
    """Every value a template prints: bidirectional controls removed (kefu/core/text.py), so a name cannot
    reorder the line it is shown on."""
    if isinstance(value, str) and not BIDI_CONTROLS.isdisjoint(value):
        return type(value)(strip_bidi(value)) if isinstance(value, Markup) else strip_bidi(value)
    return value


env.finalize = _finalize
env.globals["LOCALES"] = LOCALES


# ---- front-end assets -----------------------------------------------------------------------

_vendor_warned = False


def vendor_installed() -> bool:
    """True when scripts/web-assets has installed htmx; warns once (per process) when it has not."""
    global _vendor_warned
    ok = all((VENDOR_DIR / f).is_file() for f in VENDOR_FILES)
    if not ok and not _vendor_warned:
        _vendor_warned = True
        log.warning(
            "console front-end assets are missing in %s (run scripts/web-assets): pages work as "
            "plain forms, without live updates or in-place changes",
            VENDOR_DIR,
        )
    return ok


# ---- who is looking -------------------------------------------------------------------------


class LoginRequired(Exception):
    """Raised by page dependencies; the console's handler answers with a redirect to /login."""


class CsrfFailed(Exception):
    pass


def page_principal(request: Request, session: DbSession) -> Principal:
    from kefu.org import service as org

    principal = org.console_principal(session, request)
    if principal is None:
        raise LoginRequired()
    request.state.principal = principal
    record_viewer(principal.can("pii"))
    return principal


PagePrincipal = Annotated[Principal, Depends(page_principal)]


def _secret(request: Request) -> bytes:
    settings: Settings = request.app.state.settings
    return settings.secret_key.get_secret_value().encode()


def csrf_token(request: Request) -> str | None:
    """The CSRF token of this request's console session (None without a session cookie)."""
    from kefu.org.service import SESSION_COOKIE

    token = getattr(request.state, "new_session_token", None) or request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    return hmac.new(_secret(request), b"csrf:" + token.encode(), hashlib.sha256).hexdigest()[:40]


async def csrf_protect(request: Request) -> None:
    """Dependency for console POSTs: the session's CSRF token must come as header or form field."""
    expected = csrf_token(request)
    if expected is None:  # bearer-token callers carry no ambient credentials
        if request.headers.get("authorization", "").lower().startswith("bearer "):
            return
        raise LoginRequired()
    sent = request.headers.get(CSRF_HEADER)
    if not sent:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, expected):
        raise CsrfFailed()


CsrfProtect = Depends(csrf_protect)


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


# ---- rendering ------------------------------------------------------------------------------


def request_locale(request: Request, principal: Principal | None = None) -> str:
    settings: Settings = request.app.state.settings
    principal = principal or getattr(request.state, "principal", None)
    return pick_locale(
        request.cookies.get(LANG_COOKIE),
        principal.locale if principal else None,
        getattr(settings, "default_locale", DEFAULT_LOCALE),
    )


def is_htmx(request: Request) -> bool:
    """An htmx request that wants a fragment (a history restore wants the whole page)."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def display_phone(e164: str) -> str:
    """A full number as staff read it: "138 0013 8001" for Chinese numbers, "+44 20 7946 0958" otherwise."""
    import phonenumbers

    try:
        num = phonenumbers.parse(e164, "CN")
    except phonenumbers.NumberParseException:
        return e164
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if num.country_code == 86
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(num, fmt)


#: The shell's own entries of the main menu: (key, href, permission, place). A domain adds its own as
#: `NAV` in its views.py (kefu.core.domains); the label is the console string `nav.<key>`.
SHELL_NAV: tuple[tuple[str, str, str, int], ...] = (
    ("inbox", "/console/inbox", "tickets.read", 10),
    ("customers", "/console/customers", "customers.read", 20),
    ("admin", "/console/admin", "audit.read", 90),
)


@cache
def nav_entries() -> tuple[tuple[str, str, str], ...]:
    """The main menu in order of place: (key, href, permission)."""
    from kefu.core import domains

    entries = list(SHELL_NAV)
    for module in domains.modules("views"):
        entries.extend(getattr(module, "NAV", ()))
    return tuple((key, href, perm) for key, href, perm, _ in sorted(entries, key=lambda e: (e[3], e[0])))


def context(
    request: Request, extra: Mapping[str, Any] | None = None, *, active: str | None = None
) -> dict[str, Any]:
    from kefu.customers import phone as phones
    from kefu.customers import pii as pii_masks

    principal: Principal | None = getattr(request.state, "principal", None)
    locale = request_locale(request, principal)
    t = translator(locale)
    pii = principal is not None and principal.can("pii")

    def label(kind: str, value: str | None) -> str:
        return t(f"{kind}.{value}") if value else ""

    def phone(value: str | None) -> str:
        if not value:
            return ""
        return display_phone(value) if pii else (phones.mask_phone(value) or "")

    def person(value: str | None) -> str:
        if not value:
            return ""
        return value if pii else (pii_masks.mask_name(value) or "")

    def redact(value: str | None) -> str:
        """Free text (a message, a subject, a note): ID and phone numbers masked without `pii`."""
        if not value:
            return ""
        return value if pii else pii_masks.mask_pii_text(value)

    def ident(kind: str, value: str | None) -> str:
        if not value:
            return ""
        if pii:
            return display_phone(value) if kind == "phone" else value
        return pii_masks.mask_identity(kind, value)

    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return {
        "request": request,
        "principal": principal,
        "locale": locale,
        "t": t,
        # an inline pair for pages whose strings are not in the catalogues (the knowledge pages)
        "tr": lambda zh_text, en_text: zh_text if locale.startswith("zh") else en_text,
        "label": label,
        "phone": phone,
        "person": person,
        "ident": ident,
        "redact": redact,
        "identity_kind": IDENTITY_KIND,
        "pii": pii,
        "csrf_token": csrf_token(request),
        "vendor": vendor_installed(),
        "active": active,
        "here": here,
        "here_q": quote(here, safe=""),
        "nav": nav_entries(),
        **(extra or {}),
    }


def render(
    request: Request,
    template: str,
    ctx: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    active: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render a console template with the common context (see the module docstring)."""
    html = env.get_template(template).render(context(request, ctx, active=active))
    resp = HTMLResponse(html, status_code=status_code, headers=dict(headers or {}))
    resp.headers["Vary"] = "HX-Request"
    resp.headers.setdefault("Cache-Control", "no-store")
    return resp


def safe_next(value: str | None, default: str = "/console/inbox") -> str:
    """A local path to go back to; anything else (another host, a scheme) gives the default."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    return value


__all__ = [
    "CsrfProtect",
    "LoginRequired",
    "Markup",
    "PagePrincipal",
    "context",
    "csrf_token",
    "env",
    "is_htmx",
    "page_principal",
    "render",
    "request_locale",
    "safe_next",
]
