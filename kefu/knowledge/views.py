"""Console pages of the knowledge base (mounted by kefu/web/views.py).

    GET  /console/knowledge                      search (filters, highlights) + links
    GET  /console/knowledge/articles             article list (writers also see drafts)
    GET  /console/knowledge/articles/new         editor for a new article; POST /console/knowledge/articles
    GET  /console/knowledge/articles/{id}        the article (body escaped), versions, feedback, lifecycle
    GET|POST /console/knowledge/articles/{id}/edit   editor; a stale save shows the conflict, keeps the text
    POST /console/knowledge/articles/{id}/transition
    GET  /console/knowledge/articles/{id}/diff?from=&to=
    POST /console/knowledge/feedback
    GET  /console/knowledge/pushes               my pushes (acknowledge) and, for writers, sent + new
    POST /console/knowledge/pushes, GET /console/knowledge/pushes/{id} (read status), POST .../{id}/ack
    GET  /console/knowledge/qa, POST /console/knowledge/qa, GET /console/knowledge/qa/{id}
    POST /console/knowledge/qa/{id}/answers, POST /console/knowledge/answers/{id}/{accept|helpful|article}
    GET  /console/knowledge/leaderboard?level=   GET /console/knowledge/gaps
    GET|POST /console/knowledge/duplicates       the duplicate finder: precision/recall of each threshold; choose one
    GET  /console/knowledge/_suggestions?ticket_id=   fragment for the ticket page
    GET  /console/knowledge/_push_banner              fragment: unacknowledged pushes

Other pages include the two partials server-side with the context from `suggestions_context` /
`push_banner_context`, or let htmx fetch the fragments above.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from kefu.core.auth import Principal
from kefu.core.body import INT64_MAX
from kefu.core.deps import (
    DbSession,
    FormId,
    Id,
    Offset,
    OptionalFormId,
    OptionalFormVersion,
    OptionalId,
    QueryId,
)
from kefu.core.errors import Forbidden, InvalidInput, KefuError
from kefu.knowledge import gaps, lifecycle, push, qa, search, service
from kefu.knowledge.errors import VersionConflict
from kefu.knowledge.models import ARTICLE_KINDS, STATUSES, Article
from kefu.web.render import CsrfProtect, PagePrincipal, render, safe_next

# The main menu's entry for this domain (kefu.web.render.nav_entries): key, href, permission, place.
NAV = (("knowledge", "/console/knowledge", "knowledge.read", 30),)
router = APIRouter(include_in_schema=False)
BASE = "/console/knowledge"


def _need(principal: Principal, permission: str) -> None:
    if not principal.can(permission):
        raise Forbidden(f"role '{principal.role}' may not do this (needs '{permission}')")


def _page(request: Request, template: str, ctx: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    return render(
        request,
        template,
        {"kinds": ARTICLE_KINDS, "statuses": STATUSES, "kbase": BASE, "categories": []} | ctx,
        active="knowledge",
        status_code=status_code,
    )


def _categories(session: Session) -> dict[str, Any]:
    """The ticket category tree for choosers, and each key's name (first level / second level)."""
    from kefu.tickets import service as tickets

    tree = tickets.category_tree(session)
    names = {c.key: c.name for c in tree} | {ch.key: f"{c.name} / {ch.name}" for c in tree for ch in c.children}
    return {"categories": tree, "category_names": names}


def _units(session: Session, principal: Principal) -> dict[str, Any]:
    from kefu.org import service as org

    units = org.list_units(session, principal)
    return {"unit_choices": units, "unit_names": {u.id: u.name for u in units}}


def _people(session: Session, ids: set[int | None]) -> dict[int, str]:
    from kefu.org import service as org

    return {uid: u.display_name for uid, u in org.users(session, {i for i in ids if i is not None}).items()}


