"""Articles and scripts: create, edit (a new version each time), review, publish, expire, withdraw.

Services flush, never commit. An edit names the version it was based on; if someone else saved
since, the edit is refused with 409 `version_conflict` and nothing is written (the compare-and-set
happens in one UPDATE, so two concurrent saves cannot both win, on SQLite or PostgreSQL).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from kefu.core import events
from kefu.core.auth import Principal
from kefu.core.clock import utcnow
from kefu.knowledge import diff as diffs
from kefu.knowledge import index, lifecycle
from kefu.knowledge.errors import (
    ArticleNotFound,
    IllegalTransition,
    InvalidArticle,
    OutOfScope,
    VersionConflict,
    VersionNotFound,
)
from kefu.knowledge.models import ARTICLE_KINDS, Article, ArticleTransition, ArticleVersion, IndexEntry
from kefu.org import service as org
from kefu.tickets import service as tickets

MAX_BODY_CHARS = 100_000
MAX_TAGS = 20


# ---- scope ----------------------------------------------------------------------------------


def ancestor_paths(path: str) -> list[str]:
    """ "/1/4/9/" -> ["/1/", "/1/4/", "/1/4/9/"]."""
    ids = [p for p in path.strip("/").split("/") if p]
    return ["/" + "/".join(ids[: i + 1]) + "/" for i in range(len(ids))]


def scope_condition(column: Any, principal: Principal) -> Any:
    """Articles a principal may read: scoped to its unit, an ancestor (group-wide, province-wide), or
    a unit below it (a province's staff see their cities' articles)."""
    return or_(column.in_(ancestor_paths(principal.org_path)), column.startswith(principal.org_path))


def can_read_scope(principal: Principal, scope_path: str) -> bool:
    return principal.org_path.startswith(scope_path) or scope_path.startswith(principal.org_path)


def _check_write_scope(principal: Principal, scope_path: str) -> None:
    if not principal.sees_path(scope_path):
        raise OutOfScope(
            "this article belongs to an org unit above yours; ask its owners to change it",
            details={"scope_path": scope_path},
        )


# ---- reading --------------------------------------------------------------------------------


def _record_transition(session: Session, article_id: int, *, src: str | None, dst: str, version: int,
                       actor_id: int | None, reason: str | None, at: datetime) -> None:
    session.add(ArticleTransition(article_id=article_id, from_status=src, to_status=dst, version=version,
                                  actor_id=actor_id, reason=reason, at=at))


def get_article(session: Session, principal: Principal, article_id: int) -> Article:
    """The article if the principal may see it: readers see live articles in scope, writers also
    drafts in scope. Anything else is 404."""
    a = session.get(Article, article_id)
    if a is None or not can_read_scope(principal, a.scope_path):
        raise ArticleNotFound(f"article {article_id} not found")
    if a.live_version is None and not principal.can("knowledge.write"):
        raise ArticleNotFound(f"article {article_id} not found")
    return a


def get_live_article(session: Session, principal: Principal, article_id: int) -> Article:
    """A published article in the principal's reading scope (whatever its role); 404 otherwise."""
    a = session.get(Article, article_id)
    if a is None or a.live_version is None or not can_read_scope(principal, a.scope_path):
        raise ArticleNotFound(f"article {article_id} not found")
    return a


def get_version(session: Session, article_id: int, number: int) -> ArticleVersion:
    v = session.scalar(
        select(ArticleVersion).where(ArticleVersion.article_id == article_id, ArticleVersion.number == number)
    )
    if v is None:
        raise VersionNotFound(f"article {article_id} has no version {number}")
    return v


def shown_version(session: Session, principal: Principal, article: Article) -> ArticleVersion:
    """What the principal reads: writers the latest version, readers the live one."""
    if principal.can("knowledge.write") or article.live_version is None:
        return get_version(session, article.id, article.latest_version)
    return get_version(session, article.id, article.live_version)


def list_versions(session: Session, principal: Principal, article_id: int) -> list[ArticleVersion]:
    a = get_article(session, principal, article_id)
    q = select(ArticleVersion).where(ArticleVersion.article_id == a.id)
    if not principal.can("knowledge.write"):
        q = q.where(ArticleVersion.published_at.is_not(None))
    return list(session.scalars(q.order_by(ArticleVersion.number)))


