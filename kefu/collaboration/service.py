"""Consults (会商) and expert teams: the rules.

A ticket's owner (or anyone who may work the ticket) asks several addressees at once — departments (an org
unit and everything below it), roles, expert teams, named people — each as a consult of its own with a
question, a due time, a state and an answer. The ticket's assignee never changes: networked, not linear,
escalation. Addressees see the consults addressed to them (their 待支撑) ordered by due time; the first of
them to answer answers for all; the owner accepts the answer (closing the consult) or cancels a consult
that is no longer needed. A consult past its due time without an answer is reported once
(`consult.overdue`, by the `collaboration.overdue` job).

Who reaches a consult (`addressed_to`): a `user` consult its person; a `unit` consult the holders of
`collab.answer` in that unit or below; a `role` consult the holders of that role whose subtree holds the
ticket's unit; a `team` consult the team's members. The requester and everyone who sees the ticket see its
consults on the ticket page.

Events: consult.requested, consult.answered, consult.accepted, consult.cancelled, consult.overdue (payload
with ticket_id, so the ticket page refreshes live).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy.orm import Session

from kefu.collaboration.models import (
    LIVE_CONSULT,
    TARGET_KINDS,
    TEAM_DOMAINS,
    Consult,
    ConsultNote,
    CustomerNotice,
    ExpertTeam,
    ExpertTeamMember,
    NoticeTemplate,
)
from kefu.core import events
from kefu.core.auth import PERMISSIONS, Principal
from kefu.core.clock import utcnow
from kefu.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from kefu.org import service as org
from kefu.org.models import OrgUnit, User

MAX_TARGETS = 20
MIN_DUE_MINUTES, MAX_DUE_MINUTES = 5, 30 * 24 * 60
ANSWER_ROLES = tuple(sorted(r for r, perms in PERMISSIONS.items() if "collab.answer" in perms))


class ConsultNotFound(NotFound):
    code = "consult_not_found"


class ConsultNotOpen(Conflict):
    code = "consult_not_open"


class InvalidConsult(InvalidInput):
    code = "invalid_consult"


class NotTheOwner(Forbidden):
    code = "not_consult_owner"


class NotAddressed(Forbidden):
    code = "not_consult_addressee"


class TeamNotFound(NotFound):
    code = "expert_team_not_found"


class InvalidTeam(InvalidInput):
    code = "invalid_expert_team"


@dataclass(frozen=True)
class Target:
    """One addressee: kind "unit" | "team" | "user" with `id`, or kind "role" with `role`."""

    kind: str
    id: int | None = None
    role: str | None = None

    @classmethod
    def parse(cls, text: str) -> Target:
        """A chooser's value: "unit:5", "team:2", "user:7", "role:support"."""
        kind, _, ref = text.partition(":")
        if kind == "role":
            return cls("role", role=ref)
        if kind in TARGET_KINDS and ref.isdigit() and len(ref) < 19:
            return cls(kind, id=int(ref))
        raise InvalidConsult(f"not an addressee: {text!r}", details={"field": "targets"})

    @property
    def value(self) -> str:
        return f"{self.kind}:{self.role if self.kind == 'role' else self.id}"


# ---- whom a ticket's owner may consult ------------------------------------------------------------

def reach_path(unit_path: str) -> str:
    """Consults stay within the ticket's province (or the group when the ticket sits higher): the path of
    the ticket unit's first two levels."""
    parts = [p for p in unit_path.split("/") if p]
    return "/" + "/".join(parts[:2]) + "/"


def _ancestor_ids(path: str) -> list[int]:
    return [int(p) for p in path.split("/") if p]


@dataclass(frozen=True)
class Choice:
    value: str
    kind: str
    name: str
    name_en: str
    detail: str = ""


