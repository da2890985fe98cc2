"""Playbooks over HTTP.

    GET  /playbooks, POST /playbooks, PUT /playbooks/{playbook_id}      definitions (administrators)
    POST /playbooks/{playbook_id}/runs                                  activate by hand (duty managers)
    GET  /playbook-runs, GET /playbook-runs/{run_id}                    runs with steps, timeline, measures
    POST /playbook-runs/{run_id}/steps/{step_id}/done                   a step's owner completes (or skips) it
    POST /playbook-runs/{run_id}/notices                                tell the affected customers
    POST /playbook-runs/{run_id}/switches                               IVR announcement / queue overflow / extra
                                                                        queues on or off
    POST /playbook-runs/{run_id}/faq-push                               push the playbook's FAQ to the front line
    POST /playbook-runs/{run_id}/roles                                  incident commander, communications, support lead
    POST /playbook-runs/{run_id}/tickets                                link a ticket to an active run
    POST /playbook-runs/{run_id}/end                                    deactivate, with the review
"""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from kefu.core.auth import Principal
from kefu.core.deps import DbSession, Id, require
from kefu.playbooks import service
from kefu.playbooks.models import Playbook, PlaybookRun
from kefu.playbooks.schemas import (
    EndIn,
    LinkIn,
    LinkRead,
    LogRead,
    MeasuresRead,
    NoticeIn,
    NoticeRead,
    PlaybookIn,
    PlaybookRead,
    PushRead,
    RoleIn,
    RunRead,
    RunStepRead,
    StartIn,
    StepDoneIn,
    StepRead,
    SwitchIn,
    ToldRead,
)

router = APIRouter(tags=["playbooks"])


def playbook_read(session: Session, p: Playbook) -> PlaybookRead:
    return PlaybookRead.model_validate(p).model_copy(update={
        "steps": [StepRead.model_validate(s) for s in service.steps_of(session, p.id)]})


def run_read(session: Session, r: PlaybookRun) -> RunRead:
    return RunRead.model_validate(r).model_copy(update={
        "steps": [RunStepRead.model_validate(s) for s in service.run_steps(session, r.id)],
        "timeline": [LogRead.model_validate(e) for e in service.timeline(session, r.id)],
        "tickets": [LinkRead.model_validate(x) for x in service.linked_tickets(session, r.id)],
        "told": [ToldRead.model_validate(x) for x in service.told(session, r.id)],
        "measures": MeasuresRead.model_validate(service.measures(session, r))})


def _spec(body: PlaybookIn) -> service.PlaybookSpec:
    return service.PlaybookSpec(
        key=body.key, name=body.name, name_en=body.name_en, description=body.description, trigger=body.trigger,
        category_id=body.category_id, org_unit_id=body.org_unit_id, min_count=body.min_count,
        notice_template=body.notice_template, active=body.active, ivr_text=body.ivr_text,
        overflow_from=body.overflow_from, overflow_to=body.overflow_to, keywords=tuple(body.keywords),
        window_minutes=body.window_minutes, staff_ids=tuple(body.staff_ids),
        script_article_ids=tuple(body.script_article_ids), faq_article_id=body.faq_article_id,
        budget_yuan=body.budget_yuan, extra_queues=tuple(body.extra_queues), restore_template=body.restore_template,
        steps=tuple(service.StepSpec(s.title, s.owner_role, s.due_minutes, s.owner_user_id) for s in body.steps))


@router.get("/playbooks", response_model=list[PlaybookRead])
def list_playbooks(session: DbSession, principal: Principal = require("playbooks.read")) -> list[PlaybookRead]:
    return [playbook_read(session, p) for p in service.playbooks(session, principal)]


@router.post("/playbooks", response_model=PlaybookRead, status_code=201)
def create_playbook(body: PlaybookIn, session: DbSession,
                    principal: Principal = require("playbooks.admin")) -> PlaybookRead:
    return playbook_read(session, service.save_playbook(session, principal, _spec(body)))


