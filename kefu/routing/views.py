"""Routing in the console.

    GET  /console/routing/bar                      the agent's bar (presence, offers), refreshed live (SSE `routing`)
    POST /console/routing/presence                 go available, on a break (with a reason), not ready, offline
    POST /console/routing/offers/{id}/accept       take the offer: on to its ticket (303, or HX-Redirect)
    POST /console/routing/offers/{id}/reject       decline it
    GET  /console/routing                          supervisors: queues (waiting, offered, held, oldest) and agents
    POST /console/routing/agents/{id}              move an agent: queues, items per media
    POST /console/routing/queues/{key}/open|close  open or close a queue
    GET  /console/routing/admin                    administrators: queues and rules
    POST /console/routing/admin/queues             create or change a queue (choosers, no raw ids)
    POST /console/routing/admin/rules              replace the rules
    POST /console/routing/admin/defaults           create the default queues and rules

An agent's presence and answers are committed in a transaction of their own and wait, briefly, for the
routing writer (as the API does), so an accepted offer lands the agent on its ticket.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from kefu.core.auth import Principal
from kefu.core.db import Database
from kefu.core.deps import DbSession, Id, require_token
from kefu.core.errors import Forbidden, KefuError
from kefu.org import service as org
from kefu.routing import answers, service
from kefu.routing import rules as routing_rules
from kefu.routing.models import RoutingItem, RoutingOffer
from kefu.web.i18n import translator
from kefu.web.render import CsrfProtect, PagePrincipal, is_htmx, render, request_locale

# The main menu's entry for this domain (kefu.web.render.nav_entries): key, href, permission, place.
NAV = (("routing", "/console/routing", "routing.supervise", 50),)
router = APIRouter(include_in_schema=False)
BASE = "/console/routing"
MEDIA_NAMES = {"voice": ("语音", "Voice"), "chat": ("在线会话", "Chat"), "message": ("消息", "Messages"),
               "ticket": ("工单", "Tickets")}
PRESENCE_NAMES = {"available": ("就绪", "Ready"), "after_call_work": ("话后处理", "Wrap-up"),
                  "break": ("小休", "Break"), "not_ready": ("未就绪", "Not ready"), "offline": ("离线", "Offline")}
REASON_NAMES = {"rest": ("休息", "Rest"), "meal": ("用餐", "Meal"), "training": ("培训", "Training"),
                "meeting": ("会议", "Meeting"), "coaching": ("辅导", "Coaching"),
                "back_office": ("后台事务", "Back office"), "other": ("其他", "Other"),
                "missed_offer": ("未接来单", "Missed an offer"), "wrap_up": ("话后处理", "Wrap-up")}
REACH_NAMES = {"city": ("本市", "This city"), "neighbours": ("相邻城市", "Neighbouring cities"),
               "province": ("全省", "The province"), "anywhere": ("不限", "Anywhere")}
TYPE_NAMES = {"inquiry": ("咨询", "Inquiry"), "complaint": ("投诉", "Complaint"), "request": ("业务办理", "Request"),
              "suggestion": ("建议", "Suggestion"), "appeal": ("申诉", "Appeal")}
TIER_NAMES = {"diamond": ("钻石", "Diamond"), "gold": ("金卡", "Gold"), "silver": ("银卡", "Silver"),
              "standard": ("普通", "Standard")}


def names() -> dict[str, Any]:
    return {"media_names": MEDIA_NAMES, "presence_names": PRESENCE_NAMES, "reason_names": REASON_NAMES,
            "reach_names": REACH_NAMES, "type_names": TYPE_NAMES, "tier_names": TIER_NAMES,
            "break_reasons": service.BREAK_REASONS, "media": routing_rules.MEDIA}


def _allowed(request: Request, principal: Principal, permission: str) -> None:
    if not principal.can(permission):
        raise Forbidden(translator(request_locale(request, principal))("error.forbidden"),
                        details={"permission": permission})


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


# ---- the agent's bar --------------------------------------------------------------------------------

def bar_context(session: Any, principal: Principal) -> dict[str, Any]:
    """What the agent's bar shows: presence, open offers with their tickets, how much they hold."""
    from kefu.tickets import service as tickets

    st = service.agent_status(session, principal.user_id)
    offers = []
    for o in st.offers:
        item = session.get(RoutingItem, o.item_id)
        ticket = tickets.get(session, item.ticket_id) if item is not None and item.ticket_id is not None else None
        offers.append({"offer": o, "item": item, "ticket": ticket})
    return {"status": st, "offers": offers, **names()}


