"""Workforce rules: history, forecasts, plans, what-if and simulation for an org unit's calls.

The hard parts live in the pure modules (erlang, staffing, history, forecast, schedule, simulator); this
module reads the unit's call history (kefu.interactions.calls), stores saved plans and shift rules, and
turns results into plain dicts (JSON-ready: an infinite or undefined figure becomes None).
Services flush, never commit.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.core import events
from kefu.core.auth import Principal
from kefu.core.clock import ensure_aware, utcnow
from kefu.core.errors import NotFound
from kefu.interactions import calls as call_log
from kefu.org import service as org
from kefu.org.models import OrgUnit, User
from kefu.workforce import erlang, forecast, history, multiskill, roster, schedule, simulator, staffing
from kefu.workforce.errors import WorkforceInputError
from kefu.workforce.models import (
    WorkforceAgentState,
    WorkforcePlan,
    WorkforceRules,
    WorkforceShift,
    WorkforceSpecialDay,
)
from kefu.workforce.schemas import (
    MAX_HISTORY_DAYS,
    AgentAvailability,
    MultiSkillIn,
    PlanIn,
    RosterIn,
    RulesRead,
    RulesSpec,
    SimulateIn,
    SpecialDayIn,
    StaffingIn,
    WhatIfIn,
)


def num(value: float | None, digits: int = 6) -> float | None:
    """A finite float rounded for JSON; None for None, inf and NaN."""
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits)


def clock(index: int, interval_minutes: int) -> str:
    minutes = index * interval_minutes
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


# ---------------------------------------------------------------- scope


def unit_subtree(session: Session, principal: Principal, org_unit_id: int) -> list[int]:
    """The unit and every unit below it; NotFound outside the principal's scope."""
    unit = org.check_visible(session, principal, org_unit_id)
    return list(session.scalars(select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path))))


# ---------------------------------------------------------------- Erlang and staffing


def erlang_metrics(
    calls: float,
    interval_minutes: float,
    aht: float,
    agents: int,
    *,
    patience: float | None,
    target_time: float,
) -> dict[str, Any]:
    """Erlang C and (with a patience) Erlang A measures for one interval, side by side."""
    rate = erlang.arrival_rate_per_second(calls, interval_minutes * 60)
    c = erlang.erlang_c(agents, rate, aht, target_time)
    out: dict[str, Any] = {
        "load": num(c.load),
        "erlang_c": {
            "agents": agents,
            "p_wait": num(c.p_wait),
            "service_level": num(c.service_level),
            "asa": num(c.asa),
            "occupancy": num(c.occupancy),
        },
        "erlang_a": None,
    }
    if patience is not None:
        a = erlang.erlang_a(agents, rate, aht, patience, target_time, with_asa=True)
        out["erlang_a"] = {
            "agents": agents,
            "p_wait": num(a.p_wait),
            "service_level": num(a.service_level),
            "p_abandon": num(a.p_abandon),
            "answer_rate": num(1 - a.p_abandon),
            "asa": num(a.asa),
            "mean_wait": num(a.mean_wait),
            "occupancy": num(a.occupancy),
        }
    return out


def required_staff(body: StaffingIn) -> dict[str, Any]:
    """Fewest agents for the target under Erlang C and (with a patience) Erlang A, and with shrinkage."""
    rate = erlang.arrival_rate_per_second(body.calls, body.interval_minutes * 60)
    target = staffing.StaffingTarget(
        service_level=body.service_level,
        target_time=body.target_time,
        max_asa=body.max_asa,
        max_abandon=body.max_abandon,
    )
    if body.model == "a" and body.patience is None:
        raise WorkforceInputError(
            "model 'a' (Erlang A) needs a patience in seconds; give one or use model 'c'"
        )
    results: dict[str, Any] = {}
    target_c = staffing.StaffingTarget(
        service_level=body.service_level, target_time=body.target_time, max_asa=body.max_asa
    )
    if body.max_abandon is None or body.model == "c":
        c = staffing.required_agents(rate, body.aht, target_c)
        results["c"] = {
            "agents": c.agents,
            "service_level": num(c.metrics.service_level),
            "asa": num(c.metrics.asa),
            "occupancy": num(c.metrics.occupancy),
        }
    if body.patience is not None:
        a = staffing.required_agents(rate, body.aht, target, patience=body.patience)
        m = a.metrics
        assert isinstance(m, erlang.ErlangAMetrics)
        results["a"] = {
            "agents": a.agents,
            "service_level": num(m.service_level),
            "p_abandon": num(m.p_abandon),
            "occupancy": num(m.occupancy),
        }
    required = results[body.model]["agents"]
    return {
        "model": body.model,
        "load": num(rate * body.aht),
        "required": required,
        "scheduled": staffing.scheduled_agents(required, body.shrinkage),
        "shrinkage": body.shrinkage,
        "erlang_c": results.get("c"),
        "erlang_a": results.get("a"),
    }


# ---------------------------------------------------------------- history


def unit_history(
    session: Session,
    principal: Principal,
    *,
    org_unit_id: int,
    channel: str,
    first: date,
    last: date,
    tz: str,
) -> list[history.CallRecord]:
    ids = unit_subtree(session, principal, org_unit_id)
    start, end = call_log.local_day_bounds(first, last, tz)
    return call_log.call_history(session, org_unit_ids=ids, channel=channel, start=start, end=end, tz=tz)