def choices(session: Session, ticket_unit_path: str) -> list[Choice]:
    """What a consult may be addressed to, with names: the departments of the ticket's province and the
    group above it, the roles that answer consults, every active expert team, the people of those
    departments who may answer."""
    reach = reach_path(ticket_unit_path)
    ancestors = _ancestor_ids(reach)
    units = list(session.scalars(select(OrgUnit).where(or_(OrgUnit.path.startswith(reach),
                                                          OrgUnit.id.in_(ancestors)))
                                 .order_by(OrgUnit.path)))
    out = [Choice(f"role:{r}", "role", ROLE_NAMES.get(r, (r, r))[0], ROLE_NAMES.get(r, (r, r))[1])
           for r in ANSWER_ROLES]
    out += [Choice(f"unit:{u.id}", "unit", u.name, u.name, u.code) for u in units]
    out += [Choice(f"team:{t.id}", "team", t.name, t.name_en or t.name, t.domain) for t in teams(session)
            if t.active]
    people = session.scalars(select(User).where(User.active.is_(True), User.role.in_(ANSWER_ROLES),
                                                User.org_unit_id.in_([u.id for u in units]))
                             .order_by(User.display_name, User.id))
    names = {u.id: u.name for u in units}
    out += [Choice(f"user:{p.id}", "user", p.display_name, p.display_name, names.get(p.org_unit_id, ""))
            for p in people]
    return out


ROLE_NAMES = {"support": ("后台支撑", "Back-office support"), "expert": ("专家", "Experts"),
              "supervisor": ("值班长", "Duty managers"), "admin": ("管理员", "Administrators"),
              "agent": ("一线坐席", "Frontline agents"), "analyst": ("分析员", "Analysts")}


def _check_target(session: Session, target: Target, reach: str) -> dict[str, Any]:
    """The consult columns of one addressee, refused (InvalidConsult) when it cannot be consulted."""
    if target.kind == "role":
        if target.role not in ANSWER_ROLES:
            raise InvalidConsult(f"role {target.role!r} does not answer consults", details={"field": "targets"})
        return {"target_kind": "role", "target_role": target.role}
    assert target.id is not None
    if target.kind == "unit":
        unit = session.get(OrgUnit, target.id)
        if unit is None or not (unit.path.startswith(reach) or unit.id in _ancestor_ids(reach)):
            raise InvalidConsult(f"org unit {target.id} cannot be consulted from this ticket",
                                 details={"field": "targets"})
        return {"target_kind": "unit", "target_unit_id": unit.id}
    if target.kind == "team":
        team = session.get(ExpertTeam, target.id)
        if team is None or not team.active:
            raise InvalidConsult(f"expert team {target.id} does not exist or is inactive", details={"field": "targets"})
        return {"target_kind": "team", "target_team_id": team.id}
    user = session.get(User, target.id)
    if user is None or not user.active or user.role not in ANSWER_ROLES:
        raise InvalidConsult(f"user {target.id} cannot answer consults", details={"field": "targets"})
    return {"target_kind": "user", "target_user_id": user.id}


# ---- asking ----------------------------------------------------------------------------------------

def request_consults(session: Session, principal: Principal, ticket_id: int, *, targets: Sequence[Target],
                     question: str, due_minutes: int, at: datetime | None = None) -> list[Consult]:
    """Ask every addressee at once, one consult each (the same addressee twice is asked once). The ticket
    and its owner do not change. All or nothing: one bad addressee refuses the whole request."""
    from kefu.tickets import service as tickets

    at = at or utcnow()
    ticket = tickets.get_visible(session, principal, ticket_id)
    if ticket.status in ("closed", "merged"):
        raise ConsultNotOpen(f"ticket {ticket_id} is {ticket.status}; it takes no consults")
    question = question.strip()
    if not question:
        raise InvalidConsult("a consult needs a question", details={"field": "question"})
    if not MIN_DUE_MINUTES <= due_minutes <= MAX_DUE_MINUTES:
        raise InvalidConsult(f"the due time is {MIN_DUE_MINUTES} minutes to {MAX_DUE_MINUTES // 1440} days away",
                             details={"field": "due_minutes"})
    unique = list(dict.fromkeys(targets))
    if not unique:
        raise InvalidConsult("choose at least one addressee", details={"field": "targets"})
    if len(unique) > MAX_TARGETS:
        raise InvalidConsult(f"at most {MAX_TARGETS} addressees at once", details={"field": "targets"})
    unit = org.org_unit(session, ticket.org_unit_id)
    reach = reach_path(unit.path)
    columns = [_check_target(session, t, reach) for t in unique]
    out = []
    for cols in columns:
        c = Consult(ticket_id=ticket.id, org_unit_id=ticket.org_unit_id, unit_path=unit.path,
                    requester_id=principal.user_id, question=question, due_at=at + timedelta(minutes=due_minutes),
                    state="open", created_at=at, **cols)
        session.add(c)
        out.append(c)
    session.flush()
    for c in out:
        _event(session, c, "consult.requested", at)
    return out


