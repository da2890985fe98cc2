"""Console: the channel adapters' status for administrators (read-only: the adapters are configured by
KEFU_* settings, docs/channels.md): which channels can send, outbound deliveries by status, the
replies that failed or wait for a retry, and the refused inbound payloads, in the admin's subtree."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.channels import config, inbound
from kefu.channels.models import OutboundDelivery
from kefu.core.clock import utcnow
from kefu.core.config import Settings
from kefu.core.deps import DbSession, Id, OptionalId
from kefu.core.errors import Forbidden, InvalidInput, NotFound
from kefu.interactions.models import Interaction, Message
from kefu.org import service as org
from kefu.web.i18n import translator
from kefu.web.render import CsrfProtect, PagePrincipal, env, render, request_locale

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
        {"channel": "webchat", "name": ("网页在线客服", "Web chat"), "inbound": True, "outbound": True,
         "detail": "WebSocket /api/v1/webchat/ws"},
        {"channel": "weibo", "name": ("微博", "Weibo"), "inbound": bool(settings.weibo_app_secret),
         "outbound": bool(settings.weibo_access_token), "detail": settings.weibo_api_base},
        {"channel": "im", "name": ("QQ 机器人", "QQ bot"), "inbound": bool(settings.qq_bot_secret),
         "outbound": bool(settings.qq_app_id and settings.qq_bot_secret),
         "detail": f"AppID {settings.qq_app_id or '—'} · {settings.qq_api_base}"},
        {"channel": "app", "name": ("App 推送（掌厅）", "App push"), "inbound": True,
         "outbound": bool(settings.app_push_key and settings.app_push_secret),
         "detail": f"AppKey {settings.app_push_key or '—'} · {settings.app_push_base}"},
    ]


def activity(session: Session, units: list[int]) -> dict[str, dict[str, Any]]:
    """Per channel, in these units: the last message in and out, and the deliveries failed and waiting."""
    out: dict[str, dict[str, Any]] = {}
    for channel, direction, last in session.execute(
            select(Interaction.channel, Message.direction, func.max(Message.created_at))
            .join(Interaction, Interaction.id == Message.interaction_id)
            .where(Interaction.org_unit_id.in_(units)).group_by(Interaction.channel, Message.direction)):
        out.setdefault(channel, {})[f"last_{direction}"] = last
    for channel, status, n in session.execute(
            select(OutboundDelivery.channel, OutboundDelivery.status, func.count())
            .where(OutboundDelivery.org_unit_id.in_(units), OutboundDelivery.status.in_(("failed", "queued")))
            .group_by(OutboundDelivery.channel, OutboundDelivery.status)):
        out.setdefault(channel, {})[status] = n
    return out


def _allowed(request: Request, principal: PagePrincipal) -> None:
    if not principal.can(PERMISSION):
        raise Forbidden(translator(request_locale(request, principal))("error.forbidden"),
                        details={"permission": PERMISSION})


@router.get("/console/channels")
def channels_page(request: Request, session: DbSession, principal: PagePrincipal) -> HTMLResponse:
    _allowed(request, principal)
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
                  {"adapters": adapters_of(settings), "activity": activity(session, units), "counts": counts,
                   "troubled": troubled,
                   "rejections": rejections, "rejections_total": total}, active="channels")


_ORG_CODE = re.compile(r"[A-Za-z0-9_-]{0,32}")


@router.get("/webchat")
def webchat_page(request: Request, org_code: str = Query("", alias="org", max_length=32)) -> HTMLResponse:
    """The customer's chat page (zh-CN, no login): the embeddable widget (kefu/web/static/webchat.js) on
    a page of its own, for a link in an SMS or the portal; `?org=GZ` sends the chats to that unit."""
    code = org_code if _ORG_CODE.fullmatch(org_code) else ""
    html = env.get_template("channels/webchat.html").render(org=code, base=str(request.base_url).rstrip("/"))
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


# ---- configuration per org unit (kefu.channels.config) --------------------------------------------

def _config_context(request: Request, session: DbSession, principal: PagePrincipal, unit_id: int | None,
                    channel: str, error: str | None = None, form: dict[str, str] | None = None) -> dict[str, Any]:
    settings: Settings = request.app.state.settings
    units = org.units(session, org.visible_unit_ids(session, principal))
    unit = next((u for u in units if u.id == unit_id), None) or next(
        (u for u in units if u.id == principal.org_unit_id), units[0])
    if channel not in config.FIELDS:
        channel = "wechat"
    row = config.get(session, unit.id, channel)
    values = config.shown(settings, row, channel)
    if form is not None:  # the refused form, as typed (never a secret)
        values.update({f.name: form.get(f.name, "") for f in config.FIELDS[channel] if not f.secret})
    return {"units": units, "unit": unit, "channel": channel, "fields": config.FIELDS[channel],
            "channels": list(config.FIELDS), "values": values, "row": row, "error": error}


@router.get("/console/channels/config")
def config_page(request: Request, session: DbSession, principal: PagePrincipal, unit: OptionalId = None,
                channel: str = Query("wechat", max_length=16)) -> HTMLResponse:
    """A unit's configuration of one channel (for it and the units below without their own)."""
    _allowed(request, principal)
    return render(request, "channels/config.html", _config_context(request, session, principal, unit, channel),
                  active="channels")


@router.post("/console/channels/config", dependencies=[CsrfProtect])
async def save_config(request: Request, session: DbSession, principal: PagePrincipal) -> Response:
    _allowed(request, principal)
    form = {k: str(v) for k, v in (await request.form()).items() if isinstance(v, str)}
    channel = form.get("channel", "")[:16]
    raw_unit = form.get("unit", "")
    visible = set(org.visible_unit_ids(session, principal))
    unit_id = int(raw_unit) if raw_unit.isdigit() and len(raw_unit) < 19 else 0
    if unit_id not in visible:
        raise NotFound("org unit not found", code="org_unit_not_found", details={"unit": raw_unit[:20]})
    try:
        config.save(session, request.app.state.settings, org_unit_id=unit_id, channel=channel, form=form,
                    actor_id=principal.user_id, at=utcnow())
    except InvalidInput as exc:
        session.rollback()
        ctx = _config_context(request, session, principal, unit_id, channel, error=exc.message, form=form)
        return render(request, "channels/config.html", ctx, status_code=exc.status, active="channels")
    return RedirectResponse(f"/console/channels/config?unit={unit_id}&channel={channel}&saved=1", status_code=303)


@router.post("/console/webchat/interactions/{interaction_id}/typing", dependencies=[CsrfProtect])
def agent_typing(interaction_id: Id, session: DbSession, principal: PagePrincipal) -> Response:
    """The reply box's typing signal on a web chat (kefu/web/static/typing.js): the visitor sees it."""
    from kefu.channels import webchat

    if not principal.can("interactions.write"):
        raise Forbidden("you may not answer conversations")
    webchat.announce_agent_typing(session, principal, interaction_id)
    return Response(status_code=204)
