"""SLA over HTTP: policies, working calendars, a ticket's clocks and surveys, CSAT and 7×24 coverage.

    GET  /sla/policies, POST /sla/policies, PUT /sla/policies/{policy_id}          administrators (sla.admin)
    GET  /sla/calendars, POST /sla/calendars, GET|PUT /sla/calendars/{calendar_id}
    PUT  /sla/calendars/{calendar_id}/days/{day}                                   a local holiday / worked day
    GET  /tickets/{ticket_id}/sla                                                  the ticket's clocks
    GET  /tickets/{ticket_id}/surveys                                              its satisfaction callbacks
    POST /tickets/{ticket_id}/surveys/call                                         put it on the call list
    GET  /sla/call-tasks, POST /sla/call-tasks/{survey_id}                         survey calls to make, record one
    GET  /sla/followups?done=false&limit&offset, POST /sla/followups/{survey_id}  unsatisfied answers to follow up
    GET  /sla/csat?by=agent|channel|category|unit|queue|day&days=30                      CSAT of my subtree (sla.report)
    GET  /sla/coverage?week=YYYY-MM-DD                                             7×24 coverage per channel

Calendars belong to an org unit: one sees the calendars of one's subtree and of the units above it and changes
those of one's subtree (others are 404). Policies are operator-wide.
"""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from kefu.core.auth import Principal
from kefu.core.clock import utcnow
from kefu.core.deps import DbSession, Id, Paging, require
from kefu.org import service as org
from kefu.sla import service, surveys
from kefu.sla.models import SlaCalendar, SlaPolicy, SlaSurvey
from kefu.sla.schemas import (
    CalendarDayIn,
    CalendarDayRead,
    CalendarIn,
    CalendarRead,
    CallAnswerIn,
    ClockRead,
    CoverageRead,
    CsatReport,
    CsatRow,
    FollowUpIn,
    GapRead,
    PolicyIn,
    PolicyRead,
    SurveyPage,
    SurveyRead,
)
from kefu.tickets import service as tickets

router = APIRouter(tags=["sla"])


# ---- policies ------------------------------------------------------------------------------------------

@router.get("/sla/policies", response_model=list[PolicyRead])
def list_policies(session: DbSession, principal: Principal = require("sla.admin")) -> list[SlaPolicy]:
    """Every policy in the order they are tried (the first active one that matches a ticket applies)."""
    return service.list_policies(session)


def _save_policy(session: Session, principal: Principal, policy_id: int | None, body: PolicyIn) -> SlaPolicy:
    if body.calendar_id is not None:
        _calendar(session, principal, body.calendar_id)
    return service.save_policy(session, policy_id=policy_id, **body.model_dump())


@router.post("/sla/policies", response_model=PolicyRead, status_code=201)
def create_policy(body: PolicyIn, session: DbSession, principal: Principal = require("sla.admin")) -> SlaPolicy:
    """A policy: targets by ticket type, tier, channel and category, in business or calendar time."""
    return _save_policy(session, principal, None, body)


@router.get("/sla/policies/{policy_id}", response_model=PolicyRead)
def get_policy(policy_id: Id, session: DbSession, principal: Principal = require("sla.admin")) -> SlaPolicy:
    return service.get_policy(session, policy_id)


@router.put("/sla/policies/{policy_id}", response_model=PolicyRead)
def update_policy(policy_id: Id, body: PolicyIn, session: DbSession,
                  principal: Principal = require("sla.admin")) -> SlaPolicy:
    service.get_policy(session, policy_id)
    return _save_policy(session, principal, policy_id, body)


# ---- calendars -----------------------------------------------------------------------------------------

def _concerns(session: Session, principal: Principal, unit_id: int) -> bool:
    path = org.org_unit(session, unit_id).path
    return principal.sees_path(path) or principal.org_path.startswith(path)


def _calendar(session: Session, principal: Principal, calendar_id: int, *, write: bool = False) -> SlaCalendar:
    cal = session.get(SlaCalendar, calendar_id)
    unit = org.org_unit(session, cal.org_unit_id) if cal is not None else None
    if unit is None or not (principal.sees_path(unit.path) if write else _concerns(session, principal, unit.id)):
        raise service.CalendarNotFound(f"calendar {calendar_id} does not exist")
    return cal  # type: ignore[return-value]


