"""Consults and expert teams over HTTP.

    POST /tickets/{ticket_id}/consults        ask several addressees at once (one consult each)
    GET  /tickets/{ticket_id}/consults        the ticket's consults
    POST /tickets/{ticket_id}/customer-notices tell the customer the state of the coordinated handling
    GET  /tickets/{ticket_id}/customer-notices what the customer was told, and what may be told now
    GET  /collab/notice-templates, PUT /collab/notice-templates/{state}   the text per state (administrators)
    GET  /consults/mine                       consults addressed to me (待支撑), open first by due time
    GET  /consults/comparison                 time to resolution: consults vs step-by-step reassignment
    GET  /consults/{consult_id}               one consult
    POST /consults/{consult_id}/answer        an addressee answers
    POST /consults/{consult_id}/notes         a note on its shared timeline (the 会诊's)
    POST /consults/{consult_id}/accept        the owner takes the answer (done)
    POST /consults/{consult_id}/cancel        the owner withdraws it
    POST /consults/{consult_id}/article       an accepted conclusion becomes a knowledge article draft
    GET  /expert-teams, POST /expert-teams, PUT /expert-teams/{team_id}
    GET  /expert-directory?domain=&region=    experts with their load and presence, available first
    POST /suggestions, GET /suggestions (mine, or ?review=true: my departments'), GET /suggestions/{id},
    POST /suggestions/{suggestion_id}/status
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from kefu.collaboration import directory, service
from kefu.collaboration import suggestions as suggestions_service
from kefu.collaboration.models import Consult
from kefu.collaboration.schemas import (
    AnswerIn,
    ComparisonRead,
    ConsultArticleIn,
    ConsultArticleRead,
    ConsultList,
    ConsultMeasuresRead,
    ConsultRead,
    ConsultsIn,
    CustomerNoticeIn,
    CustomerNoticeRead,
    CustomerNoticesRead,
    ExpertRead,
    MemberRead,
    NoteIn,
    NoteRead,
    NoticeTemplateIn,
    SuggestionChangeRead,
    SuggestionIn,
    SuggestionRead,
    SuggestionStatusIn,
    TeamIn,
    TeamRead,
    ToldRead,
)
from kefu.core.auth import Principal
from kefu.core.clock import utcnow
from kefu.core.deps import DbSession, Id, Paging, require
from kefu.org import service as org

router = APIRouter(tags=["collaboration"])


def consult_reads(session: Session, consults: list[Consult]) -> list[ConsultRead]:
    names = service.target_names(session, consults)
    notes = service.notes(session, [c.id for c in consults])
    now = utcnow()
    return [ConsultRead.model_validate(c).model_copy(update={
        "target_name": names[c.id][0], "overdue": service.is_overdue(c, now),
        "notes": [NoteRead.model_validate(n) for n in notes[c.id]]}) for c in consults]


@router.post("/tickets/{ticket_id}/consults", response_model=list[ConsultRead], status_code=201)
def request_consults(ticket_id: Id, body: ConsultsIn, session: DbSession,
                     principal: Principal = require("collab.consult")) -> list[ConsultRead]:
    """Pull several roles, departments, expert teams or named experts into the case at once; the ticket
    stays its owner's."""
    targets = [service.Target(t.kind, id=t.id, role=t.role) if t.kind != "role"
               else service.Target("role", role=t.role) for t in body.targets]
    for t in targets:
        if t.kind not in ("unit", "role", "team", "user") or (t.kind != "role" and t.id is None):
            raise service.InvalidConsult(f"not an addressee: {t}", details={"field": "targets"})
    return consult_reads(session, service.request_consults(session, principal, ticket_id, targets=targets,
                                                           question=body.question, due_minutes=body.due_minutes))


@router.get("/tickets/{ticket_id}/consults", response_model=list[ConsultRead])
def ticket_consults(ticket_id: Id, session: DbSession,
                    principal: Principal = require("tickets.read")) -> list[ConsultRead]:
    """The consults of a ticket, oldest first."""
    return consult_reads(session, service.for_ticket(session, principal, ticket_id))


@router.post("/tickets/{ticket_id}/customer-notices", response_model=CustomerNoticeRead, status_code=201)
def tell_customer(ticket_id: Id, body: CustomerNoticeIn, session: DbSession,
                  principal: Principal = require("collab.consult")) -> CustomerNoticeRead:
    """Tell the ticket's customer the state of the coordinated handling ("consulting": the departments are
    looking into it; "concluded": there is a conclusion) on the channel they used (SMS for callers)."""
    msg = service.tell_customer(session, principal, ticket_id, body.state)
    return CustomerNoticeRead(ticket_id=ticket_id, state=body.state, message_id=msg.id, channel=msg.channel,
                              body=msg.body)


