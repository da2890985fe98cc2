"""HTTP endpoints of the knowledge domain (thin: parse, check permission, call the service)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from kefu.core.auth import Principal
from kefu.core.body import INT64_MAX
from kefu.core.deps import DbSession, Id, Offset, OptionalId, Paging, QueryId, require
from kefu.knowledge import gaps, push, qa, search, service, settings
from kefu.knowledge.models import Article
from kefu.knowledge.schemas import (
    AnswerCreate,
    AnswerRead,
    ArticleBase,
    ArticleCreate,
    ArticleRead,
    ArticleUpdate,
    ClickCreate,
    DuplicatePrecisionIn,
    FeedbackCreate,
    HitRead,
    LeaderRowRead,
    PushCreate,
    PushRead,
    QuestionCreate,
    QuestionRead,
    ReadStatusRow,
    SearchRead,
    SuggestionsRead,
    ToArticleCreate,
    TopicRead,
    TransitionCreate,
    VersionRead,
)

router = APIRouter(tags=["knowledge"])


def _content(body: ArticleBase) -> service.Content:
    return service.Content(
        title=body.title,
        body=body.body,
        kind=body.kind,
        department=body.department,
        org_unit_id=body.org_unit_id,
        tags=tuple(body.tags),
        category_keys=tuple(body.category_keys),
        valid_from=body.valid_from,
        valid_until=body.valid_until,
    )


def article_read(session: DbSession, principal: Principal, a: Article) -> ArticleRead:
    out = ArticleRead.model_validate(a)
    out.version = VersionRead.model_validate(service.shown_version(session, principal, a))
    return out


def hit_read(h: search.Hit) -> HitRead:
    return HitRead.model_validate(h)


# ---- articles -------------------------------------------------------------------------------


@router.get("/knowledge/articles")
def list_articles(
    session: DbSession,
    page: Paging,
    status: str | None = None,
    kind: str | None = None,
    q: str | None = None,
    principal: Principal = require("knowledge.read"),
) -> dict[str, Any]:
    rows, total = service.list_articles(
        session,
        principal,
        service.ArticleFilters(status=status, kind=kind, q=q),
        limit=page.limit,
        offset=page.offset,
    )
    return {
        "items": [ArticleRead.model_validate(a) for a in rows],
        "total": total,
        "limit": page.limit,
        "offset": page.offset,
    }


@router.post("/knowledge/articles", response_model=ArticleRead, status_code=201)
def create_article(
    body: ArticleCreate, session: DbSession, principal: Principal = require("knowledge.write")
) -> ArticleRead:
    a = service.create_article(session, principal, _content(body), note=body.note)
    return article_read(session, principal, a)


@router.get("/knowledge/articles/{article_id}", response_model=ArticleRead)
def get_article(
    article_id: Id,
    session: DbSession,
    search_id: OptionalId = None,
    principal: Principal = require("knowledge.read"),
) -> ArticleRead:
    a = service.get_article(session, principal, article_id)
    search.mark_useful(session, principal, search_id)
    return article_read(session, principal, a)


@router.put("/knowledge/articles/{article_id}", response_model=ArticleRead)
def update_article(
    article_id: Id,
    body: ArticleUpdate,
    session: DbSession,
    principal: Principal = require("knowledge.write"),
) -> ArticleRead:
    service.save_version(
        session, principal, article_id, _content(body), base_version=body.base_version, note=body.note
    )
    return article_read(session, principal, service.get_article(session, principal, article_id))


@router.post("/knowledge/articles/{article_id}/transitions", response_model=ArticleRead)
def transition_article(
    article_id: Id,
    body: TransitionCreate,
    session: DbSession,
    principal: Principal = require("knowledge.write"),
) -> ArticleRead:
    a = service.transition(session, principal, article_id, body.to, version=body.version, reason=body.reason)
    return article_read(session, principal, a)


@router.get("/knowledge/articles/{article_id}/transitions")
def article_transitions(
    article_id: Id, session: DbSession, principal: Principal = require("knowledge.read")
) -> dict[str, Any]:
    a = service.get_article(session, principal, article_id)
    items = [
        {
            "from": t.from_status,
            "to": t.to_status,
            "version": t.version,
            "actor_id": t.actor_id,
            "reason": t.reason,
            "at": t.at,
        }
        for t in service.transitions_of(session, a.id)
    ]
    return {"items": items, "total": len(items), "limit": len(items), "offset": 0}


@router.get("/knowledge/articles/{article_id}/versions")
def list_versions(
    article_id: Id, session: DbSession, principal: Principal = require("knowledge.read")
) -> dict[str, Any]:
    items = [VersionRead.model_validate(v) for v in service.list_versions(session, principal, article_id)]
    return {"items": items, "total": len(items), "limit": len(items), "offset": 0}


@router.get("/knowledge/articles/{article_id}/versions/{number}", response_model=VersionRead)
def get_version(
    article_id: Id, number: Id, session: DbSession, principal: Principal = require("knowledge.read")
) -> VersionRead:
    article = service.get_article(session, principal, article_id)
    return VersionRead.model_validate(service.visible_version(session, principal, article, number))


@router.get("/knowledge/articles/{article_id}/diff")
def diff_versions(
    article_id: Id,
    session: DbSession,
    from_: Annotated[int, Query(alias="from", ge=1, le=INT64_MAX)],
    to: Annotated[int, Query(ge=1, le=INT64_MAX)],
    principal: Principal = require("knowledge.read"),
) -> dict[str, Any]:
    return service.diff(session, principal, article_id, from_, to)


# ---- search, suggestions, feedback, gaps ------------------------------------------------------


@router.get("/knowledge/search", response_model=SearchRead)
def search_articles(
    session: DbSession,
    q: str | None = None,
    kind: str | None = None,
    scope: str | None = None,
    category: str | None = None,
    valid_today: bool = False,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
    offset: Offset = 0,
    principal: Principal = require("knowledge.read"),
) -> SearchRead:
    r = search.search(
        session,
        principal,
        q,
        search.Filters(kind=kind, scope=scope, category=category, valid_today=valid_today),
        limit=limit,
        offset=offset,
    )
    return SearchRead(
        search_id=r.search_id,
        query=r.query,
        items=[hit_read(h) for h in r.hits],
        total=r.total,
        limit=limit,
        offset=offset,
        gap=r.gap,
    )


@router.post("/knowledge/searches/{search_id}/click", status_code=204)
def click(
    search_id: Id, body: ClickCreate, session: DbSession, principal: Principal = require("knowledge.read")
) -> None:
    service.get_article(session, principal, body.article_id)
    search.mark_useful(session, principal, search_id)


@router.get("/knowledge/suggestions", response_model=SuggestionsRead)
def suggestions(
    ticket_id: QueryId,
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=20)] = 5,
    principal: Principal = require("knowledge.read"),
) -> SuggestionsRead:
    s = search.suggest_for_ticket(session, principal, ticket_id, k=limit)
    return SuggestionsRead(
        ticket_id=s.ticket_id,
        category_key=s.category_key,
        articles=[hit_read(h) for h in s.articles],
        script=hit_read(s.script) if s.script else None,
        search_id=s.search_id,
    )


@router.post("/knowledge/feedback", status_code=201)
def feedback(
    body: FeedbackCreate, session: DbSession, principal: Principal = require("knowledge.read")
) -> dict[str, Any]:
    f = search.give_feedback(
        session,
        principal,
        body.article_id,
        helpful=body.helpful,
        query=body.query,
        category_key=body.category_key,
        ticket_id=body.ticket_id,
        search_id=body.search_id,
    )
    return {"id": f.id, "article_id": f.article_id, "helpful": f.helpful, "context": f.context_key}


@router.get("/knowledge/gaps")
def knowledge_gaps(
    session: DbSession,
    days: Annotated[int, Query(ge=1, le=365)] = 30,
    principal: Principal = require("knowledge.write"),
) -> dict[str, Any]:
    items = [TopicRead.model_validate(t) for t in gaps.topics(session, principal, days=days)]
    return {"items": items, "total": len(items), "limit": len(items), "offset": 0}


# ---- FAQ push ---------------------------------------------------------------------------------


@router.post("/knowledge/pushes", response_model=PushRead, status_code=201)
def create_push(
    body: PushCreate, session: DbSession, principal: Principal = require("knowledge.write")
) -> PushRead:
    topic, n = push.publish(
        session,
        principal,
        title=body.title,
        message=body.message,
        faq_article_id=body.faq_article_id,
        plan_article_id=body.plan_article_id,
        targets=push.Targets(tuple(body.unit_ids), tuple(body.skills), tuple(body.queues)),
    )
    out = PushRead.model_validate(topic)
    out.delivered, out.acknowledged = n, 0
    return out


@router.get("/knowledge/pushes")
def list_pushes(
    session: DbSession, page: Paging, principal: Principal = require("knowledge.write")
) -> dict[str, Any]:
    rows, total = push.list_topics(session, principal, limit=page.limit, offset=page.offset)
    items = []
    for t, n, acked in rows:
        r = PushRead.model_validate(t)
        r.delivered, r.acknowledged = n, acked
        items.append(r)
    return {"items": items, "total": total, "limit": page.limit, "offset": page.offset}


@router.get("/knowledge/pushes/inbox")
def push_inbox(
    session: DbSession,
    all: bool = False,
    principal: Principal = require("knowledge.read"),
) -> dict[str, Any]:
    """The principal's pushes (unacknowledged only unless all=true): what the console polls."""
    items = []
    for t, d in push.inbox(session, principal, unacknowledged=not all):
        r = PushRead.model_validate(t)
        r.acknowledged_at = d.acknowledged_at
        items.append(r)
    return {"items": items, "total": len(items), "limit": 20, "offset": 0}