def _calendar_read(session: Session, cal: SlaCalendar) -> CalendarRead:
    return CalendarRead.model_validate(cal).model_copy(update={
        "days": [CalendarDayRead.model_validate(d) for d in service.calendar_days(session, cal.id)]})


@router.get("/sla/calendars", response_model=list[CalendarRead])
def list_calendars(session: DbSession, principal: Principal = require("sla.admin")) -> list[CalendarRead]:
    """The working calendars of my branch (my subtree and the units above it), with their special days."""
    return [_calendar_read(session, c) for c in service.list_calendars(session)
            if _concerns(session, principal, c.org_unit_id)]


def _save_calendar(session: Session, principal: Principal, calendar_id: int | None, body: CalendarIn) -> SlaCalendar:
    unit = org.check_visible(session, principal, body.org_unit_id)
    return service.save_calendar(session, calendar_id=calendar_id, name=body.name,
                                 weekly=service.parse_week(body.weekly), zone=body.zone, statutory=body.statutory,
                                 org_unit_id=unit.id)


@router.post("/sla/calendars", response_model=CalendarRead, status_code=201)
def create_calendar(body: CalendarIn, session: DbSession, principal: Principal = require("sla.admin")) -> CalendarRead:
    """A working calendar of a unit of my subtree: weekly hours; public holidays and 调休 unless `statutory` is off."""
    return _calendar_read(session, _save_calendar(session, principal, None, body))


@router.get("/sla/calendars/{calendar_id}", response_model=CalendarRead)
def get_calendar(calendar_id: Id, session: DbSession, principal: Principal = require("sla.admin")) -> CalendarRead:
    return _calendar_read(session, _calendar(session, principal, calendar_id))


@router.put("/sla/calendars/{calendar_id}", response_model=CalendarRead)
def update_calendar(calendar_id: Id, body: CalendarIn, session: DbSession,
                    principal: Principal = require("sla.admin")) -> CalendarRead:
    _calendar(session, principal, calendar_id, write=True)
    return _calendar_read(session, _save_calendar(session, principal, calendar_id, body))


@router.put("/sla/calendars/{calendar_id}/days/{day}", response_model=CalendarRead)
def set_calendar_day(calendar_id: Id, day: date, body: CalendarDayIn, session: DbSession,
                     principal: Principal = require("sla.admin")) -> CalendarRead:
    """Mark a local holiday or a worked day (over the statutory schedule), or clear it (kind null)."""
    cal = _calendar(session, principal, calendar_id, write=True)
    service.set_day(session, cal.id, day, body.kind, body.name)
    return _calendar_read(session, cal)


# ---- a ticket's clocks and surveys --------------------------------------------------------------------

@router.get("/tickets/{ticket_id}/sla", response_model=list[ClockRead])
def ticket_clocks(ticket_id: Id, session: DbSession, principal: Principal = require("tickets.read")) -> list[ClockRead]:
    """The ticket's SLA clocks as they stand now: target, time used (business or calendar), due time, state."""
    tickets.get_visible(session, principal, ticket_id)
    return [ClockRead(metric=v.row.metric, policy_id=v.row.policy_id, policy_name=v.policy.name if v.policy else None,
                      status=v.state.status, target_seconds=v.row.target_seconds, used_seconds=v.state.used,
                      remaining_seconds=v.state.remaining, business_time=v.row.business_time,
                      started_at=v.row.started_at, due_at=v.state.due_at, legal_due_at=v.row.legal_due_at,
                      warned_at=v.row.warned_at, breached_at=v.row.breached_at)
            for v in service.ticket_clocks(session, ticket_id)]


@router.get("/tickets/{ticket_id}/surveys", response_model=list[SurveyRead])
def ticket_surveys(ticket_id: Id, session: DbSession,
                   principal: Principal = require("tickets.read")) -> list[SlaSurvey]:
    """The satisfaction callbacks (回访) sent for the ticket and their answers."""
    tickets.get_visible(session, principal, ticket_id)
    return surveys.of_ticket(session, ticket_id)


