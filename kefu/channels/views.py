"""Console: the channel adapters' status for administrators (read-only: the adapters are configured by
KEFU_* settings, docs/channels.md): which channels can send, outbound deliveries by status, the
replies that failed or wait for a retry, and the refused inbound payloads, in the admin's subtree."""

from __future__ import annotations

from typing import Any

import re

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select

from kefu.channels import inbound
from kefu.channels.models import OutboundDelivery
from kefu.core.config import Settings
from kefu.core.deps import DbSession
from kefu.core.errors import Forbidden
from kefu.org import service as org
from kefu.web.i18n import translator
from kefu.web.render import PagePrincipal, env, render, request_locale

router = APIRouter(include_in_schema=False)
NAV = (("channels", "/console/channels", "org.admin", 90),)
PERMISSION = "org.admin"


def adapters_of(settings: Settings) -> list[dict[str, Any]]:
    """Each adapter: whether it is configured, and the non-secret parts of its configuration."""
    sms_out = bool(settings.sms_gateway_url) if settings.sms_transport == "http" else bool(settings.cmpp_host)
    sms_detail = (f"HTTP {settings.sms_gateway_url or '—'}" if settings.sms_transport == "http" else
                  f"CMPP 2.0 {settings.cmpp_host or '—'}:{settings.cmpp_port} · SP {settings.cmpp_source_addr or '—'}")
    wx_out = bool(settings.wechat_app_id and settings.wechat_app_secret)
    return [
        {"channel": "wechat", "name": ("微信公众号", "WeChat official account"),
         "inbound": bool(settings.wechat_token), "outbound": wx_out,
         "detail": f"AppID {settings.wechat_app_id or '—'} · {settings.wechat_api_base}"
                   f"{' · AES' if settings.wechat_aes_key else ''}"},
        {"channel": "sms", "name": ("短信", "SMS"), "inbound": True, "outbound": sms_out, "detail": sms_detail},
        {"channel": "email", "name": ("电子邮件", "E-mail"), "inbound": True, "outbound": bool(settings.smtp_host),
         "detail": f"SMTP {settings.smtp_host or '—'}:{settings.smtp_port} · {settings.email_from}"},
    ]


@router.get("/console/channels")
def channels_page(request: Request, session: DbSession, principal: PagePrincipal) -> HTMLResponse:
    if not principal.can(PERMISSION):
        raise Forbidden(translator(request_locale(request, principal))("error.forbidden"),
                        details={"permission": PERMISSION})
    units = org.visible_unit_ids(session, principal)
    counts = dict(session.execute(
        select(OutboundDelivery.status, func.count()).where(OutboundDelivery.org_unit_id.in_(units))
        .group_by(OutboundDelivery.status)).all())
    troubled = session.scalars(
        select(OutboundDelivery).where(OutboundDelivery.org_unit_id.in_(units),
                                       OutboundDelivery.status.in_(("failed", "queued")),
                                       OutboundDelivery.last_error.is_not(None))
        .order_by(OutboundDelivery.updated_at.desc()).limit(20)).all()
    rejections, total = inbound.list_rejections(session, principal, limit=20)
    settings: Settings = request.app.state.settings
    return render(request, "channels/status.html",
                  {"adapters": adapters_of(settings), "counts": counts, "troubled": troubled,
                   "rejections": rejections, "rejections_total": total}, active="channels")


_ORG_CODE = re.compile(r"[A-Za-z0-9_-]{0,32}")


@router.get("/webchat")
def webchat_page(request: Request, org_code: str = Query("", alias="org", max_length=32)) -> HTMLResponse:
    """The customer's chat page (zh-CN, no login): the embeddable widget (kefu/web/static/webchat.js) on
    a page of its own, for a link in an SMS or the portal; `?org=GZ` sends the chats to that unit."""
    code = org_code if _ORG_CODE.fullmatch(org_code) else ""
    html = env.get_template("channels/webchat.html").render(org=code, base=str(request.base_url).rstrip("/"))
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})
