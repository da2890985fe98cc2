"""Playbooks (应急预案): definitions, activation by hand or by a complaint surge, step tracking, customer
notices, the end of a run and its review.

- `save_playbook` keeps a definition: trigger, the category × region it answers, the surge count from
  which it starts, its steps (title, owner role or person, deadline in minutes after activation) and its
  customer notice template.
- `start` activates a playbook: a run with its steps due from then on and a timeline; `on_surge` does it
  for each active surge playbook a `complaint.surge_detected` event matches (category, within the playbook's
  unit, count at least `min_count`); a playbook already running gets the surge on its timeline instead.
- `complete_step`, `notify_customers` (customers kept informed: one outbound message per affected customer
  through the interactions service, on the channel of their ticket; each customer is told of each state of a
  run, the fault and its restoration, once), `end` (with the review and its measures, and the restoration
  notice), `mark_overdue_steps`.
- Resources (`resources`, `push_faq`): the staff called in, scripts, the FAQ pushed to the front line through
  kefu.knowledge.push, the compensation budget (measured against what was granted on the linked tickets).
- One-action switches (`switch`): the IVR announcement, a queue overflow, the extra queues (with the staff on
  them), all through voice's and routing's services, turned off when the run ends.

Events: playbook.activated, playbook.step_done, playbook.step_overdue, playbook.notice_sent, playbook.switched,
playbook.role_set, playbook.ticket_linked, playbook.faq_pushed, playbook.ended.
"""

from __future__ import annotations

import contextlib
import copy
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from kefu.core import events
from kefu.core.auth import PERMISSIONS, Principal
from kefu.core.clock import utcnow
from kefu.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from kefu.org import service as org
from kefu.org.models import OrgUnit
from kefu.playbooks import matching
from kefu.playbooks.models import (
    NOTICE_STATES,
    TRIGGERS,
    Playbook,
    PlaybookRun,
    PlaybookRunLog,
    PlaybookRunNotice,
    PlaybookRunStep,
    PlaybookRunTicket,
    PlaybookStep,
)

KEY_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
MANUAL_WINDOW = timedelta(hours=24)  # a run started by hand concerns tickets of the last day on
STEP_ROLES = tuple(r for r in ("agent", "support", "expert", "supervisor", "analyst", "admin") if r in PERMISSIONS)
MAX_STEPS = 30


class PlaybookNotFound(NotFound):
    code = "playbook_not_found"


class RunNotFound(NotFound):
    code = "playbook_run_not_found"


class InvalidPlaybook(InvalidInput):
    code = "invalid_playbook"


class RunNotActive(Conflict):
    code = "playbook_run_not_active"


class AlreadyRunning(Conflict):
    code = "playbook_already_running"


class NotStepOwner(Forbidden):
    code = "not_step_owner"


@dataclass(frozen=True)
class StepSpec:
    title: str
    owner_role: str
    due_minutes: int
    owner_user_id: int | None = None


@dataclass(frozen=True)
class PlaybookSpec:
    key: str
    name: str
    trigger: str
    org_unit_id: int
    steps: tuple[StepSpec, ...]
    category_id: int | None = None
    min_count: int = 0
    notice_template: str | None = None
    name_en: str | None = None
    description: str | None = None
    active: bool = True
    ivr_text: str | None = None
    overflow_from: str | None = None
    overflow_to: str | None = None
    keywords: tuple[str, ...] = ()
    window_minutes: int = 60
    staff_ids: tuple[int, ...] = ()
    script_article_ids: tuple[int, ...] = ()
    faq_article_id: int | None = None
    budget_yuan: int | None = None
    extra_queues: tuple[str, ...] = ()
    restore_template: str | None = None


# ---- definitions -----------------------------------------------------------------------------------

def playbooks(session: Session, principal: Principal) -> list[Playbook]:
    """The playbooks of the principal's branch: defined for a unit it sees or for one above it."""
    return [p for p in session.scalars(select(Playbook).order_by(Playbook.active.desc(), Playbook.name, Playbook.id))
            if _concerns(session, principal, p.org_unit_id)]


def _concerns(session: Session, principal: Principal, unit_id: int) -> bool:
    """A unit concerns the principal when it is in its subtree or above it (a province-wide plan concerns
    the cities' agents)."""
    path = org.org_unit(session, unit_id).path
    return principal.sees_path(path) or principal.org_path.startswith(path)


def playbook(session: Session, principal: Principal, playbook_id: int) -> Playbook:
    p = session.get(Playbook, playbook_id)
    if p is None or not _concerns(session, principal, p.org_unit_id):
        raise PlaybookNotFound(f"playbook {playbook_id} not found")
    return p


def steps_of(session: Session, playbook_id: int) -> list[PlaybookStep]:
    return list(session.scalars(select(PlaybookStep).where(PlaybookStep.playbook_id == playbook_id)
                                .order_by(PlaybookStep.position, PlaybookStep.id)))