def _event(session: Session, c: Consult, name: str, at: datetime, **extra: Any) -> None:
    events.record(session, name, {"ticket_id": c.ticket_id, "consult_id": c.id, "requester_id": c.requester_id,
                                  "target": target_of(c).value, "due_at": c.due_at.isoformat(), **extra},
                  aggregate_type="consult", aggregate_id=c.id, org_unit_id=c.org_unit_id, at=at)


def target_of(c: Consult) -> Target:
    if c.target_kind == "role":
        return Target("role", role=c.target_role)
    ref = {"unit": c.target_unit_id, "team": c.target_team_id, "user": c.target_user_id}[c.target_kind]
    return Target(c.target_kind, id=ref)


# ---- who sees what ---------------------------------------------------------------------------------

def _team_ids(session: Session, user_id: int) -> list[int]:
    return list(session.scalars(select(ExpertTeamMember.team_id).where(ExpertTeamMember.user_id == user_id)))


def addressed_to(session: Session, principal: Principal) -> ColumnElement[bool]:
    """The consults addressed to this principal (see the module docstring)."""
    if not principal.can("collab.answer"):
        return false()
    conds: list[ColumnElement[bool]] = [
        Consult.target_user_id == principal.user_id,
        and_(Consult.target_kind == "unit", Consult.target_unit_id.in_(_ancestor_ids(principal.org_path))),
        and_(Consult.target_kind == "role", Consult.target_role == principal.role,
             Consult.unit_path.startswith(principal.org_path)),
    ]
    teams_ = _team_ids(session, principal.user_id)
    if teams_:
        conds.append(Consult.target_team_id.in_(teams_))
    return or_(*conds)


def is_addressee(session: Session, principal: Principal, c: Consult) -> bool:
    return session.scalar(select(func.count()).select_from(Consult)
                          .where(Consult.id == c.id, addressed_to(session, principal))) == 1


def get_visible(session: Session, principal: Principal, consult_id: int) -> Consult:
    """The consult if the principal asked it, is addressed by it, or sees its ticket; 404 otherwise."""
    c = session.get(Consult, consult_id)
    if c is None or not (c.requester_id == principal.user_id or principal.sees_path(c.unit_path)
                         or is_addressee(session, principal, c)):
        raise ConsultNotFound(f"consult {consult_id} not found")
    return c


def for_ticket(session: Session, principal: Principal, ticket_id: int) -> list[Consult]:
    from kefu.tickets import service as tickets

    tickets.get_visible(session, principal, ticket_id)
    return list(session.scalars(select(Consult).where(Consult.ticket_id == ticket_id).order_by(Consult.id)))


def mine(session: Session, principal: Principal, *, live_only: bool = True, limit: int = 100,
         offset: int = 0) -> tuple[list[Consult], int]:
    """The consults addressed to the principal (their 待支撑): open ones first by due time."""
    where = [addressed_to(session, principal)]
    if live_only:
        where.append(Consult.state.in_(LIVE_CONSULT))
    total = session.scalar(select(func.count()).select_from(Consult).where(*where)) or 0
    order = (Consult.state != "open", Consult.due_at, Consult.id)
    rows = list(session.scalars(select(Consult).where(*where).order_by(*order).limit(limit).offset(offset)))
    return rows, total


# ---- answering and closing -------------------------------------------------------------------------

def answer(session: Session, principal: Principal, consult_id: int, text: str, *,
           at: datetime | None = None) -> Consult:
    """An addressee answers (the first answer stands; a consult that is not open refuses more)."""
    at = at or utcnow()
    c = get_visible(session, principal, consult_id)
    if not is_addressee(session, principal, c):
        raise NotAddressed(f"consult {consult_id} is not addressed to you")
    text = text.strip()
    if not text:
        raise InvalidConsult("an answer needs a text", details={"field": "answer"})
    if c.state != "open":
        raise ConsultNotOpen(f"consult {consult_id} is {c.state}; it takes no answer")
    c.state, c.answer, c.answered_by, c.answered_at = "answered", text, principal.user_id, at
    session.flush()
    _event(session, c, "consult.answered", at, answered_by=principal.user_id,
           minutes=round((at - c.created_at).total_seconds() / 60, 1))
    return c