def _push_choices(session: Session, principal: Principal) -> dict[str, Any]:
    """Choosers of the push form: published articles (FAQ and plans) by title, units, skills."""
    from sqlalchemy import select

    from kefu.org import service as org

    live = session.scalars(
        select(Article)
        .where(Article.live_version.is_not(None), service.scope_condition(Article.scope_path, principal))
        .order_by(Article.kind, Article.title)
    ).all()
    return {
        "faq_choices": [a for a in live if a.kind != "pre_handling"],
        "plan_choices": [a for a in live if a.kind == "pre_handling"],
        "skill_choices": org.skills(session),
        **_units(session, principal),
    }


def _return_to(request: Request, default: str) -> str:
    """The page that embeds an htmx fragment (its forms return there, not to the fragment)."""
    from urllib.parse import urlsplit

    source = request.headers.get("HX-Current-URL") or request.headers.get("referer") or ""
    parts = urlsplit(source)
    back = parts.path + (f"?{parts.query}" if parts.query else "") if parts.path else ""
    return safe_next(back, default)


def suggestions_context(session: Session, principal: Principal, ticket_id: int) -> dict[str, Any]:
    """Context for `{% include "knowledge/_suggestions.html" %}` on the ticket page."""
    return {"knowledge_suggestions": search.suggest_for_ticket(session, principal, ticket_id)}


def push_banner_context(session: Session, principal: Principal) -> dict[str, Any]:
    """Context for `{% include "knowledge/_push_banner.html" %}` on any console page."""
    return {"knowledge_pushes": [t for t, _ in push.inbox(session, principal)]}


# ---- search ---------------------------------------------------------------------------------


@router.get(BASE, response_class=HTMLResponse)
def search_page(
    request: Request,
    session: DbSession,
    principal: PagePrincipal,
    q: str | None = None,
    kind: str | None = None,
    scope: str | None = None,
    category: str | None = None,
    valid_today: bool = False,
) -> HTMLResponse:
    _need(principal, "knowledge.read")
    result, error = None, None
    filters = search.Filters(
        kind=kind or None, scope=scope or None, category=category or None, valid_today=valid_today
    )
    if q is not None:
        try:
            result = search.search(session, principal, q, filters, limit=20)
        except InvalidInput as exc:
            error = exc.message
    return _page(
        request,
        "knowledge/search.html",
        {
            "q": q or "",
            "filters": filters,
            "result": result,
            "error": error,
            **push_banner_context(session, principal),
            **_categories(session),
        },
        status_code=422 if error else 200,
    )


# ---- articles -------------------------------------------------------------------------------


@router.get(f"{BASE}/articles", response_class=HTMLResponse)
def articles_page(
    request: Request,
    session: DbSession,
    principal: PagePrincipal,
    status: str | None = None,
    kind: str | None = None,
    offset: Offset = 0,
) -> HTMLResponse:
    _need(principal, "knowledge.read")
    rows, total = service.list_articles(
        session,
        principal,
        service.ArticleFilters(status=status or None, kind=kind or None),
        limit=50,
        offset=offset,
    )
    return _page(
        request,
        "knowledge/articles.html",
        {"articles": rows, "total": total, "status": status, "kind": kind, "offset": offset},
    )


@router.get(f"{BASE}/articles/new", response_class=HTMLResponse)
def new_article_page(request: Request, session: DbSession, principal: PagePrincipal) -> HTMLResponse:
    _need(principal, "knowledge.write")
    return _page(
        request,
        "knowledge/editor.html",
        {"article": None, "form": {"kind": "faq"}, "error": None, **_editor_choices(session, principal)},
    )


def _editor_choices(session: Session, principal: Principal) -> dict[str, Any]:
    return {**_categories(session), **_units(session, principal)}


async def _form(request: Request) -> dict[str, str]:
    """The form's fields; a field sent several times (a multiple choice) as its values joined by commas."""
    form = await request.form()
    out: dict[str, str] = {}
    for key in form:
        values = [v for v in form.getlist(key) if isinstance(v, str) and v != ""]
        out[key] = ",".join(values)
    return out


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(x for x in (value or "").replace("，", ",").replace(" ", ",").split(",") if x)


