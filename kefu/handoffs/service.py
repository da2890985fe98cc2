"""Handoffs: offer (send the link), open, complete, returned; the figures for the supervisor wall.

Decisions the issue left open:
- The link goes to the customer's own address on the target channel: their number (SMS), their WeChat
  openid (a template message), their app user id (a push). A customer without one gets 409 no_address.
- Returned: a call from the customer (or a customer merged into them) within `handoff_return_hours` of a
  handoff that was not completed marks it returned (consumers.py); a completed handoff stays completed.
- Hotline minutes saved: a completed handoff saves the mean talk time of the answered calls of its org
  unit's subtree over the 30 days before it (the call it spared), 0 when there were none.
- The handoff rate is handoffs offered from the hotline over calls offered, in the period and subtree.
Services flush, never commit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.core import events
from kefu.core.clock import utcnow
from kefu.core.errors import Conflict, InvalidInput, NotFound
from kefu.handoffs import tokens
from kefu.handoffs.models import SOURCES, TO_CHANNELS, Handoff

ADDRESS_KIND = {"sms": "phone", "wechat": "wechat_openid", "app": "app_user_id"}
LINK_TEXT = {"sms": "【客服】请点击链接继续办理：{task} {url}", "wechat": "您的业务可在线继续办理：{task}，点击 {url}",
             "app": "继续办理：{task} {url}"}
SAVING_WINDOW = timedelta(days=30)


class HandoffNotFound(NotFound):
    code = "handoff_not_found"


class NoAddress(Conflict):
    code = "no_address"


class HandoffClosed(Conflict):
    code = "handoff_closed"


def _address(session: Session, customer_id: int, channel: str) -> str | None:
    from kefu.customers import service as customers

    c = customers.resolve(session, customers.get(session, customer_id))
    kind = ADDRESS_KIND[channel]
    if kind == "phone" and c.phone:
        return c.phone
    return next((i.value for i in c.identities if i.kind == kind), None)


def offer(session: Session, *, customer_id: int, org_unit_id: int, to_channel: str, task: str, source: str,
          secret: bytes, public_url: str, link_hours: int, from_channel: str = "voice",
          from_interaction_id: int | None = None, ivr_node: str | None = None, agent_id: int | None = None,
          at: datetime | None = None) -> tuple[Handoff, str]:
    """Send the customer a link that opens `task` on `to_channel`; (the handoff, its token)."""
    from kefu.interactions import service as interactions

    at = at or utcnow()
    if to_channel not in TO_CHANNELS:
        raise InvalidInput(f"a handoff goes by one of {', '.join(TO_CHANNELS)}", code="invalid_channel",
                           details={"field": "to_channel"})
    if source not in SOURCES:
        raise InvalidInput(f"source is one of {', '.join(SOURCES)}", code="invalid_source")
    task = task.strip()
    if not task or len(task) > 100:
        raise InvalidInput("a handoff names its task (at most 100 characters)", code="invalid_task",
                           details={"field": "task"})
    to = _address(session, customer_id, to_channel)
    if to is None:
        raise NoAddress(f"the customer has no {ADDRESS_KIND[to_channel]} to send the link to",
                        details={"to_channel": to_channel})
    h = Handoff(customer_id=customer_id, org_unit_id=org_unit_id, source=source, from_channel=from_channel,
                to_channel=to_channel, task=task, ivr_node=ivr_node, from_interaction_id=from_interaction_id,
                agent_id=agent_id, status="offered", offered_at=at, expires_at=at + timedelta(hours=link_hours),
                saved_seconds=0.0)
    session.add(h)
    session.flush()
    token = tokens.sign(secret, h.id, h.expires_at)
    url = f"{public_url.rstrip('/')}/h/{token}"
    link = interactions.send_to_address(session, customer_id=customer_id, org_unit_id=org_unit_id, channel=to_channel,
                                    to=to, body=LINK_TEXT[to_channel].format(task=task, url=url),
                                    subject=f"handoff:{h.id}", at=at)
    h.link_interaction_id = link.id
    session.flush()
    _event(session, h, "handoff.offered", at)
    return h, token


def offered_from(session: Session, interaction_id: int, ivr_node: str) -> bool:
    """A handoff was offered from this call at this IVR node already."""
    return session.scalar(select(Handoff.id).where(Handoff.from_interaction_id == interaction_id,
                                                   Handoff.ivr_node == ivr_node).limit(1)) is not None


def _event(session: Session, h: Handoff, name: str, at: datetime) -> None:
    events.record(session, name, {"customer_id": h.customer_id, "from": h.from_channel, "to": h.to_channel,
                                  "task": h.task, "source": h.source, "status": h.status},
                  aggregate_type="handoff", aggregate_id=h.id, org_unit_id=h.org_unit_id, at=at)


def by_token(session: Session, token: str, *, secret: bytes, at: datetime | None = None) -> Handoff:
    hid = tokens.verify(secret, token, now=at or utcnow())
    h = session.get(Handoff, hid)
    if h is None:
        raise HandoffNotFound("no such handoff")
    return h


def opened(session: Session, h: Handoff, *, at: datetime | None = None) -> Handoff:
    """The customer opened the link (the first time counts)."""
    at = at or utcnow()
    if h.status == "offered":
        h.status, h.opened_at = "opened", at
        session.flush()
        _event(session, h, "handoff.opened", at)
    return h


def complete(session: Session, h: Handoff, *, at: datetime | None = None) -> Handoff:
    """The task was finished in the other channel; the hotline time it saved is recorded."""
    at = at or utcnow()
    if h.status == "completed":
        return h
    if h.status == "returned":
        raise HandoffClosed("the customer called the hotline instead; this handoff is closed")
    h.opened_at = h.opened_at or at
    h.status, h.completed_at = "completed", at
    h.saved_seconds = mean_talk_seconds(session, h.org_unit_id, since=at - SAVING_WINDOW, until=at)
    session.flush()
    _event(session, h, "handoff.completed", at)
    return h


def mean_talk_seconds(session: Session, org_unit_id: int, *, since: datetime, until: datetime) -> float:
    from kefu.interactions.models import Interaction
    from kefu.org import service as org

    unit = org.org_unit(session, org_unit_id)
    units = org.subtree_ids(session, unit.path)
    rows = session.execute(select(Interaction.answered_at, Interaction.ended_at).where(
        Interaction.channel == "voice", Interaction.outcome == "answered", Interaction.org_unit_id.in_(units),
        Interaction.ended_at >= since, Interaction.ended_at < until)).all()
    spans = [(e - a).total_seconds() for a, e in rows if a is not None and e is not None and e >= a]
    return sum(spans) / len(spans) if spans else 0.0


def customer_called(session: Session, customer_id: int, *, at: datetime, window_hours: int) -> list[Handoff]:
    """A call from the customer: their handoffs of the last `window_hours` not completed are returned."""
    from kefu.customers import service as customers

    family = customers.customer_ids_of(session, customers.resolve(session, customers.get(session, customer_id)).id)
    rows = list(session.scalars(select(Handoff).where(
        Handoff.customer_id.in_(family), Handoff.status.in_(("offered", "opened")),
        Handoff.offered_at >= at - timedelta(hours=window_hours), Handoff.offered_at < at)))
    for h in rows:
        h.status, h.returned_at = "returned", at
        _event(session, h, "handoff.returned", at)
    session.flush()
    return rows


# ---- the supervisor wall ----------------------------------------------------------------------------

@dataclass
class DirectionStats:
    from_channel: str
    to_channel: str
    offered: int = 0
    opened: int = 0
    completed: int = 0
    returned: int = 0

    @property
    def completion_rate(self) -> float | None:
        return self.completed / self.offered if self.offered else None

    @property
    def return_rate(self) -> float | None:
        return self.returned / self.offered if self.offered else None


@dataclass
class HandoffStats:
    calls: int
    offered: int
    opened: int
    completed: int
    returned: int
    minutes_saved: float
    directions: list[DirectionStats] = field(default_factory=list)

    @property
    def handoff_rate(self) -> float | None:
        return self.offered / self.calls if self.calls else None

    @classmethod
    def of(cls, calls: int, directions: Iterable[DirectionStats], saved_seconds: float) -> HandoffStats:
        """The totals of these directions (those offered something), the busiest direction first."""
        dirs = sorted((d for d in directions if d.offered), key=lambda d: (-d.offered, d.from_channel, d.to_channel))
        return cls(calls=calls, offered=sum(d.offered for d in dirs), opened=sum(d.opened for d in dirs),
                   completed=sum(d.completed for d in dirs), returned=sum(d.returned for d in dirs),
                   minutes_saved=round(saved_seconds / 60.0, 2), directions=dirs)


def stats(session: Session, unit_ids: list[int], *, start: datetime, end: datetime) -> HandoffStats:
    """Handoffs offered in [start, end) in these units, with the calls offered there in the same period."""
    from kefu.interactions.models import Interaction

    calls = session.scalar(select(func.count()).select_from(Interaction).where(
        Interaction.channel == "voice", Interaction.direction == "inbound", Interaction.org_unit_id.in_(unit_ids),
        Interaction.offered_at >= start, Interaction.offered_at < end)) or 0
    by_dir: dict[tuple[str, str], DirectionStats] = defaultdict(lambda: DirectionStats("", ""))
    saved = 0.0
    for h in session.scalars(select(Handoff).where(Handoff.org_unit_id.in_(unit_ids), Handoff.offered_at >= start,
                                                   Handoff.offered_at < end)):
        d = by_dir[(h.from_channel, h.to_channel)]
        d.from_channel, d.to_channel = h.from_channel, h.to_channel
        d.offered += 1
        d.opened += h.opened_at is not None
        d.completed += h.status == "completed"
        d.returned += h.status == "returned"
        saved += h.saved_seconds if h.status == "completed" else 0.0
    return HandoffStats.of(calls, by_dir.values(), saved)


def get(session: Session, handoff_id: int) -> Handoff:
    h = session.get(Handoff, handoff_id)
    if h is None:
        raise HandoffNotFound(f"handoff {handoff_id} not found")
    return h
