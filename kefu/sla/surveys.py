"""Satisfaction callbacks (回访): a survey after resolution, the customer's answer, CSAT per agent.

- When a ticket is resolved (`ticket.transitioned` to resolved) and its customer wrote on an SMS, WeChat or
  e-mail interaction of that ticket, a survey goes out on that interaction as an outbound system message
  (interactions.send_notice: "…回复1-5分：5非常满意 … 1非常不满意", with the signed answer link; on
  WeChat the link is also the template notice's button); a caller (a voice ticket) is asked by SMS through
  interactions.notify_customer; unless the customer had one within FATIGUE_DAYS.
- A customer's next message (`message.received`) is read by the pure parser (kefu.sla.survey_reply). An
  answer (1–5) is stored on the survey. The inbound path reopens a resolved ticket on any message; a
  satisfied or neutral answer (3–5) is only an answer, so the ticket goes back to resolved; an unsatisfied
  one (1 or 2) leaves it reopened (or reopens a closed one) for the agent, and records `survey.unsatisfied`.
- An unsatisfied answer is also a follow-up for the supervisors of its unit (`followups`, the console's
  回访跟进 list) until one closes it with a note of what was done (`close_followup`).
- Surveys nobody answered within ANSWER_HOURS expire (`expire`, hourly job): the non-reply rate counts them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from kefu.core import events
from kefu.core.auth import Principal
from kefu.core.clock import CHINA, ensure_aware, utcnow
from kefu.core.db import among
from kefu.core.errors import Conflict, InvalidInput, NotFound
from kefu.sla.models import SlaSurvey
from kefu.sla.survey_reply import (
    LABELS,
    PROMPT,
    UNSATISFIED,
    is_satisfied,
    is_unsatisfied,
    mean_score,
    parse_reply,
    satisfaction_rate,
)
from kefu.tickets import lifecycle
from kefu.tickets import service as tickets

SURVEY_CHANNELS = ("sms", "wechat", "email")
FATIGUE_DAYS = 7
ANSWER_HOURS = 72
REOPENED_BY_CUSTOMER = "customer wrote after resolution"


def survey_text(ticket_id: int, link: str | None = None) -> str:
    tail = f"，或点击 {link} 评价" if link else ""
    return f"【满意度回访】您反映的问题（工单号{ticket_id}）已处理完毕，请您评价本次服务：{PROMPT}{tail}。"


def _link_secret(secret: bytes) -> bytes:
    # a key of its own: a handoff token can never pass for a survey link of the same number
    return hashlib.sha256(b"kefu-survey-link\x00" + secret).digest()


def link_token(secret: bytes, survey: SlaSurvey) -> str:
    """The signed token of the survey's answer page (/s/<token>): valid until the survey expires."""
    from kefu.core.clock import ensure_aware
    from kefu.handoffs import tokens

    return tokens.sign(_link_secret(secret), survey.id, ensure_aware(survey.expires_at))


class SurveyLinkInvalid(NotFound):
    code = "survey_not_found"


class SurveyClosed(Conflict):
    code = "survey_closed"


def by_token(session: Session, secret: bytes, token: str, *, at: datetime | None = None) -> SlaSurvey:
    """The survey of a genuine link; 404 for a forged or unknown one, 409 once it expired."""
    from kefu.handoffs import tokens

    try:
        survey_id = tokens.verify(_link_secret(secret), token, now=at or utcnow())
    except tokens.TokenExpired:
        raise SurveyClosed("this survey has closed; thank you") from None
    except tokens.TokenInvalid:
        raise SurveyLinkInvalid("no such survey") from None
    survey = session.get(SlaSurvey, survey_id)
    if survey is None:
        raise SurveyLinkInvalid("no such survey")
    return survey


def _queue_of(session: Session, ticket_id: int) -> str | None:
    """The routing queue the ticket was last in (read only; None when routing never queued it)."""
    from kefu.routing.models import RoutingItem

    return session.scalar(select(RoutingItem.queue_key).where(RoutingItem.ticket_id == ticket_id)
                          .order_by(RoutingItem.id.desc()).limit(1))


def _settings_secret() -> tuple[bytes, str]:
    from kefu.core.config import get_settings

    settings = get_settings()
    return settings.secret_key.get_secret_value().encode(), settings.public_url