MAX_NOTE = 4000


def add_note(session: Session, principal: Principal, consult_id: int, text: str, *,
             at: datetime | None = None) -> ConsultNote:
    """A note on the consult's shared timeline (the 会诊's): by whoever asked, the ticket's assignee, a
    supervisor or an addressee (any member of an addressed team), while the consult is open or answered."""
    from kefu.tickets import service as tickets

    at = at or utcnow()
    c = get_visible(session, principal, consult_id)
    ticket = tickets.get(session, c.ticket_id)
    side = principal.user_id in {c.requester_id, ticket.assignee_id if ticket is not None else None}
    if not (side or principal.can("tickets.merge") or is_addressee(session, principal, c)):
        raise NotAddressed(f"consult {consult_id} is not yours to take notes on")
    text = text.strip()
    if not text or len(text) > MAX_NOTE:
        raise InvalidConsult(f"a note has 1 to {MAX_NOTE} characters", details={"field": "body"})
    if c.state not in LIVE_CONSULT:
        raise ConsultNotOpen(f"consult {consult_id} is {c.state}; its timeline is closed")
    note = ConsultNote(consult_id=c.id, author_id=principal.user_id, body=text, at=at)
    session.add(note)
    session.flush()
    _event(session, c, "consult.noted", at, note_id=note.id, author_id=principal.user_id)
    return note


def notes(session: Session, consult_ids: Iterable[int]) -> dict[int, list[ConsultNote]]:
    """Each consult's notes, oldest first."""
    ids = list(consult_ids)
    out: dict[int, list[ConsultNote]] = {i: [] for i in ids}
    if ids:
        for n in session.scalars(select(ConsultNote).where(ConsultNote.consult_id.in_(ids))
                                 .order_by(ConsultNote.id)):
            out[n.consult_id].append(n)
    return out


def _owner_may_close(session: Session, principal: Principal, c: Consult) -> None:
    from kefu.tickets import service as tickets

    ticket = tickets.get(session, c.ticket_id)
    owners = {c.requester_id, ticket.assignee_id if ticket is not None else None}
    if principal.user_id not in owners and not principal.can("tickets.merge"):
        raise NotTheOwner("only the ticket's owner (or whoever asked) closes its consults")


def accept(session: Session, principal: Principal, consult_id: int, *, at: datetime | None = None) -> Consult:
    """The owner takes the answer: the consult is done."""
    at = at or utcnow()
    c = get_visible(session, principal, consult_id)
    _owner_may_close(session, principal, c)
    if c.state != "answered":
        raise ConsultNotOpen(f"consult {consult_id} is {c.state}; only an answered consult is accepted")
    c.state, c.closed_at, c.closed_by = "accepted", at, principal.user_id
    session.flush()
    _event(session, c, "consult.accepted", at)
    return c


def cancel(session: Session, principal: Principal, consult_id: int, *, at: datetime | None = None) -> Consult:
    """The owner withdraws a consult that is no longer needed (open or answered)."""
    at = at or utcnow()
    c = get_visible(session, principal, consult_id)
    _owner_may_close(session, principal, c)
    if c.state not in LIVE_CONSULT:
        raise ConsultNotOpen(f"consult {consult_id} is {c.state} already")
    c.state, c.closed_at, c.closed_by = "cancelled", at, principal.user_id
    session.flush()
    _event(session, c, "consult.cancelled", at)
    return c


class AlreadyArticle(Conflict):
    code = "consult_already_article"


