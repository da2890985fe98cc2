"""SLA in the console.

    GET  /console/sla                              administrators: policies and working calendars
    GET  /console/sla/calls                        agents: the survey calls to make; POST .../calls/{id} records one
    POST /console/sla/tickets/{id}/call            put a resolved ticket on the call list (from its SLA box)
    GET  /console/sla/followups                    supervisors: unsatisfied answers to follow up
    POST /console/sla/followups/{id}               close one with a note
    GET|POST /s/{token}                            the customer's survey page (signed link, no login)
    POST /console/sla/policies                     create or change a policy (choosers, no raw ids)
    POST /console/sla/calendars                    create or change a calendar's weekly hours
    POST /console/sla/calendars/{id}/days          mark a local holiday / worked day, or clear one

`ticket_panel` adds the SLA box (each clock: target, due time, state) to the ticket page.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from kefu.core.auth import Principal
from kefu.core.deps import DbSession, Id
from kefu.core.errors import Forbidden, InvalidInput, KefuError
from kefu.org import service as org
from kefu.sla import holidays_cn, service
from kefu.sla.models import ON_BREACH
from kefu.web.i18n import translator
from kefu.web.render import CsrfProtect, PagePrincipal, render, request_locale

NAV = (("sla", "/console/sla", "sla.admin", 62), ("sla_calls", "/console/sla/calls", "sla.callback", 63),
       ("sla_followups", "/console/sla/followups", "sla.followup", 64))
router = APIRouter(include_in_schema=False)
BASE = "/console/sla"
WEEKDAYS = (("周一", "Mon"), ("周二", "Tue"), ("周三", "Wed"), ("周四", "Thu"), ("周五", "Fri"), ("周六", "Sat"),
            ("周日", "Sun"))
METRIC_NAMES = {"first_response": ("首次响应", "First response"), "next_response": ("再次响应", "Next response"),
                "resolution": ("解决", "Resolution")}
STATUS_NAMES = {"running": ("计时中", "Running"), "paused": ("已暂停（等待客户）", "Paused (waiting on customer)"),
                "warning": ("即将超时", "Due soon"), "breached": ("已超时", "Breached"), "met": ("已达标", "Met")}
BREACH_NAMES = {"notify": ("仅通知", "Notify only"), "raise_priority": ("提升优先级", "Raise the priority")}


def _allowed(request: Request, principal: Principal) -> None:
    _need(request, principal, "sla.admin")


def names() -> dict[str, Any]:
    from kefu.routing.views import TIER_NAMES, TYPE_NAMES

    return {"type_names": TYPE_NAMES, "tier_names": TIER_NAMES, "metric_names": METRIC_NAMES,
            "status_names": STATUS_NAMES, "breach_names": BREACH_NAMES, "weekdays": WEEKDAYS,
            "on_breach": ON_BREACH}


def _context(session: Session, principal: Principal, *, edit: int | None = None, cal: int | None = None,
             year: int | None = None, **extra: Any) -> dict[str, Any]:
    from kefu.interactions.models import CHANNELS
    from kefu.routing import service as routing
    from kefu.tickets import service as tickets

    calendars = service.list_calendars(session)
    queues = routing.queues(session, principal)
    chosen = next((c for c in calendars if c.id == cal), calendars[0] if calendars else None)
    year = year or date.today().year  # noqa: DTZ011 (the page's default year only)
    statutory = sorted((d, kind, name) for d, (kind, name) in holidays_cn.statutory_days().items() if d.year == year)
    policies = service.list_policies(session)
    return {"policies": policies, "editing": next((p for p in policies if p.id == edit), None),
            "calendars": calendars, "calendar": chosen, "calendar_names": {c.id: c.name for c in calendars},
            "own_days": service.calendar_days(session, chosen.id) if chosen else [],
            "statutory": statutory, "year": year, "years": sorted(holidays_cn.SCHEDULE),
            "week_text": [", ".join(d) for d in chosen.weekly] if chosen else
            [", ".join(d) for d in service.OFFICE_WEEK],
            "channels": CHANNELS, "categories": tickets.category_tree(session),
            "units": org.list_units(session, principal),
            "supervisors": [u for u in org.list_users(session, principal, active_only=True)
                            if u.role in ("supervisor", "admin")],
            "queues": queues, "queue_names": {q.key: q.name for q in queues}, **names(), **extra}


@router.get(BASE)
def admin(request: Request, session: DbSession, principal: PagePrincipal, edit: int | None = None,
          cal: int | None = None, year: int | None = None) -> HTMLResponse:
    _allowed(request, principal)
    return render(request, "sla/admin.html", _context(session, principal, edit=edit, cal=cal, year=year),
                  active="sla")


def _failed(request: Request, session: Session, principal: Principal, exc: KefuError, **kw: Any) -> HTMLResponse:
    session.rollback()
    return render(request, "sla/admin.html", _context(session, principal, error=exc.message, **kw),
                  status_code=exc.status, active="sla")


def _minutes(form: Any, name: str) -> int | None:
    raw = str(form.get(name, "") or "").strip()
    if not raw:
        return None
    unit = str(form.get(f"{name}_unit", "minutes"))
    try:
        value = float(raw)
    except ValueError:
        raise InvalidInput(f"{name} is not a number", code="sla_invalid_policy", details={"field": name}) from None
    return round(value * {"minutes": 1, "hours": 60, "days": 1440}.get(unit, 1))


@router.post(f"{BASE}/policies", dependencies=[CsrfProtect])
async def save_policy(request: Request, session: DbSession, principal: PagePrincipal) -> Response:
    _allowed(request, principal)
    form = await request.form()
    raw_id = str(form.get("policy_id", "") or "")
    raw_cal = str(form.get("calendar_id", "") or "")
    raw_to = str(form.get("breach_assignee_id", "") or "")
    try:
        policy = service.save_policy(
            session, policy_id=int(raw_id) if raw_id.isdigit() else None, name=str(form.get("name", "") or ""),
            position=int(str(form.get("position", "0") or "0")) if str(form.get("position", "0")).isdigit() else 0,
            types=[str(v) for v in form.getlist("types")], tiers=[str(v) for v in form.getlist("tiers")],
            channels=[str(v) for v in form.getlist("channels")],
            categories=[str(v) for v in form.getlist("categories")],
            first_response_minutes=_minutes(form, "first_response"), resolution_minutes=_minutes(form, "resolution"),
            next_response_minutes=_minutes(form, "next_response"),
            business_time=form.get("business_time") == "1", calendar_id=int(raw_cal) if raw_cal.isdigit() else None,
            warn_percent=int(str(form.get("warn_percent", "80") or "80"))
            if str(form.get("warn_percent", "80") or "80").isdigit() else 0,
            on_breach=str(form.get("on_breach", "notify")), active=form.get("active") == "1",
            breach_assignee_id=int(raw_to) if raw_to.isdigit() else None,
            breach_queue_key=str(form.get("breach_queue_key", "") or "")[:40] or None)
    except KefuError as exc:
        return _failed(request, session, principal, exc, edit=int(raw_id) if raw_id.isdigit() else None)
    return RedirectResponse(f"{BASE}?edit={policy.id}", status_code=303)


@router.post(f"{BASE}/calendars", dependencies=[CsrfProtect])
async def save_calendar(request: Request, session: DbSession, principal: PagePrincipal) -> Response:
    _allowed(request, principal)
    form = await request.form()
    raw_id = str(form.get("calendar_id", "") or "")
    unit = str(form.get("org_unit_id", "") or "")
    try:
        week = service.parse_week([str(form.get(f"day{i}", "") or "") for i in range(7)])
        unit_row = org.check_visible(session, principal, int(unit)) if unit.isdigit() else None
        cal = service.save_calendar(
            session, calendar_id=int(raw_id) if raw_id.isdigit() else None, name=str(form.get("name", "") or ""),
            weekly=week, zone=str(form.get("zone", "Asia/Shanghai") or "Asia/Shanghai"),
            statutory=form.get("statutory") == "1",
            org_unit_id=unit_row.id if unit_row is not None else principal.org_unit_id)
    except KefuError as exc:
        return _failed(request, session, principal, exc, cal=int(raw_id) if raw_id.isdigit() else None)
    return RedirectResponse(f"{BASE}?cal={cal.id}#calendars", status_code=303)


@router.post(f"{BASE}/calendars/{{calendar_id}}/days", dependencies=[CsrfProtect])
async def set_day(request: Request, calendar_id: Id, session: DbSession, principal: PagePrincipal) -> Response:
    _allowed(request, principal)
    form = await request.form()
    kind = str(form.get("kind", "") or "")
    try:
        try:
            day = date.fromisoformat(str(form.get("day", "") or ""))
        except ValueError:
            raise InvalidInput("the day is not a date (YYYY-MM-DD)", code="sla_invalid_calendar",
                               details={"field": "day"}) from None
        service.set_day(session, calendar_id, day, kind or None, str(form.get("name", "") or ""))
    except KefuError as exc:
        return _failed(request, session, principal, exc, cal=calendar_id)
    return RedirectResponse(f"{BASE}?cal={calendar_id}#calendars", status_code=303)


SURVEY_STATUS = {"sent": ("已发送，待答复", "Sent, awaiting the answer"), "answered": ("已答复", "Answered"),
                 "expired": ("未答复（已过期）", "Not answered (expired)"), "opted_out": ("客户退订回访", "Opted out")}


def ticket_panel(session: Session, principal: Principal, ticket: Any) -> tuple[str, dict[str, Any]] | None:
    """The SLA box: the ticket's clocks and its satisfaction callbacks (an unsatisfied answer stands out: the
    ticket was reopened for it)."""
    from kefu.sla import surveys as sla_surveys
    from kefu.sla.survey_reply import LABELS, is_unsatisfied

    views = service.ticket_clocks(session, ticket.id)
    surveys = sla_surveys.of_ticket(session, ticket.id)
    can_call = not surveys and ticket.status == "resolved" and ticket.customer_id is not None and principal.can(
        "sla.callback")
    if not views and not surveys and not can_call:
        return None
    return "sla/_panel.html", {"clocks": views, "surveys": surveys, "survey_status": SURVEY_STATUS,
                               "choice_names": LABELS, "unsatisfied": is_unsatisfied, "can_call": can_call,
                               "ticket_id": ticket.id, **names()}



# ---- service hours and 7×24 coverage -----------------------------------------------------------------

@router.get(f"{BASE}/coverage")
def coverage(request: Request, session: DbSession, principal: PagePrincipal, week: str = "") -> HTMLResponse:
    """The week's 7×24 coverage per channel with its gaps, and each queue's service-hours calendar."""
    if not (principal.can("sla.admin") or principal.can("routing.supervise")):
        _allowed(request, principal)
    from datetime import timedelta

    from kefu.routing import service as routing
    from kefu.routing.views import MEDIA_NAMES

    try:
        day = date.fromisoformat(week) if week else date.today()  # noqa: DTZ011 (the page's default week)
    except ValueError:
        day = date.today()  # noqa: DTZ011
    monday = day - timedelta(days=day.weekday())
    ctx = {"rows": service.coverage_report(session, principal, monday), "monday": monday,
           "prev": monday - timedelta(days=7), "next": monday + timedelta(days=7),
           "queues": routing.queues(session, principal), "calendars": service.list_calendars(session),
           "media_names": MEDIA_NAMES, "can_edit": principal.can("sla.admin")}
    return render(request, "sla/coverage.html", ctx, active="sla")


@router.post(f"{BASE}/queues/{{key}}/calendar", dependencies=[CsrfProtect])
async def queue_calendar(request: Request, key: str, session: DbSession, principal: PagePrincipal) -> Response:
    _allowed(request, principal)
    form = await request.form()
    raw = str(form.get("calendar_id", "") or "")
    service.set_queue_calendar(session, principal, key[:40], int(raw) if raw.isdigit() else None)
    return RedirectResponse(f"{BASE}/coverage", status_code=303)


CSAT_BY_NAMES = {"agent": ("坐席", "Agent"), "queue": ("队列", "Queue"), "channel": ("渠道", "Channel"),
                 "category": ("分类", "Category"), "unit": ("单位", "Org unit"), "day": ("日期", "Day")}


@router.get(f"{BASE}/csat")
def csat(request: Request, session: DbSession, principal: PagePrincipal, days: int = 30,
         by: str = "agent") -> HTMLResponse:
    """Satisfaction callbacks of the last `days` days per agent (or queue, channel, category, org unit, day):
    sent, answered, satisfied (4-5), CSAT, mean score, response rate."""
    if not (principal.can("sla.admin") or principal.can("routing.supervise")):
        _allowed(request, principal)
    from datetime import timedelta

    from kefu.core.clock import utcnow
    from kefu.routing import service as routing
    from kefu.sla import surveys
    from kefu.tickets import service as tickets

    days, by = min(max(days, 1), 366), by if by in CSAT_BY_NAMES else "agent"
    now = utcnow()
    rows = surveys.csat_by(session, by, since=now - timedelta(days=days), until=now,
                           unit_ids=org.visible_unit_ids(session, principal))
    keys = [r.key for r in rows if r.key is not None]
    names: dict[Any, tuple[str, str]] = {}
    if by == "agent":
        names = {k: (u.display_name, u.display_name) for k, u in org.users(session, {int(k) for k in keys}).items()}
    elif by == "unit":
        names = {u.id: (u.name, u.name) for u in org.units(session, [int(k) for k in keys])}
    elif by == "queue":
        names = {q.key: (q.name, q.name_en or q.name) for q in routing.queues(session)}
    elif by == "category":
        names = {c.key: (c.name, c.name_en or c.name) for c in tickets.categories_by_id(session).values()}
    return render(request, "sla/csat.html", {"rows": rows, "names": names, "days": days, "by": by,
                                             "by_names": CSAT_BY_NAMES}, active="sla")


# ---- survey calls (回访电话) ------------------------------------------------------------------------------

def _need(request: Request, principal: Principal, permission: str) -> None:
    if not principal.can(permission):
        raise Forbidden(translator(request_locale(request, principal))("error.forbidden"),
                        details={"permission": permission})


def _caller(request: Request, principal: Principal) -> None:
    _need(request, principal, "sla.callback")


@router.get(f"{BASE}/calls")
def calls(request: Request, session: DbSession, principal: PagePrincipal, error: str = "") -> HTMLResponse:
    """The survey calls to make in my subtree (the ticket page has the customer and their number)."""
    from kefu.sla import surveys
    from kefu.sla.survey_reply import LABELS, SCORES
    from kefu.tickets import service as tickets

    _caller(request, principal)
    tasks = surveys.call_tasks(session, org.visible_unit_ids(session, principal))
    subjects = {t.id: t.subject for t in (tickets.get(session, r.ticket_id) for r in tasks) if t is not None}
    agents = org.users(session, {r.agent_id for r in tasks if r.agent_id is not None})
    return render(request, "sla/calls.html", {"tasks": tasks, "subjects": subjects, "agents": agents,
                                              "labels": LABELS, "scores": SCORES, "error": error[:200]},
                  active="sla_calls")


@router.post(f"{BASE}/calls/{{survey_id}}", dependencies=[CsrfProtect])
async def record_call(request: Request, survey_id: Id, session: DbSession, principal: PagePrincipal) -> Response:
    from kefu.sla import surveys

    _caller(request, principal)
    form = await request.form()
    raw = str(form.get("choice", "") or "")
    try:
        surveys.record_call(session, surveys.visible_survey(session, principal, survey_id, channel="call"),
                            choice=int(raw) if raw in ("1", "2", "3", "4", "5") else None,
                            note=str(form.get("note", ""))[:500])
    except KefuError as exc:
        return _calls_error(exc)
    return RedirectResponse(f"{BASE}/calls", status_code=303)


def _calls_error(exc: KefuError) -> Response:
    from urllib.parse import quote

    return RedirectResponse(f"{BASE}/calls?error={quote(exc.message)}", status_code=303)


@router.post(f"{BASE}/tickets/{{ticket_id}}/call", dependencies=[CsrfProtect])
async def plan_call(request: Request, ticket_id: Id, session: DbSession, principal: PagePrincipal) -> Response:
    from kefu.sla import surveys
    from kefu.tickets import service as tickets

    _caller(request, principal)
    tickets.get_visible(session, principal, ticket_id)
    try:
        surveys.call_task(session, ticket_id)
    except KefuError as exc:
        return _calls_error(exc)
    return RedirectResponse(f"{BASE}/calls", status_code=303)


# ---- supervisors' follow-ups of unsatisfied answers (回访不满意跟进) --------------------------------------------

DONE_PAGE = 20  # closed follow-ups shown a page at a time


@router.get(f"{BASE}/followups")
def followups(request: Request, session: DbSession, principal: PagePrincipal, error: str = "",
              done_page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> HTMLResponse:
    """The unsatisfied answers of my subtree to follow up (oldest first), and the closed ones a page of
    DONE_PAGE at a time, the most recently closed first (`done_page`: older pages)."""
    from kefu.sla import surveys
    from kefu.sla.survey_reply import LABELS
    from kefu.tickets import service as tickets

    _need(request, principal, "sla.followup")
    units = org.visible_unit_ids(session, principal)
    open_rows = surveys.followups(session, units)
    done = surveys.closed_followups(session, units, limit=DONE_PAGE + 1, offset=(done_page - 1) * DONE_PAGE)
    older = len(done) > DONE_PAGE
    done = done[:DONE_PAGE]
    rows = [*open_rows, *done]
    subjects = {t.id: t.subject for t in (tickets.get(session, r.ticket_id) for r in rows) if t is not None}
    people = org.users(session, {u for r in rows for u in (r.agent_id, r.followed_up_by_id) if u is not None})
    return render(request, "sla/followups.html", {"open": open_rows, "done": done, "done_page": done_page,
                                                  "older": older, "subjects": subjects, "people": people,
                                                  "labels": LABELS, "error": error[:200]},
                  active="sla_followups")


@router.post(f"{BASE}/followups/{{survey_id}}", dependencies=[CsrfProtect])
async def close_followup(request: Request, survey_id: Id, session: DbSession, principal: PagePrincipal) -> Response:
    from urllib.parse import quote

    from kefu.sla import surveys

    _need(request, principal, "sla.followup")
    form = await request.form()
    try:
        surveys.close_followup(session, surveys.visible_survey(session, principal, survey_id),
                               actor_id=principal.user_id, note=str(form.get("note", "") or "")[:500])
    except KefuError as exc:
        session.rollback()
        return RedirectResponse(f"{BASE}/followups?error={quote(exc.message)}", status_code=303)
    return RedirectResponse(f"{BASE}/followups", status_code=303)


# ---- the customer's answer page (no login: the signed link is the key) -----------------------------------

def _survey_page(request: Request, *, survey: Any = None, token: str = "", error: str | None = None,
                 status: int = 200) -> HTMLResponse:
    from pathlib import Path

    from fastapi.templating import Jinja2Templates

    from kefu.sla.survey_reply import LABELS, SCORES, is_unsatisfied

    pages = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
    return pages.TemplateResponse(request, "survey_link.html", {"s": survey, "token": token, "error": error,
                                                                "labels": LABELS, "scores": SCORES,
                                                                "unsatisfied": is_unsatisfied},
                                  status_code=status)


def _link_secret(request: Request) -> bytes:
    return str(request.app.state.settings.secret_key.get_secret_value()).encode()


@router.get("/s/{token}")
def survey_link(request: Request, token: str, session: DbSession) -> HTMLResponse:
    """The survey a customer opens from the link in the survey message: five buttons (5 to 1), no login."""
    from kefu.sla import surveys

    try:
        survey = surveys.by_token(session, _link_secret(request), token)
    except KefuError as exc:
        return _survey_page(request, error=exc.message, status=exc.status)
    return _survey_page(request, survey=survey, token=token)


@router.post("/s/{token}")
async def survey_link_answer(request: Request, token: str, session: DbSession) -> HTMLResponse:
    from kefu.sla import surveys

    raw = str((await request.form()).get("choice", "") or "")
    try:
        survey = surveys.by_token(session, _link_secret(request), token)
        surveys.answer(session, survey, int(raw) if raw.isdigit() else 0)
    except KefuError as exc:
        return _survey_page(request, error=exc.message, status=exc.status)
    return _survey_page(request, survey=survey, token=token)
