"""Complaints over HTTP: what the classifier said about a ticket, the agent's confirmation or correction, and
classifying a text on demand."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from kefu.complaints import appeals, classifier, compensation, service, surges
from kefu.complaints.schemas import (
    AppealIn,
    AppealList,
    AppealRead,
    AppealUpdate,
    ClassificationRead,
    ClassifyIn,
    CompensationIn,
    CompensationList,
    CompensationRead,
    DecisionIn,
    PredictionRead,
    ReviewIn,
    Scored,
    SurgeList,
    SurgeRead,
)
from kefu.core.auth import Principal
from kefu.core.deps import DbSession, Id, Paging, require

router = APIRouter(tags=["complaints"])


@router.get("/complaints/tickets/{ticket_id}/classification", response_model=ClassificationRead)
def classification(ticket_id: Id, session: DbSession,
                   principal: Principal = require("complaints.read")) -> ClassificationRead:
    return ClassificationRead.model_validate(service.get_visible(session, principal, ticket_id))


@router.post("/complaints/tickets/{ticket_id}/classification/review", response_model=ClassificationRead)
def review(ticket_id: Id, body: ReviewIn, session: DbSession,
           principal: Principal = require("complaints.review")) -> ClassificationRead:
    c = service.review(session, principal, ticket_id, type=body.type, category=body.category,
                       escalation=body.escalation)
    return ClassificationRead.model_validate(c)


@router.post("/complaints/classify", response_model=PredictionRead)
def classify(body: ClassifyIn, principal: Principal = require("complaints.read")) -> PredictionRead:
    p = classifier.classify(body.text)
    return PredictionRead(
        type=p.type, type_confidence=round(p.type_confidence, 4), category=p.category,
        category_confidence=round(p.category_confidence, 4), escalation=p.escalation,
        escalation_terms=list(p.escalation_terms), apply_type=p.apply_type, apply_category=p.apply_category,
        alternatives={k: [Scored(label=a, confidence=b) for a, b in v] for k, v in p.alternatives.items()})


@router.get("/complaints/surges", response_model=SurgeList)
def surge_list(session: DbSession, page: Paging,
               status: Annotated[Literal["open", "acknowledged"] | None, Query()] = None,
               principal: Principal = require("complaints.surges")) -> SurgeList:
    """Complaint surges in the caller's units, newest first."""
    found = surges.list_visible(session, principal, status=status, limit=page.limit, offset=page.offset)
    return SurgeList(items=[SurgeRead.model_validate(s) for s in found.items], total=found.total,
                     limit=page.limit, offset=page.offset)


@router.post("/complaints/surges/{surge_id}/acknowledge", response_model=SurgeRead)
def surge_acknowledge(surge_id: Id, session: DbSession,
                      principal: Principal = require("complaints.surges")) -> SurgeRead:
    return SurgeRead.model_validate(surges.acknowledge(session, principal, surge_id))


@router.get("/complaints/tickets/{ticket_id}/compensations", response_model=CompensationList)
def compensations(ticket_id: Id, session: DbSession,
                  principal: Principal = require("complaints.read")) -> CompensationList:
    from kefu.tickets import service as tickets

    tickets.get_visible(session, principal, ticket_id)
    return CompensationList(items=[CompensationRead.model_validate(c)
                                   for c in compensation.for_ticket(session, ticket_id)])


@router.post("/complaints/tickets/{ticket_id}/compensations", response_model=CompensationRead, status_code=201)
def grant(ticket_id: Id, body: CompensationIn, session: DbSession,
          principal: Principal = require("complaints.compensate")) -> CompensationRead:
    """Grant within your authority; above it 403 `authority_exceeded` (nothing written) unless
    `request_approval`, then it waits for someone whose authority covers it."""
    c = compensation.grant(session, principal, ticket_id, kind=body.kind, amount=body.amount, note=body.note,
                           request_approval=body.request_approval)
    return CompensationRead.model_validate(c)


@router.post("/complaints/compensations/{compensation_id}/decision", response_model=CompensationRead)
def decide(compensation_id: Id, body: DecisionIn, session: DbSession,
           principal: Principal = require("complaints.compensate")) -> CompensationRead:
    """Approve (your authority must cover the amount) or reject (with a reason) a pending compensation."""
    c = compensation.decide(session, principal, compensation_id, approve=body.approve, reason=body.reason)
    return CompensationRead.model_validate(c)


@router.get("/complaints/tickets/{ticket_id}/appeals", response_model=AppealList)
def appeal_list(ticket_id: Id, session: DbSession, principal: Principal = require("complaints.read")) -> AppealList:
    from kefu.tickets import service as tickets

    tickets.get_visible(session, principal, ticket_id)
    return AppealList(items=[AppealRead.model_validate(a) for a in appeals.for_ticket(session, ticket_id)])


@router.post("/complaints/tickets/{ticket_id}/appeals", response_model=AppealRead, status_code=201)
def appeal_record(ticket_id: Id, body: AppealIn, session: DbSession,
                  principal: Principal = require("complaints.appeals")) -> AppealRead:
    """An escalation or appeal about this ticket: source, dates (received ≤ accepted ≤ answered) and outcome;
    the acceptance (5 working days) and answer (30 days) deadlines follow."""
    a = appeals.record(session, principal, ticket_id, source=body.source, received_on=body.received_on,
                       about_charges=body.about_charges, reference=body.reference, accepted_on=body.accepted_on,
                       answered_on=body.answered_on, outcome=body.outcome)
    return AppealRead.model_validate(a)


@router.patch("/complaints/appeals/{appeal_id}", response_model=AppealRead)
def appeal_update(appeal_id: Id, body: AppealUpdate, session: DbSession,
                  principal: Principal = require("complaints.appeals")) -> AppealRead:
    a = appeals.update(session, principal, appeal_id, accepted_on=body.accepted_on, answered_on=body.answered_on,
                       outcome=body.outcome)
    return AppealRead.model_validate(a)