def summarize_history(records: list[history.CallRecord], interval_minutes: int) -> dict[str, Any]:
    """Arrivals per interval, the handle-time fit and the patience fit (with Kaplan-Meier points)."""
    arrivals = history.arrivals_per_interval(records, interval_minutes)
    out: dict[str, Any] = {
        "calls": len(records),
        "offered": sum(sum(v) for v in arrivals.values()),
        "answered": sum(1 for r in records if r.answered),
        "abandoned": sum(1 for r in records if r.abandoned),
        "interval_minutes": interval_minutes,
        "days": [{"day": d.isoformat(), "arrivals": v} for d, v in arrivals.items()],
        "handle_time": None,
        "patience": None,
    }
    try:
        fit = history.handle_time_fit(records)
        out["handle_time"] = {
            "count": fit.count,
            "mean": num(fit.mean),
            "lognormal_mu": num(fit.lognormal_mu),
            "lognormal_sigma": num(fit.lognormal_sigma),
            "lognormal_mean": num(fit.lognormal_mean),
        }
    except WorkforceInputError:
        pass
    try:
        pf = history.patience_fit(history.patience_sample(records))
        step = max(1, len(pf.km_times) // 200)  # at most ~200 points for a chart
        km = [
            {"t": num(t), "survival": num(s)}
            for t, s in list(zip(pf.km_times, pf.km_survival, strict=True))[::step]
        ]
        out["patience"] = {
            "abandons": pf.abandons,
            "censored": pf.censored,
            "exposure": num(pf.exposure),
            "exponential_mean": num(pf.exponential_mean),
            "km": km,
        }
    except WorkforceInputError:
        pass
    return out


def history_summary(
    session: Session,
    principal: Principal,
    *,
    org_unit_id: int,
    channel: str,
    first: date,
    last: date,
    interval_minutes: int = 30,
    tz: str = "UTC",
) -> dict[str, Any]:
    if last < first:
        raise WorkforceInputError("the end day comes before the start day")
    if (last - first).days >= MAX_HISTORY_DAYS:
        raise WorkforceInputError(f"at most {MAX_HISTORY_DAYS} days of history are summarised at once")
    records = unit_history(
        session, principal, org_unit_id=org_unit_id, channel=channel, first=first, last=last, tz=tz
    )
    return {
        "org_unit_id": org_unit_id,
        "channel": channel,
        "start": first.isoformat(),
        "end": last.isoformat(),
        "tz": tz,
        **summarize_history(records, interval_minutes),
    }


def last_call_day(
    session: Session, principal: Principal, org_unit_id: int, channel: str, tz: str
) -> date | None:
    """The local day of the unit's newest call, if any."""
    latest = call_log.last_offered_at(
        session, org_unit_ids=unit_subtree(session, principal, org_unit_id), channel=channel
    )
    return latest.astimezone(call_log.zone(tz)).date() if latest is not None else None


# ---------------------------------------------------------------- forecast


#: Weeks of a unit's history the console and API forecast from (the candidates' longest window and more).
FORECAST_HISTORY_WEEKS = 16


def special_days(country: str, days: Iterable[date]) -> dict[date, str]:
    """Public holidays of ``country`` over the years of ``days``, with their eves and the days after, and its
    calendar's observances, by kind."""
    years = sorted({d.year for d in days})
    if not years:
        return {}
    observances = forecast.public_holidays(country, years, category="optional")
    return forecast.special_kinds(forecast.public_holidays(country, years), observances)


@dataclass(frozen=True, slots=True)
class Entered:
    """Special days an administrator entered for a unit: kind and stated factor per day."""

    kinds: dict[date, str]
    effects: dict[date, float]


NO_ENTERED = Entered({}, {})


def entered_days(session: Session, org_unit_id: int, first: date, last: date) -> Entered:
    """The special days entered for the unit or any unit above it that touch ``first``..``last``, day by
    day. Where two entries share a day the nearer unit's wins (a city's own day over its province's,
    whatever the order they were entered in); between two entries of the same unit, the later one."""
    unit = session.get(OrgUnit, org_unit_id)
    if unit is None:
        return NO_ENTERED
    ancestors = [int(p) for p in unit.path.strip("/").split("/") if p] or [org_unit_id]
    if org_unit_id not in ancestors:
        ancestors.append(org_unit_id)
    depth = {uid: k for k, uid in enumerate(ancestors)}  # the root first, the unit itself last
    found = session.scalars(
        select(WorkforceSpecialDay).where(
            WorkforceSpecialDay.org_unit_id.in_(ancestors),
            WorkforceSpecialDay.first_day <= last,
            WorkforceSpecialDay.last_day >= first,
        )
    )
    # applied farthest first, so that nearer (and, within a unit, later) entries overwrite
    rows = sorted(found, key=lambda r: (depth[r.org_unit_id], r.id))
    kinds: dict[date, str] = {}
    effects: dict[date, float] = {}
    for row in rows:
        d = max(row.first_day, first)
        while d <= min(row.last_day, last):
            kinds[d] = row.kind
            if row.effect_pct is None:
                effects.pop(d, None)
            else:
                effects[d] = max(0.0, 1 + row.effect_pct / 100)
            d += timedelta(days=1)
    return Entered(kinds, effects)


def chosen_forecast(
    past: forecast.History, wanted: list[date], country: str, entered: Entered = NO_ENTERED
) -> tuple[forecast.Forecast, forecast.Blend]:
    """The second-pass forecaster on a unit's own history: the quick candidates compared by weekly
    rolling-origin backtests on ``past`` only, the blend of the best forecasting ``wanted`` with the
    country's holidays and the days an administrator entered (too little history to compare: the
    default model)."""
    special = {**special_days(country, [*past, *wanted]), **entered.kinds}
    models = chosen_blend(past, special, entered)
    return forecast.blended(models, special, entered.effects)(past, wanted), models


def chosen_blend(
    past: forecast.History, special: forecast.SpecialDays, entered: Entered = NO_ENTERED
) -> forecast.Blend:
    """The blend of the quick candidates best in weekly rolling-origin backtests on ``past`` only (too
    little history to compare: the default model)."""
    try:
        models, _, _ = forecast.choose_blend(
            past, special, entered.effects, backtest_weeks=4, candidates=forecast.QUICK_CANDIDATES
        )
    except WorkforceInputError:
        models = ((forecast.ModelConfig(), 1.0),)
    return models


def forecast_days(
    session: Session,
    principal: Principal,
    *,
    org_unit_id: int,
    channel: str,
    start_day: date,
    days: int,
    interval_minutes: int = 30,
    tz: str = "UTC",
    history_weeks: int = FORECAST_HISTORY_WEEKS,
    holdout_days: int = 7,
    country: str = "CN",
) -> dict[str, Any]:
    """The chosen model's, the 8-week same-weekday mean's (the baseline to beat) and the seasonal naive's
    forecasts of the coming days; on the last ``holdout_days`` history days, the WAPE of each; actuals
    where the days have passed.

    One model choice serves both: the blend is chosen on the history before the held-out days (so that
    their score is an honest one), and the same blend forecasts the coming days from all the history
    (the choice is the slow part; without held-out days it is made on all the history)."""
    first = start_day - timedelta(weeks=history_weeks)
    records = unit_history(
        session,
        principal,
        org_unit_id=org_unit_id,
        channel=channel,
        first=first,
        last=start_day + timedelta(days=days - 1),
        tz=tz,
    )
    counts = history.arrivals_per_interval(records, interval_minutes)
    past = {d: v for d, v in counts.items() if d < start_day}
    if not past:
        raise WorkforceInputError(f"no call history in the {history_weeks} weeks before {start_day}")
    wanted = [start_day + timedelta(days=k) for k in range(days)]
    entered = entered_days(session, org_unit_id, first, wanted[-1])
    special = {**special_days(country, [*past, *wanted]), **entered.kinds}
    ordered = sorted(past)
    test = ordered[-holdout_days:] if len(ordered) > holdout_days else []
    if not any(sum(past[d]) for d in test):
        test = []  # nothing to score: the model is chosen on all the history
    model = chosen_blend({d: v for d, v in past.items() if not test or d < test[0]}, special, entered)
    predicted = forecast.blended(model, special, entered.effects)(past, wanted)
    baseline = forecast.same_weekday_mean(past, wanted)
    naive = forecast.seasonal_naive(past, wanted)
    score = None
    if test:
        wapes = forecast.rolling_scores(
            past,
            test,
            {
                "model": forecast.blended(model, special, entered.effects),
                "baseline": forecast.same_weekday_mean,
                "naive": forecast.seasonal_naive,
            },
        )
        score = {
            "days": len(test),
            "model": forecast.describe_blend(model),
            "model_wape": num(wapes["model"]),
            "baseline_wape": num(wapes["baseline"]),
            "naive_wape": num(wapes["naive"]),
        }
    return {
        "org_unit_id": org_unit_id,
        "channel": channel,
        "interval_minutes": interval_minutes,
        "tz": tz,
        "country": country,
        "model": forecast.describe_blend(model),
        "history_days": len(past),
        "holdout": score,
        "days": [
            {
                "day": d.isoformat(),
                "forecast": [num(v, 3) for v in predicted[d]],
                "baseline": [num(v, 3) for v in baseline[d]],
                "naive": [num(v, 3) for v in naive[d]],
                "actual": counts.get(d),
            }
            for d in wanted
        ],
    }


def list_special_days(
    session: Session, principal: Principal, org_unit_id: int | None = None
) -> list[WorkforceSpecialDay]:
    """The special days of the units the principal sees (of one unit when given), newest first."""
    units = unit_subtree(session, principal, org_unit_id) if org_unit_id else org.visible_unit_ids(session, principal)
    return list(
        session.scalars(
            select(WorkforceSpecialDay)
            .where(WorkforceSpecialDay.org_unit_id.in_(units))
            .order_by(WorkforceSpecialDay.first_day.desc(), WorkforceSpecialDay.id.desc())
        )
    )


def add_special_day(session: Session, principal: Principal, body: SpecialDayIn) -> WorkforceSpecialDay:
    """Mark days for the forecast of a unit; event workforce.special_day_added."""
    org.check_visible(session, principal, body.org_unit_id)
    row = WorkforceSpecialDay(
        org_unit_id=body.org_unit_id,
        name=body.name.strip(),
        kind=body.kind,
        first_day=body.first_day,
        last_day=body.last_day or body.first_day,
        effect_pct=body.effect_pct,
        created_by=principal.user_id or None,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    events.record(
        session,
        "workforce.special_day_added",
        {"name": row.name, "kind": row.kind, "first_day": row.first_day.isoformat(),
         "last_day": row.last_day.isoformat(), "effect_pct": row.effect_pct},
        aggregate_type="workforce_special_day",
        aggregate_id=row.id,
        org_unit_id=row.org_unit_id,
    )
    return row


def delete_special_day(session: Session, principal: Principal, special_day_id: int) -> None:
    """Remove marked days (NotFound outside the principal's units); event workforce.special_day_removed."""
    row = session.get(WorkforceSpecialDay, special_day_id)
    if row is None or row.org_unit_id not in org.visible_unit_ids(session, principal):
        raise NotFound(f"special day {special_day_id} not found", code="special_day_not_found")
    events.record(
        session,
        "workforce.special_day_removed",
        {"name": row.name, "kind": row.kind},
        aggregate_type="workforce_special_day",
        aggregate_id=row.id,
        org_unit_id=row.org_unit_id,
    )
    session.delete(row)
    session.flush()


# ---------------------------------------------------------------- rules


def default_rules() -> RulesSpec:
    return RulesSpec()


def effective_rules(session: Session, org_unit_id: int) -> RulesRead:
    """The nearest stored rules on the unit's path up to the root, else the built-in default."""
    unit = session.get(OrgUnit, org_unit_id)
    if unit is None:
        raise NotFound(f"org unit {org_unit_id} not found", code="org_unit_not_found")
    ancestors = [int(p) for p in unit.path.strip("/").split("/") if p]
    rows = {
        r.org_unit_id: r
        for r in session.scalars(select(WorkforceRules).where(WorkforceRules.org_unit_id.in_(ancestors)))
    }
    for uid in reversed(ancestors):
        if uid in rows:
            return RulesRead(
                **RulesSpec.model_validate(rows[uid].rules).model_dump(),
                org_unit_id=org_unit_id,
                source_org_unit_id=uid,
            )
    return RulesRead(**default_rules().model_dump(), org_unit_id=org_unit_id, source_org_unit_id=None)


def set_rules(session: Session, principal: Principal, org_unit_id: int, spec: RulesSpec) -> RulesRead:
    """Store the unit's shift rules (checked on their grid first); event workforce.rules_changed."""
    org.check_visible(session, principal, org_unit_id)
    to_shift_rules(spec, 30 if all(m % 30 == 0 for m in _minutes(spec)) else 15)
    row = session.scalar(select(WorkforceRules).where(WorkforceRules.org_unit_id == org_unit_id))
    if row is None:
        row = WorkforceRules(org_unit_id=org_unit_id)
        session.add(row)
    row.rules = spec.model_dump()
    row.updated_by = principal.user_id or None
    row.updated_at = utcnow()
    session.flush()
    events.record(
        session,
        "workforce.rules_changed",
        {"rules": row.rules},
        aggregate_type="workforce_rules",
        aggregate_id=row.id,
        org_unit_id=org_unit_id,
    )
    return effective_rules(session, org_unit_id)


def _minutes(spec: RulesSpec) -> list[int]:
    return [
        *spec.shift_minutes,
        spec.start_every_minutes,
        spec.break_minutes,
        spec.break_earliest_minutes,
        spec.break_latest_minutes,
    ]


def to_shift_rules(spec: RulesSpec, interval_minutes: int) -> schedule.ShiftRules:
    """Minutes -> intervals; every duration must be a whole number of intervals."""
    for name, value in (
        ("shift_minutes", min(spec.shift_minutes)),
        ("start_every_minutes", spec.start_every_minutes),
    ):
        if value <= 0:
            raise WorkforceInputError(f"{name} must be > 0 minutes, got {value}")
    for value in _minutes(spec):
        if value < 0 or value % interval_minutes:
            raise WorkforceInputError(
                f"shift rule durations must be whole multiples of the {interval_minutes}-"
                f"minute interval, got {value} minutes"
            )
    if spec.break_minutes and spec.break_latest_minutes < spec.break_earliest_minutes:
        raise WorkforceInputError("break_latest_minutes comes before break_earliest_minutes")
    if spec.min_hours > spec.max_hours:
        raise WorkforceInputError("min_hours exceeds max_hours")
    if spec.max_agents is not None and spec.max_agents < 0:
        raise WorkforceInputError("max_agents must be >= 0")
    return schedule.ShiftRules(
        interval_minutes=interval_minutes,
        shift_lengths=sorted({m // interval_minutes for m in spec.shift_minutes}),
        start_step=spec.start_every_minutes // interval_minutes,
        break_length=spec.break_minutes // interval_minutes,
        break_earliest=spec.break_earliest_minutes // interval_minutes,
        break_latest=spec.break_latest_minutes // interval_minutes,
        min_hours=spec.min_hours,
        max_hours=spec.max_hours,
        max_agents=spec.max_agents,
    )


# ---------------------------------------------------------------- plans


@dataclass(frozen=True, slots=True)
class Workload:
    calls: list[float]
    actual: list[int] | None
    aht: float
    patience: float | None
    source: str  # "inputs" or "history"
    history_days: int = 0


def workload_for(session: Session, principal: Principal, body: PlanIn) -> Workload:
    """The day's calls per interval: as given, or forecast by the chosen model from the unit's history."""
    per_day = 24 * 60 // body.interval_minutes
    if body.calls is not None:
        if len(body.calls) != per_day:
            raise WorkforceInputError(
                f"calls must have {per_day} entries ({body.interval_minutes}-minute "
                f"intervals of a day), got {len(body.calls)}"
            )
        if body.aht is None:
            raise WorkforceInputError("give aht (seconds) with the calls")
        unit_subtree(session, principal, body.org_unit_id)
        return Workload(list(body.calls), None, body.aht, body.patience, "inputs")
    records = unit_history(
        session,
        principal,
        org_unit_id=body.org_unit_id,
        channel=body.channel,
        first=body.day - timedelta(weeks=FORECAST_HISTORY_WEEKS),
        last=body.day,
        tz=body.tz,
    )
    before = [r for r in records if r.day < body.day]
    counts = history.arrivals_per_interval(before, body.interval_minutes)
    if not counts:
        raise WorkforceInputError(
            f"no call history in the {FORECAST_HISTORY_WEEKS} weeks before {body.day}: "
            "import a call log or give calls per interval"
        )
    entered = entered_days(session, body.org_unit_id, body.day - timedelta(weeks=FORECAST_HISTORY_WEEKS), body.day)
    predicted = chosen_forecast(counts, [body.day], body.country, entered)[0][body.day]
    actual = history.arrivals_per_interval([r for r in records if r.day == body.day], body.interval_minutes)
    aht = body.aht if body.aht is not None else history.handle_time_fit(before).mean
    patience = body.patience
    if patience is None:
        try:
            patience = history.patience_fit(history.patience_sample(before)).exponential_mean
        except WorkforceInputError:
            patience = None
    return Workload(predicted, actual.get(body.day), aht, patience, "history", len(counts))


def compute_plan(session: Session, principal: Principal, body: PlanIn) -> dict[str, Any]:
    """Forecast -> required agents (Erlang A and C side by side) -> CP-SAT shifts -> coverage report."""
    work = workload_for(session, principal, body)
    spec = body.rules or RulesSpec.model_validate(
        effective_rules(session, body.org_unit_id).model_dump(exclude={"org_unit_id", "source_org_unit_id"})
    )
    return plan_from_workload(work, body, spec)


def plan_from_workload(work: Workload, body: PlanIn, spec: RulesSpec) -> dict[str, Any]:
    erlang.check_fraction("service_level target", body.service_level)
    if not (body.volume_scale >= 0 and math.isfinite(body.volume_scale)):
        raise WorkforceInputError(f"volume_scale must be >= 0, got {body.volume_scale!r}")
    erlang.check_positive("aht_scale", body.aht_scale)
    erlang.check_positive("aht", work.aht)
    if body.patience is not None:
        erlang.check_positive("patience", body.patience)
    patience = work.patience
    if patience is None:
        raise WorkforceInputError(
            "patience unknown: the history has no abandoned call; give patience (seconds)"
        )
    if any(not (math.isfinite(c) and c >= 0) for c in work.calls):
        raise WorkforceInputError("calls per interval must be finite numbers >= 0")
    if not (math.isfinite(body.shrinkage) and 0 <= body.shrinkage < 1):
        raise WorkforceInputError(f"shrinkage must lie in [0, 1), got {body.shrinkage!r}")
    rules = to_shift_rules(spec, body.interval_minutes)
    seconds = body.interval_minutes * 60
    aht = work.aht * body.aht_scale
    calls = [c * body.volume_scale for c in work.calls]
    workload = [(c, aht) for c in calls]
    target = staffing.StaffingTarget(service_level=body.service_level, target_time=body.target_time)
    required_a = staffing.staff_day(workload, seconds, target, patience=patience)
    required_c = staffing.staff_day(workload, seconds, target)
    required = required_a if body.model == "a" else required_c
    rostered = [staffing.scheduled_agents(r, body.shrinkage) for r in required]
    built = schedule.build_schedule(rostered, rules, time_limit=body.time_limit, workers=2)
    shrink = Fraction(repr(float(body.shrinkage)))  # exact, as staffing.scheduled_agents reads it
    available = [math.floor(c * (1 - shrink)) for c in built.coverage]  # on shift and not lost to shrinkage
    report = schedule.coverage_report(
        workload, seconds, required, available, patience=patience, target_time=body.target_time
    )
    im = body.interval_minutes
    intervals = [
        {
            "start": clock(i, im),
            "calls": num(calls[i], 3),
            "forecast": num(work.calls[i], 3),
            "actual": work.actual[i] if work.actual is not None else None,
            "required_a": required_a[i],
            "required_c": required_c[i],
            "required": required[i],
            "rostered": rostered[i],
            "scheduled": built.coverage[i],
            "available": available[i],
            "service_level": num(row.service_level),
            "answer_rate": num(row.answer_rate),
            "abandon_rate": num(row.abandon_rate),
        }
        for i, row in enumerate(report.intervals)
    ]
    shifts = [
        {
            "start": clock(sh.start, im),
            "end": clock(sh.start + sh.length, im),
            "break_start": clock(sh.break_start, im) if sh.break_start is not None else None,
            "break_end": clock(sh.break_start + sh.break_length, im) if sh.break_start is not None else None,
            "paid_hours": num(sh.length * im / 60, 2),
            "agents": sh.agents,
        }
        for sh in sorted(built.shifts, key=lambda s: (s.start, s.length, s.break_start or 0))
    ]
    return {
        "day": body.day.isoformat(),
        "org_unit_id": body.org_unit_id,
        "channel": body.channel,
        "interval_minutes": im,
        "model": body.model,
        "source": work.source,
        "history_days": work.history_days,
        "service_level_target": body.service_level,
        "target_time": body.target_time,
        "aht": num(aht, 3),
        "patience": num(patience, 3),
        "shrinkage": body.shrinkage,
        "volume_scale": body.volume_scale,
        "aht_scale": body.aht_scale,
        "rules": spec.model_dump(),
        "intervals": intervals,
        "shifts": shifts,
        "summary": {
            "calls": num(report.calls, 3),
            "service_level": num(report.service_level),
            "answer_rate": num(report.answer_rate),
            "abandon_rate": num(report.abandon_rate),
            "required_agent_hours_a": num(sum(required_a) * im / 60, 2),
            "required_agent_hours_c": num(sum(required_c) * im / 60, 2),
            "paid_hours": num(built.paid_intervals * im / 60, 2),
            "agents": sum(sh.agents for sh in built.shifts),
            "under_intervals": sum(1 for u in built.under if u > 0),
            "solver_status": built.status,
        },
    }


def what_if(session: Session, principal: Principal, body: WhatIfIn) -> dict[str, Any]:
    """The plan as given, and the same plan with volume scaled, another AHT and/or another SL target."""
    work = workload_for(session, principal, body)
    spec = body.rules or RulesSpec.model_validate(
        effective_rules(session, body.org_unit_id).model_dump(exclude={"org_unit_id", "source_org_unit_id"})
    )
    base = plan_from_workload(work, body, spec)
    return {"base": base, "scenario": plan_from_workload(work, scenario_of(body, work), spec)}


def scenario_of(body: WhatIfIn, work: Workload) -> PlanIn:
    """The plan with the what-if applied: volume scaled, another AHT, another SL target."""
    erlang.check_positive("what_if_volume_scale", body.what_if_volume_scale)
    if body.what_if_aht is not None:
        erlang.check_positive("what_if_aht", body.what_if_aht)
    return body.model_copy(
        update={
            "volume_scale": body.volume_scale * body.what_if_volume_scale,
            "aht_scale": body.aht_scale
            * (body.what_if_aht / work.aht if body.what_if_aht is not None else 1.0),
            "service_level": body.what_if_service_level
            if body.what_if_service_level is not None
            else body.service_level,
        }
    )


def save_what_if(session: Session, principal: Principal, body: WhatIfIn) -> WorkforcePlan:
    """Save the scenario of a what-if (the plan itself when nothing is changed)."""
    return save_plan(session, principal, scenario_of(body, workload_for(session, principal, body)))


def save_plan(session: Session, principal: Principal, body: PlanIn) -> WorkforcePlan:
    result = compute_plan(session, principal, body)
    plan = WorkforcePlan(
        name=body.name or f"{body.day} {body.channel}",
        org_unit_id=body.org_unit_id,
        channel=body.channel,
        day=body.day,
        interval_minutes=body.interval_minutes,
        inputs=body.model_dump(mode="json"),
        result=result,
        created_by=principal.user_id or None,
        created_at=utcnow(),
    )
    session.add(plan)
    session.flush()
    events.record(
        session,
        "workforce.plan_saved",
        {
            "name": plan.name,
            "day": plan.day.isoformat(),
            "channel": plan.channel,
            "service_level": result["summary"]["service_level"],
            "agents": result["summary"]["agents"],
        },
        aggregate_type="workforce_plan",
        aggregate_id=plan.id,
        org_unit_id=plan.org_unit_id,
    )
    return plan


def list_plans(
    session: Session, principal: Principal, *, limit: int, offset: int, org_unit_id: int | None = None
) -> tuple[list[WorkforcePlan], int]:
    ids = org.visible_unit_ids(session, principal)
    if org_unit_id is not None:
        ids = unit_subtree(session, principal, org_unit_id)
    where = WorkforcePlan.org_unit_id.in_(ids)
    total = session.scalar(select(func.count()).select_from(WorkforcePlan).where(where)) or 0
    rows = session.scalars(
        select(WorkforcePlan)
        .where(where)
        .order_by(WorkforcePlan.day.desc(), WorkforcePlan.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows), total


def get_plan(session: Session, principal: Principal, plan_id: int) -> WorkforcePlan:
    plan = session.get(WorkforcePlan, plan_id)
    if plan is None or plan.org_unit_id not in set(org.visible_unit_ids(session, principal)):
        raise NotFound(f"plan {plan_id} not found", code="workforce_plan_not_found")
    return plan


# ---------------------------------------------------------------- simulation


def simulate(session: Session | None, principal: Principal | None, body: SimulateIn) -> dict[str, Any]:
    """Replications of a day (Poisson arrivals, exponential service and patience) with 95 % CIs."""
    calls, agents = body.calls, body.agents
    interval_minutes, aht, patience = body.interval_minutes, body.aht, body.patience
    if body.plan_id is not None:
        assert session is not None
        assert principal is not None
        plan = get_plan(session, principal, body.plan_id)
        rows = plan.result["intervals"]
        calls = [float(r["calls"] or 0) for r in rows]
        agents = [int(r["available"]) for r in rows]
        interval_minutes = plan.interval_minutes
        aht = aht or plan.result["aht"]
        patience = patience or plan.result["patience"]
    if calls is None or agents is None or aht is None:
        raise WorkforceInputError("give plan_id, or calls, agents and aht")
    if len(calls) != len(agents):
        raise WorkforceInputError(
            f"calls and agents need one entry per interval ({len(calls)} vs {len(agents)})"
        )
    erlang.check_positive("aht", aht)
    erlang.check_positive("interval_minutes", interval_minutes)
    if patience is not None:
        erlang.check_positive("patience", patience)
    if not calls or any(not (math.isfinite(c) and c >= 0) for c in calls) or sum(calls) <= 0:
        raise WorkforceInputError("calls per interval must be finite numbers >= 0, with some calls")
    if sum(calls) * body.replications > 5_000_000:
        raise WorkforceInputError("too much to simulate: calls x replications must stay under 5,000,000")
    seconds = interval_minutes * 60
    classes = [simulator.CallClass("calls", simulator.ServiceTime(aht), patience)]
    staff = simulator.Staffing(list(agents), seconds)
    rates = [[c / seconds for c in calls]]

    def make(rng: np.random.Generator) -> simulator.Calls:
        return simulator.poisson_arrivals(rng, classes, rates, seconds)

    s = simulator.replicate(
        make, staff, classes, replications=body.replications, seed=body.seed, target_time=body.target_time
    )

    def est(e: simulator.Estimate) -> dict[str, float | None]:
        return {"mean": num(e.mean), "low": num(e.low), "high": num(e.high)}

    return {
        "replications": s.replications,
        "target_time": body.target_time,
        "aht": aht,
        "patience": patience,
        "arrived": est(s.arrived),
        "served": est(s.served),
        "abandoned": est(s.abandoned),
        "service_level": est(s.service_level),
        "service_level_g1": est(s.service_level_g1),
        "answer_rate": est(s.answer_rate),
        "speed_of_answer": est(s.speed_of_answer),
        "mean_wait": est(s.mean_wait),
        "occupancy": est(s.occupancy),
    }


# ---------------------------------------------------------------- several skills and channels


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def multiskill_plan(session: Session, principal: Principal, body: MultiSkillIn) -> dict[str, Any]:
    """Agents needed per skill and channel and interval (voice and chat by Erlang, e-mail by its backlog
    deadline), and whether the named agents on shift, each serving one of their own skills at a time, cover
    every queue in every interval; the shortfall where they cannot."""
    units = unit_subtree(session, principal, body.org_unit_id)
    skill_rows = {s.id: s for s in org.skills(session)}
    unknown = sorted({d.skill_id for d in body.demands} - set(skill_rows))
    if unknown:
        raise WorkforceInputError(f"no skill with id {', '.join(map(str, unknown))}")
    if body.agent_ids is None:
        people = [u for u in org.users_in_units(session, units) if u.active and u.role == "agent"]
    else:
        found = org.users(session, body.agent_ids)
        outside = sorted(i for i in set(body.agent_ids) if i not in found or found[i].org_unit_id not in units)
        if outside:
            raise WorkforceInputError(f"no agent with id {', '.join(map(str, outside))} in this unit")
        people = sorted(found.values(), key=lambda u: (u.display_name, u.id))
    wanted = {d.skill_id for d in body.demands}
    people = [u for u in people if wanted & {us.skill_id for us in u.skills}]
    seconds = body.interval_minutes * 60
    demands = [
        multiskill.Demand(
            skill=skill_rows[d.skill_id].key,
            channel=d.channel,
            volumes=d.volumes,
            aht=d.aht,
            target=None if d.channel == "email" else staffing.StaffingTarget(
                service_level=d.service_level, target_time=d.target_time
            ),
            patience=d.patience,
            concurrency=d.concurrency,
            answer_within=d.answer_within,
        )
        for d in body.demands
    ]
    required = multiskill.required_by_demand(demands, seconds)
    channels = {d.skill_id: [x.channel for x in body.demands if x.skill_id == d.skill_id] for d in body.demands}
    # An agent serves one queue (skill on channel) at a time, any queue of a skill they hold.
    can_serve = {
        str(u.id): frozenset(
            f"{skill_rows[us.skill_id].key}/{c}"
            for us in u.skills
            if us.skill_id in wanted
            for c in channels[us.skill_id]
        )
        for u in people
    }
    intervals = len(body.demands[0].volumes)
    coverage: list[dict[str, Any]] = []
    memo: dict[tuple[tuple[str, int], ...], multiskill.Coverage] = {}
    for i in range(intervals):
        need = {f"{skill}/{channel}": n[i] for (skill, channel), n in required.items() if n[i] > 0}
        key = tuple(sorted(need.items()))
        if key not in memo:
            memo[key] = multiskill.cover(need, can_serve)
        result = memo[key]
        coverage.append(
            {
                "interval": i,
                "start": _clock(i * body.interval_minutes),
                "required": sum(need.values()),
                "assigned": len(result.assigned),
                "shortfall": dict(sorted(result.shortfall.items())),
            }
        )
    return {
        "org_unit_id": body.org_unit_id,
        "interval_minutes": body.interval_minutes,
        "intervals": intervals,
        "demands": [
            {
                "skill_id": d.skill_id,
                "skill": skill_rows[d.skill_id].key,
                "skill_name": skill_rows[d.skill_id].name,
                "skill_name_en": skill_rows[d.skill_id].name_en,
                "channel": d.channel,
                "required": required[(skill_rows[d.skill_id].key, d.channel)],
                "peak": max(required[(skill_rows[d.skill_id].key, d.channel)]),
            }
            for d in body.demands
        ],
        "agents": [
            {
                "id": u.id,
                "name": u.display_name,
                "skills": sorted(skill_rows[us.skill_id].key for us in u.skills if us.skill_id in skill_rows),
            }
            for u in people
        ],
        "coverage": coverage,
        "summary": {
            "peak_required": max(c["required"] for c in coverage),
            "agents": len(people),
            "intervals_short": sum(1 for c in coverage if c["shortfall"]),
            "shortfall_agent_intervals": sum(sum(c["shortfall"].values()) for c in coverage),
        },
    }


# ---------------------------------------------------------------- named agents' roster and adherence


def _minute(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _day_start(day: date, tz: str) -> datetime:
    return call_log.local_day_bounds(day, day, tz)[0].astimezone(UTC)


def unit_agents(session: Session, principal: Principal, org_unit_id: int) -> list[User]:
    """The active agents of the unit and the units below it, by name."""
    units = unit_subtree(session, principal, org_unit_id)
    people = [u for u in org.users_in_units(session, units) if u.active and u.role == "agent"]
    return sorted(people, key=lambda u: (u.display_name, u.id))


def build_roster(session: Session, principal: Principal, body: RosterIn) -> dict[str, Any]:
    """The day's plan (forecast -> required agents -> CP-SAT shifts), then its shifts given to named agents
    (kefu.workforce.roster.assign) within their hours and rest; replaces the unit's roster of that day.
    Event workforce.roster_built."""
    plan = compute_plan(session, principal, body)
    people = {u.id: u for u in unit_agents(session, principal, body.org_unit_id)}
    wanted = body.agents if body.agents is not None else [AgentAvailability(user_id=uid) for uid in people]
    for a in wanted:
        if a.user_id not in people:
            raise WorkforceInputError(f"user {a.user_id} is no active agent of this unit")
    # an agent works at most one shift a day: one already on another unit's roster that day (a province's
    # roster takes its cities' agents, a city's its own) is refused when named, left out otherwise
    elsewhere = {
        uid: unit_id
        for uid, unit_id in session.execute(
            select(WorkforceShift.user_id, WorkforceShift.org_unit_id).where(
                WorkforceShift.user_id.in_([a.user_id for a in wanted]),
                WorkforceShift.day == body.day,
                WorkforceShift.org_unit_id != body.org_unit_id,
            )
        )
        if uid is not None
    }
    if body.agents is not None:
        for a in body.agents:
            if a.user_id in elsewhere:
                raise WorkforceInputError(
                    f"user {a.user_id} already has a shift on {body.day.isoformat()} "
                    f"in unit {elsewhere[a.user_id]}"
                )
    wanted = [a for a in wanted if a.user_id not in elsewhere]
    start = _day_start(body.day, body.tz)
    rest = timedelta(hours=body.min_rest_hours)
    previous: dict[int, datetime] = {}
    for row in session.scalars(
        select(WorkforceShift).where(
            WorkforceShift.user_id.in_([a.user_id for a in wanted]),
            WorkforceShift.day < body.day,
            WorkforceShift.end_at > start - rest,
        )
    ):
        assert row.user_id is not None
        end = ensure_aware(row.end_at)
        previous[row.user_id] = max(previous.get(row.user_id, end), end)
    availability = [
        roster.Availability(
            a.user_id,
            _minute(a.earliest_start) if a.earliest_start else None,
            _minute(a.latest_end) if a.latest_end else None,
            math.ceil((previous[a.user_id] + rest - start).total_seconds() / 60) if a.user_id in previous else None,
        )
        for a in wanted
    ]
    seats = roster.seats_of(
        [
            (
                roster.Seat(
                    _minute(sh["start"]),
                    _minute(sh["end"]),
                    _minute(sh["break_start"]) if sh["break_start"] else None,
                    _minute(sh["break_end"]) if sh["break_end"] else None,
                ),
                int(sh["agents"]),
            )
            for sh in plan["shifts"]
        ]
    )
    result = roster.assign(seats, availability)
    org.check_visible(session, principal, body.org_unit_id)
    for old in session.scalars(
        select(WorkforceShift).where(WorkforceShift.org_unit_id == body.org_unit_id, WorkforceShift.day == body.day)
    ):
        session.delete(old)
    now = utcnow()

    def at(minute: int | None) -> datetime | None:
        return None if minute is None else start + timedelta(minutes=minute)

    rows = [(uid, seat) for uid, seat in result.assigned] + [(None, seat) for seat in result.open]
    for uid, seat in rows:
        session.add(
            WorkforceShift(
                org_unit_id=body.org_unit_id,
                day=body.day,
                user_id=uid,
                start_at=at(seat.start),
                end_at=at(seat.end),
                break_start_at=at(seat.break_start),
                break_end_at=at(seat.break_end),
                created_by=principal.user_id or None,
                created_at=now,
            )
        )
    session.flush()
    events.record(
        session,
        "workforce.roster_built",
        {"day": body.day.isoformat(), "assigned": len(result.assigned), "open": len(result.open)},
        aggregate_type="org_unit",
        aggregate_id=body.org_unit_id,
        org_unit_id=body.org_unit_id,
    )
    out = roster_status(session, principal, body.org_unit_id, body.day, body.tz, now=now)
    out["plan_summary"] = plan["summary"]
    return out


def roster_status(
    session: Session, principal: Principal, org_unit_id: int, day: date, tz: str, *, now: datetime | None = None
) -> dict[str, Any]:
    """The unit's roster of ``day`` (and its sub-units') with each named agent's adherence up to ``now``,
    from the presence changes routing reported."""
    now = now or utcnow()
    units = unit_subtree(session, principal, org_unit_id)
    shifts = list(
        session.scalars(
            select(WorkforceShift)
            .where(WorkforceShift.org_unit_id.in_(units), WorkforceShift.day == day)
            .order_by(WorkforceShift.start_at, WorkforceShift.id)
        )
    )
    ids = sorted({s.user_id for s in shifts if s.user_id is not None})
    states: dict[int, list[tuple[datetime, str]]] = {uid: [] for uid in ids}
    if shifts and ids:
        first = min(ensure_aware(s.start_at) for s in shifts)
        last = max(ensure_aware(s.end_at) for s in shifts)
        # the state each agent was in at the first start, then every change until the last end
        for uid in ids:
            before = session.execute(
                select(WorkforceAgentState.at, WorkforceAgentState.presence)
                .where(WorkforceAgentState.user_id == uid, WorkforceAgentState.at <= first)
                .order_by(WorkforceAgentState.at.desc(), WorkforceAgentState.id.desc())
                .limit(1)
            ).first()
            if before is not None:
                states[uid].append((ensure_aware(before[0]), before[1]))
        for at, uid, presence in session.execute(
            select(WorkforceAgentState.at, WorkforceAgentState.user_id, WorkforceAgentState.presence)
            .where(WorkforceAgentState.user_id.in_(ids), WorkforceAgentState.at > first,
                   WorkforceAgentState.at < last)
            .order_by(WorkforceAgentState.at, WorkforceAgentState.id)
        ):
            states[uid].append((ensure_aware(at), presence))
    names = org.users(session, ids)
    zone = call_log.zone(tz)

    def local(t: datetime | None) -> str | None:
        return None if t is None else ensure_aware(t).astimezone(zone).strftime("%H:%M")

    rows = []
    measured: dict[int, roster.Adherence] = {}
    for s in shifts:
        planned = roster.Planned(
            ensure_aware(s.start_at),
            ensure_aware(s.end_at),
            ensure_aware(s.break_start_at) if s.break_start_at else None,
            ensure_aware(s.break_end_at) if s.break_end_at else None,
        )
        adh = roster.adherence(planned, states[s.user_id], now) if s.user_id is not None else None
        if adh is not None:
            measured[s.id] = adh
        rows.append(
            {
                "id": s.id,
                "user_id": s.user_id,
                "agent": names[s.user_id].display_name if s.user_id in names else None,
                "start": local(s.start_at),
                "end": local(s.end_at),
                "break_start": local(s.break_start_at),
                "break_end": local(s.break_end_at),
                "adherence": num(adh.share, 4) if adh else None,
                "scheduled_minutes": num(adh.scheduled_seconds / 60, 2) if adh else None,
                "adherent_minutes": num(adh.adherent_seconds / 60, 2) if adh else None,
                "presence": adh.presence if adh else None,
                "in_adherence_now": adh.in_adherence_now if adh else None,
            }
        )
    return {
        "org_unit_id": org_unit_id,
        "day": day.isoformat(),
        "tz": tz,
        "shifts": rows,
        "assigned": sum(1 for r in rows if r["user_id"] is not None),
        "open": sum(1 for r in rows if r["user_id"] is None),
        "adherence": num(roster.team_adherence(measured), 4),
    }