def transitions_of(session: Session, article_id: int) -> list[ArticleTransition]:
    return list(
        session.scalars(
            select(ArticleTransition)
            .where(ArticleTransition.article_id == article_id)
            .order_by(ArticleTransition.id)
        )
    )


@dataclass(frozen=True)
class ArticleFilters:
    status: str | None = None
    kind: str | None = None
    q: str | None = None


def list_articles(
    session: Session, principal: Principal, filters: ArticleFilters, *, limit: int, offset: int
) -> tuple[list[Article], int]:
    conds = [scope_condition(Article.scope_path, principal)]
    if not principal.can("knowledge.write"):
        conds.append(Article.live_version.is_not(None))
    if filters.status:
        conds.append(Article.status == filters.status)
    if filters.kind:
        conds.append(Article.kind == filters.kind)
    if filters.q:
        pattern = "%" + filters.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conds.append(Article.title.like(pattern, escape="\\"))
    total = session.scalar(select(func.count()).select_from(Article).where(*conds)) or 0
    rows = session.scalars(
        select(Article)
        .where(*conds)
        .order_by(Article.updated_at.desc(), Article.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), total


# ---- writing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Content:
    """An article version's content as written by its author."""

    title: str
    body: str
    kind: str
    department: str
    org_unit_id: int | None = None
    tags: tuple[str, ...] = ()
    category_keys: tuple[str, ...] = ()
    valid_from: datetime | None = None
    valid_until: datetime | None = None


def _validate(session: Session, principal: Principal, c: Content) -> tuple[int, str, list[str], list[str]]:
    if c.kind not in ARTICLE_KINDS:
        raise InvalidArticle(
            f"unknown article kind '{c.kind}' (one of {', '.join(ARTICLE_KINDS)})",
            details={"field": "kind", "allowed": list(ARTICLE_KINDS)},
        )
    if not c.title.strip():
        raise InvalidArticle("an article needs a title", details={"field": "title"})
    if not c.body.strip():
        raise InvalidArticle("an article needs a body", details={"field": "body"})
    if len(c.body) > MAX_BODY_CHARS:
        raise InvalidArticle(
            f"the body has {len(c.body)} characters; at most {MAX_BODY_CHARS} are allowed",
            details={"field": "body"},
        )
    if c.valid_from and c.valid_until and c.valid_from > c.valid_until:
        raise InvalidArticle("valid_from is after valid_until", details={"field": "valid_until"})
    if c.kind == "business" and c.valid_until is None and "campaign" in c.tags:
        raise InvalidArticle("a campaign needs an end date (valid_until)", details={"field": "valid_until"})
    unit_id = c.org_unit_id if c.org_unit_id is not None else principal.org_unit_id
    unit = org.check_visible(session, principal, unit_id)
    tags = list(dict.fromkeys(t.strip() for t in c.tags if t.strip()))[:MAX_TAGS]
    keys = list(dict.fromkeys(k.strip() for k in c.category_keys if k.strip()))
    if keys:
        known = tickets.known_category_keys(session, keys)
        unknown = [k for k in keys if k not in known]
        if unknown:
            raise InvalidArticle(
                f"unknown categor{'y' if len(unknown) == 1 else 'ies'}: {', '.join(unknown)}",
                code="unknown_category",
                details={"field": "category_keys", "unknown": unknown},
            )
    return unit.id, unit.path, tags, keys


def create_article(
    session: Session,
    principal: Principal,
    content: Content,
    *,
    note: str | None = None,
    source_answer_id: int | None = None,
    at: datetime | None = None,
) -> Article:
    at = at or utcnow()
    unit_id, path, tags, keys = _validate(session, principal, content)
    a = Article(
        kind=content.kind,
        status="draft",
        title=content.title.strip(),
        department=content.department,
        owner_id=principal.user_id,
        org_unit_id=unit_id,
        scope_path=path,
        latest_version=1,
        live_version=None,
        created_by_id=principal.user_id,
        source_answer_id=source_answer_id,
        created_at=at,
        updated_at=at,
    )
    session.add(a)
    session.flush()
    session.add(_version(a.id, 1, None, content, unit_id, tags, keys, note, principal.user_id, at))
    _record_transition(session, a.id, src=None, dst="draft", version=1,
                       actor_id=principal.user_id, reason=note, at=at)
    events.record(
        session,
        "knowledge.article_created",
        {"kind": a.kind, "title": a.title},
        aggregate_type="knowledge_article",
        aggregate_id=a.id,
        org_unit_id=unit_id,
        at=at,
    )
    session.flush()
    return a


def _version(
    article_id: int,
    number: int,
    base: int | None,
    c: Content,
    unit_id: int,
    tags: list[str],
    keys: list[str],
    note: str | None,
    author_id: int,
    at: datetime,
) -> ArticleVersion:
    return ArticleVersion(
        article_id=article_id,
        number=number,
        base_number=base,
        title=c.title.strip(),
        body=c.body,
        kind=c.kind,
        department=c.department,
        org_unit_id=unit_id,
        tags=tags,
        category_keys=keys,
        valid_from=c.valid_from,
        valid_until=c.valid_until,
        note=note,
        author_id=author_id,
        created_at=at,
    )


def save_version(
    session: Session,
    principal: Principal,
    article_id: int,
    content: Content,
    *,
    base_version: int,
    note: str | None = None,
    at: datetime | None = None,
) -> ArticleVersion:
    """Save an edit as version latest+1. `base_version` must be the latest version, else 409."""
    at = at or utcnow()
    a = get_article(session, principal, article_id)
    _check_write_scope(principal, a.scope_path)
    unit_id, path, tags, keys = _validate(session, principal, content)
    if base_version != a.latest_version:
        raise _conflict(a, base_version)
    new_status = "draft"
    # Compare-and-set: only one of two concurrent saves on the same base can move latest_version.
    res = session.execute(
        update(Article)
        .where(Article.id == a.id, Article.latest_version == base_version)
        .values(
            latest_version=base_version + 1,
            status=new_status,
            title=content.title.strip(),
            kind=content.kind,
            department=content.department,
            org_unit_id=unit_id,
            scope_path=path,
            updated_at=at,
        )
        .execution_options(synchronize_session=False)
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(a)
        raise _conflict(a, base_version)
    old_status = a.status
    session.refresh(a)
    v = _version(
        a.id, base_version + 1, base_version, content, unit_id, tags, keys, note, principal.user_id, at
    )
    session.add(v)
    if old_status != new_status:
        _record_transition(session, a.id, src=old_status, dst=new_status, version=v.number,
                           actor_id=principal.user_id, reason="edited", at=at)
    events.record(
        session,
        "knowledge.article_edited",
        {"version": v.number},
        aggregate_type="knowledge_article",
        aggregate_id=a.id,
        org_unit_id=unit_id,
        at=at,
    )
    session.flush()
    return v


def _conflict(a: Article, base_version: int) -> VersionConflict:
    return VersionConflict(
        f"version {base_version} is no longer the latest (version {a.latest_version} was saved since); "
        "reload the article, reapply your changes and save again",
        details={"base_version": base_version, "latest_version": a.latest_version},
    )


def transition(
    session: Session,
    principal: Principal,
    article_id: int,
    to_status: str,
    *,
    version: int | None = None,
    reason: str | None = None,
    at: datetime | None = None,
    bulk_import: bool = False,
) -> Article:
    """Move the article along its lifecycle. `version`, when given, must be the latest (so a reviewer
    publishes exactly what they read). Publishing is a second person's act: the author of the version
    under review may not publish it (``bulk_import``: an administrator loading a knowledge base that was
    reviewed elsewhere, `kefu import knowledge`)."""
    at = at or utcnow()
    a = get_article(session, principal, article_id)
    _check_write_scope(principal, a.scope_path)
    src = a.status
    lifecycle.check_transition(src, to_status)
    needed = lifecycle.PERMISSION_FOR[to_status]
    if not principal.can(needed):
        from kefu.core.errors import Forbidden

        raise Forbidden(
            f"role '{principal.role}' may not do this (needs '{needed}')", details={"permission": needed}
        )
    if version is not None and version != a.latest_version:
        raise _conflict(a, version)
    latest = get_version(session, a.id, a.latest_version)
    if to_status == "published":
        if latest.author_id == principal.user_id and not bulk_import:
            from kefu.core.errors import Forbidden

            raise Forbidden(
                "the author of a version may not publish it: another reviewer with 'knowledge.publish' must",
                code="review_needs_second_person",
                details={"author_id": latest.author_id},
            )
        lifecycle.check_publishable(latest.valid_until, at)
    res = session.execute(
        update(Article)
        .where(Article.id == a.id, Article.status == src, Article.latest_version == latest.number)
        .values(status=to_status, updated_at=at)
        .execution_options(synchronize_session=False)
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(a)
        raise IllegalTransition(
            f"the article changed meanwhile (now '{a.status}', version {a.latest_version})",
            details={"from": src, "to": to_status},
        )
    session.refresh(a)
    _record_transition(session, a.id, src=src, dst=to_status, version=latest.number,
                       actor_id=principal.user_id, reason=reason, at=at)
    if to_status == "published":
        latest.published_at = at
        a.live_version = latest.number
        a.published_at = at
        index.index_version(session, a, latest, at=at)
        events.record(
            session,
            "knowledge.article_published",
            {"version": latest.number, "kind": a.kind},
            aggregate_type="knowledge_article",
            aggregate_id=a.id,
            org_unit_id=a.org_unit_id,
            at=at,
        )
    elif to_status in ("expired", "withdrawn"):
        a.live_version = None
        index.unindex(session, a.id, at=at)
        events.record(
            session,
            f"knowledge.article_{to_status}",
            {"version": latest.number},
            aggregate_type="knowledge_article",
            aggregate_id=a.id,
            org_unit_id=a.org_unit_id,
            at=at,
        )
    else:
        events.record(
            session,
            "knowledge.article_transitioned",
            {"from": src, "to": to_status},
            aggregate_type="knowledge_article",
            aggregate_id=a.id,
            org_unit_id=a.org_unit_id,
            at=at,
        )
    session.flush()
    return a


def expire_due(session: Session, *, at: datetime | None = None) -> list[int]:
    """Expire every published article whose live version's end date has passed (a daily job; search
    hides them from that instant anyway)."""
    at = at or utcnow()
    ids = list(
        session.scalars(
            select(IndexEntry.article_id).where(IndexEntry.live.is_(True), IndexEntry.valid_until < at)
        )
    )
    done = []
    for article_id in ids:
        a = session.get(Article, article_id)
        if a is None or a.status not in ("published", "draft", "in_review"):
            continue
        src = a.status
        if src == "published":
            a.status = "expired"
        a.live_version = None
        a.updated_at = at
        index.unindex(session, a.id, at=at)
        _record_transition(session, a.id, src=src, dst=a.status, version=a.latest_version,
                           actor_id=None, reason="end date passed", at=at)
        events.record(
            session,
            "knowledge.article_expired",
            {"version": a.latest_version},
            aggregate_type="knowledge_article",
            aggregate_id=a.id,
            org_unit_id=a.org_unit_id,
            at=at,
        )
        done.append(a.id)
    session.flush()
    return done


# ---- versions and diffs ---------------------------------------------------------------------


def version_dict(v: ArticleVersion) -> dict[str, Any]:
    return {f: getattr(v, f) for f in diffs.FIELDS} | {"body": v.body}


def visible_version(session: Session, principal: Principal, article: Article, number: int) -> ArticleVersion:
    """Version `number` of an article the principal sees: writers every version, readers the
    published ones (as `list_versions`); 404 otherwise."""
    v = get_version(session, article.id, number)
    if v.published_at is None and not principal.can("knowledge.write"):
        raise VersionNotFound(f"article {article.id} has no published version {number}")
    return v


def diff(session: Session, principal: Principal, article_id: int, old: int, new: int) -> dict[str, Any]:
    a = get_article(session, principal, article_id)
    va, vb = visible_version(session, principal, a, old), visible_version(session, principal, a, new)
    da, db_ = version_dict(va), version_dict(vb)
    return {
        "article_id": a.id,
        "from_version": old,
        "to_version": new,
        "fields": diffs.field_changes(da, db_),
        "body": diffs.body_changes(va.body, vb.body),
        "unified": diffs.unified(va.body, vb.body, f"v{old}", f"v{new}"),
    }
