"""Complaints over HTTP: what the classifier said about a ticket, the agent's confirmation or correction, and
classifying a text on demand; surges, compensation, budgets, appeals, measures; the plan catalogue and tariff
advice."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from kefu.complaints import appeals, budgets, classifier, compensation, customer_segments, plans, service, surges
from kefu.complaints.schemas import (
    AdviceIn,
    AdviceRead,
    AppealIn,
    AppealList,
    AppealRead,
    AppealUpdate,
    BudgetIn,
    BudgetList,
    BudgetRead,
    ClassificationRead,
    ClassifyIn,
    CompensationIn,
    CompensationList,
    CompensationRead,
    DecisionIn,
    MeasureList,
    MeasureRead,
    PlanIn,
    PlanList,
    PlanRead,
    PredictionRead,
    ReviewIn,
    Scored,
    SegmentRead,
    SurgeList,
    SurgeRead,
)
from kefu.core.auth import Principal
from kefu.core.deps import DbSession, Id, Paging, require
from kefu.core.errors import NotFound

router = APIRouter(tags=["complaints"])


class SegmentNotFound(NotFound):
    code = "segment_not_found"


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


@router.get("/complaints/customers/{customer_id}/segment", response_model=SegmentRead)
def segment(customer_id: Id, session: DbSession, principal: Principal = require("complaints.read")) -> SegmentRead:
    """The customer's segment and the handling it brings (404 `segment_not_found` before the first fit)."""
    from kefu.customers import service as customers

    customers.get_visible(session, principal, customer_id)
    seg = customer_segments.of_customer(session, customer_id)
    if seg is None:
        raise SegmentNotFound(f"customer {customer_id} is in no segment yet")
    return SegmentRead.model_validate(seg)


@router.get("/complaints/compensations/pending", response_model=CompensationList)
def pending(session: DbSession, principal: Principal = require("complaints.compensate")) -> CompensationList:
    """Compensations awaiting approval on tickets of your units, oldest first."""
    return CompensationList(items=[CompensationRead.model_validate(c)
                                   for c in compensation.pending_visible(session, principal)])


def _budget_read(u: budgets.BudgetUse) -> BudgetRead:
    return BudgetRead(org_unit_id=u.unit.id, org_unit_name=u.unit.name, month=f"{u.month:%Y-%m}", amount=u.amount,
                      spent=u.spent, left=u.left)


@router.get("/complaints/budgets", response_model=BudgetList)
def budget_list(session: DbSession, month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
                principal: Principal = require("complaints.budgets")) -> BudgetList:
    """The month's compensation budgets of your units (default: this month, China time) and what was spent."""
    from kefu.core.clock import utcnow

    m = budgets.parse_month(month) if month else budgets.month_of(utcnow())
    return BudgetList(items=[_budget_read(u) for u in budgets.visible(session, principal, m)])


@router.put("/complaints/budgets/{org_unit_id}", response_model=BudgetRead)
def budget_set(org_unit_id: Id, body: BudgetIn, session: DbSession,
               principal: Principal = require("complaints.budgets")) -> BudgetRead:
    """Set a unit's compensation budget for a month (grants of its tickets and of the units below it)."""
    m = budgets.parse_month(body.month)
    b = budgets.set_budget(session, principal, org_unit_id, m, body.amount)
    use = next(u for u in budgets.uses(session, [b.org_unit_id], m))
    return _budget_read(use)


@router.get("/complaints/measures", response_model=MeasureList)
def measure_list(session: DbSession, start: Annotated[date, Query()], end: Annotated[date, Query()],
                 period: Annotated[Literal["month", "quarter"], Query()] = "month",
                 level: Annotated[Literal["province", "city"], Query()] = "province",
                 principal: Principal = require("complaints.surges")) -> MeasureList:
    """The regulator's measures of your provinces or cities per month or quarter: complaints per 10,000
    customers, repeat and escalation rates, appeals per million customers."""
    from kefu.complaints import measures
    from kefu.org import service as org

    found = measures.measures(session, org.visible_unit_ids(session, principal), start=start, end=end,
                              period=period, level=level)
    return MeasureList(items=[MeasureRead(
        period=m.period, org_unit_id=m.org_unit_id, unit=m.unit, customers=m.customers, complaints=m.complaints,
        per_10k=m.per_10k, classified=m.classified, repeats=m.repeats, repeat_rate=m.repeat_rate,
        escalated=m.escalated, escalation_rate=m.escalation_rate, appeals=m.appeals,
        appeals_per_million=m.appeals_per_million) for m in found])


@router.get("/complaints/plans", response_model=PlanList)
def plan_list(session: DbSession, principal: Principal = require("complaints.read")) -> PlanList:
    """The operator's plan catalogue (on sale first, by fee)."""
    return PlanList(items=[PlanRead.model_validate(p) for p in plans.catalogue(session)])


@router.put("/complaints/plans/{key}", response_model=PlanRead)
def plan_put(key: str, body: PlanIn, session: DbSession,
             principal: Principal = require("complaints.plans")) -> PlanRead:
    """Create or change a plan of the catalogue (administrators)."""
    row = plans.save_plan(session, plans.PlanSpec(key=key, name=body.name, name_en=body.name_en,
                                                  monthly_fee=body.monthly_fee, data_gb=body.data_gb,
                                                  minutes=body.minutes, sms=body.sms, active=body.active),
                          actor_id=principal.user_id)
    return PlanRead.model_validate(row)


@router.post("/complaints/tariff-advice", response_model=AdviceRead)
def tariff_advice(body: AdviceIn, session: DbSession, principal: Principal = require("complaints.read")) -> AdviceRead:
    """The cheapest plan on sale that covers this usage (the busiest recent month) and the saving against what the
    customer pays now; with a ticket, its customer's plan and ARPU (a ticket outside your scope: 404)."""
    from kefu.complaints.tariffs import Usage

    result = plans.advise(session, Usage(body.data_gb, body.minutes, body.sms), current_fee=body.current_fee,
                          customer=plans.customer_of_ticket(session, principal, body.ticket_id))
    a = result.advice
    chosen = result.plan
    return AdviceRead(current_fee=result.current_fee,
                      current_plan=result.current_plan.key if result.current_plan is not None else None,
                      plan=PlanRead.model_validate(chosen) if chosen is not None else None,
                      monthly_saving=a.monthly_saving if a is not None else None,
                      yearly_saving=a.yearly_saving if a is not None else None, covering=result.covering)