@router.put("/playbooks/{playbook_id}", response_model=PlaybookRead)
def update_playbook(playbook_id: Id, body: PlaybookIn, session: DbSession,
                    principal: Principal = require("playbooks.admin")) -> PlaybookRead:
    return playbook_read(session, service.save_playbook(session, principal, _spec(body), playbook_id=playbook_id))


@router.post("/playbooks/{playbook_id}/runs", response_model=RunRead, status_code=201)
def start_run(playbook_id: Id, body: StartIn, session: DbSession,
              principal: Principal = require("playbooks.run")) -> RunRead:
    """Activate a playbook by hand (409 when it is running already)."""
    return run_read(session, service.start(session, principal, playbook_id, org_unit_id=body.org_unit_id,
                                           category_id=body.category_id))


@router.get("/playbook-runs", response_model=list[RunRead])
def list_runs(session: DbSession, principal: Principal = require("playbooks.read")) -> list[RunRead]:
    return [run_read(session, r) for r in service.runs(session, principal)]


@router.get("/playbook-runs/{run_id}", response_model=RunRead)
def get_run(run_id: Id, session: DbSession, principal: Principal = require("playbooks.read")) -> RunRead:
    return run_read(session, service.run(session, principal, run_id))


@router.post("/playbook-runs/{run_id}/steps/{step_id}/done", response_model=RunRead)
def step_done(run_id: Id, step_id: Id, body: StepDoneIn, session: DbSession,
              principal: Principal = require("playbooks.read")) -> RunRead:
    service.complete_step(session, principal, run_id, step_id, skip=body.skip, note=body.note)
    return run_read(session, service.run(session, principal, run_id))


@router.post("/playbook-runs/{run_id}/notices", response_model=NoticeRead)
def send_notices(run_id: Id, body: NoticeIn, session: DbSession,
                 principal: Principal = require("playbooks.run")) -> NoticeRead:
    """Tell the affected customers not yet told of this state (the fault, its restoration), each on the channel
    they used (SMS for callers)."""
    return NoticeRead(messages=len(service.notify_customers(session, principal, run_id, body.body, state=body.state)))


@router.post("/playbook-runs/{run_id}/faq-push", response_model=PushRead, status_code=201)
def push_faq(run_id: Id, session: DbSession, principal: Principal = require("playbooks.run")) -> PushRead:
    """Push the playbook's FAQ (and its first script) to the agents of the run's unit, once (409 again)."""
    return PushRead(topic_id=service.push_faq(session, principal, run_id))


@router.post("/playbook-runs/{run_id}/switches", response_model=RunRead)
def throw_switch(run_id: Id, body: SwitchIn, session: DbSession,
                 principal: Principal = require("playbooks.run")) -> RunRead:
    """One action: announce on the IVR, or overflow the playbook's queue into its other queue at once (on), or
    undo it (off); 409 when the playbook has no such switch or it is in that position already."""
    return run_read(session, service.switch(session, principal, run_id, body.switch, on=body.on))


@router.post("/playbook-runs/{run_id}/roles", response_model=RunRead)
def set_role(run_id: Id, body: RoleIn, session: DbSession, principal: Principal = require("playbooks.run")) -> RunRead:
    """Name the incident commander, the communications lead or the support lead of a run (null clears it)."""
    return run_read(session, service.set_role(session, principal, run_id, body.role, body.user_id))


@router.post("/playbook-runs/{run_id}/tickets", response_model=LinkRead, status_code=201)
def link_ticket(run_id: Id, body: LinkIn, session: DbSession,
                principal: Principal = require("playbooks.read")) -> LinkRead:
    """Link a ticket the caller sees to an active run (409 when it is linked already)."""
    return LinkRead.model_validate(service.link_ticket(session, principal, run_id, body.ticket_id))


@router.post("/playbook-runs/{run_id}/end", response_model=RunRead)
def end_run(run_id: Id, body: EndIn, session: DbSession, principal: Principal = require("playbooks.run")) -> RunRead:
    """Deactivate; with tell_restored the affected customers are told the fault is over (each once)."""
    return run_read(session, service.end(session, principal, run_id, review=body.review,
                                         tell_restored=body.tell_restored, restored_body=body.restored_body))
