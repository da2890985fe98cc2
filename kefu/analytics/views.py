"""Analytics in the console.

    GET  /console/wall            the supervisor wall (值班长大屏): live tiles per channel and queue; the
                                  fragment `#wall-live` is re-fetched on the live stream's notices
                                  (`routing-queues`: agents and queues; `inbox`: contacts and tickets)
                                  and every 15 s (waits grow while nothing happens)
Needs `analytics.wall`; every figure is limited to the reader's org subtree.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from kefu.analytics import service
from kefu.analytics import wall as colours
from kefu.core.auth import Principal
from kefu.core.clock import utcnow
from kefu.core.deps import DbSession
from kefu.core.errors import Forbidden
from kefu.routing.views import MEDIA_NAMES, PRESENCE_NAMES
from kefu.web.i18n import translator
from kefu.web.render import PagePrincipal, is_htmx, render, request_locale

NAV = (("wall", "/console/wall", "analytics.wall", 45),)
router = APIRouter(include_in_schema=False)

CHANNEL_NAMES = {"voice": ("热线", "Hotline"), "sms": ("短信", "SMS"), "email": ("邮件", "E-mail"),
                 "wechat": ("微信", "WeChat"), "im": ("QQ/IM", "QQ/IM"), "weibo": ("微博", "Weibo"),
                 "app": ("掌厅", "App"), "web": ("网厅", "Web portal"), "webchat": ("在线客服", "Web chat")}


def _allowed(request: Request, principal: Principal, permission: str) -> None:
    if not principal.can(permission):
        raise Forbidden(translator(request_locale(request, principal))("error.forbidden"),
                        details={"permission": permission})


def names() -> dict[str, Any]:
    return {"channel_names": CHANNEL_NAMES, "media_names": MEDIA_NAMES, "presence_names": PRESENCE_NAMES,
            "rates": colours.RATES, "waits": colours.LONGEST_WAIT}


@router.get("/console/wall")
def wall_page(request: Request, session: DbSession, principal: PagePrincipal, theme: str = "") -> HTMLResponse:
    _allowed(request, principal, "analytics.wall")
    ctx = {"wall": service.wall(session, principal, now=utcnow()), "dark": theme == "dark", **names()}
    if is_htmx(request) and request.headers.get("HX-Target") == "wall-live":
        return render(request, "analytics/_wall_live.html", ctx)
    return render(request, "analytics/wall.html", ctx, active="wall")