def _form_content(form: dict[str, Any]) -> service.Content:
    def when(value: str | None) -> datetime | None:
        if not value:
            return None
        try:
            dt = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidInput(f"'{value}' is not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM)") from None
        return dt if dt.tzinfo else dt.replace(tzinfo=UTC)

    return service.Content(
        title=form.get("title") or "",
        body=form.get("body") or "",
        kind=form.get("kind") or "faq",
        department=form.get("department") or "",
        tags=_split(form.get("tags")),
        category_keys=_split(form.get("category_keys")),
        org_unit_id=int(form["org_unit_id"]) if form.get("org_unit_id") else None,
        valid_from=when(form.get("valid_from")),
        valid_until=when(form.get("valid_until")),
    )


@router.post(f"{BASE}/articles", response_class=HTMLResponse, dependencies=[CsrfProtect])
async def create_article(request: Request, session: DbSession, principal: PagePrincipal) -> Any:
    _need(principal, "knowledge.write")
    form = await _form(request)
    try:
        a = service.create_article(session, principal, _form_content(form), note=form.get("note") or None)
    except InvalidInput as exc:
        return _page(
            request,
            "knowledge/editor.html",
            {"article": None, "form": form, "error": exc.message, **_editor_choices(session, principal)},
            status_code=422,
        )
    return RedirectResponse(f"{BASE}/articles/{a.id}", status_code=303)


@router.get(f"{BASE}/articles/{{article_id}}", response_class=HTMLResponse)
def article_page(
    request: Request,
    article_id: Id,
    session: DbSession,
    principal: PagePrincipal,
    search_id: OptionalId = None,
    q: str | None = None,
) -> HTMLResponse:
    _need(principal, "knowledge.read")
    a = service.get_article(session, principal, article_id)
    search.mark_useful(session, principal, search_id)
    version = service.shown_version(session, principal, a)
    live = service.get_version(session, a.id, a.live_version) if a.live_version else None
    transitions = service.transitions_of(session, a.id)
    return _page(
        request,
        "knowledge/article.html",
        {
            "article": a,
            "version": version,
            "live": live,
            "versions": service.list_versions(session, principal, a.id),
            "transitions": transitions,
            "people": _people(session, {tr.actor_id for tr in transitions}),
            "unit_names": {version.org_unit_id: _unit_name(session, version.org_unit_id)},
            **_categories(session),
            "search_id": search_id,
            "q": q or "",
            "allowed": sorted(lifecycle.TRANSITIONS.get(a.status, ())),
        },
    )


def _unit_name(session: Session, unit_id: int) -> str:
    from kefu.org import service as org

    return org.org_unit(session, unit_id).name


@router.get(f"{BASE}/articles/{{article_id}}/edit", response_class=HTMLResponse)
def edit_page(
    request: Request, article_id: Id, session: DbSession, principal: PagePrincipal
) -> HTMLResponse:
    _need(principal, "knowledge.write")
    a = service.get_article(session, principal, article_id)
    v = service.get_version(session, a.id, a.latest_version)
    form = {
        "title": v.title,
        "body": v.body,
        "kind": v.kind,
        "department": v.department,
        "tags": ", ".join(v.tags),
        "category_keys": ", ".join(v.category_keys),
        "org_unit_id": v.org_unit_id,
        "valid_from": v.valid_from.isoformat()[:16] if v.valid_from else "",
        "valid_until": v.valid_until.isoformat()[:16] if v.valid_until else "",
        "base_version": v.number,
    }
    return _page(
        request,
        "knowledge/editor.html",
        {"article": a, "form": form, "error": None, **_editor_choices(session, principal)},
    )


