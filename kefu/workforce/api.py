"""HTTP endpoints of the workforce domain (thin: parse, check permission, call the service).

    POST /workforce/erlang      Erlang C and Erlang A measures for one interval, side by side
    POST /workforce/staffing    fewest agents for a target (C and A) and the shrinkage-scheduled count
    GET  /workforce/history     arrivals per interval, handle-time fit, patience fit (Kaplan-Meier points)
    POST /workforce/forecast    the coming days: chosen model, 8-week baseline, seasonal naive, holdout WAPE
    POST /workforce/plan        compute a day's plan (not saved): required, shifts, coverage report
    POST /workforce/plans       compute and save a plan; GET /workforce/plans, GET /workforce/plans/{id}
    POST /workforce/what-if     a plan and the same plan with volume, AHT and/or target changed
    POST /workforce/simulate    replications of a saved plan or given calls/agents, with 95 % CIs
    POST /workforce/multiskill  several skills and channels: agents per queue and interval, named agents' cover
    GET|PUT /workforce/rules/{org_unit_id}   shift rules (PUT: administrators)
    POST /workforce/roster      a day's plan with its shifts given to named agents (their hours, rest);
                                GET /workforce/roster: the roster with each agent's adherence so far
    GET|POST /workforce/special-days, DELETE /workforce/special-days/{id}   campaign, outage and local
                                holiday days the forecast takes into account (POST, DELETE: administrators)
Bad values answer 422 with the workforce module's message (code workforce_invalid_input).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from kefu.core.auth import Principal
from kefu.core.deps import DbSession, Id, OptionalId, Paging, QueryId, require
from kefu.core.errors import Forbidden
from kefu.workforce import service
from kefu.workforce.schemas import (
    FIRST_DAY,
    LAST_DAY,
    ErlangIn,
    ForecastIn,
    MultiSkillIn,
    PlanIn,
    PlanRead,
    PlanSummary,
    RosterIn,
    RulesRead,
    RulesSpec,
    SimulateIn,
    SpecialDayIn,
    SpecialDayRead,
    StaffingIn,
    WhatIfIn,
)

router = APIRouter(tags=["workforce"])


@router.post("/workforce/erlang")
def erlang_metrics(body: ErlangIn, principal: Principal = require("workforce.read")) -> dict[str, Any]:
    return service.erlang_metrics(
        body.calls,
        body.interval_minutes,
        body.aht,
        body.agents,
        patience=body.patience,
        target_time=body.target_time,
    )


@router.post("/workforce/staffing")
def staffing(body: StaffingIn, principal: Principal = require("workforce.read")) -> dict[str, Any]:
    return service.required_staff(body)


@router.get("/workforce/history")
def history(
    session: DbSession,
    org_unit_id: QueryId,
    start: Annotated[date, Query(ge=FIRST_DAY, le=LAST_DAY)],
    end: Annotated[date, Query(ge=FIRST_DAY, le=LAST_DAY)],
    channel: Annotated[str, Query(max_length=32)] = "voice",
    interval_minutes: Annotated[int, Query()] = 30,
    tz: Annotated[str, Query(max_length=64)] = "UTC",
    principal: Principal = require("workforce.read"),
) -> dict[str, Any]:
    return service.history_summary(
        session,
        principal,
        org_unit_id=org_unit_id,
        channel=channel,
        first=start,
        last=end,
        interval_minutes=interval_minutes,
        tz=tz,
    )


@router.post("/workforce/forecast")
def forecast(
    body: ForecastIn, session: DbSession, principal: Principal = require("workforce.read")
) -> dict[str, Any]:
    return service.forecast_days(
        session,
        principal,
        org_unit_id=body.org_unit_id,
        channel=body.channel,
        start_day=body.start_day,
        days=body.days,
        interval_minutes=body.interval_minutes,
        tz=body.tz,
        history_weeks=body.history_weeks,
        holdout_days=body.holdout_days,
        country=body.country,
    )


@router.post("/workforce/multiskill")
def multiskill(
    body: MultiSkillIn, session: DbSession, principal: Principal = require("workforce.read")
) -> dict[str, Any]:
    return service.multiskill_plan(session, principal, body)


@router.post("/workforce/plan")
def plan(
    body: PlanIn, session: DbSession, principal: Principal = require("workforce.read")
) -> dict[str, Any]:
    return service.compute_plan(session, principal, body)


@router.post("/workforce/plans", response_model=PlanRead, status_code=201)
def save_plan(
    body: PlanIn, session: DbSession, principal: Principal = require("workforce.write")
) -> PlanRead:
    return PlanRead.model_validate(service.save_plan(session, principal, body))


@router.get("/workforce/plans")
def list_plans(
    session: DbSession,
    page: Paging,
    org_unit_id: OptionalId = None,
    principal: Principal = require("workforce.read"),
) -> dict[str, Any]:
    rows, total = service.list_plans(
        session, principal, limit=page.limit, offset=page.offset, org_unit_id=org_unit_id
    )
    return {
        "items": [PlanSummary.model_validate(r).model_dump(mode="json") for r in rows],
        "total": total,
        "limit": page.limit,
        "offset": page.offset,
    }


@router.get("/workforce/plans/{plan_id}", response_model=PlanRead)
def get_plan(plan_id: Id, session: DbSession, principal: Principal = require("workforce.read")) -> PlanRead:
    return PlanRead.model_validate(service.get_plan(session, principal, plan_id))


@router.post("/workforce/what-if")
def what_if(
    body: WhatIfIn, session: DbSession, principal: Principal = require("workforce.read")
) -> dict[str, Any]:
    return service.what_if(session, principal, body)


@router.post("/workforce/simulate")
def simulate(
    body: SimulateIn, session: DbSession, principal: Principal = require("workforce.read")
) -> dict[str, Any]:
    return service.simulate(session, principal, body)


@router.get("/workforce/rules/{org_unit_id}", response_model=RulesRead)
def get_rules(
    org_unit_id: Id, session: DbSession, principal: Principal = require("workforce.read")
) -> RulesRead:
    service.unit_subtree(session, principal, org_unit_id)
    return service.effective_rules(session, org_unit_id)


@router.put("/workforce/rules/{org_unit_id}", response_model=RulesRead)
def put_rules(
    org_unit_id: Id, body: RulesSpec, session: DbSession, principal: Principal = require("workforce.write")
) -> RulesRead:
    if not principal.can("org.admin"):
        raise Forbidden(
            "shift rules are set by an administrator (needs 'org.admin')", details={"permission": "org.admin"}
        )
    return service.set_rules(session, principal, org_unit_id, body)


@router.get("/workforce/special-days", response_model=list[SpecialDayRead])
def list_special_days(
    session: DbSession, org_unit_id: OptionalId = None, principal: Principal = require("workforce.read")
) -> list[SpecialDayRead]:
    rows = service.list_special_days(session, principal, org_unit_id)
    return [SpecialDayRead.model_validate(r) for r in rows]


@router.post("/workforce/special-days", response_model=SpecialDayRead, status_code=201)
def add_special_day(
    body: SpecialDayIn, session: DbSession, principal: Principal = require("workforce.write", "org.admin")
) -> SpecialDayRead:
    return SpecialDayRead.model_validate(service.add_special_day(session, principal, body))


@router.delete("/workforce/special-days/{special_day_id}", status_code=204)
def delete_special_day(
    special_day_id: Id, session: DbSession, principal: Principal = require("workforce.write", "org.admin")
) -> None:
    service.delete_special_day(session, principal, special_day_id)


@router.post("/workforce/roster")
def build_roster(
    body: RosterIn, session: DbSession, principal: Principal = require("workforce.write")
) -> dict[str, Any]:
    return service.build_roster(session, principal, body)


@router.get("/workforce/roster")
def roster(
    session: DbSession,
    org_unit_id: QueryId,
    day: Annotated[date, Query(ge=FIRST_DAY, le=LAST_DAY)],
    tz: Annotated[str, Query(max_length=64)] = "UTC",
    principal: Principal = require("workforce.read"),
) -> dict[str, Any]:
    return service.roster_status(session, principal, org_unit_id, day, tz)
