"""Analytics in the console.

    GET  /console/wall            the supervisor wall (值班长大屏): live tiles per channel and queue (`?short=in`:
                                  the service level and abandonment variant that counts short abandons); the
                                  fragment `#wall-live` is re-fetched on the live stream's notices
                                  (`routing-queues`: agents and queues; `inbox`: contacts and tickets)
                                  and every 15 s (waits grow while nothing happens)
    GET  /console/reports         KPI report (daily by hour, weekly / monthly by day) of an org unit and a
                                  channel: table, SVG charts, complaint and resolution figures
    GET  /console/reports/export.csv | export.xlsx   the same report as a file (Chinese headers)
    GET  /console/reports/saved/{id}.csv | .xlsx     a report the schedule made (kefu/analytics/jobs.py)
    POST /console/wall/moves      apply a suggested move (the agent gets the queue; `routing.supervise`)
    GET  /console/reports/schedules, POST; POST /console/reports/schedules/{id}/delete   reports sent by
                                  e-mail: report (unit, channel, breakdown), recipients, cadence
    GET  /console/journeys/{customer}   one customer's contacts across channels (also a box on the ticket page)
    GET  /console/wall/alerts     the open alerts of the reader's subtree (red tiles; kefu/analytics/alerts.py),
                                  a fragment on every console page of a supervisor, re-read on `wall-alert`
    GET  /console/wall/thresholds, POST administrators (`analytics.admin`): where a tile's figures turn amber
                                  and red, per channel or queue, over the defaults of kefu/analytics/wall.py
The wall needs `analytics.wall`, reports `analytics.reports`; every figure is limited to the reader's org
subtree (a unit outside it is 404).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from kefu.analytics import charts, kpi, reports, service
from kefu.analytics import wall as colours
from kefu.core.auth import Principal
from kefu.core.clock import utcnow
from kefu.core.deps import DbSession, Id, is_id_text
from kefu.core.errors import Forbidden
from kefu.routing.views import MEDIA_NAMES, PRESENCE_NAMES
from kefu.web.i18n import translator
from kefu.web.render import VENDOR_DIR, CsrfProtect, PagePrincipal, is_htmx, render, request_locale

NAV = (("wall", "/console/wall", "analytics.wall", 45), ("reports", "/console/reports", "analytics.reports", 46))
router = APIRouter(include_in_schema=False)

CHANNEL_NAMES = reports.CHANNEL_NAMES


def _allowed(request: Request, principal: Principal, permission: str) -> None:
    if not principal.can(permission):
        raise Forbidden(translator(request_locale(request, principal))("error.forbidden"),
                        details={"permission": permission})


def names() -> dict[str, Any]:
    return {"channel_names": CHANNEL_NAMES, "media_names": MEDIA_NAMES, "presence_names": PRESENCE_NAMES,
            "rates": colours.RATES, "waits": colours.LONGEST_WAIT}


@router.get("/console/wall")
def wall_page(request: Request, session: DbSession, principal: PagePrincipal, theme: str = "",
              short: str = "out") -> HTMLResponse:
    from kefu.core.errors import InvalidInput

    _allowed(request, principal, "analytics.wall")
    if short not in ("in", "out"):
        raise InvalidInput("short is in (short abandons counted) or out (excluded)", code="invalid_variant")
    ctx = {"wall": service.wall(session, principal, now=utcnow(), exclude_short=short == "out"),
           "dark": theme == "dark", **names()}
    if is_htmx(request) and request.headers.get("HX-Target") == "wall-live":
        return render(request, "analytics/_wall_live.html", ctx)
    return render(request, "analytics/wall.html", ctx, active="wall")


@router.get("/console/wall/alerts")
def alerts_fragment(request: Request, session: DbSession, principal: PagePrincipal) -> HTMLResponse:
    """The open wall alerts of the reader's subtree (a fragment of every console page of a supervisor)."""
    from kefu.analytics import alerts
    from kefu.org import service as org

    _allowed(request, principal, "analytics.wall")
    units = org.list_units(session, principal)
    from kefu.routing import service as routing

    ctx = {"alerts": alerts.open_alerts(session, [u.id for u in units]), "unit_names": {u.id: u.name for u in units},
           "queue_names": {q.key: (q.name, q.name_en or q.name) for q in routing.queues(session, principal)},
           "metric_names": METRIC_NAMES, **names()}
    return render(request, "analytics/_alerts.html", ctx)