def save_playbook(session: Session, principal: Principal, spec: PlaybookSpec, *, playbook_id: int | None = None,
                  at: datetime | None = None) -> Playbook:
    from kefu.tickets.models import Category

    at = at or utcnow()
    if not KEY_RE.match(spec.key):
        raise InvalidPlaybook("a key is 1-40 letters, digits, '-' or '_'", details={"field": "key"})
    if not spec.name.strip():
        raise InvalidPlaybook("a playbook needs a name", details={"field": "name"})
    if spec.trigger not in TRIGGERS:
        raise InvalidPlaybook(f"trigger must be one of {', '.join(TRIGGERS)}", details={"field": "trigger"})
    if spec.min_count < 0:
        raise InvalidPlaybook("the surge count is 0 or more", details={"field": "min_count"})
    try:
        keywords = matching.clean_keywords(spec.keywords)
    except ValueError as exc:
        raise InvalidPlaybook(str(exc), details={"field": "keywords"}) from None
    if spec.trigger == "keyword" and not keywords:
        raise InvalidPlaybook("a keyword playbook needs at least one keyword", details={"field": "keywords"})
    if spec.trigger == "threshold" and spec.min_count < 1:
        raise InvalidPlaybook("a threshold playbook starts from 1 ticket or more", details={"field": "min_count"})
    if not 1 <= spec.window_minutes <= 7 * 24 * 60:
        raise InvalidPlaybook("the threshold window is 1 minute to 7 days", details={"field": "window_minutes"})
    org.check_visible(session, principal, spec.org_unit_id)
    if spec.category_id is not None and session.get(Category, spec.category_id) is None:
        raise InvalidPlaybook(f"category {spec.category_id} does not exist", details={"field": "category_id"})
    if not spec.steps:
        raise InvalidPlaybook("a playbook needs at least one step", details={"field": "steps"})
    if len(spec.steps) > MAX_STEPS:
        raise InvalidPlaybook(f"at most {MAX_STEPS} steps", details={"field": "steps"})
    for i, st in enumerate(spec.steps):
        if not st.title.strip() or st.owner_role not in STEP_ROLES or not 1 <= st.due_minutes <= 30 * 24 * 60:
            raise InvalidPlaybook(f"step {i + 1}: a title, an owner role ({', '.join(STEP_ROLES)}) and a deadline "
                                  "of 1 minute to 30 days", details={"field": "steps", "step": i + 1})
        if st.owner_user_id is not None and org.user(session, st.owner_user_id) is None:
            raise InvalidPlaybook(f"step {i + 1}: user {st.owner_user_id} does not exist",
                                  details={"field": "steps", "step": i + 1})
    _check_switches(session, principal, spec)
    _check_resources(session, principal, spec)
    clash = session.scalar(select(Playbook.id).where(Playbook.key == spec.key))
    if clash is not None and clash != playbook_id:
        raise Conflict(f"a playbook with key {spec.key!r} exists", code="playbook_exists")
    if playbook_id is None:
        p = Playbook(key=spec.key, created_at=at)
        session.add(p)
    else:
        p = playbook(session, principal, playbook_id)
    p.key, p.name, p.name_en = spec.key, spec.name.strip()[:100], (spec.name_en or "").strip()[:100] or None
    p.description, p.trigger, p.category_id = spec.description, spec.trigger, spec.category_id
    p.org_unit_id, p.min_count, p.active, p.updated_at = spec.org_unit_id, spec.min_count, spec.active, at
    p.notice_template = (spec.notice_template or "").strip() or None
    p.ivr_text = (spec.ivr_text or "").strip() or None
    p.overflow_from, p.overflow_to = spec.overflow_from or None, spec.overflow_to or None
    p.keywords, p.window_minutes = list(keywords) or None, spec.window_minutes
    p.staff_ids = sorted(set(spec.staff_ids)) or None
    p.script_article_ids = list(dict.fromkeys(spec.script_article_ids)) or None
    p.faq_article_id, p.budget_yuan = spec.faq_article_id, spec.budget_yuan
    p.extra_queues = list(dict.fromkeys(spec.extra_queues)) or None
    p.restore_template = (spec.restore_template or "").strip() or None
    session.flush()
    for old in steps_of(session, p.id):
        session.delete(old)
    session.flush()
    for i, st in enumerate(spec.steps):
        session.add(PlaybookStep(playbook_id=p.id, position=i, title=st.title.strip()[:200], owner_role=st.owner_role,
                                 owner_user_id=st.owner_user_id, due_minutes=st.due_minutes))
    session.flush()
    return p


# ---- runs ------------------------------------------------------------------------------------------

def _log(session: Session, run: PlaybookRun, kind: str, at: datetime, *, actor_id: int | None = None,
         text: str | None = None, data: dict[str, Any] | None = None) -> None:
    session.add(PlaybookRunLog(run_id=run.id, at=at, kind=kind, actor_id=actor_id, text=text, data=data))


def _event(session: Session, run: PlaybookRun, name: str, at: datetime, **extra: Any) -> None:
    events.record(session, name, {"run_id": run.id, "playbook_id": run.playbook_id, "category_id": run.category_id,
                                  **extra}, aggregate_type="playbook_run", aggregate_id=run.id,
                  org_unit_id=run.org_unit_id, at=at)


def active_run(session: Session, playbook_id: int) -> PlaybookRun | None:
    return session.scalar(select(PlaybookRun).where(PlaybookRun.playbook_id == playbook_id,
                                                    PlaybookRun.state == "active"))


def _start(session: Session, p: Playbook, *, trigger: str, org_unit_id: int, category_id: int | None,
           window_start: datetime, surge: dict[str, Any] | None, actor_id: int | None, at: datetime) -> PlaybookRun:
    if active_run(session, p.id) is not None:
        raise AlreadyRunning(f"playbook {p.key!r} is running already")
    run = PlaybookRun(playbook_id=p.id, state="active", trigger=trigger, org_unit_id=org_unit_id,
                      category_id=category_id, window_start=window_start, surge=surge, started_by=actor_id,
                      started_at=at)
    session.add(run)
    session.flush()  # a concurrent activation that committed first fails here (one active run per playbook)
    for st in steps_of(session, p.id):
        session.add(PlaybookRunStep(run_id=run.id, position=st.position, title=st.title, owner_role=st.owner_role,
                                    owner_user_id=st.owner_user_id, due_at=at + timedelta(minutes=st.due_minutes),
                                    state="pending"))
    _log(session, run, "activated", at, actor_id=actor_id, data=surge)
    session.flush()
    _event(session, run, "playbook.activated", at, trigger=trigger, started_by=actor_id)
    return run


def start(session: Session, principal: Principal, playbook_id: int, *, org_unit_id: int | None = None,
          category_id: int | None = None, at: datetime | None = None) -> PlaybookRun:
    """Activate a playbook by hand (a duty manager): for its own unit and category unless narrowed."""
    at = at or utcnow()
    p = playbook(session, principal, playbook_id)
    if not p.active:
        raise InvalidPlaybook(f"playbook {p.key!r} is inactive", details={"field": "playbook_id"})
    unit = org.check_visible(session, principal, org_unit_id) if org_unit_id else org.org_unit(session, p.org_unit_id)
    return _start(session, p, trigger="manual", org_unit_id=unit.id, category_id=category_id or p.category_id,
                  window_start=at - MANUAL_WINDOW, surge=None, actor_id=principal.user_id, at=at)


def _category_matches(session: Session, playbook_category: int | None, category_id: int | None) -> bool:
    from kefu.tickets.models import Category

    if playbook_category is None:
        return True
    if category_id is None:
        return False
    c = session.get(Category, category_id)
    return c is not None and playbook_category in (c.id, c.parent_id)