@router.post("/knowledge/pushes/{topic_id}/acknowledge", response_model=PushRead)
def acknowledge_push(
    topic_id: Id, session: DbSession, principal: Principal = require("knowledge.read")
) -> PushRead:
    d = push.acknowledge(session, principal, topic_id)
    out = PushRead.model_validate(push.get_topic(session, principal, topic_id))
    out.acknowledged_at = d.acknowledged_at
    return out


@router.get("/knowledge/pushes/{topic_id}/reads")
def push_reads(
    topic_id: Id, session: DbSession, principal: Principal = require("knowledge.write")
) -> dict[str, Any]:
    rows = [ReadStatusRow.model_validate(r) for r in push.read_status(session, principal, topic_id)]
    acked = sum(1 for r in rows if r.acknowledged_at is not None)
    return {"items": rows, "total": len(rows), "acknowledged": acked, "limit": len(rows), "offset": 0}


# ---- Q&A --------------------------------------------------------------------------------------


@router.get("/knowledge/questions")
def list_questions(
    session: DbSession,
    page: Paging,
    open_only: bool = False,
    principal: Principal = require("knowledge.read"),
) -> dict[str, Any]:
    rows, total = qa.list_questions(
        session, principal, open_only=open_only, limit=page.limit, offset=page.offset
    )
    items = []
    for q, n in rows:
        r = QuestionRead.model_validate(q)
        r.answer_count = n
        items.append(r)
    return {"items": items, "total": total, "limit": page.limit, "offset": page.offset}


