"""FAQ push: the back office sends a hot topic (an FAQ plus a pre-handling plan) to chosen agents.

Targets: regions (org units: the agents in them and below), skills (agents holding any of them) and
queues. Until routing exposes queue membership, a queue `voice` is the skill `queue.voice`. Regions
restrict, skills and queues select: an agent gets the push if it sits in one of the regions (all of
the sender's subtree when none is given) and, when skills or queues are given, holds one of them.
A delivery row per agent is written in the same transaction, so agents see it at once; the event
`knowledge.push_published` (payload: topic id, user ids, unit ids) lets the console push it live.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.core import events
from kefu.core.auth import Principal
from kefu.core.clock import utcnow
from kefu.core.errors import InvalidInput
from kefu.knowledge import service
from kefu.knowledge.errors import ArticleNotFound, TopicNotFound
from kefu.knowledge.models import HotTopic, PushDelivery
from kefu.org import service as org

RECIPIENT_ROLES = ("agent", "supervisor", "expert")


@dataclass(frozen=True)
class Targets:
    unit_ids: tuple[int, ...] = ()
    skills: tuple[str, ...] = ()
    queues: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, list[object]]:
        return {"unit_ids": list(self.unit_ids), "skills": list(self.skills), "queues": list(self.queues)}


def recipients(session: Session, principal: Principal, targets: Targets) -> list[int]:
    """User ids of the active agents the targets name (within the sender's org subtree)."""
    paths = [org.check_visible(session, principal, uid).path for uid in targets.unit_ids] or [
        principal.org_path
    ]
    skill_keys = list(targets.skills) + [f"queue.{name}" for name in targets.queues]
    return org.active_user_ids(session, unit_paths=paths, roles=RECIPIENT_ROLES, skill_keys=skill_keys)


def publish(
    session: Session,
    principal: Principal,
    *,
    title: str,
    message: str,
    targets: Targets,
    faq_article_id: int | None = None,
    plan_article_id: int | None = None,
    at: datetime | None = None,
) -> tuple[HotTopic, int]:
    at = at or utcnow()
    if not title.strip():
        raise InvalidInput("a hot topic needs a title", code="invalid_push", details={"field": "title"})
    for aid, what in ((faq_article_id, "faq"), (plan_article_id, "pre-handling plan")):
        if aid is not None:
            try:
                service.get_live_article(session, principal, aid)
            except ArticleNotFound:
                raise ArticleNotFound(
                    f"the {what} article {aid} is not a published article you can see"
                ) from None
    users = recipients(session, principal, targets)
    if not users:
        raise InvalidInput(
            "no agent matches these targets; nothing was sent",
            code="no_recipients",
            details={"targets": targets.as_dict()},
        )
    topic = HotTopic(
        title=title.strip(),
        message=message,
        faq_article_id=faq_article_id,
        plan_article_id=plan_article_id,
        targets=targets.as_dict(),
        org_unit_id=principal.org_unit_id,
        created_by_id=principal.user_id,
        created_at=at,
    )
    session.add(topic)
    session.flush()
    session.add_all([PushDelivery(topic_id=topic.id, user_id=u, delivered_at=at) for u in users])
    unit_ids = sorted({u.org_unit_id for u in org.users(session, users).values()})
    events.record(
        session,
        "knowledge.push_published",
        {"topic_id": topic.id, "title": topic.title, "user_ids": users, "unit_ids": unit_ids},
        aggregate_type="knowledge_push",
        aggregate_id=topic.id,
        org_unit_id=principal.org_unit_id,
        at=at,
    )
    session.flush()
    return topic, len(users)


def inbox(
    session: Session, principal: Principal, *, unacknowledged: bool = True, limit: int = 20
) -> list[tuple[HotTopic, PushDelivery]]:
    q = (
        select(HotTopic, PushDelivery)
        .join(PushDelivery, PushDelivery.topic_id == HotTopic.id)
        .where(PushDelivery.user_id == principal.user_id)
    )
    if unacknowledged:
        q = q.where(PushDelivery.acknowledged_at.is_(None))
    return [
        (t, d)
        for t, d in session.execute(q.order_by(HotTopic.created_at.desc(), HotTopic.id.desc()).limit(limit))
    ]


def acknowledge(
    session: Session, principal: Principal, topic_id: int, *, at: datetime | None = None
) -> PushDelivery:
    d = session.get(PushDelivery, (topic_id, principal.user_id))
    if d is None:
        raise TopicNotFound(f"push {topic_id} not found")
    if d.acknowledged_at is None:  # acknowledging twice keeps the first time
        d.acknowledged_at = at or utcnow()
        events.record(
            session,
            "knowledge.push_acknowledged",
            {"topic_id": topic_id, "user_id": principal.user_id},
            aggregate_type="knowledge_push",
            aggregate_id=topic_id,
            org_unit_id=principal.org_unit_id,
            at=d.acknowledged_at,
        )
        session.flush()
    return d


def get_topic(session: Session, principal: Principal, topic_id: int) -> HotTopic:
    t = session.get(HotTopic, topic_id)
    if t is None:
        raise TopicNotFound(f"push {topic_id} not found")
    unit = org.org_unit(session, t.org_unit_id)
    mine = session.get(PushDelivery, (topic_id, principal.user_id)) is not None
    if not mine and not (principal.can("knowledge.write") and principal.sees_path(unit.path)):
        raise TopicNotFound(f"push {topic_id} not found")
    return t


@dataclass
class ReadRow:
    user_id: int
    username: str
    display_name: str
    org_unit_id: int
    delivered_at: datetime
    acknowledged_at: datetime | None


def read_status(session: Session, principal: Principal, topic_id: int) -> list[ReadRow]:
    t = session.get(HotTopic, topic_id)
    if t is None or not principal.sees_path(org.org_unit(session, t.org_unit_id).path):
        raise TopicNotFound(f"push {topic_id} not found")
    deliveries = list(
        session.scalars(
            select(PushDelivery).where(PushDelivery.topic_id == topic_id).order_by(PushDelivery.user_id)
        )
    )
    people = org.users(session, (d.user_id for d in deliveries))
    return [
        ReadRow(u.id, u.username, u.display_name, u.org_unit_id, d.delivered_at, d.acknowledged_at)
        for d in deliveries
        if (u := people.get(d.user_id)) is not None
    ]


def list_topics(
    session: Session, principal: Principal, *, limit: int, offset: int
) -> tuple[list[tuple[HotTopic, int, int]], int]:
    """Topics sent from the principal's subtree, with (delivered, acknowledged) counts."""
    units = org.visible_unit_ids(session, principal)
    cond = HotTopic.org_unit_id.in_(units)
    total = session.scalar(select(func.count()).select_from(HotTopic).where(cond)) or 0
    topics = session.scalars(
        select(HotTopic)
        .where(cond)
        .order_by(HotTopic.created_at.desc(), HotTopic.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    counts = {
        tid: (n, acked)
        for tid, n, acked in session.execute(
            select(PushDelivery.topic_id, func.count(), func.count(PushDelivery.acknowledged_at))
            .where(PushDelivery.topic_id.in_([t.id for t in topics]))
            .group_by(PushDelivery.topic_id)
        )
    }
    return [(t, *counts.get(t.id, (0, 0))) for t in topics], total