@router.get("/tickets/{ticket_id}/customer-notices", response_model=CustomerNoticesRead)
def customer_notices(ticket_id: Id, session: DbSession,
                     principal: Principal = require("tickets.read")) -> CustomerNoticesRead:
    """What the ticket's customer was told of the coordinated handling, and the states that may be told now."""
    from kefu.tickets import service as tickets

    ticket = tickets.get_visible(session, principal, ticket_id)
    return CustomerNoticesRead(told=[ToldRead.model_validate(n) for n in service.customer_notices(session, ticket.id)],
                               tellable=list(service.tellable(session, ticket)))


@router.get("/collab/notice-templates", response_model=dict[str, str])
def notice_templates(session: DbSession, principal: Principal = require("collab.consult")) -> dict[str, str]:
    """The text told to customers for each state ({ticket}: the ticket number)."""
    return service.notice_templates(session)


@router.put("/collab/notice-templates/{state}", response_model=dict[str, str])
def save_notice_template(state: str, body: NoticeTemplateIn, session: DbSession,
                         principal: Principal = require("collab.admin", group_level=True)) -> dict[str, str]:
    """An administrator of the group sets a state's text (operator-wide; empty: back to the built-in one)."""
    return service.save_notice_template(session, principal, state[:16], body.body)


@router.get("/consults/mine", response_model=ConsultList)
def my_consults(session: DbSession, page: Paging, all: bool = Query(False, description="include closed ones"),
                principal: Principal = require("collab.answer")) -> ConsultList:
    """The consults addressed to me, to my department, role or teams: open ones first, by due time."""
    rows, total = service.mine(session, principal, live_only=not all, limit=page.limit, offset=page.offset)
    return ConsultList(items=consult_reads(session, rows), total=total, limit=page.limit, offset=page.offset)


@router.get("/consults/measures", response_model=ConsultMeasuresRead)
def consult_measures(session: DbSession, days: int = Query(30, ge=1, le=366),
                     principal: Principal = require("tickets.read")) -> ConsultMeasuresRead:
    """Consults of my branch over the last `days`: asked, answered, overdue, per ticket, answer time."""
    m = service.measures(session, principal, since=utcnow() - timedelta(days=days))
    return ConsultMeasuresRead.model_validate(m)


@router.get("/consults/comparison", response_model=ComparisonRead)
def handling_comparison(session: DbSession, days: int = Query(90, ge=1, le=366),
                        principal: Principal = require("tickets.read")) -> ComparisonRead:
    """Networked vs linear handling: time to resolution of my branch's tickets resolved in the last `days` with
    consults, against those handed on step by step (reassigned or transferred, no consult) and those handled by
    one person alone; `median_ratio` < 1 means consults resolve faster."""
    now = utcnow()
    c = service.handling_comparison(session, principal, since=now - timedelta(days=days), until=now)
    return ComparisonRead.model_validate(c, from_attributes=True)


@router.get("/consults/{consult_id}", response_model=ConsultRead)
def get_consult(consult_id: Id, session: DbSession, principal: Principal = require("tickets.read")) -> ConsultRead:
    return consult_reads(session, [service.get_visible(session, principal, consult_id)])[0]


@router.post("/consults/{consult_id}/answer", response_model=ConsultRead)
def answer_consult(consult_id: Id, body: AnswerIn, session: DbSession,
                   principal: Principal = require("collab.answer")) -> ConsultRead:
    """Answer a consult addressed to me (409 when it is answered or closed already)."""
    return consult_reads(session, [service.answer(session, principal, consult_id, body.answer)])[0]


@router.post("/consults/{consult_id}/notes", response_model=ConsultRead, status_code=201)
def note_consult(consult_id: Id, body: NoteIn, session: DbSession,
                 principal: Principal = require("tickets.read")) -> ConsultRead:
    """Add a note to the consult's shared timeline (whoever asked, the owner, an addressee; 409 once closed)."""
    service.add_note(session, principal, consult_id, body.body)
    return consult_reads(session, [service.get_visible(session, principal, consult_id)])[0]


@router.get("/expert-directory", response_model=list[ExpertRead])
def expert_directory(session: DbSession, domain: str | None = None, region: int | None = None,
                     principal: Principal = require("tickets.read")) -> list[ExpertRead]:
    """The experts of active teams (optionally of a domain, in a region's subtree): available first, then the
    least loaded."""
    path = org.org_unit(session, region).path if region is not None else None
    return [ExpertRead(**{**asdict(e), "domains": list(e.domains), "teams": list(e.teams)})
            for e in directory.experts(session, domain=domain, unit_path=path)]


@router.post("/consults/{consult_id}/accept", response_model=ConsultRead)
def accept_consult(consult_id: Id, session: DbSession,
                   principal: Principal = require("collab.consult")) -> ConsultRead:
    """The owner takes the answer; the consult is done."""
    return consult_reads(session, [service.accept(session, principal, consult_id)])[0]