@router.post(f"{BASE}/articles/{{article_id}}/edit", response_class=HTMLResponse, dependencies=[CsrfProtect])
async def save_edit(request: Request, article_id: Id, session: DbSession, principal: PagePrincipal) -> Any:
    _need(principal, "knowledge.write")
    form = await _form(request)
    a = service.get_article(session, principal, article_id)
    try:
        base = int(form.get("base_version") or 0)
        service.save_version(
            session,
            principal,
            article_id,
            _form_content(form),
            base_version=base,
            note=form.get("note") or None,
        )
    except VersionConflict as exc:
        # The user's text stays in the form: nothing typed is lost; they see what changed meanwhile.
        return _page(
            request,
            "knowledge/editor.html",
            {
                "article": a,
                "form": form,
                "error": exc.message,
                "conflict": exc.details,
                **_editor_choices(session, principal),
            },
            status_code=409,
        )
    except InvalidInput as exc:
        return _page(
            request,
            "knowledge/editor.html",
            {"article": a, "form": form, "error": exc.message, **_editor_choices(session, principal)},
            status_code=422,
        )
    return RedirectResponse(f"{BASE}/articles/{article_id}", status_code=303)


@router.post(f"{BASE}/articles/{{article_id}}/transition", dependencies=[CsrfProtect])
def transition(
    article_id: Id,
    session: DbSession,
    principal: PagePrincipal,
    to: Annotated[str, Form()],
    version: OptionalFormVersion = None,
) -> RedirectResponse:
    _need(principal, "knowledge.write")
    service.transition(session, principal, article_id, to, version=version)
    return RedirectResponse(f"{BASE}/articles/{article_id}", status_code=303)


@router.get(f"{BASE}/articles/{{article_id}}/diff", response_class=HTMLResponse)
def diff_page(
    request: Request,
    article_id: Id,
    session: DbSession,
    principal: PagePrincipal,
    from_: Annotated[int, Query(alias="from", ge=1, le=INT64_MAX)],
    to: Annotated[int, Query(ge=1, le=INT64_MAX)],
) -> HTMLResponse:
    _need(principal, "knowledge.read")
    a = service.get_article(session, principal, article_id)
    return _page(
        request,
        "knowledge/diff.html",
        {"article": a, "diff": service.diff(session, principal, a.id, from_, to)},
    )


@router.post(f"{BASE}/feedback", dependencies=[CsrfProtect])
def feedback(
    session: DbSession,
    principal: PagePrincipal,
    article_id: FormId,
    helpful: Annotated[bool, Form()],
    query: Annotated[str | None, Form()] = None,
    ticket_id: OptionalFormId = None,
    search_id: OptionalFormId = None,
    next: Annotated[str | None, Form()] = None,
) -> RedirectResponse:
    _need(principal, "knowledge.read")
    search.give_feedback(
        session,
        principal,
        article_id,
        helpful=helpful,
        query=query or None,
        ticket_id=ticket_id,
        search_id=search_id,
    )
    return RedirectResponse(safe_next(next, f"{BASE}/articles/{article_id}"), status_code=303)


# ---- pushes ---------------------------------------------------------------------------------


@router.get(f"{BASE}/pushes", response_class=HTMLResponse)
def pushes_page(request: Request, session: DbSession, principal: PagePrincipal) -> HTMLResponse:
    _need(principal, "knowledge.read")
    sent = (
        push.list_topics(session, principal, limit=50, offset=0)[0]
        if principal.can("knowledge.write")
        else []
    )
    return _page(
        request,
        "knowledge/pushes.html",
        {
            "inbox": push.inbox(session, principal, unacknowledged=False),
            "sent": sent,
            "error": None,
            **(_push_choices(session, principal) if principal.can("knowledge.write") else {}),
        },
    )


