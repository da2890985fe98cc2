"""Knowledge fixtures: principals, and the hand-written corpus published on a fresh database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from kefu.core.auth import Principal
from kefu.core.db import Database
from tests.conftest import World
from tests.knowledge.corpus import ARTICLES, NOW
from tests.web.conftest import browser, live_server  # noqa: F401 (fixtures of the browser tests)


def principal_of(db: Database, username: str) -> Principal:
    from kefu.org import service as org

    with db.session() as s:
        user = org.user_by_username(s, username)
        assert user is not None
        return org.principal_for(s, user)


@pytest.fixture
def as_user(db: Database, world: World) -> Callable[[str], Principal]:
    return lambda username: principal_of(db, username)


def publish(
    db: Database,
    principal: Principal,
    entry: dict[str, object],
    *,
    at: datetime = NOW,
    org_unit_id: int | None = None,
) -> int:
    from kefu.knowledge import service
    from kefu.knowledge.service import Content

    with db.unit_of_work() as s:
        a = service.create_article(
            s,
            principal,
            Content(
                title=str(entry["title"]),
                body=str(entry["body"]),
                kind=str(entry["kind"]),
                department="知识管理",
                org_unit_id=org_unit_id,
                tags=tuple(entry.get("tags", ())),  # type: ignore[arg-type]
                category_keys=tuple(entry.get("cats", ())),  # type: ignore[arg-type]
                valid_from=entry.get("valid_from"),
                valid_until=entry.get("valid_until"),
            ),
            at=at,
        )  # type: ignore[arg-type]
        service.transition(s, principal, a.id, "in_review", at=at)
        service.transition(s, principal, a.id, "published", at=at, bulk_import=True)
        return a.id


@pytest.fixture
def corpus(db: Database, world: World) -> dict[str, int]:
    """Every corpus article published by the admin (group scope) at NOW; key -> article id."""
    admin = principal_of(db, "admin")
    return {str(e["key"]): publish(db, admin, e) for e in ARTICLES}