def on_surge(session: Session, payload: dict[str, Any], *, at: datetime) -> list[PlaybookRun]:
    """A complaint surge was detected: start every active surge playbook it matches (see the module
    docstring); a matching playbook that runs already notes the surge on its timeline. Returns new runs."""
    category_id, unit_id, count = payload.get("category_id"), payload.get("org_unit_id"), payload.get("count")
    if not isinstance(unit_id, int) or not isinstance(count, int):
        return []
    unit = session.get(OrgUnit, unit_id)
    if unit is None:
        return []
    window_start = _parse_time(payload.get("window_start")) or at - MANUAL_WINDOW
    out = []
    for p in session.scalars(select(Playbook).where(Playbook.active.is_(True), Playbook.trigger == "surge")
                             .order_by(Playbook.id)):
        if count < p.min_count or not unit.path.startswith(org.org_unit(session, p.org_unit_id).path):
            continue
        if not _category_matches(session, p.category_id, category_id if isinstance(category_id, int) else None):
            continue
        running = active_run(session, p.id)
        if running is not None:
            _log(session, running, "surge", at, data=payload)
            continue
        out.append(_start(session, p, trigger="surge", org_unit_id=unit.id,
                          category_id=category_id if isinstance(category_id, int) else p.category_id,
                          window_start=window_start, surge=dict(payload), actor_id=None, at=at))
    session.flush()
    return out


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        return None
    return t if t.tzinfo is not None else None


def runs(session: Session, principal: Principal, *, limit: int = 100) -> list[PlaybookRun]:
    """Runs that concern the principal, active first, newest first."""
    rows = session.scalars(select(PlaybookRun).order_by(PlaybookRun.state, PlaybookRun.started_at.desc(),
                                                        PlaybookRun.id.desc()).limit(limit * 4))
    return [r for r in rows if _concerns(session, principal, r.org_unit_id)][:limit]


def run(session: Session, principal: Principal, run_id: int) -> PlaybookRun:
    r = session.get(PlaybookRun, run_id)
    if r is None or not _concerns(session, principal, r.org_unit_id):
        raise RunNotFound(f"playbook run {run_id} not found")
    return r


def run_steps(session: Session, run_id: int) -> list[PlaybookRunStep]:
    return list(session.scalars(select(PlaybookRunStep).where(PlaybookRunStep.run_id == run_id)
                                .order_by(PlaybookRunStep.position, PlaybookRunStep.id)))


def timeline(session: Session, run_id: int) -> list[PlaybookRunLog]:
    return list(session.scalars(select(PlaybookRunLog).where(PlaybookRunLog.run_id == run_id)
                                .order_by(PlaybookRunLog.id)))


def _active(session: Session, principal: Principal, run_id: int) -> PlaybookRun:
    r = run(session, principal, run_id)
    if r.state != "active":
        raise RunNotActive(f"playbook run {run_id} has ended")
    return r


def _managed(session: Session, principal: Principal, run_id: int, what: str) -> PlaybookRun:
    """An active run the principal runs as a duty manager ("playbooks.run"); `what` says what only they do."""
    r = _active(session, principal, run_id)
    if not principal.can("playbooks.run"):
        raise NotStepOwner(f"only a duty manager {what}")
    return r


def complete_step(session: Session, principal: Principal, run_id: int, step_id: int, *, skip: bool = False,
                  note: str | None = None, at: datetime | None = None) -> PlaybookRunStep:
    """Its owner (the named person, or a holder of its owner role) or a duty manager marks a step done."""
    at = at or utcnow()
    r = _active(session, principal, run_id)
    step = session.get(PlaybookRunStep, step_id)
    if step is None or step.run_id != r.id:
        raise RunNotFound(f"step {step_id} of run {run_id} not found")
    owner = step.owner_user_id == principal.user_id if step.owner_user_id else step.owner_role == principal.role
    if not (owner or principal.can("playbooks.run")):
        raise NotStepOwner("only the step's owner or a duty manager completes it")
    if step.state != "pending":
        raise RunNotActive(f"step {step_id} is {step.state} already")
    step.state, step.done_at, step.done_by = ("skipped" if skip else "done"), at, principal.user_id
    step.note = (note or "").strip() or None
    _log(session, r, "step_" + step.state, at, actor_id=principal.user_id, text=step.title,
         data={"step_id": step.id, "late": at > step.due_at})
    session.flush()
    _event(session, r, "playbook.step_done", at, step_id=step.id, state=step.state, late=at > step.due_at)
    return step


@dataclass(frozen=True)
class Affected:
    customer_id: int
    ticket_id: int
    channel: str
    org_unit_id: int


def affected_customers(session: Session, r: PlaybookRun, *, at: datetime | None = None) -> list[Affected]:
    """The customers of tickets of the run's category (and its children) in its unit's subtree opened since
    the window's start, and of the tickets linked to the run: each once, with their latest such ticket and its
    channel."""
    from kefu.tickets.models import Category, Ticket

    at = at or utcnow()
    unit = org.org_unit(session, r.org_unit_id)
    q = (select(Ticket).join(OrgUnit, OrgUnit.id == Ticket.org_unit_id)
         .where(OrgUnit.path.startswith(unit.path), Ticket.customer_id.is_not(None),
                Ticket.opened_at >= r.window_start, Ticket.opened_at <= at, Ticket.status != "merged"))
    if r.category_id is not None:
        cats = select(Category.id).where(or_(Category.id == r.category_id, Category.parent_id == r.category_id))
        q = q.where(Ticket.category_id.in_(cats))
    linked = (select(Ticket).join(PlaybookRunTicket, PlaybookRunTicket.ticket_id == Ticket.id)
              .where(PlaybookRunTicket.run_id == r.id, Ticket.customer_id.is_not(None), Ticket.status != "merged"))
    tickets = {t.id: t for t in [*session.scalars(q), *session.scalars(linked)]}
    latest: dict[int, Any] = {}
    for t in sorted(tickets.values(), key=lambda t: (t.opened_at, t.id)):
        latest[t.customer_id] = t
    return [Affected(cid, t.id, t.channel or "sms", t.org_unit_id) for cid, t in sorted(latest.items())]