@router.post("/knowledge/questions", response_model=QuestionRead, status_code=201)
def ask(
    body: QuestionCreate, session: DbSession, principal: Principal = require("knowledge.read")
) -> QuestionRead:
    q = qa.ask(
        session,
        principal,
        title=body.title,
        body=body.body,
        category_key=body.category_key,
        skill_key=body.skill_key,
    )
    return QuestionRead.model_validate(q)


@router.get("/knowledge/questions/{question_id}", response_model=QuestionRead)
def get_question(
    question_id: Id, session: DbSession, principal: Principal = require("knowledge.read")
) -> QuestionRead:
    q = qa.get_question(session, principal, question_id)
    out = QuestionRead.model_validate(q)
    out.answers = [AnswerRead.model_validate(a) for a in qa.answers_of(session, q.id)]
    out.answer_count = len(out.answers)
    return out


@router.post("/knowledge/questions/{question_id}/answers", response_model=AnswerRead, status_code=201)
def answer(
    question_id: Id, body: AnswerCreate, session: DbSession, principal: Principal = require("knowledge.read")
) -> AnswerRead:
    return AnswerRead.model_validate(qa.answer(session, principal, question_id, body=body.body))


@router.post("/knowledge/answers/{answer_id}/accept", response_model=AnswerRead)
def accept(
    answer_id: Id, session: DbSession, principal: Principal = require("knowledge.read")
) -> AnswerRead:
    return AnswerRead.model_validate(qa.accept(session, principal, answer_id))


@router.post("/knowledge/answers/{answer_id}/helpful", response_model=AnswerRead)
def helpful(
    answer_id: Id, session: DbSession, principal: Principal = require("knowledge.read")
) -> AnswerRead:
    return AnswerRead.model_validate(qa.vote_helpful(session, principal, answer_id))


@router.post("/knowledge/answers/{answer_id}/article", response_model=ArticleRead, status_code=201)
def answer_to_article(
    answer_id: Id,
    session: DbSession,
    body: ToArticleCreate | None = None,
    principal: Principal = require("knowledge.write"),
) -> ArticleRead:
    body = body or ToArticleCreate()
    a = qa.to_article(session, principal, answer_id, kind=body.kind, department=body.department)
    return article_read(session, principal, a)


@router.get("/knowledge/leaderboard")
def leaderboard(
    session: DbSession,
    level: str = "city",
    unit_id: OptionalId = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    principal: Principal = require("knowledge.read"),
) -> dict[str, Any]:
    unit, rows = qa.leaderboard(session, principal, level=level, unit_id=unit_id, limit=limit)
    items = [LeaderRowRead.model_validate(r) for r in rows]
    return {
        "unit": {"id": unit.id, "kind": unit.kind, "name": unit.name},
        "items": items,
        "total": len(items),
        "limit": limit,
        "offset": 0,
    }


@router.get("/knowledge/duplicate-precision")
def duplicate_precision(session: DbSession, principal: Principal = require("knowledge.read")) -> dict[str, Any]:
    """The duplicate finder's choices: precision asked, threshold, held-out precision and recall; the one in use."""
    return settings.duplicate_choices(session)


@router.put("/knowledge/duplicate-precision")
def set_duplicate_precision(
    body: DuplicatePrecisionIn, session: DbSession, principal: Principal = require("org.admin")
) -> dict[str, Any]:
    return settings.set_duplicate_precision(session, principal, body.precision)