# ---- reports ------------------------------------------------------------------------------------------

def _report(request: Request, session: Any, principal: Principal, *,
            zh: bool = True) -> tuple[reports.Report, dict[str, Any]]:
    from datetime import date

    from kefu.core.errors import InvalidInput
    from kefu.interactions.models import CHANNELS
    from kefu.org import service as org

    _allowed(request, principal, "analytics.reports")
    q = request.query_params
    now = utcnow()
    period = q.get("period") or "day"
    if period not in reports.PERIODS:
        raise InvalidInput(f"period must be one of {', '.join(reports.PERIODS)}", code="invalid_period")
    day_text = q.get("day") or ""
    try:
        day = date.fromisoformat(day_text) if day_text else service.local_date(now)
    except ValueError:
        raise InvalidInput("day must be YYYY-MM-DD", code="invalid_date") from None
    channel = q.get("channel") or None
    if channel is not None and channel not in CHANNELS:
        raise InvalidInput(f"unknown channel {channel!r}", code="invalid_channel")
    by = q.get("by") or None
    if by is not None and by not in reports.BREAKDOWNS:
        raise InvalidInput(f"by must be one of {', '.join(reports.BREAKDOWNS)}", code="invalid_breakdown")
    units = org.list_units(session, principal)
    raw_unit = q.get("unit", "")
    unit = org.check_visible(session, principal, int(raw_unit)) if is_id_text(raw_unit) else (
        units[0] if units else org.org_unit(session, principal.org_unit_id))
    rep = reports.build(session, period=period, start=day, unit_id=unit.id,
                        unit_ids=org.subtree_ids(session, unit.path), channel=channel, now=now, by=by, zh=zh)
    from datetime import timedelta

    from kefu.sla import service as sla

    # the week the report starts in, over the queues the reader sees (routing's scope)
    rep.coverage = sla.coverage_report(session, principal, rep.first - timedelta(days=rep.first.weekday()))
    return rep, {"units": units, "unit": unit, "day": day, "channels": CHANNELS}