def send_for_ticket(session: Session, ticket_id: int, *, at: datetime | None = None, secret: bytes | None = None,
                    public_url: str | None = None) -> SlaSurvey | None:
    from kefu.interactions import service as interactions
    from kefu.interactions.models import Interaction

    at = at or utcnow()
    ticket = tickets.get(session, ticket_id)
    if ticket is None or ticket.customer_id is None or ticket.status != lifecycle.RESOLVED:
        return None
    if session.scalar(select(SlaSurvey.id).where(SlaSurvey.ticket_id == ticket_id).limit(1)) is not None:
        return None  # one survey per ticket, even if it is resolved again
    recent = session.scalar(select(SlaSurvey.id).where(
        SlaSurvey.customer_id == ticket.customer_id, SlaSurvey.sent_at > at - timedelta(days=FATIGUE_DAYS)).limit(1))
    if recent is not None:
        return None
    it = session.scalar(select(Interaction).where(Interaction.ticket_id == ticket_id,
                                                  Interaction.channel.in_(SURVEY_CHANNELS))
                        .order_by(Interaction.id.desc()).limit(1))
    voice = it is None and (ticket.channel == "voice" or session.scalar(select(Interaction.id).where(
        Interaction.ticket_id == ticket_id, Interaction.channel == "voice").limit(1)) is not None)
    if it is None and not voice:
        return None
    survey = SlaSurvey(ticket_id=ticket_id, customer_id=ticket.customer_id, agent_id=ticket.assignee_id,
                       org_unit_id=ticket.org_unit_id, channel=it.channel if it is not None else "sms",
                       queue_key=_queue_of(session, ticket_id), status="sent", sent_at=at,
                       expires_at=at + timedelta(hours=ANSWER_HOURS))
    session.add(survey)
    session.flush()
    if secret is None or public_url is None:
        secret, public_url = _settings_secret()
    link = f"{public_url.rstrip('/')}/s/{link_token(secret, survey)}"
    text = survey_text(ticket_id, link)
    if it is not None:  # on WeChat a template notice, the link its button
        msg = interactions.send_notice(session, it.id, body=text, kind="survey", link=link, at=at)
    else:  # a caller is asked by SMS (the notice path sends voice customers an SMS)
        msg = interactions.notify_customer(session, customer_id=ticket.customer_id, org_unit_id=ticket.org_unit_id,
                                           channel="voice", body=text, actor_id=None, ticket_id=ticket_id, at=at)
    survey.interaction_id, survey.message_id = msg.interaction_id, msg.id
    session.flush()
    _sent(session, survey)
    return survey


def _sent(session: Session, survey: SlaSurvey) -> None:
    events.record(session, "survey.sent", {"survey_id": survey.id, "ticket_id": survey.ticket_id,
                                           "channel": survey.channel},
                  aggregate_type="ticket", aggregate_id=survey.ticket_id, org_unit_id=survey.org_unit_id,
                  at=survey.sent_at)


def call_task(session: Session, ticket_id: int, *, at: datetime | None = None) -> SlaSurvey:
    """A survey by outbound call (回访电话): a task on the agents' call list, answered by the agent who called
    (`record_call`). Same rules as the other surveys: a resolved ticket with a customer, one survey per ticket,
    none within FATIGUE_DAYS of another (409 `survey_not_due` otherwise)."""
    at = at or utcnow()
    ticket = tickets.get(session, ticket_id)
    if ticket is None or ticket.customer_id is None or ticket.status != lifecycle.RESOLVED:
        raise SurveyNotDue("a call survey is for a resolved ticket with a customer")
    if session.scalar(select(SlaSurvey.id).where(SlaSurvey.ticket_id == ticket_id).limit(1)) is not None:
        raise SurveyNotDue("this ticket has had its survey")
    if session.scalar(select(SlaSurvey.id).where(
            SlaSurvey.customer_id == ticket.customer_id,
            SlaSurvey.sent_at > at - timedelta(days=FATIGUE_DAYS)).limit(1)) is not None:
        raise SurveyNotDue(f"the customer had a survey within {FATIGUE_DAYS} days")
    survey = SlaSurvey(ticket_id=ticket_id, customer_id=ticket.customer_id, agent_id=ticket.assignee_id,
                       org_unit_id=ticket.org_unit_id, channel="call", queue_key=_queue_of(session, ticket_id),
                       status="sent", sent_at=at, expires_at=at + timedelta(hours=ANSWER_HOURS))
    session.add(survey)
    session.flush()
    _sent(session, survey)
    return survey


