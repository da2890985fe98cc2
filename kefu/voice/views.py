"""Voice in the console.

    GET  /console/voice/ivr                    administrators: the IVR menu as a tree, and a node's form
    POST /console/voice/ivr/nodes              create or change a node (choosers: parent, kind, service, queue)
    POST /console/voice/ivr/nodes/{key}/delete delete a node without nodes under it
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kefu.core.auth import Principal
from kefu.core.deps import DbSession
from kefu.core.errors import Forbidden, KefuError
from kefu.org import audit
from kefu.routing import service as routing
from kefu.voice import ivr
from kefu.web.i18n import translator
from kefu.web.render import CsrfProtect, PagePrincipal, render, request_locale

NAV = (("voice_ivr", "/console/voice/ivr", "voice.admin", 55),)
router = APIRouter(include_in_schema=False)
BASE = "/console/voice/ivr"


def _allowed(request: Request, principal: Principal) -> None:
    if not principal.can("voice.admin") or not principal.at_group_level:
        raise Forbidden(translator(request_locale(request, principal))("error.forbidden"),
                        details={"permission": "voice.admin"})


def _context(session: Any, edit: str = "", **extra: Any) -> dict[str, Any]:
    rows = ivr.flat(ivr.tree(session))
    return {"nodes": rows, "menus": [t.node for t in rows if t.node.kind == "menu"],
            "editing": next((t.node for t in rows if t.node.key == edit), None),
            "parents": {t.node.id: t.node for t in rows},
            "queues": [q for q in routing.queues(session) if q.channel == "voice"],
            "kinds": ivr.KIND_NAMES, "services": ivr.SERVICES, "channels": ivr.HANDOFF_CHANNELS,
            "digits": ivr.DIGITS, **extra}


@router.get(BASE)
def page(request: Request, session: DbSession, principal: PagePrincipal, edit: str = "") -> HTMLResponse:
    _allowed(request, principal)
    return render(request, "voice/ivr.html", _context(session, edit), active="voice_ivr")


@router.post(f"{BASE}/nodes", dependencies=[CsrfProtect])
async def save(request: Request, session: DbSession, principal: PagePrincipal) -> Response:
    _allowed(request, principal)
    form = await request.form()

    def text(name: str) -> str | None:
        return str(form.get(name, "") or "").strip() or None

    key = text("key") or ""
    try:
        position = text("position") or "0"
        if not position.isdigit():
            raise ivr.InvalidIvrNode("position: a whole number", details={"field": "position"})
        row = ivr.save_node(session, ivr.NodeSpec(
            key=key, name=text("name") or "", name_en=text("name_en"), kind=text("kind") or "",
            parent_key=text("parent_key"), digit=text("digit"), service=text("service"),
            queue_key=text("queue_key"), handoff_channel=text("handoff_channel"), position=int(position)))
        audit.record(session, "voice.ivr_node_saved", object_type="ivr_node", object_id=row.id,
                     details={"key": key, "kind": row.kind})
    except KefuError as exc:
        session.rollback()
        return render(request, "voice/ivr.html", _context(session, key, error=exc.message),
                      status_code=exc.status, active="voice_ivr")
    return RedirectResponse(BASE, status_code=303)


@router.post(f"{BASE}/nodes/{{key}}/delete", dependencies=[CsrfProtect])
def delete(request: Request, key: str, session: DbSession, principal: PagePrincipal) -> Response:
    _allowed(request, principal)
    try:
        row = ivr.node(session, key)
        audit.record(session, "voice.ivr_node_deleted", object_type="ivr_node", object_id=row.id,
                     details={"key": key})
        ivr.delete_node(session, key)
    except KefuError as exc:
        session.rollback()
        return render(request, "voice/ivr.html", _context(session, error=exc.message),
                      status_code=exc.status, active="voice_ivr")
    return RedirectResponse(BASE, status_code=303)
