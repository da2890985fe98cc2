"""Security headers on every response (an ASGI middleware).

The console loads scripts, styles and images from its own origin only (`/static`), so the Content Security
Policy allows 'self' and nothing inline: no inline <script>, no style="" attributes, no eval (htmx's
hx-on and js: values are not used). Pages may not be framed (frame-ancestors and X-Frame-Options), content
types are not sniffed, and the referrer leaves only for kefu's own pages.

A 405 names every method the path takes in its Allow header (`allowed_methods`, for the error handlers).

The API's interactive docs (Swagger UI, served from the package like the console's assets) set styles
inline, so that one page's policy also allows inline styles; its scripts still come from 'self' only.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
DOCS_CSP = CSP.replace("style-src 'self';", "style-src 'self' 'unsafe-inline';")
HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _raw(csp: str) -> tuple[tuple[bytes, bytes], ...]:
    """The headers as ASGI gives them (lower-case latin-1 names), built once."""
    pairs = {"Content-Security-Policy": csp, **HEADERS}
    return tuple((name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in pairs.items())


_RAW = _raw(CSP)
_DOCS_RAW = _raw(DOCS_CSP)


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, docs_path: str | None = None) -> None:
        self.app = app
        self.docs_path = docs_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = _DOCS_RAW if scope["path"] == self.docs_path else _RAW

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = list(message.get("headers", ()))
                present = {name.lower() for name, _ in raw}
                raw += [(name, value) for name, value in extra if name not in present]
                message["headers"] = raw
            await send(message)

        await self.app(scope, receive, with_headers)


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> list[str]:
    """For the Allow header of a 405: every method some route takes at this path (Starlette's own Allow names
    only the methods of the first route that matched the path)."""
    routes = request.app.router.routes
    return [m for m in METHODS
            if any(route.matches({**request.scope, "method": m})[0] == Match.FULL for route in routes)]