def render_notice(template: str, *, category: str, playbook_name: str) -> str:
    """Pure: the notice text, with {category} and {playbook} filled in (unknown fields left as they are)."""
    return template.replace("{category}", category).replace("{playbook}", playbook_name)


def notice_text(session: Session, r: PlaybookRun, state: str) -> str:
    """The playbook's template for a state of the run (the fault, its restoration), filled in; "" when none."""
    from kefu.tickets.models import Category

    p = session.get(Playbook, r.playbook_id)
    template = (p.notice_template if state == "fault" else p.restore_template) if p is not None else None
    category = session.get(Category, r.category_id) if r.category_id is not None else None
    return render_notice(template or "", category=category.name if category else "",
                         playbook_name=p.name if p is not None else "")


def told(session: Session, run_id: int) -> list[PlaybookRunNotice]:
    """The customers told of a run's states, in the order they were told."""
    return list(session.scalars(select(PlaybookRunNotice).where(PlaybookRunNotice.run_id == run_id)
                                .order_by(PlaybookRunNotice.sent_at, PlaybookRunNotice.customer_id)))


def untold(session: Session, r: PlaybookRun, state: str, *, at: datetime | None = None) -> list[Affected]:
    """The affected customers not yet told of this state of the run."""
    done = set(session.scalars(select(PlaybookRunNotice.customer_id).where(PlaybookRunNotice.run_id == r.id,
                                                                           PlaybookRunNotice.state == state)))
    return [a for a in affected_customers(session, r, at=at) if a.customer_id not in done]


def _notify(session: Session, r: PlaybookRun, state: str, body: str, *, actor_id: int | None,
            at: datetime) -> list[int]:
    from kefu.interactions import service as interactions

    body = body.strip()
    if not body:
        raise InvalidPlaybook("a notice needs a text", details={"field": "body"})
    targets = untold(session, r, state, at=at)
    ids = []
    for a in targets:
        msg = interactions.notify_customer(session, customer_id=a.customer_id, org_unit_id=a.org_unit_id,
                                           channel=a.channel, body=body, actor_id=actor_id, ticket_id=a.ticket_id,
                                           at=at)
        session.add(PlaybookRunNotice(run_id=r.id, customer_id=a.customer_id, state=state, channel=a.channel,
                                      ticket_id=a.ticket_id, message_id=msg.id, sent_at=at))
        ids.append(msg.id)
    _log(session, r, "notice", at, actor_id=actor_id, text=body,
         data={"state": state, "customers": [a.customer_id for a in targets], "messages": ids})
    session.flush()  # a concurrent send of the same state to the same customer fails here (the primary key)
    _event(session, r, "playbook.notice_sent", at, customers=len(targets), body=body, state=state)
    return ids


def notify_customers(session: Session, principal: Principal, run_id: int, body: str, *, state: str = "fault",
                     at: datetime | None = None) -> list[int]:
    """Tell the affected customers (see affected_customers) not yet told of this state of the run (the fault,
    its restoration), each on the channel of their ticket (SMS for callers): one outbound message each through
    the interactions service. Sending again reaches only the customers affected since. Returns the message ids."""
    at = at or utcnow()
    r = _managed(session, principal, run_id, "informs customers")
    if state not in NOTICE_STATES:
        raise InvalidPlaybook(f"a notice state is one of {', '.join(NOTICE_STATES)}", details={"field": "state"})
    return _notify(session, r, state, body, actor_id=principal.user_id, at=at)


@dataclass(frozen=True)
class Measures:
    tickets: int
    customers: int
    notices: int
    steps_done: int
    steps_late: int
    steps_total: int
    minutes_to_activate: float | None  # from the surge window's end (when it was detected) to activation
    minutes_active: float
    peak: int = 0  # the most of its tickets opened in one hour (from the window's start)
    peak_at: datetime | None = None
    linked: int = 0  # tickets linked to the run (by themselves or by hand)
    compensation_yuan: float = 0.0  # granted on its linked tickets (against the playbook's budget)


def measures(session: Session, r: PlaybookRun, *, at: datetime | None = None) -> Measures:
    at = at or utcnow()
    end = r.ended_at or at
    steps = run_steps(session, r.id)
    log = timeline(session, r.id)
    affected = affected_customers(session, r, at=end)
    detected = _parse_time((r.surge or {}).get("window_end"))
    times = _run_ticket_times(session, r, end)
    top = matching.peak(times, origin=r.window_start)
    linked = session.scalar(select(func.count()).select_from(PlaybookRunTicket)
                            .where(PlaybookRunTicket.run_id == r.id))
    from kefu.complaints import compensation

    granted = compensation.granted_on(session, select(PlaybookRunTicket.ticket_id)
                                      .where(PlaybookRunTicket.run_id == r.id))
    return Measures(
        tickets=len(times), customers=len(affected), peak=top.count, peak_at=top.at, linked=int(linked or 0),
        compensation_yuan=float(granted),
        notices=sum(1 for e in log if e.kind == "notice"),
        steps_done=sum(1 for s in steps if s.state == "done"),
        steps_late=sum(1 for s in steps if (s.done_at is not None and s.done_at > s.due_at)
                       or (s.state == "pending" and end > s.due_at)),
        steps_total=len(steps),
        minutes_to_activate=round((r.started_at - detected).total_seconds() / 60, 1) if detected else None,
        minutes_active=round((end - r.started_at).total_seconds() / 60, 1))


def _run_ticket_times(session: Session, r: PlaybookRun, end: datetime) -> list[datetime]:
    """When the run's tickets opened: those of its category in its unit's subtree opened from the window's
    start to `end`, and those linked to it (each once)."""
    from kefu.tickets.models import Category, Ticket

    unit = org.org_unit(session, r.org_unit_id)
    q = (select(Ticket.id, Ticket.opened_at).join(OrgUnit, OrgUnit.id == Ticket.org_unit_id)
         .where(OrgUnit.path.startswith(unit.path), Ticket.opened_at >= r.window_start, Ticket.opened_at <= end))
    if r.category_id is not None:
        q = q.where(Ticket.category_id.in_(select(Category.id).where(
            or_(Category.id == r.category_id, Category.parent_id == r.category_id))))
    times = {tid: at for tid, at in session.execute(q)}
    linked = (select(Ticket.id, Ticket.opened_at).join(PlaybookRunTicket, PlaybookRunTicket.ticket_id == Ticket.id)
              .where(PlaybookRunTicket.run_id == r.id))
    times.update({tid: at for tid, at in session.execute(linked)})
    return sorted(times.values())