def to_article(session: Session, principal: Principal, consult_id: int, *, kind: str = "faq",
               department: str | None = None, at: datetime | None = None) -> Any:
    """Turn an accepted consult's conclusion into a knowledge article draft through kefu.knowledge's service
    (the question as title, question and answer as body, the ticket's category; ID and phone numbers masked),
    as an accepted Q&A answer can. Once per consult (409 afterwards). Returns the article."""
    from kefu.customers.pii import mask_pii_text
    from kefu.knowledge import service as knowledge
    from kefu.tickets import service as tickets

    at = at or utcnow()
    c = get_visible(session, principal, consult_id)
    if c.state != "accepted":
        raise ConsultNotOpen(f"consult {consult_id} is {c.state}; only an accepted conclusion becomes an article")
    if c.article_id is not None:
        raise AlreadyArticle(f"consult {consult_id} is article {c.article_id} already",
                             details={"article_id": c.article_id})
    ticket = tickets.get(session, c.ticket_id)
    category = tickets.categories_by_id(session).get(ticket.category_id) if ticket and ticket.category_id else None
    question, answer_text = mask_pii_text(c.question.strip()), mask_pii_text((c.answer or "").strip())
    content = knowledge.Content(title=question.splitlines()[0][:200], body=f"{question}\n\n{answer_text}",
                                kind=kind, department=department or "会商", org_unit_id=principal.org_unit_id,
                                category_keys=(category.key,) if category is not None else ())
    article = knowledge.create_article(session, principal, content, note=f"from consult {c.id} (ticket {c.ticket_id})",
                                       at=at)
    c.article_id = article.id
    session.flush()
    return article


# ---- the customer kept informed ----------------------------------------------------------------------------
# A template per state of the coordinated handling (administrators may replace the built-in text; {ticket} is
# the ticket number); sent on the channel the customer used (SMS for callers) through
# interactions.notify_customer, as playbooks' notices are. "handed_over" is for a ticket handed on (reassigned
# from one person to another, or transferred to a queue); "consulting" and "concluded" for one with consults.
# The ticket keeps the history of what its customer was told; the same state is not told twice in a row.

CUSTOMER_NOTICES = {
    "consulting": ("您反映的问题（工单号{ticket}）已请相关专业部门协同核查，我们会尽快给您答复。",
                   "We have asked the departments concerned to look into your case (ticket {ticket}) together."),
    "handed_over": ("您反映的问题（工单号{ticket}）已转交专业处理人员继续处理，处理进展我们会及时告知您。",
                    "Your case (ticket {ticket}) has been handed to the specialists; we will keep you posted."),
    "concluded": ("您反映的问题（工单号{ticket}）已有处理结论，客服人员将尽快与您联系说明。",
                  "Your case (ticket {ticket}) has a conclusion; an agent will contact you shortly."),
}


class NoCustomer(Conflict):
    code = "ticket_has_no_customer"


class ToldAlready(Conflict):
    code = "customer_told_already"


class NotHandedOver(Conflict):
    code = "ticket_not_handed_over"


class NoConsult(Conflict):
    code = "ticket_has_no_consult"


def notice_templates(session: Session) -> dict[str, str]:
    """The text told for each state: the administrator's, else the built-in one."""
    own = {t.state: t.body for t in session.scalars(select(NoticeTemplate))}
    return {state: own.get(state, texts[0]) for state, texts in CUSTOMER_NOTICES.items()}


def save_notice_template(session: Session, principal: Principal, state: str, body: str | None, *,
                         at: datetime | None = None) -> dict[str, str]:
    """An administrator of the group sets the text of a state, operator-wide ("" or None: back to the built-in
    text)."""
    if not principal.can("collab.admin") or not principal.at_group_level:
        raise Forbidden("only an administrator of the group edits the customer notices", code="forbidden")
    if state not in CUSTOMER_NOTICES:
        raise InvalidConsult(f"a notice is one of {', '.join(CUSTOMER_NOTICES)}", details={"field": "state"})
    body = (body or "").strip()
    if len(body) > 500:
        raise InvalidConsult("a notice has at most 500 characters", details={"field": "body"})
    row = session.get(NoticeTemplate, state)
    if not body:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(NoticeTemplate(state=state, body=body, updated_by=principal.user_id, updated_at=at or utcnow()))
    else:
        row.body, row.updated_by, row.updated_at = body, principal.user_id, at or utcnow()
    session.flush()
    return notice_templates(session)


def customer_notices(session: Session, ticket_id: int) -> list[CustomerNotice]:
    """What the ticket's customer was told, oldest first."""
    return list(session.scalars(select(CustomerNotice).where(CustomerNotice.ticket_id == ticket_id)
                                .order_by(CustomerNotice.id)))


