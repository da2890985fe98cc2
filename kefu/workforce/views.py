"""The console's workforce page: a day's plan for an org unit, charts, what-if, shifts, saved plans.

    GET  /console/workforce          form (unit, channel, day, target, model, zone) + what-if knobs; the plan,
                                     charts (forecast vs actual, required vs scheduled, predicted SL), shifts
    GET  /console/workforce/data     the same plan (and what-if scenario) as JSON: the page redraws with it
    POST /console/workforce/plans    save the plan shown (CSRF); then back to the page
    GET  /console/workforce/skills   several skills and channels: agents per queue and interval, and whether
                                     the chosen named agents (each serving one of their skills) cover them
    GET  /console/workforce/special-days   campaign, outage and local-holiday days the forecast takes into
                                     account, with their expected effect; POST adds, POST .../{id}/delete removes
                                     (administrators: `workforce.write` and `org.admin`, CSRF)
    GET  /console/workforce/roster   a unit's day roster: named agents on the plan's shifts and each one's
                                     adherence so far (from routing's presence changes); POST builds it
                                     (`workforce.write`, CSRF) from the plan with the agents ticked and their hours
Everything needs `workforce.read` (saving: `workforce.write`); agents are refused with 403.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import ValidationError

from kefu.core.auth import Principal
from kefu.core.clock import utcnow
from kefu.core.deps import DbSession, Id, is_id_text
from kefu.core.errors import Forbidden, KefuError
from kefu.org import service as org
from kefu.web.i18n import translator
from kefu.web.render import CsrfProtect, PagePrincipal, render, request_locale
from kefu.workforce import service
from kefu.workforce.schemas import MultiSkillIn, RosterIn, SpecialDayIn, WhatIfIn

# The main menu's entry for this domain (kefu.web.render.nav_entries): key, href, permission, place.
NAV = (("workforce", "/console/workforce", "workforce.read", 40),)
router = APIRouter(include_in_schema=False)
CONSOLE_TIME_LIMIT = 5.0
#: The operators' zone: the page opens on it; the chooser offers the zones of imported logs too.
DEFAULT_TZ = "Asia/Shanghai"
TIME_ZONES = ("Asia/Shanghai", "Asia/Hong_Kong", "Asia/Jerusalem", "Europe/London", "America/New_York", "UTC")


def _allowed(request: Request, principal: Principal, permission: str) -> None:
    if not principal.can(permission):
        raise Forbidden(
            translator(request_locale(request, principal))("error.forbidden"),
            details={"permission": permission},
        )


def _float(value: str | None, default: float | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else default
    except ValueError:
        return default


def _today(tz: str) -> date:
    try:
        return utcnow().astimezone(ZoneInfo(tz)).date()
    except (ValueError, KeyError):  # an unknown zone: the plan's own validation reports it
        return utcnow().date()


def _form(q: Mapping[str, str], session: Any, principal: Principal) -> dict[str, Any]:
    """The page's inputs from the query string (or the save form's copy of it), with defaults."""
    units = org.list_units(session, principal)
    unit_id = int(q["org_unit"]) if is_id_text(q.get("org_unit", "")) else (units[0].id if units else 0)
    channel = q.get("channel") or "voice"
    tz = q.get("tz") or DEFAULT_TZ
    day_text = q.get("day") or ""
    try:
        day = date.fromisoformat(day_text)
    except ValueError:
        # Open on the newest day with calls (its forecast beside what really happened), not an empty day.
        last = service.last_call_day(session, principal, unit_id, channel, tz) if unit_id else None
        day = last if last is not None else _today(tz)
    return {
        "org_unit": unit_id,
        "channel": channel,
        "tz": tz,
        "day": day,
        "sl": _float(q.get("sl"), 0.8),
        "target": _float(q.get("target"), 20.0),
        "model": "c" if q.get("model") == "c" else "a",
        "interval": 30,
        "volume_pct": _float(q.get("volume_pct"), 100.0),
        "aht": _float(q.get("aht"), None),
        "wi_sl": _float(q.get("wi_sl"), None),
        "units": units,
    }


def _body(f: dict[str, Any]) -> WhatIfIn:
    return WhatIfIn(
        org_unit_id=f["org_unit"],
        channel=f["channel"],
        day=f["day"],
        tz=f["tz"],
        interval_minutes=f["interval"],
        service_level=f["sl"],
        target_time=f["target"],
        model=f["model"],
        what_if_volume_scale=(f["volume_pct"] or 0) / 100,
        what_if_aht=f["aht"],
        what_if_service_level=f["wi_sl"],
        time_limit=CONSOLE_TIME_LIMIT,
    )


def _compute(
    session: Any, principal: Principal, f: dict[str, Any]
) -> tuple[dict[str, Any] | None, str | None]:
    try:
        return service.what_if(session, principal, _body(f)), None
    except KefuError as exc:
        session.rollback()
        return None, exc.message
    except ValidationError as exc:
        return None, "; ".join(str(e["msg"]) for e in exc.errors())


@router.get("/console/workforce")
def workforce_page(request: Request, session: DbSession, principal: PagePrincipal) -> HTMLResponse:
    _allowed(request, principal, "workforce.read")
    f = _form(request.query_params, session, principal)
    result, error = _compute(session, principal, f) if f["org_unit"] else (None, None)
    plans, _ = service.list_plans(session, principal, limit=20, offset=0)
    chart = json.dumps(result, ensure_ascii=False).replace("</", "<\\/") if result else "null"
    return render(
        request,
        "workforce/plan.html",
        {
            "f": f,
            "result": result,
            "error": error,
            "chart_json": chart,
            "plans": plans,
            "channels": ("voice",),
            "time_zones": TIME_ZONES if f["tz"] in TIME_ZONES else (*TIME_ZONES, f["tz"]),
            "can_save": principal.can("workforce.write"),
        },
        active="workforce",
        status_code=200,
    )


@router.get("/console/workforce/data")
def workforce_data(request: Request, session: DbSession, principal: PagePrincipal) -> JSONResponse:
    _allowed(request, principal, "workforce.read")
    result, error = _compute(session, principal, _form(request.query_params, session, principal))
    if error is not None:
        return JSONResponse({"error": {"code": "workforce_invalid_input", "message": error}}, status_code=422)
    return JSONResponse(result)


@router.post("/console/workforce/plans", dependencies=[CsrfProtect])
def workforce_save(
    request: Request,
    session: DbSession,
    principal: PagePrincipal,
    name: Annotated[str, Form(max_length=200)] = "",
    query: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    _allowed(request, principal, "workforce.write")
    from starlette.datastructures import QueryParams

    body = _body(_form(QueryParams(query), session, principal)).model_copy(update={"name": name.strip() or None})
    plan = service.save_what_if(session, principal, body)
    return RedirectResponse(f"/console/workforce?{query}&saved={plan.id}", status_code=303)


# ---- several skills and channels ---------------------------------------------------------------------

DEMAND_ROWS = 4
DEMAND_CHANNELS = ("voice", "chat", "email")
_SEPARATORS = re.compile(r"[\s,，、;；]+")


def _volumes(text: str) -> list[float] | None:
    """Contacts per interval as typed (spaces, commas or 、 between numbers); None when a part is no number."""
    try:
        return [float(v) for v in _SEPARATORS.split(text.strip()) if v]
    except ValueError:
        return None


def _skills_form(q: Any, session: Any, principal: Principal) -> dict[str, Any]:
    units = org.list_units(session, principal)
    unit_id = int(q["org_unit"]) if is_id_text(q.get("org_unit", "")) else (units[0].id if units else 0)
    interval = int(q["interval"]) if q.get("interval") in ("15", "30", "60") else 30
    rows = []
    for k in range(DEMAND_ROWS):
        channel = q.get(f"channel{k}") if q.get(f"channel{k}") in DEMAND_CHANNELS else "voice"
        rows.append(
            {
                "skill": int(q[f"skill{k}"]) if is_id_text(q.get(f"skill{k}", "")) else None,
                "channel": channel,
                "volumes": q.get(f"volumes{k}", "")[:4000],
                "aht": _float(q.get(f"aht{k}"), 300.0),
                "sl": _float(q.get(f"sl{k}"), 0.8),
                "target": _float(q.get(f"target{k}"), 20.0),
                "concurrency": int(_float(q.get(f"concurrency{k}"), 1.0) or 1),
                "within": _float(q.get(f"within{k}"), 7200.0),
            }
        )
    picked = {int(v) for v in q.getlist("agent") if is_id_text(v)} if q.get("picked") else None
    return {"org_unit": unit_id, "interval": interval, "rows": rows, "picked": picked, "units": units}


def _skills_body(f: dict[str, Any], t: Any) -> tuple[MultiSkillIn | None, str | None]:
    demands = []
    for k, row in enumerate(f["rows"]):
        if row["skill"] is None or not row["volumes"].strip():
            continue
        volumes = _volumes(row["volumes"])
        if volumes is None:
            return None, t("workforce.ms.bad_volumes", row=k + 1)
        demands.append(
            {
                "skill_id": row["skill"],
                "channel": row["channel"],
                "volumes": volumes,
                "aht": row["aht"],
                "service_level": row["sl"],
                "target_time": row["target"],
                "concurrency": row["concurrency"],
                "answer_within": row["within"] if row["channel"] == "email" else None,
            }
        )
    if not demands:
        return None, None
    try:
        body = MultiSkillIn(
            org_unit_id=f["org_unit"],
            interval_minutes=f["interval"],
            demands=demands,
            agent_ids=sorted(f["picked"]) if f["picked"] is not None else None,
        )
    except ValidationError as exc:
        return None, "; ".join(str(e["msg"]) for e in exc.errors())
    return body, None


@router.get("/console/workforce/skills")
def skills_page(request: Request, session: DbSession, principal: PagePrincipal) -> HTMLResponse:
    """Several skills and channels: each queue's agents per interval and whether the chosen agents cover them."""
    _allowed(request, principal, "workforce.read")
    t = translator(request_locale(request, principal))
    f = _skills_form(request.query_params, session, principal)
    agents = []
    if f["org_unit"]:
        units = service.unit_subtree(session, principal, f["org_unit"])
        agents = [u for u in org.users_in_units(session, units) if u.active and u.role == "agent" and u.skills]
    body, error = _skills_body(f, t)
    result = None
    if body is not None:
        try:
            result = service.multiskill_plan(session, principal, body)
        except KefuError as exc:
            session.rollback()
            error = exc.message
    skills = org.skills(session)
    return render(
        request,
        "workforce/skills.html",
        {
            "f": f,
            "skills": skills,
            "skill_names": {s.key: s for s in skills},
            "agents": agents,
            "channels": DEMAND_CHANNELS,
            "result": result,
            "error": error,
        },
        active="workforce",
        status_code=200,
    )