class SurveyNotDue(Conflict):
    code = "survey_not_due"


def of_ticket(session: Session, ticket_id: int) -> list[SlaSurvey]:
    """The satisfaction callbacks sent for a ticket, oldest first."""
    return list(session.scalars(select(SlaSurvey).where(SlaSurvey.ticket_id == ticket_id).order_by(SlaSurvey.id)))


def visible_survey(session: Session, principal: Principal, survey_id: int, *,
                   channel: str | None = None) -> SlaSurvey:
    """A survey of the principal's subtree, of `channel` when given (a call task: "call"), for the staff's
    pages and API (a follow-up to close, a call to record). One that does not exist, is outside the subtree or
    is of another channel is SurveyLinkInvalid (404: nothing is told about it)."""
    from kefu.org import service as org

    row = session.get(SlaSurvey, survey_id)
    if (row is None or (channel is not None and row.channel != channel)
            or row.org_unit_id not in org.visible_unit_ids(session, principal)):
        raise SurveyLinkInvalid(f"{'call task' if channel == 'call' else 'survey'} {survey_id} does not exist")
    return row


def call_tasks(session: Session, unit_ids: list[int] | None) -> list[SlaSurvey]:
    """The call surveys still to make (oldest first), of these units (None: all)."""
    q = select(SlaSurvey).where(SlaSurvey.channel == "call", SlaSurvey.status == "sent")
    if unit_ids is not None:
        q = q.where(SlaSurvey.org_unit_id.in_(unit_ids))
    return list(session.scalars(q.order_by(SlaSurvey.sent_at, SlaSurvey.id)))


def record_call(session: Session, survey: SlaSurvey, *, choice: int | None, note: str = "",
                at: datetime | None = None) -> SlaSurvey:
    """The agent's record of the call: the customer's 1–5, or None (no answer / declined: the task closes as
    opted_out). An unsatisfied answer reopens the ticket like any other."""
    if survey.channel != "call":
        raise InvalidInput("only a call survey is recorded by an agent", code="survey_not_a_call")
    if choice is None:
        if survey.status != "sent":
            raise SurveyClosed("this survey is answered or closed")
        survey.status, survey.answered_at, survey.answer_text = "opted_out", at or utcnow(), note[:500]
        session.flush()
        return survey
    return answer(session, survey, choice, text=note, at=at)


def answer(session: Session, survey: SlaSurvey, choice: int, *, text: str = "",
           at: datetime | None = None) -> SlaSurvey:
    """Store an answer given by link, template button or call: once, while the survey is open."""
    at = at or utcnow()
    if choice not in LABELS:
        raise InvalidInput("an answer is 1 (very unsatisfied) to 5 (very satisfied)", code="survey_bad_choice",
                           details={"field": "choice"})
    if survey.status != "sent" or ensure_aware(survey.expires_at) <= at:
        raise SurveyClosed("this survey is answered or closed")
    _store_answer(session, survey, choice, text or LABELS[choice][0], at)
    return survey


def on_customer_message(session: Session, *, customer_id: int, body: str, at: datetime) -> SlaSurvey | None:
    """Read a customer's message as the answer to their pending survey, if it is one."""
    survey = session.scalar(select(SlaSurvey).where(
        SlaSurvey.customer_id == customer_id, SlaSurvey.status == "sent", SlaSurvey.channel != "call",
        SlaSurvey.sent_at <= at, SlaSurvey.expires_at > at).order_by(SlaSurvey.sent_at.desc()).limit(1))
    if survey is None:
        return None
    reply = parse_reply(body)
    if reply.opted_out:
        survey.status, survey.answered_at, survey.answer_text = "opted_out", at, body[:500]
        session.flush()
        return survey
    if reply.choice is None:
        return None
    _store_answer(session, survey, reply.choice, body, at)
    return survey