def tellable(session: Session, ticket: Any) -> tuple[str, ...]:
    """The states the ticket's customer may be told now: consulting and concluded once it has consults,
    handed_over once it was handed on; not the state told last."""
    states = []
    if session.scalar(select(func.count()).select_from(Consult).where(Consult.ticket_id == ticket.id)):
        states += ["consulting", "concluded"]
    if dict(_handover_times(session, [ticket.id])):
        states.append("handed_over")
    last = session.scalar(select(CustomerNotice.state).where(CustomerNotice.ticket_id == ticket.id)
                          .order_by(CustomerNotice.id.desc()).limit(1))
    return tuple(s for s in CUSTOMER_NOTICES if s in states and s != last)


def tell_customer(session: Session, principal: Principal, ticket_id: int, state: str, *,
                  at: datetime | None = None) -> Any:
    """The ticket's owner tells its customer the state of the coordinated handling (a template per state) on the
    channel they used; records `consult.customer_told`. Returns the outbound message. The state told last is
    not told again (409 customer_told_already); handed_over needs a ticket handed on (409)."""
    from kefu.interactions import service as interactions
    from kefu.tickets import service as tickets
    from kefu.tickets.models import Ticket

    at = at or utcnow()
    ticket = tickets.get_visible(session, principal, ticket_id)
    if state not in CUSTOMER_NOTICES:
        raise InvalidConsult(f"a notice is one of {', '.join(CUSTOMER_NOTICES)}", details={"field": "state"})
    if ticket.customer_id is None:
        raise NoCustomer(f"ticket {ticket_id} has no customer to tell")
    owners = {ticket.assignee_id} | set(session.scalars(select(Consult.requester_id)
                                                        .where(Consult.ticket_id == ticket_id)))
    if principal.user_id not in owners and not principal.can("tickets.merge"):
        raise NotTheOwner("only the ticket's owner (or whoever asked its consults) tells its customer")
    session.execute(select(Ticket.id).where(Ticket.id == ticket.id).with_for_update())  # one teller at a time
    if state not in tellable(session, ticket):
        last = customer_notices(session, ticket.id)
        if last and last[-1].state == state:
            raise ToldAlready(f"the customer of ticket {ticket_id} was told {state!r} last already")
        if state == "handed_over":
            raise NotHandedOver(f"ticket {ticket_id} was not handed on")
        raise NoConsult(f"ticket {ticket_id} has no consult to tell its customer about")
    body = notice_templates(session)[state].replace("{ticket}", str(ticket.id))
    msg = interactions.notify_customer(session, customer_id=ticket.customer_id, org_unit_id=ticket.org_unit_id,
                                       channel=ticket.channel or "sms", body=body, actor_id=principal.user_id,
                                       ticket_id=ticket.id, at=at)
    session.add(CustomerNotice(ticket_id=ticket.id, state=state, channel=msg.channel, message_id=msg.id,
                               actor_id=principal.user_id, sent_at=at))
    session.flush()
    events.record(session, "consult.customer_told", {"ticket_id": ticket.id, "state": state, "message_id": msg.id,
                                                     "actor_id": principal.user_id},
                  aggregate_type="ticket", aggregate_id=ticket.id, org_unit_id=ticket.org_unit_id, at=at)
    return msg


def mark_overdue(session: Session, *, at: datetime | None = None) -> list[int]:
    """Record consult.overdue, once, for every open consult past its due time; returns their ids."""
    at = at or utcnow()
    due = list(session.scalars(select(Consult).where(Consult.state == "open", Consult.overdue_at.is_(None),
                                                     Consult.due_at <= at).order_by(Consult.id)
                               .with_for_update(skip_locked=True)))
    for c in due:
        c.overdue_at = at
        _event(session, c, "consult.overdue", at, overdue_minutes=round((at - c.due_at).total_seconds() / 60, 1))
    session.flush()
    return [c.id for c in due]


def is_overdue(c: Consult, at: datetime) -> bool:
    return c.state == "open" and c.due_at <= at


# ---- names for pages -------------------------------------------------------------------------------