@router.post("/tickets/{ticket_id}/surveys/call", response_model=SurveyRead, status_code=201)
def ticket_call_survey(ticket_id: Id, session: DbSession,
                       principal: Principal = require("sla.callback")) -> SlaSurvey:
    """Put a resolved ticket on the survey call list (回访电话) instead of a message (409 `survey_not_due` when
    it had its survey or the customer had one within 7 days)."""
    tickets.get_visible(session, principal, ticket_id)
    return surveys.call_task(session, ticket_id)


@router.get("/sla/call-tasks", response_model=list[SurveyRead])
def call_tasks(session: DbSession, principal: Principal = require("sla.callback")) -> list[SlaSurvey]:
    """The survey calls still to make in my subtree, oldest first."""
    return surveys.call_tasks(session, org.visible_unit_ids(session, principal))


@router.post("/sla/call-tasks/{survey_id}", response_model=SurveyRead)
def record_call(survey_id: Id, body: CallAnswerIn, session: DbSession,
                principal: Principal = require("sla.callback")) -> SlaSurvey:
    """What the customer said on the call (an unsatisfied answer reopens the ticket), or null: no answer."""
    return surveys.record_call(session, surveys.visible_survey(session, principal, survey_id, channel="call"),
                               choice=body.choice, note=body.note)


@router.get("/sla/followups", response_model=SurveyPage)
def followups(session: DbSession, page: Paging, done: bool = False,
              principal: Principal = require("sla.followup")) -> SurveyPage:
    """The unsatisfied survey answers (1-2) of my subtree whose follow-up is open, oldest answer first
    (`done`: closed, the most recently closed first), a page at a time (`limit`, `offset`)."""
    rows, total = surveys.followup_page(session, org.visible_unit_ids(session, principal), done=done,
                                        limit=page.limit, offset=page.offset)
    return SurveyPage(items=[SurveyRead.model_validate(r) for r in rows], total=total, limit=page.limit,
                      offset=page.offset)


@router.post("/sla/followups/{survey_id}", response_model=SurveyRead)
def close_followup(survey_id: Id, body: FollowUpIn, session: DbSession,
                   principal: Principal = require("sla.followup")) -> SlaSurvey:
    """Close an unsatisfied answer's follow-up with what was done (409 when it has none open)."""
    return surveys.close_followup(session, surveys.visible_survey(session, principal, survey_id),
                                  actor_id=principal.user_id, note=body.note)


# ---- reports -------------------------------------------------------------------------------------------

@router.get("/sla/csat", response_model=CsatReport)
def csat(session: DbSession, by: str = Query("agent", pattern="^(agent|channel|category|unit|queue|day)$"),
         days: int = Query(30, ge=1, le=366), principal: Principal = require("sla.report")) -> CsatReport:
    """Satisfaction callbacks of my subtree over the last `days`: sent, answered, satisfied (4 or 5 of 5),
    CSAT (satisfied / answered), the mean score and response rate, per agent, channel, category, org unit or day."""
    until = utcnow()
    since = until - timedelta(days=days)
    rows = surveys.csat_by(session, by, since=since, until=until, unit_ids=org.visible_unit_ids(session, principal))
    return CsatReport(by=by, since=since, until=until, rows=[
        CsatRow(key=r.key, sent=r.sent, answered=r.answered, satisfied=r.satisfied, csat=r.csat,
                average=r.average, response_rate=r.response_rate) for r in rows])


@router.get("/sla/coverage", response_model=list[CoverageRead])
def coverage(session: DbSession, week: date | None = Query(None, description="a day of the week (Monday-based)"),
             principal: Principal = require("sla.report")) -> list[CoverageRead]:
    """The week's 7×24 coverage per channel by the queues of my branch and their service hours, with the gaps."""
    day = week or utcnow().date()
    monday = day - timedelta(days=day.weekday())
    return [CoverageRead(channel=key, queues=names, covered_hours=round(r.covered_seconds / 3600, 2),
                         ratio=round(r.ratio, 4), full=r.full, gaps=[GapRead(start=a, end=b) for a, b in r.gaps])
            for key, names, r in service.coverage_report(session, principal, monday)]