def end(session: Session, principal: Principal, run_id: int, *, review: str | None = None,
        tell_restored: bool = False, restored_body: str | None = None, at: datetime | None = None) -> PlaybookRun:
    """Deactivate: the run ends with its review; pending steps stay as they were (the review says why). With
    `tell_restored`, the affected customers are told the fault is over first (the text given, or the playbook's
    restoration template), each once; its switches go off."""
    at = at or utcnow()
    r = _managed(session, principal, run_id, "ends a playbook run")
    if tell_restored:
        _notify(session, r, "restored", restored_body or notice_text(session, r, "restored"),
                actor_id=principal.user_id, at=at)
    for kind in sorted(r.switches or {}):
        _switch_off(session, principal, r, kind, at)
    r.state, r.ended_at, r.ended_by = "ended", at, principal.user_id
    r.review = (review or "").strip() or None
    _log(session, r, "ended", at, actor_id=principal.user_id, text=r.review)
    session.flush()
    m = measures(session, r, at=at)
    _event(session, r, "playbook.ended", at, tickets=m.tickets, customers=m.customers,
           minutes_active=m.minutes_active, steps_done=m.steps_done, steps_total=m.steps_total, peak=m.peak)
    return r


def mark_overdue_steps(session: Session, *, at: datetime | None = None) -> list[int]:
    """Record playbook.step_overdue once for each pending step of an active run past its deadline."""
    at = at or utcnow()
    rows = list(session.scalars(select(PlaybookRunStep).join(PlaybookRun, PlaybookRun.id == PlaybookRunStep.run_id)
                                .where(PlaybookRun.state == "active", PlaybookRunStep.state == "pending",
                                       PlaybookRunStep.overdue_at.is_(None), PlaybookRunStep.due_at <= at)
                                .order_by(PlaybookRunStep.id)))
    for st in rows:
        st.overdue_at = at
        r = session.get(PlaybookRun, st.run_id)
        assert r is not None
        _log(session, r, "step_overdue", at, text=st.title, data={"step_id": st.id})
        _event(session, r, "playbook.step_overdue", at, step_id=st.id, owner_role=st.owner_role,
               owner_user_id=st.owner_user_id)
    session.flush()
    return [s.id for s in rows]


# ---- one-action switches ----------------------------------------------------------------------------------
# "ivr": the announcement is put at the top of the hotline's IVR menu (a self-service "outage" node, through
# kefu.voice.ivr); "overflow": the playbook's queue overflows into another at once (overflow_after
# OVERFLOW_AFTER s, through kefu.routing.service.save_queue) and gets its own overflow back when switched off.
# "extra": the playbook's extra queues are opened (kefu.routing.service.set_queue_open) and its staff serve
# them as well (routing's update_agent, with a place for the queue's medium); off, the queues it opened close
# again and the staff leave the queues it added (a queue open already, or served already, stays as it was).
# Two active runs can hold the same extra queue (and the same person on it): what a run going off opened or
# added is undone only when no other active run holds it; otherwise the undoing passes to a run that does
# (the first by id), so the last holder to go off closes the queue. A run's switches go off when it ends.

SWITCHES = ("ivr", "overflow", "extra")
OVERFLOW_AFTER = 1.0
IVR_DIGITS = ("9", "8", "7", "6", "5", "*", "#")


class SwitchUnavailable(Conflict):
    code = "playbook_switch_unavailable"


def _check_switches(session: Session, principal: Principal, spec: PlaybookSpec) -> None:
    from kefu.routing import service as routing

    if spec.ivr_text is not None and len(spec.ivr_text.strip()) > 500:
        raise InvalidPlaybook("an IVR announcement has at most 500 characters", details={"field": "ivr_text"})
    if bool(spec.overflow_from) != bool(spec.overflow_to):
        raise InvalidPlaybook("an overflow names the queue and the queue it overflows into",
                              details={"field": "overflow_to"})
    if spec.overflow_from and spec.overflow_to:
        try:
            a = routing.queue(session, principal, spec.overflow_from)
            b = routing.queue(session, principal, spec.overflow_to)
        except NotFound as exc:
            raise InvalidPlaybook(exc.message, details={"field": "overflow_from"}) from None
        if a.key == b.key or a.channel != b.channel:
            raise InvalidPlaybook("a queue overflows into another queue of the same channel",
                                  details={"field": "overflow_to"})


def _queue_spec(row: Any, **changes: Any) -> Any:
    from kefu.routing import service as routing

    fields = {f: getattr(row, f) for f in ("key", "name", "channel", "org_unit_id", "name_en", "skills", "weight",
                                           "base_priority", "aging_per_minute", "rings", "overflow_to",
                                           "overflow_after", "offer_timeout", "wrap_up", "preferred_window", "open",
                                           "position")}
    return routing.QueueSpec(**{**fields, **changes})


def _switch_on(session: Session, principal: Principal, r: PlaybookRun, p: Playbook, kind: str) -> dict[str, Any]:
    from kefu.routing import service as routing
    from kefu.voice import ivr

    if kind == "ivr":
        if not p.ivr_text:
            raise SwitchUnavailable(f"playbook {p.key!r} has no IVR announcement")
        roots = [t.node for t in ivr.tree(session) if t.node.kind == "menu"]
        if not roots:
            raise SwitchUnavailable("the hotline has no IVR menu to announce on")
        taken = {c.node.digit for t in ivr.tree(session) for c in t.children}
        digit = next((d for d in IVR_DIGITS if d not in taken), None)
        if digit is None:
            raise SwitchUnavailable("the IVR menu has no free key for an announcement")
        key = f"playbook_run_{r.id}"
        ivr.save_node(session, ivr.NodeSpec(key=key, parent_key=roots[0].key, digit=digit, name=p.ivr_text[:100],
                                            kind="self_service", service="outage", position=-1))
        return {"node_key": key, "digit": digit, "text": p.ivr_text}
    if kind == "extra":
        return _extra_on(session, principal, p)
    if not (p.overflow_from and p.overflow_to):
        raise SwitchUnavailable(f"playbook {p.key!r} names no queue to overflow")
    row = routing.queue(session, principal, p.overflow_from)
    prev = {"queue": row.key, "to": p.overflow_to, "prev_to": row.overflow_to, "prev_after": row.overflow_after}
    routing.save_queue(session, principal, _queue_spec(row, overflow_to=p.overflow_to,
                                                       overflow_after=OVERFLOW_AFTER))
    return prev