def target_names(session: Session, consults: Iterable[Consult]) -> dict[int, tuple[str, str]]:
    """Each consult's addressee as (zh, en) names, in three queries whatever the number of consults."""
    cs = list(consults)
    units = {u.id: u for u in org.units(session, [c.target_unit_id for c in cs if c.target_unit_id])} if any(
        c.target_unit_id for c in cs) else {}
    users = org.users(session, [c.target_user_id for c in cs if c.target_user_id])
    team_ids = [c.target_team_id for c in cs if c.target_team_id]
    teams_ = ({t.id: t for t in session.scalars(select(ExpertTeam).where(ExpertTeam.id.in_(team_ids)))}
              if team_ids else {})
    out: dict[int, tuple[str, str]] = {}
    for c in cs:
        if c.target_kind == "role":
            out[c.id] = ROLE_NAMES.get(c.target_role or "", (c.target_role or "", c.target_role or ""))
        elif c.target_kind == "unit" and c.target_unit_id in units:
            out[c.id] = (units[c.target_unit_id].name, units[c.target_unit_id].name)
        elif c.target_kind == "team" and c.target_team_id in teams_:
            t = teams_[c.target_team_id]
            out[c.id] = (t.name, t.name_en or t.name)
        elif c.target_kind == "user" and c.target_user_id in users:
            out[c.id] = (users[c.target_user_id].display_name, users[c.target_user_id].display_name)
        else:
            out[c.id] = ("?", "?")
    return out


# ---- expert teams ----------------------------------------------------------------------------------

KEY_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


@dataclass(frozen=True)
class TeamSpec:
    key: str
    name: str
    domain: str
    member_ids: tuple[int, ...]
    lead_ids: tuple[int, ...] = ()
    name_en: str | None = None
    description: str | None = None
    active: bool = True


def teams(session: Session) -> list[ExpertTeam]:
    return list(session.scalars(select(ExpertTeam).order_by(ExpertTeam.active.desc(), ExpertTeam.name,
                                                            ExpertTeam.id)))


def team(session: Session, team_id: int) -> ExpertTeam:
    t = session.get(ExpertTeam, team_id)
    if t is None:
        raise TeamNotFound(f"expert team {team_id} not found")
    return t