@router.get(f"{BASE}/bar")
def bar(request: Request, session: DbSession, principal: PagePrincipal) -> HTMLResponse:
    _allowed(request, principal, "routing.work")
    return render(request, "routing/_bar.html", bar_context(session, principal))


def _bar_response(request: Request, principal: Principal, *, note: str | None = None,
                  status_code: int = 200) -> HTMLResponse:
    with _db(request).session() as s:
        ctx = bar_context(s, principal)
    ctx["note"] = note
    if is_htmx(request):
        return render(request, "routing/_bar.html", ctx, status_code=status_code)
    return render(request, "routing/agent.html", ctx, status_code=status_code, active="routing")


@router.post(f"{BASE}/presence", dependencies=[CsrfProtect])
async def presence(request: Request, presence: Annotated[str, Form(max_length=16)] = "",
                   reason: Annotated[str, Form(max_length=40)] = "",
                   principal: Principal = require_token("routing.work")) -> Response:
    db = _db(request)

    def submit() -> int:
        with db.unit_of_work() as s:
            return service.set_presence(s, principal, presence, reason or None).id

    try:
        input_id = await run_in_threadpool(submit)
    except KefuError as exc:
        return await run_in_threadpool(_bar_response, request, principal, note=exc.message, status_code=exc.status)
    await answers.processed(db, input_id)
    return await run_in_threadpool(_bar_response, request, principal)


async def _answer(request: Request, principal: Principal, offer_id: int, accept: bool) -> Response:
    db = _db(request)
    tr = _tr(request, principal)

    def submit() -> int:
        with db.unit_of_work() as s:
            return service.answer_offer(s, principal, offer_id, accept=accept).id

    try:
        input_id = await run_in_threadpool(submit)
    except KefuError as exc:
        return await run_in_threadpool(_bar_response, request, principal,
                                       note=tr("这条来单已结束。", "This offer has ended.")
                                       if isinstance(exc, service.OfferNotOpen) else exc.message,
                                       status_code=exc.status)
    done = await answers.processed(db, input_id)

    def outcome() -> tuple[str, int | None]:
        with db.session() as s:
            offer = s.get(RoutingOffer, offer_id)
            item = s.get(RoutingItem, offer.item_id) if offer is not None else None
            return (offer.state if offer else "gone"), (item.ticket_id if item is not None else None)

    state, ticket_id = await run_in_threadpool(outcome)
    if accept and state == "accepted" and ticket_id is not None:
        target = f"/console/tickets/{ticket_id}"
        if is_htmx(request):
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
    note = None
    if not done:
        note = tr("已提交，正在分配……", "Sent; waiting for routing…")
    elif accept and state != "accepted":
        note = tr("这条来单已结束（超时或已撤回）。", "This offer ended (timed out or withdrawn).")
    return await run_in_threadpool(_bar_response, request, principal, note=note)


def _tr(request: Request, principal: Principal) -> Any:
    zh = request_locale(request, principal).startswith("zh")
    return lambda zh_text, en_text: zh_text if zh else en_text


@router.post(f"{BASE}/offers/{{offer_id}}/accept", dependencies=[CsrfProtect])
async def accept(request: Request, offer_id: Id, principal: Principal = require_token("routing.work")) -> Response:
    return await _answer(request, principal, offer_id, True)


@router.post(f"{BASE}/offers/{{offer_id}}/reject", dependencies=[CsrfProtect])
async def reject(request: Request, offer_id: Id, principal: Principal = require_token("routing.work")) -> Response:
    return await _answer(request, principal, offer_id, False)