def _switch_off(session: Session, principal: Principal, r: PlaybookRun, kind: str, at: datetime) -> None:
    from kefu.routing import service as routing
    from kefu.voice import ivr

    state = dict(r.switches or {})
    was = state.pop(kind, None)
    if was is None:
        return
    if kind == "ivr":
        with contextlib.suppress(NotFound):  # an administrator removed it already
            ivr.delete_node(session, was["node_key"])
    elif kind == "extra":
        _extra_off(session, principal, r, was)
    else:
        row = routing.queue(session, principal, was["queue"])
        routing.save_queue(session, principal, _queue_spec(row, overflow_to=was["prev_to"],
                                                           overflow_after=was["prev_after"]))
    r.switches = state or None
    _log(session, r, "switch_off", at, actor_id=principal.user_id, text=kind, data=was)
    session.flush()
    _event(session, r, "playbook.switched", at, switch=kind, on=False)


def switch(session: Session, principal: Principal, run_id: int, kind: str, *, on: bool,
           at: datetime | None = None) -> PlaybookRun:
    """Turn a run's one-action switch on or off (a duty manager); turning on what is on is a conflict."""
    at = at or utcnow()
    r = _managed(session, principal, run_id, "throws a playbook's switches")
    if kind not in SWITCHES:
        raise InvalidPlaybook(f"a switch is one of {', '.join(SWITCHES)}", details={"field": "switch"})
    if not on:
        if kind not in (r.switches or {}):
            raise SwitchUnavailable(f"the {kind} switch is off")
        _switch_off(session, principal, r, kind, at)
        return r
    if kind in (r.switches or {}):
        raise SwitchUnavailable(f"the {kind} switch is on already")
    p = session.get(Playbook, r.playbook_id)
    assert p is not None
    state = _switch_on(session, principal, r, p, kind)
    r.switches = {**(r.switches or {}), kind: state}
    _log(session, r, "switch_on", at, actor_id=principal.user_id, text=kind, data=state)
    session.flush()
    _event(session, r, "playbook.switched", at, switch=kind, on=True)
    return r


def _extra_on(session: Session, principal: Principal, p: Playbook) -> dict[str, Any]:
    from kefu.routing import service as routing

    if not p.extra_queues:
        raise SwitchUnavailable(f"playbook {p.key!r} names no extra queue")
    opened, media = [], set()
    for key in p.extra_queues:
        q = routing.queue(session, principal, key)
        media.add(q.channel)
        if not q.open:
            routing.set_queue_open(session, principal, key, True)
            opened.append(key)
    staff: dict[str, dict[str, Any]] = {}
    for uid in p.staff_ids or ():
        row = routing.default_profile(session, uid)
        added = [k for k in p.extra_queues if k not in row.queues]
        new_media = sorted(m for m in media if not row.channels.get(m))
        if not added and not new_media:
            continue
        routing.update_agent(session, principal, uid, queues=[*row.queues, *added],
                             channels={**row.channels, **dict.fromkeys(new_media, 1)})
        staff[str(uid)] = {"queues": added, "media": new_media}
    return {"queues": list(p.extra_queues), "opened": opened, "staff": staff, "media": sorted(media),
            "staff_ids": sorted(p.staff_ids or ())}


def _extra_holders(session: Session, principal: Principal, run_id: int) -> list[tuple[PlaybookRun, dict[str, Any]]]:
    """The other active runs with their extra queues on, by id, each with a copy of its extra state; one
    recorded before "media" and "staff_ids" were kept gets them filled in (its queues' media, its playbook's
    staff)."""
    from kefu.routing import service as routing

    out = []
    for r in session.scalars(select(PlaybookRun).where(PlaybookRun.state == "active", PlaybookRun.id != run_id)
                             .order_by(PlaybookRun.id)):
        state = copy.deepcopy((r.switches or {}).get("extra"))
        if state is None:
            continue
        if "media" not in state:
            media = set()
            for key in state["queues"]:
                with contextlib.suppress(NotFound):  # retired meanwhile
                    media.add(routing.queue(session, principal, key).channel)
            state["media"] = sorted(media)
        if "staff_ids" not in state:
            p = session.get(Playbook, r.playbook_id)
            state["staff_ids"] = sorted(p.staff_ids or ()) if p is not None else []
        out.append((r, state))
    return out


def _extra_off(session: Session, principal: Principal, r: PlaybookRun, was: dict[str, Any]) -> None:
    """Undo what the run's extra switch did, but what another active run holds as well: that undoing passes
    to the first such run (see above)."""
    from kefu.routing import service as routing

    holders = _extra_holders(session, principal, r.id)

    def holder(*, queue: str | None = None, medium: str | None = None, uid: int | None = None) -> Any:
        for _, st in holders:
            if ((queue is None or queue in st["queues"]) and (medium is None or medium in st["media"])
                    and (uid is None or uid in st["staff_ids"])):
                return st
        return None

    for key in was.get("opened", ()):
        st = holder(queue=key)
        if st is not None:
            st["opened"].append(key)
            continue
        with contextlib.suppress(NotFound):  # the queue was retired meanwhile
            routing.set_queue_open(session, principal, key, False)
    for uid, change in (was.get("staff") or {}).items():
        queues: list[str] = []
        media: list[str] = []
        for field, undo, held in (("queues", queues, change["queues"]), ("media", media, change["media"])):
            for x in held:
                st = holder(uid=int(uid), **({"queue": x} if field == "queues" else {"medium": x}))
                if st is None:
                    undo.append(x)
                else:
                    st["staff"].setdefault(uid, {"queues": [], "media": []})[field].append(x)
        if queues or media:
            row = routing.default_profile(session, int(uid))
            routing.update_agent(session, principal, int(uid), queues=[k for k in row.queues if k not in queues],
                                 channels={m: n for m, n in row.channels.items() if m not in media})
    for h, st in holders:
        if st != (h.switches or {})["extra"]:
            h.switches = {**(h.switches or {}), "extra": st}