def members(session: Session, team_ids: Iterable[int]) -> dict[int, list[tuple[User, bool]]]:
    """Each team's members (user, is lead), by name."""
    ids = list(team_ids)
    out: dict[int, list[tuple[User, bool]]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = session.execute(select(ExpertTeamMember.team_id, User, ExpertTeamMember.lead)
                           .join(User, User.id == ExpertTeamMember.user_id)
                           .where(ExpertTeamMember.team_id.in_(ids)).order_by(User.display_name, User.id))
    for team_id, user, lead in rows:
        out[team_id].append((user, bool(lead)))
    return out


def save_team(session: Session, spec: TeamSpec, *, team_id: int | None = None,
              at: datetime | None = None) -> ExpertTeam:
    """Create a team (team_id None) or change one, its members replaced by `member_ids`. Members may sit in
    any city of any province: that is what a virtual team is for; they must hold collab.answer."""
    at = at or utcnow()
    if not KEY_RE.match(spec.key):
        raise InvalidTeam("a key is 1-40 letters, digits, '-' or '_'", details={"field": "key"})
    if not spec.name.strip():
        raise InvalidTeam("a team needs a name", details={"field": "name"})
    if spec.domain not in TEAM_DOMAINS:
        raise InvalidTeam(f"domain must be one of {', '.join(TEAM_DOMAINS)}", details={"field": "domain"})
    member_ids = list(dict.fromkeys(spec.member_ids))
    users = org.users(session, member_ids)
    bad = [i for i in member_ids if i not in users or users[i].role not in ANSWER_ROLES]
    if bad:
        raise InvalidTeam(f"users {bad} cannot be team members (unknown, or their role does not answer consults)",
                          details={"field": "member_ids"})
    if not set(spec.lead_ids) <= set(member_ids):
        raise InvalidTeam("a lead must be a member", details={"field": "lead_ids"})
    clash = session.scalar(select(ExpertTeam.id).where(ExpertTeam.key == spec.key))
    if clash is not None and clash != team_id:
        raise Conflict(f"an expert team with key {spec.key!r} exists", code="expert_team_exists")
    if team_id is None:
        t = ExpertTeam(key=spec.key, created_at=at)
        session.add(t)
    else:
        t = team(session, team_id)
    t.name, t.name_en, t.domain = spec.name.strip()[:100], (spec.name_en or "").strip()[:100] or None, spec.domain
    t.description, t.active, t.updated_at, t.key = spec.description, spec.active, at, spec.key
    session.flush()
    for m in session.scalars(select(ExpertTeamMember).where(ExpertTeamMember.team_id == t.id)):
        session.delete(m)
    session.flush()
    for uid in member_ids:
        session.add(ExpertTeamMember(team_id=t.id, user_id=uid, lead=uid in spec.lead_ids))
    session.flush()
    return t


def team_candidates(session: Session) -> list[User]:
    """Everyone who may join an expert team (any unit: teams cross regions)."""
    return list(session.scalars(select(User).where(User.active.is_(True), User.role.in_(ANSWER_ROLES))
                                .order_by(User.display_name, User.id)))


# ---- measures ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ConsultMeasures:
    """Consults of the principal's branch asked since a time: how many, answered, overdue, how fast."""

    asked: int
    answered: int
    overdue: int
    tickets: int
    per_ticket: float
    mean_answer_minutes: float | None
    max_answer_minutes: float | None


def measures(session: Session, principal: Principal, *, since: datetime) -> ConsultMeasures:
    rows = session.execute(select(Consult.ticket_id, Consult.created_at, Consult.answered_at, Consult.overdue_at)
                           .where(Consult.unit_path.startswith(principal.org_path), Consult.created_at >= since)).all()
    waits = [(a - c).total_seconds() / 60 for _, c, a, _ in rows if a is not None]
    tickets = len({t for t, *_ in rows})
    return ConsultMeasures(
        asked=len(rows), answered=len(waits), overdue=sum(1 for *_, o in rows if o is not None), tickets=tickets,
        per_ticket=round(len(rows) / tickets, 2) if tickets else 0.0,
        mean_answer_minutes=round(sum(waits) / len(waits), 1) if waits else None,
        max_answer_minutes=round(max(waits), 1) if waits else None)


def handling_comparison(session: Session, principal: Principal, *, since: datetime, until: datetime) -> Any:
    """Networked vs linear handling (kefu.collaboration.handling) over the tickets of the principal's subtree
    resolved in [since, until): consults asked before resolution; hand-overs from the tickets' recorded
    `ticket.assigned` (from one person to another) and `ticket.transferred` events."""
    from kefu.collaboration import handling
    from kefu.core.clock import ensure_aware
    from kefu.tickets.models import Ticket

    rows = session.execute(select(Ticket.id, Ticket.opened_at, Ticket.resolved_at).where(
        Ticket.resolved_at >= since, Ticket.resolved_at < until,
        Ticket.org_unit_id.in_(org.visible_unit_ids(session, principal)))).all()
    resolved = {r.id: ensure_aware(r.resolved_at) for r in rows}
    consults: dict[int, int] = {}
    handovers: dict[int, int] = {}
    ids = list(resolved)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for tid, created in session.execute(select(Consult.ticket_id, Consult.created_at)
                                            .where(Consult.ticket_id.in_(chunk))):
            if ensure_aware(created) <= resolved[tid]:
                consults[tid] = consults.get(tid, 0) + 1
        for agg, at in _handover_times(session, chunk):
            if ensure_aware(at) <= resolved[agg]:
                handovers[agg] = handovers.get(agg, 0) + 1
    return handling.compare(
        handling.Handled(r.id, (resolved[r.id] - ensure_aware(r.opened_at)).total_seconds() / 3600,
                         consults.get(r.id, 0), handovers.get(r.id, 0)) for r in rows)


def _handover_times(session: Session, ticket_ids: list[int]) -> list[tuple[int, datetime]]:
    """When each of these tickets was handed on: its recorded `ticket.assigned` from one person to another and
    `ticket.transferred` events, (ticket id, time) pairs."""
    from kefu.core.events import OutboxEvent

    out = []
    for agg, name, payload, at in session.execute(
            select(OutboxEvent.aggregate_id, OutboxEvent.name, OutboxEvent.payload, OutboxEvent.occurred_at)
            .where(OutboxEvent.aggregate_type == "ticket", OutboxEvent.aggregate_id.in_(ticket_ids),
                   OutboxEvent.name.in_(("ticket.assigned", "ticket.transferred")))):
        if agg is not None and (name == "ticket.transferred" or (payload or {}).get("previous_assignee_id")
                                is not None):
            out.append((int(agg), at))
    return out