@router.post(f"{BASE}/pushes", response_class=HTMLResponse, dependencies=[CsrfProtect])
async def create_push(request: Request, session: DbSession, principal: PagePrincipal) -> Any:
    _need(principal, "knowledge.write")
    form = await _form(request)

    def items(name: str) -> tuple[str, ...]:
        return tuple(x.strip() for x in str(form.get(name) or "").replace("，", ",").split(",") if x.strip())

    try:
        bad = next((x for x in items("unit_ids") if not x.isdigit()), None)
        if bad is not None:
            from kefu.web.i18n import translator
            from kefu.web.render import request_locale

            t = translator(request_locale(request, principal))
            raise InvalidInput(t("knowledge.bad_unit", value=bad), details={"field": "unit_ids"})
        units = tuple(int(x) for x in items("unit_ids"))
        topic, _ = push.publish(
            session,
            principal,
            title=str(form.get("title") or ""),
            message=str(form.get("message") or ""),
            faq_article_id=int(form["faq_article_id"]) if form.get("faq_article_id") else None,
            plan_article_id=int(form["plan_article_id"]) if form.get("plan_article_id") else None,
            targets=push.Targets(units, items("skills"), items("queues")),
        )
    except (KefuError, ValueError) as exc:
        msg = exc.message if isinstance(exc, KefuError) else str(exc)
        return _page(
            request,
            "knowledge/pushes.html",
            {
                "inbox": push.inbox(session, principal, unacknowledged=False),
                "sent": push.list_topics(session, principal, limit=50, offset=0)[0],
                "error": msg,
                "form": form,
                **_push_choices(session, principal),
            },
            status_code=422,
        )
    return RedirectResponse(f"{BASE}/pushes/{topic.id}", status_code=303)


@router.get(f"{BASE}/pushes/{{topic_id}}", response_class=HTMLResponse)
def push_page(request: Request, topic_id: Id, session: DbSession, principal: PagePrincipal) -> HTMLResponse:
    _need(principal, "knowledge.read")
    topic = push.get_topic(session, principal, topic_id)
    reads = push.read_status(session, principal, topic_id) if principal.can("knowledge.write") else None
    return _page(request, "knowledge/push.html", {"topic": topic, "reads": reads})


@router.post(f"{BASE}/pushes/{{topic_id}}/ack", dependencies=[CsrfProtect])
def ack_push(
    topic_id: Id, session: DbSession, principal: PagePrincipal, next: Annotated[str | None, Form()] = None
) -> RedirectResponse:
    push.acknowledge(session, principal, topic_id)
    return RedirectResponse(safe_next(next, f"{BASE}/pushes"), status_code=303)


@router.get(f"{BASE}/_push_banner", response_class=HTMLResponse)
def push_banner(request: Request, session: DbSession, principal: PagePrincipal) -> HTMLResponse:
    ctx = push_banner_context(session, principal)
    ctx["return_to"] = _return_to(request, BASE)
    return _page(request, "knowledge/_push_banner.html", ctx)


@router.get(f"{BASE}/_suggestions", response_class=HTMLResponse)
def suggestions_fragment(
    request: Request, ticket_id: QueryId, session: DbSession, principal: PagePrincipal
) -> HTMLResponse:
    _need(principal, "knowledge.read")
    # Feedback buttons return to the page that embeds the fragment, not to the fragment itself.
    ctx = suggestions_context(session, principal, ticket_id)
    ctx["return_to"] = _return_to(request, f"/console/tickets/{ticket_id}")
    return _page(request, "knowledge/_suggestions.html", ctx)


# ---- Q&A, leaderboard, gaps -------------------------------------------------------------------


@router.get(f"{BASE}/qa", response_class=HTMLResponse)
def qa_page(
    request: Request, session: DbSession, principal: PagePrincipal, open_only: bool = False
) -> HTMLResponse:
    _need(principal, "knowledge.read")
    rows, total = qa.list_questions(session, principal, open_only=open_only, limit=50, offset=0)
    return _page(
        request,
        "knowledge/qa.html",
        {"questions": rows, "total": total, "open_only": open_only, **_categories(session)},
    )


@router.post(f"{BASE}/qa", dependencies=[CsrfProtect])
def ask(
    session: DbSession,
    principal: PagePrincipal,
    title: Annotated[str, Form()],
    body: Annotated[str, Form()],
    category_key: Annotated[str | None, Form()] = None,
) -> RedirectResponse:
    _need(principal, "knowledge.read")
    q = qa.ask(session, principal, title=title, body=body, category_key=category_key or None)
    return RedirectResponse(f"{BASE}/qa/{q.id}", status_code=303)