@router.get(f"{BASE}/me")
def agent_page(request: Request, session: DbSession, principal: PagePrincipal) -> HTMLResponse:
    _allowed(request, principal, "routing.work")
    return render(request, "routing/agent.html", bar_context(session, principal), active="routing")


# ---- supervisors --------------------------------------------------------------------------------------

@router.get(BASE)
def supervise(request: Request, session: DbSession, principal: PagePrincipal) -> HTMLResponse:
    _allowed(request, principal, "routing.supervise")
    stats = service.queue_stats(session, principal)
    agents = service.agents_of(session, principal)
    units = {u.id: u for u in org.list_units(session, principal)}
    ctx = {"stats": stats, "agents": agents, "units": units, "queues": [q.queue for q in stats],
           "suggestions": service.move_suggestions(session, principal), **names()}
    if is_htmx(request) and request.headers.get("HX-Target") == "routing-live":
        return render(request, "routing/_supervise_live.html", ctx)
    return render(request, "routing/supervise.html", ctx, active="routing")


@router.post(f"{BASE}/agents/{{user_id}}", dependencies=[CsrfProtect])
async def move_agent(request: Request, user_id: Id, principal: PagePrincipal, session: DbSession) -> Response:
    _allowed(request, principal, "routing.supervise")
    form = await request.form()
    queues = [str(v) for v in form.getlist("queue")]
    channels: dict[str, int] = {}
    for m in routing_rules.MEDIA:
        raw = str(form.get(f"limit_{m}", "") or "")
        if raw.isdigit():
            channels[m] = int(raw)
    service.update_agent(session, principal, user_id, queues=queues, channels=channels or None)
    return RedirectResponse(BASE, status_code=303)


@router.post(f"{BASE}/agents/{{user_id}}/take/{{key}}", dependencies=[CsrfProtect])
def take_suggestion(request: Request, user_id: Id, key: str, principal: PagePrincipal,
                    session: DbSession) -> Response:
    """Apply one of the engine's move suggestions: the agent also serves that queue."""
    _allowed(request, principal, "routing.supervise")
    service.apply_move(session, principal, user_id, key)
    return RedirectResponse(BASE, status_code=303)


@router.post(f"{BASE}/queues/{{key}}/{{action}}", dependencies=[CsrfProtect])
def open_close(request: Request, key: str, action: str, session: DbSession, principal: PagePrincipal) -> Response:
    _allowed(request, principal, "routing.supervise")
    if action not in ("open", "close"):
        raise service.InvalidQueue("open or close")
    service.set_queue_open(session, principal, key, action == "open")
    return RedirectResponse(BASE, status_code=303)


# ---- administrators ---------------------------------------------------------------------------------

@router.get(f"{BASE}/admin")
def admin(request: Request, session: DbSession, principal: PagePrincipal, edit: str = "") -> HTMLResponse:
    _allowed(request, principal, "routing.admin")
    return render(request, "routing/admin.html", _admin_context(session, principal, edit), active="routing")


def _admin_context(session: Any, principal: Principal, edit: str = "", **extra: Any) -> dict[str, Any]:
    from kefu.interactions.models import CHANNELS
    from kefu.tickets import service as tickets

    qs = service.queues(session, principal)
    return {"queues": qs, "rules": service.rules(session), "units": org.list_units(session, principal),
            "editing": next((q for q in qs if q.key == edit), None), "categories": tickets.category_tree(session),
            "channels": CHANNELS, "skills": org.skills(session), **names(), **extra}