# ---- special days --------------------------------------------------------------------------------------

SPECIAL_KINDS = ("campaign", "outage", "holiday")


def _special_page(
    request: Request, session: Any, principal: Principal, values: Mapping[str, str], error: str | None,
    status_code: int = 200,
) -> HTMLResponse:
    units = org.list_units(session, principal)
    rows = service.list_special_days(session, principal)
    return render(
        request,
        "workforce/special_days.html",
        {
            "rows": rows,
            "units": units,
            "unit_names": {u.id: u.name for u in units},
            "kinds": SPECIAL_KINDS,
            "v": values,
            "error": error,
            "can_edit": principal.can("workforce.write") and principal.can("org.admin"),
        },
        active="workforce",
        status_code=status_code,
    )


@router.get("/console/workforce/special-days")
def special_days_page(request: Request, session: DbSession, principal: PagePrincipal) -> HTMLResponse:
    """The special days the forecast knows beside public holidays, and a form to add one."""
    _allowed(request, principal, "workforce.read")
    return _special_page(request, session, principal, {}, None)


@router.post("/console/workforce/special-days", dependencies=[CsrfProtect])
def special_days_add(
    request: Request,
    session: DbSession,
    principal: PagePrincipal,
    org_unit: Annotated[str, Form(max_length=20)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    kind: Annotated[str, Form(max_length=16)] = "",
    first_day: Annotated[str, Form(max_length=10)] = "",
    last_day: Annotated[str, Form(max_length=10)] = "",
    effect_pct: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    _allowed(request, principal, "workforce.write")
    _allowed(request, principal, "org.admin")
    values = {"org_unit": org_unit, "name": name, "kind": kind, "first_day": first_day, "last_day": last_day,
              "effect_pct": effect_pct}
    try:
        body = SpecialDayIn.model_validate(
            {
                "org_unit_id": int(org_unit) if is_id_text(org_unit) else org_unit,  # the body takes integers only
                "name": name,
                "kind": kind,
                "first_day": first_day,
                "last_day": last_day or None,
                "effect_pct": _number_or_text(effect_pct.strip()) if effect_pct.strip() else None,  # numbers only
            }
        )
        row = service.add_special_day(session, principal, body)
    except ValidationError as exc:
        message = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        return _special_page(request, session, principal, values, message, 422)
    except KefuError as exc:
        session.rollback()
        return _special_page(request, session, principal, values, exc.message, exc.status)
    return RedirectResponse(f"/console/workforce/special-days?added={row.id}", status_code=303)


def _number_or_text(text: str) -> float | str:
    """A form's number as a float for a body model (strict: it refuses text); text that is no number stays
    text, for the model's own error message."""
    try:
        return float(text)
    except ValueError:
        return text


@router.post("/console/workforce/special-days/{special_day_id}/delete", dependencies=[CsrfProtect])
def special_days_delete(
    request: Request, session: DbSession, principal: PagePrincipal, special_day_id: Id
) -> Response:
    _allowed(request, principal, "workforce.write")
    _allowed(request, principal, "org.admin")
    service.delete_special_day(session, principal, special_day_id)
    return RedirectResponse("/console/workforce/special-days", status_code=303)


# ---- named agents' roster and adherence ------------------------------------------------------------


def _roster_form(q: Any, session: Any, principal: Principal) -> dict[str, Any]:
    f = _form(q, session, principal)
    f["rest"] = _float(q.get("rest"), 11.0)
    return f


def _roster_page(
    request: Request, session: Any, principal: Principal, f: dict[str, Any], error: str | None,
    status_code: int = 200,
) -> HTMLResponse:
    agents = service.unit_agents(session, principal, f["org_unit"]) if f["org_unit"] else []
    status = None
    if f["org_unit"] and error is None:
        try:
            status = service.roster_status(session, principal, f["org_unit"], f["day"], f["tz"])
        except KefuError as exc:
            session.rollback()
            error = exc.message
    return render(
        request,
        "workforce/roster.html",
        {
            "f": f,
            "agents": agents,
            "status": status,
            "error": error,
            "time_zones": TIME_ZONES if f["tz"] in TIME_ZONES else (*TIME_ZONES, f["tz"]),
            "can_build": principal.can("workforce.write"),
        },
        active="workforce",
        status_code=status_code,
    )


@router.get("/console/workforce/roster")
def roster_page(request: Request, session: DbSession, principal: PagePrincipal) -> HTMLResponse:
    """Named agents on the day's shifts, with their adherence to them so far."""
    _allowed(request, principal, "workforce.read")
    return _roster_page(request, session, principal, _roster_form(request.query_params, session, principal), None)


@router.post("/console/workforce/roster", dependencies=[CsrfProtect])
async def roster_build(request: Request, session: DbSession, principal: PagePrincipal) -> Response:
    """Build the roster from the day's plan with the agents ticked, each within the hours typed."""
    _allowed(request, principal, "workforce.write")
    form = await request.form()
    f = _roster_form(form, session, principal)
    agents = []
    for value in form.getlist("agent"):
        if not is_id_text(str(value)):
            continue
        earliest = str(form.get(f"earliest{value}") or "") or None
        latest = str(form.get(f"latest{value}") or "") or None
        agents.append({"user_id": int(str(value)), "earliest_start": earliest, "latest_end": latest})
    try:
        body = RosterIn.model_validate(
            {
                **_body(f).model_dump(include={"org_unit_id", "channel", "day", "tz", "interval_minutes",
                                               "service_level", "target_time", "model", "time_limit"}),
                "agents": agents,
                "min_rest_hours": f["rest"],
            }
        )
        service.build_roster(session, principal, body)
    except ValidationError as exc:
        message = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        return _roster_page(request, session, principal, f, message, 422)
    except KefuError as exc:
        session.rollback()
        return _roster_page(request, session, principal, f, exc.message, exc.status)
    query = urlencode({"org_unit": f["org_unit"], "day": f["day"].isoformat(), "tz": f["tz"]})
    return RedirectResponse(f"/console/workforce/roster?{query}", status_code=303)
