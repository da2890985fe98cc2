"""Seed the demo operator's back office: the knowledge base, pushed hot topics with read receipts, and
a Q&A history with points, all through the knowledge services (versions, review by a second person,
the search index, events), at simulated times before the demo's day ends.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from sqlalchemy.orm import Session

from kefu.core.auth import Principal
from kefu.core.db import Database
from kefu.demo.generate import CITIES, CST, GROUP_CODE, Demo
from kefu.demo.knowledge_content import ARTICLES, DEPARTMENT_OF, PUSHES, QUESTIONS, ArticleSpec

# Who writes and who reviews each department's articles: never the same person.
AUTHORS: dict[str, tuple[str, str]] = {
    "计费支撑中心": ("billing01", "billing02"),
    "网络支撑中心": ("network01", "network02"),
    "市场经营部": ("marketing01", "billing01"),
    "客户服务中心": ("expert03", "marketing01"),
}
GROUP_AUTHORS = ("expert01", "admin")  # group-wide articles: the group's expert writes, the admin reviews
ACK_SHARE = 0.7  # share of a push's recipients who have read it by the end of the demo day
VOTES_PER_ANSWER = (0, 3)


@dataclass
class KnowledgeReport:
    articles: dict[str, int] = field(default_factory=dict)  # status -> count
    pushes: int = 0
    deliveries: int = 0
    acknowledged: int = 0
    questions: int = 0
    answers: int = 0


def _department(a: ArticleSpec) -> str:
    first = a.categories[0].split(".")[0] if a.categories else "service"
    return DEPARTMENT_OF.get(first, "客户服务中心")


def _unit_code(scope: str) -> str:
    if scope == "group":
        return GROUP_CODE
    if scope == "province":
        return f"{GROUP_CODE}-GD"
    assert scope in {c[0] for c in CITIES}, scope
    return f"{GROUP_CODE}-GD-{scope}"


class _People:
    def __init__(self, s: Session, users: dict[str, int]) -> None:
        self.s, self.users, self.cache = s, users, dict[str, Principal]()

    def __call__(self, username: str) -> Principal:
        p = self.cache.get(username)
        if p is None:
            from kefu.org import service as org
            from kefu.org.models import User

            user = self.s.get(User, self.users[username])
            assert user is not None
            p = self.cache[username] = org.principal_for(self.s, user)
        return p


def seed(db: Database, demo: Demo, units: dict[str, int], users: dict[str, int], *, now: datetime) -> KnowledgeReport:
    """Write the knowledge base as it stood at `now` (the demo's end): articles written over the weeks
    before the demo day, pushes and Q&A during it."""
    from collections import Counter

    rng = random.Random(f"{demo.seed}-knowledge")
    day_start = datetime.combine(demo.day, time(0), CST)
    report = KnowledgeReport()
    with db.unit_of_work() as s:
        who = _People(s, users)
        titles = _articles(s, who, units, day_start, now, rng)
        report.articles = dict(Counter(status for _, status in titles.values()))
    with db.unit_of_work() as s:
        who = _People(s, users)
        _pushes(s, who, {t: aid for t, (aid, _) in titles.items()}, day_start, now, rng, report)
        _questions(s, who, demo, day_start, now, rng, report)
    return report


def _articles(
    s: Session,
    who: _People,
    units: dict[str, int],
    day_start: datetime,
    now: datetime,
    rng: random.Random,
) -> dict[str, tuple[int, str]]:
    from kefu.knowledge import service as knowledge

    out: dict[str, tuple[int, str]] = {}
    latest = now - timedelta(minutes=5)
    for i, a in enumerate(ARTICLES):
        dept = _department(a)
        author, reviewer = GROUP_AUTHORS if a.scope == "group" else AUTHORS[dept]
        valid_from = day_start - timedelta(days=a.starts) if a.starts is not None else None
        valid_until = day_start + timedelta(days=a.ends) if a.ends is not None else None
        if valid_from is not None:
            written = valid_from - timedelta(hours=rng.uniform(1, 4))
        else:  # the standing knowledge was written over the month before
            written = day_start - timedelta(days=30) + timedelta(hours=i * 7 + rng.uniform(0, 5))
        written = min(written, latest - timedelta(hours=1))
        content = knowledge.Content(
            title=a.title,
            body=a.body,
            kind=a.kind,
            department=dept,
            org_unit_id=units[_unit_code(a.scope)],
            tags=a.tags,
            category_keys=a.categories,
            valid_from=valid_from,
            valid_until=valid_until,
        )
        art = knowledge.create_article(s, who(author), content, at=written)
        if a.status != "draft":
            knowledge.transition(s, who(author), art.id, "in_review", at=written + timedelta(minutes=10))
        if a.status == "published":
            knowledge.transition(
                s,
                who(reviewer),
                art.id,
                "published",
                version=1,
                reason="审核通过",
                at=min(latest, written + timedelta(minutes=rng.uniform(30, 180))),
            )
        out[a.title] = (art.id, a.status)
    return out


def _pushes(
    s: Session,
    who: _People,
    articles: dict[str, int],
    day_start: datetime,
    now: datetime,
    rng: random.Random,
    report: KnowledgeReport,
) -> None:
    from sqlalchemy import select

    from kefu.knowledge import push
    from kefu.knowledge.models import PushDelivery

    latest = now - timedelta(minutes=1)
    for i, (title, message, author, faq, skills, plan) in enumerate(PUSHES):
        sent = min(latest - timedelta(hours=1), day_start + timedelta(hours=8 + 2 * i, minutes=rng.randint(0, 50)))
        topic, n = push.publish(
            s,
            who(author),
            title=title,
            message=message,
            targets=push.Targets(skills=skills),
            faq_article_id=articles[faq] if faq else None,
            plan_article_id=articles[plan] if plan else None,
            at=sent,
        )
        report.pushes += 1
        report.deliveries += n
        recipients = list(s.scalars(select(PushDelivery.user_id).where(PushDelivery.topic_id == topic.id)))
        by_id = {uid: name for name, uid in who.users.items()}
        for uid in recipients:
            if rng.random() < ACK_SHARE:
                read = min(latest, sent + timedelta(minutes=rng.uniform(1, 90)))
                push.acknowledge(s, who(by_id[uid]), topic.id, at=read)
                report.acknowledged += 1


def _questions(
    s: Session,
    who: _People,
    demo: Demo,
    day_start: datetime,
    now: datetime,
    rng: random.Random,
    report: KnowledgeReport,
) -> None:
    from kefu.knowledge import qa

    agents = [p.username for p in demo.people if p.role == "agent"]
    latest = now - timedelta(minutes=1)
    for i, (asker, title, body, category, answers) in enumerate(QUESTIONS):
        asked = min(latest - timedelta(hours=2), day_start - timedelta(days=len(QUESTIONS) - i, hours=-10))
        q = qa.ask(s, who(asker), title=title, body=body or title, category_key=category, at=asked)
        report.questions += 1
        for j, (author, text) in enumerate(answers):
            answered = min(latest, asked + timedelta(minutes=20 + 40 * j + rng.uniform(0, 30)))
            ans = qa.answer(s, who(author), q.id, body=text, at=answered)
            report.answers += 1
            if j == 0:
                qa.accept(s, who(asker), ans.id, at=min(latest, answered + timedelta(minutes=15)))
            voters = [u for u in agents if u not in (author, asker)]
            for voter in rng.sample(voters, rng.randint(*VOTES_PER_ANSWER)):
                qa.vote_helpful(s, who(voter), ans.id, at=min(latest, answered + timedelta(hours=rng.uniform(1, 8))))