@router.post(f"{BASE}/admin/queues", dependencies=[CsrfProtect])
async def save_queue(request: Request, session: DbSession, principal: PagePrincipal) -> Response:
    _allowed(request, principal, "routing.admin")
    form = await request.form()

    def num(name: str, default: float) -> float:
        raw = str(form.get(name, "") or "").strip()
        try:
            return float(raw) if raw else default
        except ValueError:
            raise service.InvalidQueue(f"{name}: not a number", details={"field": name}) from None

    rings = []
    for i in range(1, 4):
        after = str(form.get(f"ring{i}_after", "") or "").strip()
        if after:
            rings.append({"after": num(f"ring{i}_after", 0), "level_drop": int(num(f"ring{i}_drop", 0)),
                          "reach": str(form.get(f"ring{i}_reach", "city"))})
    skills = {}
    skill, level = str(form.get("skill", "") or ""), str(form.get("skill_level", "") or "")
    if skill and level.isdigit():
        skills[skill] = int(level)
    key = str(form.get("key", "") or "").strip()
    unit = str(form.get("org_unit_id", "") or "")
    try:
        service.check_queue_key(key)
        name_en = str(form.get("name_en", "") or "").strip()[:100] or None
        spec = service.QueueSpec(
            key=key, name=str(form.get("name", "") or key).strip()[:100], name_en=name_en,
            channel=str(form.get("channel", "")), org_unit_id=int(unit) if unit.isdigit() else 0,
            skills=skills, base_priority=num("base_priority", 0), aging_per_minute=num("aging_per_minute", 1),
            rings=rings, overflow_to=str(form.get("overflow_to", "") or "") or None,
            overflow_after=num("overflow_after", 0) or None, offer_timeout=num("offer_timeout", 20),
            wrap_up=num("wrap_up", 0), preferred_window=num("preferred_window", 0),
            position=int(num("position", 0)),
            after_hours_reply=str(form.get("after_hours_reply", "") or "").strip() or None)
        service.save_queue(session, principal, spec)
    except KefuError as exc:
        session.rollback()
        return render(request, "routing/admin.html", _admin_context(session, principal, key, error=exc.message),
                      status_code=exc.status, active="routing")
    return RedirectResponse(f"{BASE}/admin", status_code=303)


@router.post(f"{BASE}/admin/rules", dependencies=[CsrfProtect])
async def save_rules(request: Request, session: DbSession, principal: PagePrincipal) -> Response:
    """The rules table as a form: row i has queue_i, channels_i, types_i, categories_i, tiers_i (multi-selects);
    a row without a queue is dropped; `add_queue` appends one."""
    _allowed(request, principal, "routing.admin")
    form = await request.form()
    specs = []
    rows = int(str(form.get("rows", "0") or "0")) if str(form.get("rows", "0") or "0").isdigit() else 0
    for i in range(min(rows, 200)):
        key = str(form.get(f"queue_{i}", "") or "")
        if not key or form.get(f"drop_{i}"):
            continue
        specs.append(routing_rules.Rule(key, tuple(map(str, form.getlist(f"channels_{i}"))),
                                        tuple(map(str, form.getlist(f"types_{i}"))),
                                        tuple(map(str, form.getlist(f"categories_{i}"))),
                                        tuple(map(str, form.getlist(f"tiers_{i}")))))
    added = str(form.get("add_queue", "") or "")
    if added:
        specs.append(routing_rules.Rule(added, tuple(map(str, form.getlist("add_channels"))),
                                        tuple(map(str, form.getlist("add_types"))),
                                        tuple(map(str, form.getlist("add_categories"))),
                                        tuple(map(str, form.getlist("add_tiers")))))
    try:
        service.set_rules(session, specs)
    except KefuError as exc:
        session.rollback()
        return render(request, "routing/admin.html", _admin_context(session, principal, error=exc.message),
                      status_code=exc.status, active="routing")
    return RedirectResponse(f"{BASE}/admin", status_code=303)


@router.post(f"{BASE}/admin/defaults", dependencies=[CsrfProtect])
def defaults(request: Request, session: DbSession, principal: PagePrincipal,
             org_unit_id: Annotated[int | None, Form()] = None) -> Response:
    _allowed(request, principal, "routing.admin")
    unit = org.check_visible(session, principal, org_unit_id) if org_unit_id else None
    service.ensure_defaults(session, unit.id if unit is not None else principal.org_unit_id)
    return RedirectResponse(f"{BASE}/admin", status_code=303)