def _store_answer(session: Session, survey: SlaSurvey, choice: int, text: str, at: datetime) -> None:
    survey.status, survey.choice, survey.answered_at, survey.answer_text = "answered", choice, at, text[:500]
    session.flush()
    events.record(session, "survey.answered", {"survey_id": survey.id, "ticket_id": survey.ticket_id,
                                               "choice": choice},
                  aggregate_type="ticket", aggregate_id=survey.ticket_id, org_unit_id=survey.org_unit_id, at=at)
    ticket = tickets.get(session, survey.ticket_id)
    if ticket is None:
        return
    reopened_now = ticket.status == lifecycle.IN_PROGRESS and _last_reason(session, ticket.id) == REOPENED_BY_CUSTOMER
    if not is_unsatisfied(choice) and reopened_now:
        tickets.change_status(session, ticket.id, lifecycle.RESOLVED, actor_id=None,
                              reason=f"回访答复：{LABELS[choice][0]}", at=at)
    elif is_unsatisfied(choice):
        if ticket.status in (lifecycle.RESOLVED, lifecycle.CLOSED):
            tickets.change_status(session, ticket.id, lifecycle.IN_PROGRESS, actor_id=None,
                                  reason="回访不满意，重新处理", at=at)
        events.record(session, "survey.unsatisfied", {"survey_id": survey.id, "ticket_id": ticket.id,
                                                      "agent_id": survey.agent_id, "choice": choice},
                      aggregate_type="ticket", aggregate_id=ticket.id, org_unit_id=ticket.org_unit_id, at=at)


def _followups(unit_ids: list[int] | None, *, done: bool) -> Select[SlaSurvey]:
    """The unsatisfied answers (1-2) of these units (None: all) whose supervisor follow-up is open (or, with
    `done`, closed)."""
    closed = SlaSurvey.followed_up_at.is_not(None)
    q = select(SlaSurvey).where(SlaSurvey.status == "answered", SlaSurvey.choice <= UNSATISFIED,
                                closed if done else ~closed)
    return q if unit_ids is None else q.where(SlaSurvey.org_unit_id.in_(unit_ids))


def followups(session: Session, unit_ids: list[int] | None, *, done: bool = False) -> list[SlaSurvey]:
    """The unsatisfied answers (1-2) of these units (None: all) whose supervisor follow-up is open (or, with
    `done`, closed), oldest answer first: the supervisor's list of customers to call back about the handling."""
    return list(session.scalars(_in_order(_followups(unit_ids, done=done))))


def _in_order(q: Select[SlaSurvey]) -> Select[SlaSurvey]:
    """Follow-ups oldest answer first."""
    return q.order_by(SlaSurvey.answered_at, SlaSurvey.id)


def closed_followups(session: Session, unit_ids: list[int] | None, *, limit: int, offset: int = 0) -> list[SlaSurvey]:
    """The closed follow-ups of these units (None: all), the most recently closed first, `limit` of them from
    `offset`: the console shows them a page at a time, the list grows for good."""
    q = _followups(unit_ids, done=True)
    return list(session.scalars(q.order_by(SlaSurvey.followed_up_at.desc(), SlaSurvey.id.desc())
                                .limit(limit).offset(offset)))


def followup_page(session: Session, unit_ids: list[int] | None, *, done: bool, limit: int,
                  offset: int = 0) -> tuple[list[SlaSurvey], int]:
    """One page of `followups` (open: oldest answer first) or of `closed_followups` (most recently closed
    first), and how many there are in all."""
    rows = (closed_followups(session, unit_ids, limit=limit, offset=offset) if done else
            list(session.scalars(_in_order(_followups(unit_ids, done=False)).limit(limit).offset(offset))))
    total = session.scalar(select(func.count()).select_from(_followups(unit_ids, done=done).subquery()))
    return rows, int(total or 0)


class FollowUpNotOpen(Conflict):
    code = "survey_followup_not_open"


def close_followup(session: Session, survey: SlaSurvey, *, actor_id: int, note: str,
                   at: datetime | None = None) -> SlaSurvey:
    """A supervisor closes the follow-up of an unsatisfied answer with what was done (a note is required)."""
    note = note.strip()
    if not note:
        raise InvalidInput("say what was done for the customer", code="survey_followup_note_required",
                           details={"field": "note"})
    if survey.status != "answered" or not is_unsatisfied(survey.choice) or survey.followed_up_at is not None:
        raise FollowUpNotOpen("this answer has no open follow-up")
    at = at or utcnow()
    survey.followed_up_at, survey.followed_up_by_id, survey.follow_up_note = at, actor_id, note[:500]
    session.flush()
    events.record(session, "survey.followed_up", {"survey_id": survey.id, "ticket_id": survey.ticket_id,
                                                  "actor_id": actor_id},
                  aggregate_type="ticket", aggregate_id=survey.ticket_id, org_unit_id=survey.org_unit_id, at=at)
    return survey