@router.get("/console/reports")
def reports_page(request: Request, session: DbSession, principal: PagePrincipal) -> HTMLResponse:
    from urllib.parse import urlencode

    from markupsafe import Markup

    from kefu.org import service as org

    zh = request_locale(request, principal).startswith("zh")
    rep, ctx = _report(request, session, principal, zh=zh)
    headers, rows = reports.table(rep, zh=zh)
    labels = [r.label for r in rep.rows]
    volume = charts.bars_and_line(
        labels, [r.tally.offered for r in rep.rows], [r.tally.service_level(20) for r in rep.rows],
        bar_name="呼入量" if zh else "Offered", line_name="20秒接通率" if zh else "20 s service level",
        target=0.8, title="呼入量与20秒接通率" if zh else "Offered and 20 s service level")
    abandon = charts.bars_and_line(
        labels, [r.tally.abandoned for r in rep.rows], [r.tally.abandonment() for r in rep.rows],
        bar_name="放弃量" if zh else "Abandoned", line_name="放弃率" if zh else "Abandonment",
        title="放弃量与放弃率" if zh else "Abandoned and abandonment rate")
    echarts: dict[str, Any] = {"labels": labels, "charts": {
        "volume": {"bar": "呼入量" if zh else "Offered", "line": "20秒接通率%" if zh else "20 s service level %",
                   "bars": [r.tally.offered for r in rep.rows], "target": 80,
                   "values": [reports.pct(r.tally.service_level(20)) for r in rep.rows]},
        "abandon": {"bar": "放弃量" if zh else "Abandoned", "line": "放弃率%" if zh else "Abandonment %",
                    "bars": [r.tally.abandoned for r in rep.rows], "target": None,
                    "values": [reports.pct(r.tally.abandonment()) for r in rep.rows]}}}
    part_headers, part_rows = reports.parts_table(rep, zh=zh)
    rec_headers, rec_rows = reports.recommendation_table(rep, zh=zh)
    handoff_headers, handoff_rows = reports.handoff_table(rep, zh=zh)
    coverage_headers, coverage_rows = reports.coverage_table(rep, zh=zh)
    table_charts: dict[str, Markup] = {}
    for key, spec in reports.table_charts(rep, zh=zh).items():  # the breakdown, handoffs, coverage
        table_charts[key] = Markup(charts.bars_and_line(
            spec["labels"], spec["bars"], [None if v is None else v / 100 for v in spec["values"]],
            bar_name=spec["bar"], line_name=spec["line"], target=None if spec["target"] is None
            else spec["target"] / 100, title=spec["title"]))
        echarts["charts"][key] = spec
    ctx.update({"report": rep, "headers": headers, "rows": rows, "summary": reports.summary(rep, zh=zh),
                "part_headers": part_headers, "part_rows": part_rows, "rec_headers": rec_headers,
                "rec_rows": rec_rows, "handoff_headers": handoff_headers, "handoff_rows": handoff_rows,
                "coverage_headers": coverage_headers, "coverage_rows": coverage_rows,
                "sections": reports.sections(rep, zh=zh),
                "breakdowns": reports.BREAKDOWN_NAMES,
                "title": reports.report_title(rep, ctx["unit"].name, zh=zh), "chart_volume": Markup(volume),
                "echarts": echarts, "echarts_installed": (VENDOR_DIR / "echarts.min.js").is_file(),
                "chart_abandon": Markup(abandon), "table_charts": table_charts, "periods": reports.PERIODS,
                "period_names": reports.PERIOD_NAMES, **names(),
                "saved": reports.saved(session, org.visible_unit_ids(session, principal)),
                "qs": urlencode({"period": rep.period, "day": ctx["day"].isoformat(), "unit": ctx["unit"].id,
                                 **({"channel": rep.channel} if rep.channel else {}),
                                 **({"by": rep.by} if rep.by else {})})})
    return render(request, "analytics/reports.html", ctx, active="reports")