# ---- resources ----------------------------------------------------------------------------------------------
# Staff the playbook calls in (active users the administrator sees, from any city: support crosses regions),
# the scripts agents answer with and the FAQ pushed to the front line (published knowledge articles the
# administrator can read), a compensation budget in yuan.

def _check_resources(session: Session, principal: Principal, spec: PlaybookSpec) -> None:
    from kefu.knowledge import service as knowledge
    from kefu.routing import service as routing

    if spec.budget_yuan is not None and not 0 <= spec.budget_yuan <= 100_000_000:
        raise InvalidPlaybook("a compensation budget is 0 to 100,000,000 yuan", details={"field": "budget_yuan"})
    if len(spec.staff_ids) > 100 or len(spec.script_article_ids) > 20 or len(spec.extra_queues) > 20:
        raise InvalidPlaybook("at most 100 staff, 20 scripts and 20 extra queues", details={"field": "resources"})
    for uid in spec.staff_ids:
        user = org.user(session, uid)
        if user is None or not user.active or not principal.sees_path(org.org_unit(session, user.org_unit_id).path):
            raise InvalidPlaybook(f"user {uid} cannot be called in by this playbook", details={"field": "staff_ids"})
    for field, ids in (("script_article_ids", spec.script_article_ids),
                       ("faq_article_id", (spec.faq_article_id,) if spec.faq_article_id else ())):
        for aid in ids:
            try:
                knowledge.get_live_article(session, principal, aid)
            except NotFound:
                raise InvalidPlaybook(f"article {aid} not found", details={"field": field}) from None
    for key in spec.extra_queues:
        try:
            routing.queue(session, principal, key)
        except NotFound as exc:
            raise InvalidPlaybook(exc.message, details={"field": "extra_queues"}) from None


@dataclass(frozen=True)
class Resources:
    staff: list[Any]
    scripts: list[Any]
    faq: Any | None
    budget_yuan: int | None
    extra_queues: list[Any]


def resources(session: Session, principal: Principal, p: Playbook) -> Resources:
    """A playbook's resources as the run page shows them: users, articles the principal can read (others are left
    out) and queues."""
    from kefu.knowledge import service as knowledge
    from kefu.routing import service as routing

    def article(aid: int) -> Any | None:
        try:
            return knowledge.get_live_article(session, principal, aid)
        except NotFound:
            return None

    users = org.users(session, set(p.staff_ids or ()))
    queues = {q.key: q for q in routing.queues(session)}
    scripts = [a for a in (article(x) for x in p.script_article_ids or ()) if a is not None]
    return Resources(staff=[users[u] for u in p.staff_ids or () if u in users], scripts=scripts,
                     faq=article(p.faq_article_id) if p.faq_article_id else None, budget_yuan=p.budget_yuan,
                     extra_queues=[queues[k] for k in p.extra_queues or () if k in queues])


class AlreadyPushed(Conflict):
    code = "playbook_faq_pushed"


def push_faq(session: Session, principal: Principal, run_id: int, *, at: datetime | None = None) -> int:
    """A duty manager pushes the playbook's FAQ (with its first script as the handling plan) to the front line of
    the run's unit, once per run (kefu.knowledge.push). Returns the hot topic's id."""
    from kefu.knowledge import push

    at = at or utcnow()
    r = _managed(session, principal, run_id, "pushes a playbook's FAQ")
    p = session.get(Playbook, r.playbook_id)
    assert p is not None
    if not p.faq_article_id:
        raise SwitchUnavailable(f"playbook {p.key!r} has no FAQ to push")
    if any(e.kind == "faq_pushed" for e in timeline(session, r.id)):
        raise AlreadyPushed(f"the FAQ of run {run_id} was pushed already")
    topic, n = push.publish(session, principal, title=f"【应急预案】{p.name}"[:200],
                            message=notice_text(session, r, "fault") or p.name,
                            targets=push.Targets(unit_ids=(r.org_unit_id,)), faq_article_id=p.faq_article_id,
                            plan_article_id=p.script_article_ids[0] if p.script_article_ids else None, at=at)
    _log(session, r, "faq_pushed", at, actor_id=principal.user_id, data={"topic_id": topic.id, "agents": n})
    session.flush()
    _event(session, r, "playbook.faq_pushed", at, topic_id=topic.id, agents=n)
    return topic.id


# ---- incident roles --------------------------------------------------------------------------------------

INCIDENT_ROLES = ("commander", "communications", "support_lead")


def set_role(session: Session, principal: Principal, run_id: int, role: str, user_id: int | None, *,
             at: datetime | None = None) -> PlaybookRun:
    """A duty manager names who holds an incident role on a run (commander, communications, support lead), or
    clears it (None); the person must be an active user whose unit is in the run's branch or above it."""
    at = at or utcnow()
    r = _managed(session, principal, run_id, "names the incident roles")
    if role not in INCIDENT_ROLES:
        raise InvalidPlaybook(f"a role is one of {', '.join(INCIDENT_ROLES)}", details={"field": "role"})
    roles = dict(r.roles or {})
    if user_id is None:
        roles.pop(role, None)
    else:
        user = org.user(session, user_id)
        if user is None or not user.active or not _related_units(session, user.org_unit_id, r.org_unit_id):
            raise InvalidPlaybook(f"user {user_id} cannot hold a role on this run", details={"field": "user_id"})
        roles[role] = user_id
    r.roles = roles or None
    _log(session, r, "role", at, actor_id=principal.user_id, text=role, data={"role": role, "user_id": user_id})
    session.flush()
    _event(session, r, "playbook.role_set", at, role=role, user_id=user_id)
    return r


def _related_units(session: Session, a: int, b: int) -> bool:
    pa, pb = org.org_unit(session, a).path, org.org_unit(session, b).path
    return pa.startswith(pb) or pb.startswith(pa)


# ---- linked tickets and ticket triggers ------------------------------------------------------------------
# A new ticket (ticket.created, the durable consumer playbooks.tickets) links itself to every active run whose
# scope it is in (the run's unit subtree and category; and a keyword, for a keyword playbook), and starts the
# keyword and threshold playbooks it sets off (kefu.playbooks.matching). Agents link a ticket by hand from the
# ticket page.


class AlreadyLinked(Conflict):
    code = "playbook_ticket_linked"


