"""FastAPI dependencies shared by every domain's api.py: the session, the principal, permissions."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Form, Path, Query, Request
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from kefu.core.auth import Principal
from kefu.core.body import INT64_MAX
from kefu.core.config import Settings
from kefu.core.db import Database
from kefu.core.errors import Forbidden, Unauthorized
from kefu.core.privacy import record_viewer


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


# Requests that may change something: their transaction is a writer's (see kefu.core.db).
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request, committed before the response is sent."""
    db: Database = request.app.state.db
    with db.unit_of_work(write=request.method not in _SAFE_METHODS) as s:
        yield s
    dispatcher = getattr(request.app.state, "dispatcher", None)
    if dispatcher is not None and s.info.get("kefu_has_events"):
        dispatcher.wake()


DbSession = Annotated[Session, Depends(get_session, scope="function")]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]


def current_principal(request: Request, session: DbSession) -> Principal:
    from kefu.org import service as org

    principal = org.principal_from_request(session, request)
    if principal is None:
        raise Unauthorized("authentication required: log in or send 'Authorization: Bearer <token>'")
    request.state.principal = principal
    record_viewer(principal.can("pii"))
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


@dataclass(frozen=True)
class Requirement:
    """The dependency `require` builds. Kept as an object so the permissions a route needs can be read
    from the route table (tests/test_authorization_matrix.py walks every route's dependencies)."""

    permissions: tuple[str, ...]
    group_level: bool = False

    def __call__(self, principal: CurrentPrincipal) -> Principal:
        return self.check(principal)

    def check(self, principal: Principal) -> Principal:
        for permission in self.permissions:
            if not principal.can(permission):
                raise Forbidden(f"role '{principal.role}' may not do this (needs '{permission}')",
                                details={"permission": permission})
        if self.group_level and not principal.at_group_level:
            raise Forbidden("only an administrator at the group level may change this",
                            code="group_level_required", details={"permission": self.permissions[0]})
        return principal


@dataclass(frozen=True)
class TokenRequirement(Requirement):
    """`Requirement` for the hot routes integrations post to (a channel gateway): the principal comes from
    the token cache without a request transaction; a worker thread and the database only on a cache
    miss. The endpoint then owns its transactions."""

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        from kefu.org import service as org

        principal = org.cached_token_principal(request)
        if principal is None:
            principal = await run_in_threadpool(_principal_in_own_session, request)
        if principal is None:
            raise Unauthorized("authentication required: send 'Authorization: Bearer <token>'")
        request.state.principal = principal
        return self.check(principal)


def _principal_in_own_session(request: Request) -> Principal | None:
    from kefu.org import service as org

    db: Database = request.app.state.db
    with db.session() as s:
        principal = org.principal_from_request(s, request)
        s.commit()  # the token's last use, when it was due
    return principal


def require_token(permission: str, *more: str) -> Any:
    """`require` for hot integration routes (see TokenRequirement)."""
    return Depends(TokenRequirement((permission, *more)))


def require(permission: str, *more: str, group_level: bool = False) -> Any:
    """`principal: Principal = require("tickets.read")` in an endpoint signature: the principal must hold
    every permission named. `group_level=True`: and sit at the top of the org tree (group-wide settings)."""
    return Depends(Requirement((permission, *more), group_level))


class Page(BaseModel):
    limit: int
    offset: int


# Ids are positive and stored as 64-bit integers: a larger one is answered 422, never passed to the database.
Id = Annotated[int, Path(ge=1, le=INT64_MAX)]
QueryId = Annotated[int, Query(ge=1, le=INT64_MAX)]
OptionalId = Annotated[int | None, Query(ge=1, le=INT64_MAX)]
FormId = Annotated[int, Form(ge=1, le=INT64_MAX)]
OptionalFormId = Annotated[int | None, Form(ge=1, le=INT64_MAX)]
# an expected version (optimistic locking): 0 is allowed, it is only stale
OptionalFormVersion = Annotated[int | None, Form(ge=0, le=INT64_MAX)]
Offset = Annotated[int, Query(ge=0, le=INT64_MAX)]
# A filter that takes words or a user id ("me", "unassigned", "42"): ids of at most 18 digits fit 64 bits.
ID_TEXT = r"[1-9][0-9]{0,17}"


def is_id_text(text: str) -> bool:
    """A query value that is an id a 64-bit column can hold (for filters read as text)."""
    return text.isdigit() and 1 <= int(text) <= INT64_MAX


def pagination(limit: Annotated[int, Query(ge=1, le=200)] = 50, offset: Offset = 0) -> Page:
    return Page(limit=limit, offset=offset)


Paging = Annotated[Page, Depends(pagination)]

__all__ = ["ID_TEXT", "AppSettings", "CurrentPrincipal", "DbSession", "FormId", "Id", "Offset", "OptionalFormId",
           "OptionalFormVersion", "OptionalId", "Paging", "QueryId", "Requirement", "TokenRequirement", "get_db",
           "is_id_text", "require", "require_token"]