def customers_awaiting(session: Session, customer_ids: set[int]) -> set[int]:
    """Which of these customers have a survey waiting for their answer (one statement): only their
    messages can be one (`on_customer_message`)."""
    if not customer_ids:
        return set()
    return set(session.scalars(select(SlaSurvey.customer_id).where(
        among(session, SlaSurvey.customer_id, sorted(customer_ids)), SlaSurvey.status == "sent").distinct()))


def _last_reason(session: Session, ticket_id: int) -> str | None:
    rows = tickets.transitions_of(session, ticket_id)
    return rows[-1].reason if rows else None


def expire(session: Session, *, at: datetime | None = None) -> int:
    at = at or utcnow()
    rows = session.scalars(select(SlaSurvey).where(SlaSurvey.status == "sent", SlaSurvey.expires_at <= at)).all()
    for s in rows:
        s.status = "expired"
    session.flush()
    return len(rows)


CSAT_DIMENSIONS = ("agent", "channel", "category", "unit", "queue", "day")


@dataclass(frozen=True)
class Csat:
    key: int | str | None  # the agent's or unit's id, the channel, the category key, the queue key, the day (ISO)
    sent: int
    answered: int
    satisfied: int
    score_total: int  # the sum of the answers' scores (1–5)

    @classmethod
    def total(cls, rows: Iterable[Csat], key: int | str | None = None) -> Csat:
        """The figures of these rows together (each sum added: a report's period over its channels)."""
        sent = answered = satisfied = score_total = 0
        for r in rows:
            sent, answered = sent + r.sent, answered + r.answered
            satisfied, score_total = satisfied + r.satisfied, score_total + r.score_total
        return cls(key, sent, answered, satisfied, score_total)

    @property
    def agent_id(self) -> int | None:
        return self.key if isinstance(self.key, int) else None

    @property
    def csat(self) -> float | None:
        return satisfaction_rate(self.satisfied, self.answered)

    @property
    def average(self) -> float | None:
        """The answers' mean score (1–5); None without answers."""
        return mean_score(self.score_total, self.answered)

    @property
    def response_rate(self) -> float | None:
        return self.answered / self.sent if self.sent else None


def csat_by(session: Session, by: str, *, since: datetime, until: datetime,
            unit_ids: list[int] | None = None) -> list[Csat]:
    """Surveys sent, answered and satisfied (4 or 5 of 5) and the answers' score total in [since, until), per
    agent, channel, ticket category, org unit, routing queue or day (Asia/Shanghai); `unit_ids` narrows to the
    surveys of those units (a principal's subtree)."""

    from kefu.tickets.models import Category, Ticket

    if by not in CSAT_DIMENSIONS:
        raise ValueError(f"CSAT is grouped by one of {', '.join(CSAT_DIMENSIONS)}")
    cols = {"agent": SlaSurvey.agent_id, "channel": SlaSurvey.channel, "category": Category.key,
            "unit": SlaSurvey.org_unit_id, "queue": SlaSurvey.queue_key, "day": SlaSurvey.sent_at}
    q = select(cols[by], SlaSurvey.status, SlaSurvey.choice).where(SlaSurvey.sent_at >= since,
                                                                     SlaSurvey.sent_at < until)
    if by == "category":
        q = (q.join(Ticket, Ticket.id == SlaSurvey.ticket_id)
             .outerjoin(Category, Category.id == Ticket.category_id))
    if unit_ids is not None:
        q = q.where(SlaSurvey.org_unit_id.in_(unit_ids))
    acc: dict[int | str | None, list[int]] = {}
    for raw, status, choice in session.execute(q):
        key = ensure_aware(raw).astimezone(CHINA).date().isoformat() if isinstance(raw, datetime) else raw
        a = acc.setdefault(key, [0, 0, 0, 0])
        a[0] += 1
        if status == "answered" and choice is not None:
            a[1] += 1
            a[2] += 1 if is_satisfied(choice) else 0
            a[3] += choice
    order = sorted(acc.items(), key=lambda kv: (kv[0] is None, kv[0] if kv[0] is not None else 0))
    return [Csat(k, *v) for k, v in order]


def csat_by_agent(session: Session, *, since: datetime, until: datetime,
                  unit_ids: list[int] | None = None) -> list[Csat]:
    """Per agent: surveys sent, answered, satisfied (4 or 5) in [since, until)."""
    return csat_by(session, "agent", since=since, until=until, unit_ids=unit_ids)