@router.get(f"{BASE}/qa/{{question_id}}", response_class=HTMLResponse)
def question_page(
    request: Request, question_id: Id, session: DbSession, principal: PagePrincipal
) -> HTMLResponse:
    _need(principal, "knowledge.read")
    q = qa.get_question(session, principal, question_id)
    answers = qa.answers_of(session, q.id)
    return _page(
        request,
        "knowledge/question.html",
        {
            "question": q,
            "answers": answers,
            "people": _people(session, {q.asker_id, *(a.author_id for a in answers)}),
            **_categories(session),
        },
    )


@router.post(f"{BASE}/qa/{{question_id}}/answers", dependencies=[CsrfProtect])
def answer(
    question_id: Id, session: DbSession, principal: PagePrincipal, body: Annotated[str, Form()]
) -> RedirectResponse:
    _need(principal, "knowledge.read")
    qa.answer(session, principal, question_id, body=body)
    return RedirectResponse(f"{BASE}/qa/{question_id}", status_code=303)


@router.post(f"{BASE}/answers/{{answer_id}}/{{action}}", dependencies=[CsrfProtect])
def answer_action(
    answer_id: Id, action: str, session: DbSession, principal: PagePrincipal
) -> RedirectResponse:
    _need(principal, "knowledge.read")
    if action == "accept":
        a = qa.accept(session, principal, answer_id)
    elif action == "helpful":
        a = qa.vote_helpful(session, principal, answer_id)
    elif action == "article":
        _need(principal, "knowledge.write")
        art = qa.to_article(session, principal, answer_id)
        return RedirectResponse(f"{BASE}/articles/{art.id}/edit", status_code=303)
    else:
        from kefu.core.errors import NotFound

        raise NotFound(f"unknown action '{action}'")
    return RedirectResponse(f"{BASE}/qa/{a.question_id}", status_code=303)


@router.get(f"{BASE}/leaderboard", response_class=HTMLResponse)
def leaderboard_page(
    request: Request, session: DbSession, principal: PagePrincipal, level: str = "city"
) -> HTMLResponse:
    _need(principal, "knowledge.read")
    unit, rows = qa.leaderboard(session, principal, level=level)
    return _page(request, "knowledge/leaderboard.html", {"unit": unit, "rows": rows, "level": level})


@router.get(f"{BASE}/gaps", response_class=HTMLResponse)
def gaps_page(
    request: Request,
    session: DbSession,
    principal: PagePrincipal,
    days: Annotated[int, Query(ge=1, le=365)] = 30,
) -> HTMLResponse:
    _need(principal, "knowledge.write")
    return _page(
        request, "knowledge/gaps.html", {"topics": gaps.topics(session, principal, days=days), "days": days}
    )


# ---- the duplicate finder's precision/recall trade-off -------------------------------------------------


def _duplicates_page(
    request: Request, session: Session, principal: Principal, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    from kefu.knowledge import settings

    return _page(
        request,
        "knowledge/duplicates.html",
        {"choices": settings.duplicate_choices(session), "can_set": principal.can("org.admin"), "error": error},
        status_code,
    )


@router.get(f"{BASE}/duplicates", response_class=HTMLResponse)
def duplicates_page(request: Request, session: DbSession, principal: PagePrincipal) -> HTMLResponse:
    """Each precision the finder can keep, with the precision and recall it had on held-out pairs."""
    _need(principal, "knowledge.write")
    return _duplicates_page(request, session, principal)


@router.post(f"{BASE}/duplicates", dependencies=[CsrfProtect])
def duplicates_set(
    request: Request,
    session: DbSession,
    principal: PagePrincipal,
    precision: Annotated[str, Form(max_length=10)] = "",
) -> Any:
    from kefu.knowledge import settings

    _need(principal, "org.admin")
    try:
        settings.set_duplicate_precision(session, principal, float(precision))
    except ValueError:
        return _duplicates_page(request, session, principal, f"not a number: {precision!r}", 422)
    except KefuError as exc:
        session.rollback()
        return _duplicates_page(request, session, principal, exc.message, exc.status)
    return RedirectResponse(f"{BASE}/duplicates?saved=1", status_code=303)