@router.post("/consults/{consult_id}/cancel", response_model=ConsultRead)
def cancel_consult(consult_id: Id, session: DbSession,
                   principal: Principal = require("collab.consult")) -> ConsultRead:
    """The owner withdraws a consult that is no longer needed."""
    return consult_reads(session, [service.cancel(session, principal, consult_id)])[0]


@router.post("/consults/{consult_id}/article", response_model=ConsultArticleRead, status_code=201)
def consult_to_article(consult_id: Id, session: DbSession, body: ConsultArticleIn | None = None,
                       principal: Principal = require("knowledge.write")) -> ConsultArticleRead:
    """Draft a knowledge article from an accepted consult's question and answer (once; 409 afterwards)."""
    body = body or ConsultArticleIn()
    a = service.to_article(session, principal, consult_id, kind=body.kind, department=body.department)
    return ConsultArticleRead(consult_id=consult_id, article_id=a.id, status=a.status, title=a.title)


# ---- expert teams ----------------------------------------------------------------------------------

def team_read(session: Session, team_id: int) -> TeamRead:
    t = service.team(session, team_id)
    ms = service.members(session, [t.id])[t.id]
    return TeamRead.model_validate(t).model_copy(update={"members": [
        MemberRead(user_id=u.id, display_name=u.display_name, org_unit_id=u.org_unit_id, lead=lead)
        for u, lead in ms]})


@router.get("/expert-teams", response_model=list[TeamRead])
def list_teams(session: DbSession, principal: Principal = require("tickets.read")) -> list[TeamRead]:
    """Every expert team (operator-wide: teams cross regions) with its members."""
    return [team_read(session, t.id) for t in service.teams(session)]


def _spec(body: TeamIn) -> service.TeamSpec:
    return service.TeamSpec(key=body.key, name=body.name, name_en=body.name_en, domain=body.domain,
                            description=body.description, member_ids=tuple(body.member_ids),
                            lead_ids=tuple(body.lead_ids), active=body.active)


@router.post("/expert-teams", response_model=TeamRead, status_code=201)
def create_team(body: TeamIn, session: DbSession,
                principal: Principal = require("collab.admin", group_level=True)) -> TeamRead:
    return team_read(session, service.save_team(session, _spec(body)).id)


@router.put("/expert-teams/{team_id}", response_model=TeamRead)
def update_team(team_id: Id, body: TeamIn, session: DbSession,
                principal: Principal = require("collab.admin", group_level=True)) -> TeamRead:
    return team_read(session, service.save_team(session, _spec(body), team_id=team_id).id)


# ---- frontline suggestions -------------------------------------------------------------------------

def suggestion_read(session: Session, suggestion_id: int) -> SuggestionRead:
    from kefu.collaboration.models import Suggestion

    s = session.get(Suggestion, suggestion_id)
    assert s is not None
    return SuggestionRead.model_validate(s).model_copy(update={"history": [
        SuggestionChangeRead.model_validate(h) for h in suggestions_service.history(session, s.id)]})


@router.post("/suggestions", response_model=SuggestionRead, status_code=201)
def submit_suggestion(body: SuggestionIn, session: DbSession,
                      principal: Principal = require("collab.suggest")) -> SuggestionRead:
    """Report a problem or propose an improvement to a back-office department."""
    s = suggestions_service.submit(session, principal, kind=body.kind, topic=body.topic, title=body.title,
                                   body=body.body, owner_unit_id=body.owner_unit_id, ticket_id=body.ticket_id)
    return suggestion_read(session, s.id)


@router.get("/suggestions", response_model=list[SuggestionRead])
def list_suggestions(session: DbSession, review: bool = Query(False, description="my departments' open ones"),
                     principal: Principal = require("collab.suggest")) -> list[SuggestionRead]:
    rows = (suggestions_service.to_review(session, principal) if review
            else suggestions_service.mine(session, principal))
    return [suggestion_read(session, s.id) for s in rows]


@router.get("/suggestions/{suggestion_id}", response_model=SuggestionRead)
def get_suggestion(suggestion_id: Id, session: DbSession,
                   principal: Principal = require("collab.suggest")) -> SuggestionRead:
    return suggestion_read(session, suggestions_service.get_visible(session, principal, suggestion_id).id)


@router.post("/suggestions/{suggestion_id}/status", response_model=SuggestionRead)
def change_suggestion(suggestion_id: Id, body: SuggestionStatusIn, session: DbSession,
                      principal: Principal = require("collab.review")) -> SuggestionRead:
    """Accept, reject (with a reason), start, finish, or merge into a duplicate; the submitter is told."""
    s = suggestions_service.change_status(session, principal, suggestion_id, body.to, reason=body.reason,
                                          merge_into_id=body.merge_into_id)
    return suggestion_read(session, s.id)
