"""The demo's back office: a knowledge base an agent can search, pushes with read receipts, Q&A with
points, each article reviewed by someone other than its author."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kefu.core.clock import utcnow
from kefu.core.config import Settings
from kefu.core.db import Database
from kefu.demo import build as demo_build
from kefu.demo.generate import DEMO_PASSWORD, generate
from kefu.demo.knowledge_content import ARTICLES, PUSHES, QUESTIONS
from kefu.knowledge.models import Article, ArticleTransition, PushDelivery


def _login(client: TestClient, username: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD})
    assert r.status_code == 200, r.text
    return {"X-CSRF-Token": r.json().get("csrf_token", "")}


def test_demo_knowledge_base_answers_what_the_tickets_ask(
    db: Database, settings: Settings, client: TestClient
) -> None:
    now = utcnow()
    demo = generate(seed=2026, customers=30, contacts=12, day=demo_build.demo_day(now))
    report = demo_build.build(db, settings, demo, now=now, batch=40, progress=False)

    k = report.knowledge
    published = sum(1 for a in ARTICLES if a.status == "published")
    assert k.articles == {"published": published, "in_review": 2, "draft": 1}
    assert published >= 80
    assert k.pushes == len(PUSHES)
    assert 0 < k.acknowledged < k.deliveries
    assert k.questions == len(QUESTIONS)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Article)) == len(ARTICLES)
        # review: whoever published an article is never the one who wrote it
        for article_id, author in s.execute(select(Article.id, Article.created_by_id)).all():
            publishers = s.scalars(
                select(ArticleTransition.actor_id).where(
                    ArticleTransition.article_id == article_id, ArticleTransition.to_status == "published"
                )
            ).all()
            assert author not in publishers
        unread = s.scalar(
            select(func.count()).select_from(PushDelivery).where(PushDelivery.acknowledged_at.is_(None))
        )
        assert unread == k.deliveries - k.acknowledged
        assert all(t < now for t in s.scalars(select(ArticleTransition.at)))

    _login(client, "agent01")
    for query, expected in (
        ("流量包 退订", "流量包订购与退订规则"),
        ("携号转网", "携号转网的条件"),
        ("宽带 报修", "宽带报修前的自助检查"),
    ):
        r = client.get("/api/v1/knowledge/search", params={"q": query, "limit": 5})
        assert r.status_code == 200, r.text
        titles = [h["title"] for h in r.json()["items"]]
        assert expected in titles, (query, titles)
    # the tickets of the demo day find articles in their suggestion box
    with db.session() as s:
        from kefu.tickets.models import Ticket

        ticket_ids = s.scalars(select(Ticket.id).where(Ticket.category_id.is_not(None))).all()
    assert ticket_ids
    suggested = 0
    _login(client, "sup01")
    for tid in ticket_ids:
        r = client.get("/api/v1/knowledge/suggestions", params={"ticket_id": tid})
        assert r.status_code == 200, r.text
        suggested += bool(r.json()["articles"])
    assert suggested == len(ticket_ids)
    board = client.get("/api/v1/knowledge/leaderboard", params={"level": "province"}).json()
    assert board["items"]
    assert board["items"][0]["points"] > 0