def _facts(session: Session, ticket: Any) -> matching.TicketFacts:
    from kefu.tickets.models import Category

    cat = session.get(Category, ticket.category_id) if ticket.category_id is not None else None
    return matching.TicketFacts(unit_path=org.org_unit(session, ticket.org_unit_id).path,
                                category_id=ticket.category_id, parent_category_id=cat.parent_id if cat else None,
                                text=f"{ticket.subject or ''}\n{ticket.description or ''}")


def _scope(session: Session, p: Playbook, *, unit_id: int | None = None,
           category_id: int | None = None) -> matching.Scope:
    return matching.Scope(unit_path=org.org_unit(session, unit_id or p.org_unit_id).path,
                          category_id=category_id if unit_id is not None else p.category_id,
                          keywords=tuple(p.keywords or ()) if p.trigger == "keyword" else ())


def _recent(session: Session, p: Playbook, at: datetime) -> list[int]:
    """The tickets in a threshold playbook's scope opened within its window up to `at`."""
    from kefu.tickets.models import Category, Ticket

    unit = org.org_unit(session, p.org_unit_id)
    q = (select(Ticket.id).join(OrgUnit, OrgUnit.id == Ticket.org_unit_id)
         .where(OrgUnit.path.startswith(unit.path), Ticket.status != "merged",
                Ticket.opened_at > at - timedelta(minutes=p.window_minutes), Ticket.opened_at <= at))
    if p.category_id is not None:
        q = q.where(Ticket.category_id.in_(select(Category.id).where(
            or_(Category.id == p.category_id, Category.parent_id == p.category_id))))
    return list(session.scalars(q.order_by(Ticket.id)))


def _link(session: Session, r: PlaybookRun, ticket_id: int, how: str, at: datetime,
          actor_id: int | None = None) -> bool:
    if session.get(PlaybookRunTicket, (r.id, ticket_id)) is not None:
        return False
    session.add(PlaybookRunTicket(run_id=r.id, ticket_id=ticket_id, how=how, linked_by=actor_id, linked_at=at))
    _log(session, r, "ticket_linked", at, actor_id=actor_id, data={"ticket_id": ticket_id, "how": how})
    session.flush()
    _event(session, r, "playbook.ticket_linked", at, ticket_id=ticket_id, how=how)
    return True


def links_tickets(session: Session) -> bool:
    """Whether a new ticket may be linked or start a run (an active run, or an active keyword or threshold
    playbook): one query; without either `on_ticket_created` does nothing."""
    return bool(session.scalar(select(
        exists().where(PlaybookRun.state == "active")
        | exists().where(Playbook.active.is_(True), Playbook.trigger.in_(("keyword", "threshold"))))))


def on_ticket_created(session: Session, ticket_id: int, *, at: datetime) -> list[PlaybookRun]:
    """Link a new ticket to the active runs it is in scope of (opened from the run's window start on); start
    the keyword and threshold playbooks it sets off (and link it to them). Returns the runs it started."""
    from kefu.tickets.models import Ticket

    ticket = session.get(Ticket, ticket_id)
    if ticket is None or ticket.status == "merged":
        return []
    facts = _facts(session, ticket)
    for r in session.scalars(select(PlaybookRun).where(PlaybookRun.state == "active").order_by(PlaybookRun.id)):
        p = session.get(Playbook, r.playbook_id)
        assert p is not None
        if ticket.opened_at >= r.window_start and matching.in_scope(
                _scope(session, p, unit_id=r.org_unit_id, category_id=r.category_id), facts):
            _link(session, r, ticket.id, "auto", at)
    started = []
    for p in session.scalars(select(Playbook).where(Playbook.active.is_(True),
                                                    Playbook.trigger.in_(("keyword", "threshold")))
                             .order_by(Playbook.id)):
        if active_run(session, p.id) is not None:
            continue
        scope = _scope(session, p)
        if not matching.in_scope(scope, facts):
            continue
        recent = _recent(session, p, at) if p.trigger == "threshold" else [ticket.id]
        if not matching.starts(p.trigger, scope, facts, recent=len(recent), min_count=p.min_count):
            continue
        hit = matching.keyword_hit(scope.keywords, facts.text) if scope.keywords else None
        r = _start(session, p, trigger=p.trigger, org_unit_id=p.org_unit_id, category_id=p.category_id,
                   window_start=at - timedelta(minutes=p.window_minutes), actor_id=None, at=at,
                   surge={"ticket_id": ticket.id, "count": len(recent), "keyword": hit,
                          "window_end": at.isoformat()})
        for tid in sorted({*recent, ticket.id}):  # the tickets that set it off
            _link(session, r, tid, "auto", at)
        started.append(r)
    session.flush()
    return started


def link_ticket(session: Session, principal: Principal, run_id: int, ticket_id: int, *,
                at: datetime | None = None) -> PlaybookRunTicket:
    """An agent who sees the ticket links it to an active run (409 when it is linked already)."""
    from kefu.tickets import service as tickets

    at = at or utcnow()
    r = _active(session, principal, run_id)
    t = tickets.get(session, ticket_id)
    if t is None or not principal.sees_path(org.org_unit(session, t.org_unit_id).path):
        raise InvalidPlaybook(f"ticket {ticket_id} not found", details={"field": "ticket_id"})
    if not _link(session, r, t.id, "manual", at, principal.user_id):
        raise AlreadyLinked(f"ticket {ticket_id} is linked to run {run_id} already")
    row = session.get(PlaybookRunTicket, (r.id, t.id))
    assert row is not None
    return row


def linked_tickets(session: Session, run_id: int) -> list[PlaybookRunTicket]:
    return list(session.scalars(select(PlaybookRunTicket).where(PlaybookRunTicket.run_id == run_id)
                                .order_by(PlaybookRunTicket.linked_at, PlaybookRunTicket.ticket_id)))


def runs_of_ticket(session: Session, principal: Principal, ticket_id: int) -> list[PlaybookRun]:
    """The runs a ticket is linked to that concern the principal, newest first."""
    rows = session.scalars(select(PlaybookRun).join(PlaybookRunTicket, PlaybookRunTicket.run_id == PlaybookRun.id)
                           .where(PlaybookRunTicket.ticket_id == ticket_id)
                           .order_by(PlaybookRun.started_at.desc(), PlaybookRun.id.desc()))
    return [r for r in rows if _concerns(session, principal, r.org_unit_id)]