@router.get("/console/reports/export.{fmt}")
def export(request: Request, fmt: str, session: DbSession, principal: PagePrincipal) -> Response:
    from urllib.parse import quote

    from kefu.core.errors import NotFound

    if fmt not in ("csv", "xlsx"):
        raise NotFound("no such export format")
    rep, ctx = _report(request, session, principal)
    title = reports.report_title(rep, ctx["unit"].name, zh=True)
    name = f"kefu-{rep.period}-{rep.first.isoformat()}.{fmt}"
    headers = {"Content-Disposition": f"attachment; filename={name}; filename*=UTF-8''{quote(name)}"}
    if fmt == "csv":
        return Response(reports.to_csv(rep), media_type="text/csv; charset=utf-8", headers=headers)
    return Response(reports.to_xlsx(rep, title=title), headers=headers,
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@router.get("/console/reports/saved/{report_id}.{fmt}")
def saved_report(request: Request, report_id: Id, fmt: str, session: DbSession,
                 principal: PagePrincipal) -> Response:
    from kefu.analytics.models import SavedReport
    from kefu.core.errors import NotFound
    from kefu.org import service as org

    _allowed(request, principal, "analytics.reports")
    row = session.get(SavedReport, report_id)
    if row is None or fmt not in ("csv", "xlsx") or row.org_unit_id not in org.visible_unit_ids(session, principal):
        raise NotFound("no such report")
    name = f"kefu-{row.period}-{row.first_day.isoformat()}-{row.org_unit_id}.{fmt}"
    headers = {"Content-Disposition": f"attachment; filename={name}"}
    if fmt == "csv":
        return Response(row.csv, media_type="text/csv; charset=utf-8", headers=headers)
    return Response(row.xlsx, headers=headers,
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


# ---- journeys -----------------------------------------------------------------------------------------

@router.get("/console/journeys/{customer_id}")
def journey_page(request: Request, customer_id: Id, session: DbSession, principal: PagePrincipal) -> HTMLResponse:
    """One customer's contacts across channels over time (404 outside the reader's scope)."""
    from kefu.analytics import journeys
    from kefu.customers import service as customers

    _allowed(request, principal, "analytics.reports")
    customer = customers.get_visible(session, principal, customer_id)
    steps = journeys.journey(session, customer.id)
    inbound = [s for s in steps if s.direction == "inbound"]
    ctx = {"customer": customer, "steps": steps, "contacts": len(inbound),
           "repeats": sum(s.repeat for s in inbound), "days": kpi.FCR_DAYS, **names()}
    return render(request, "analytics/journey.html", ctx, active="reports")


def ticket_panel(session: Any, principal: Principal, ticket: Any) -> tuple[str, dict[str, Any]] | None:
    """On a ticket of a known customer: the last contacts of their journey, for readers of reports."""
    from kefu.analytics import journeys

    if ticket.customer_id is None or not principal.can("analytics.reports"):
        return None
    steps = journeys.journey(session, ticket.customer_id)
    return "analytics/_journey_panel.html", {"customer_id": ticket.customer_id, "steps": steps[-8:],
                                             "total": len(steps), **names()}


# ---- thresholds (administrators) ----------------------------------------------------------------------

METRIC_NAMES = {"service_level": ("20秒接通率", "20 s service level"), "abandonment": ("放弃率", "Abandonment"),
                "answer_rate": ("接通率", "Answer rate"), "longest_wait": ("最长等待（秒）", "Longest wait (s)")}


def _thresholds_context(session: Any, **extra: Any) -> dict[str, Any]:
    from sqlalchemy import select

    from kefu.analytics.models import WallThreshold
    from kefu.interactions.models import CHANNELS
    from kefu.routing.models import RoutingQueue

    return {"rows": list(session.scalars(select(WallThreshold).order_by(WallThreshold.scope, WallThreshold.target,
                                                                        WallThreshold.metric))),
            "queues": list(session.scalars(select(RoutingQueue).order_by(RoutingQueue.position, RoutingQueue.key))),
            "channels": CHANNELS, "metric_names": METRIC_NAMES, "metrics": colours.METRICS, **names(), **extra}


@router.get("/console/wall/thresholds")
def thresholds_page(request: Request, session: DbSession, principal: PagePrincipal) -> HTMLResponse:
    _allowed(request, principal, "analytics.admin")
    return render(request, "analytics/thresholds.html", _thresholds_context(session), active="wall")


@router.post("/console/wall/thresholds", dependencies=[CsrfProtect])
async def save_threshold(request: Request, session: DbSession, principal: PagePrincipal) -> Response:
    from fastapi.responses import RedirectResponse

    from kefu.core.errors import InvalidInput

    _allowed(request, principal, "analytics.admin")
    form = await request.form()
    target = str(form.get("target", "") or "")
    scope, _, key = target.partition(":")
    metric = str(form.get("metric", "") or "")

    def num(name: str) -> float | None:
        raw = str(form.get(name, "") or "").strip()
        if not raw:
            return None
        try:
            value = float(raw)
        except ValueError:
            raise service.InvalidThreshold(f"{name}: not a number") from None
        return value if metric == "longest_wait" else value / 100.0  # rates are entered in %

    try:
        service.set_threshold(session, scope=scope, target=key, metric=metric, amber=num("amber"), red=num("red"),
                              at=utcnow())
    except InvalidInput as exc:
        session.rollback()
        return render(request, "analytics/thresholds.html", _thresholds_context(session, error=exc.message),
                      status_code=exc.status, active="wall")
    return RedirectResponse("/console/wall/thresholds", status_code=303)


@router.post("/console/wall/moves", dependencies=[CsrfProtect])
async def apply_move(request: Request, session: DbSession, principal: PagePrincipal) -> Response:
    """One click on a suggestion: add the queue to the agent's profile (routing applies it live)."""
    from fastapi.responses import RedirectResponse

    from kefu.core.errors import InvalidInput
    from kefu.routing import service as routing

    _allowed(request, principal, "analytics.wall")
    _allowed(request, principal, "routing.supervise")
    form = await request.form()
    raw, key = str(form.get("user_id", "") or ""), str(form.get("queue", "") or "")
    if not is_id_text(raw):
        raise InvalidInput("user_id: an agent's id", code="invalid_agent")
    routing.apply_move(session, principal, int(raw), key)
    return RedirectResponse("/console/wall", status_code=303)


# ---- reports by e-mail ----------------------------------------------------------------------------------

def _schedules_context(session: Any, principal: Principal, **extra: Any) -> dict[str, Any]:
    from kefu.analytics import mailing
    from kefu.interactions.models import CHANNELS
    from kefu.org import service as org

    rows = mailing.visible(session, principal)
    units = org.list_units(session, principal)
    unit_names = {u.id: u.name for u in units}
    return {"schedules": rows, "retries": mailing.retries(session, [r.id for r in rows]), "units": units,
            "unit_names": unit_names, "channels": CHANNELS,
            "cadences": mailing.CADENCES, "cadence_names": mailing.CADENCE_NAMES,
            "breakdowns": reports.BREAKDOWN_NAMES, **names(), **extra}


@router.get("/console/reports/schedules")
def schedules_page(request: Request, session: DbSession, principal: PagePrincipal) -> HTMLResponse:
    _allowed(request, principal, "analytics.reports")
    return render(request, "analytics/schedules.html", _schedules_context(session, principal), active="reports")


@router.post("/console/reports/schedules", dependencies=[CsrfProtect])
async def save_schedule(request: Request, session: DbSession, principal: PagePrincipal) -> Response:
    from fastapi.responses import RedirectResponse

    from kefu.analytics import mailing
    from kefu.core.errors import InvalidInput

    _allowed(request, principal, "analytics.reports")
    form = await request.form()

    def text(name: str) -> str:
        return str(form.get(name, "") or "").strip()

    try:
        if not is_id_text(text("unit")):
            raise mailing.InvalidSchedule("choose an org unit", details={"field": "unit"})
        mailing.create(session, principal, cadence=text("cadence"), unit_id=int(text("unit")),
                       channel=text("channel") or None, breakdown=text("by") or None,
                       recipients=text("recipients"), at=utcnow())
    except InvalidInput as exc:
        session.rollback()
        return render(request, "analytics/schedules.html",
                      _schedules_context(session, principal, error=exc.message, form=dict(form)),
                      status_code=exc.status, active="reports")
    return RedirectResponse("/console/reports/schedules", status_code=303)


@router.post("/console/reports/schedules/{schedule_id}/delete", dependencies=[CsrfProtect])
def delete_schedule(request: Request, schedule_id: Id, session: DbSession, principal: PagePrincipal) -> Response:
    from fastapi.responses import RedirectResponse

    from kefu.analytics import mailing

    _allowed(request, principal, "analytics.reports")
    mailing.delete(session, principal, schedule_id)
    return RedirectResponse("/console/reports/schedules", status_code=303)
