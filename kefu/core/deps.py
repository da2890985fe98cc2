"""FastAPI dependencies shared by every domain's api.py: the session, the principal, permissions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Form, Path, Query, Request
from pydantic import BaseModel
from sqlalchemy.orm import Session

from kefu.core.auth import Principal
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


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request, committed before the response is sent."""
    db: Database = request.app.state.db
    with db.unit_of_work() as s:
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


def require(permission: str) -> Any:
    """`principal: Principal = require("tickets.read")` in an endpoint signature."""

    def check(principal: CurrentPrincipal) -> Principal:
        if not principal.can(permission):
            raise Forbidden(f"role '{principal.role}' may not do this (needs '{permission}')",
                            details={"permission": permission})
        return principal

    return Depends(check)


class Page(BaseModel):
    limit: int
    offset: int


# Ids are positive and stored as 64-bit integers: a larger one is answered 422, never passed to the database.
INT64_MAX = 2**63 - 1
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
           "OptionalFormVersion", "OptionalId", "Paging", "QueryId", "get_db", "is_id_text", "require"]
