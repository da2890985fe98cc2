"""Login, org units, users and API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select

from kefu.core.auth import PERMISSIONS, Principal
from kefu.core.clock import utcnow
from kefu.core.deps import AppSettings, CurrentPrincipal, DbSession, Id, OptionalId, Paging, require
from kefu.core.errors import InvalidInput
from kefu.org import audit, service
from kefu.org import login as login_guard
from kefu.org.models import User
from kefu.org.schemas import (
    AuditPage,
    AuditRead,
    LoginIn,
    Me,
    OrgUnitCreate,
    OrgUnitRead,
    TokenCreate,
    TokenCreated,
    TokenPage,
    TokenRead,
    UserCreate,
    UserRead,
    UserUpdate,
)

router = APIRouter(tags=["org"])


def user_read(user: User) -> UserRead:
    return UserRead(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        org_unit_id=user.org_unit_id,
        authority_limit=user.authority_limit,
        locale=user.locale,
        active=user.active,
        skills={us.skill.key: us.level for us in user.skills},
    )


@router.post("/auth/login", response_model=Me,
             responses={429: {"description": "too many attempts from this address, or the account is locked"},
                        503: {"description": "too many logins at once"}})
def login(body: LoginIn, request: Request, response: Response, session: DbSession, settings: AppSettings) -> Me:
    """Start a console session (cookie). Rate-limited and locked out after repeated failures (kefu.org.login)."""
    token, user = login_guard.attempt_login(request, session, settings, body.username, body.password)
    response.set_cookie(
        service.SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        max_age=settings.session_hours * 3600,
        secure=settings.env == "production",
    )
    return Me(**user_read(user).model_dump(), permissions=sorted(PERMISSIONS[user.role]))


@router.post("/auth/logout", status_code=204)
def logout(request: Request, response: Response, session: DbSession) -> None:
    token = request.cookies.get(service.SESSION_COOKIE)
    if token:
        service.logout(session, token, ip=service.client_ip(request))
    response.delete_cookie(service.SESSION_COOKIE)


@router.get("/me", response_model=Me)
def me(principal: CurrentPrincipal, session: DbSession) -> Me:
    """Who is calling and what they may do (for a scoped token: the role narrowed by its scopes)."""
    user = session.get(User, principal.user_id)
    assert user is not None
    return Me(**user_read(user).model_dump(), permissions=sorted(principal.permissions))


@router.get("/org-units", response_model=list[OrgUnitRead])
def list_org_units(session: DbSession, principal: Principal = require("org.read")) -> list[OrgUnitRead]:
    return [OrgUnitRead.model_validate(u) for u in service.list_units(session, principal)]


@router.post("/org-units", response_model=OrgUnitRead, status_code=201)
def create_org_unit(
    body: OrgUnitCreate, session: DbSession, principal: Principal = require("org.admin")
) -> OrgUnitRead:
    if body.parent_id is not None:
        service.check_visible(session, principal, body.parent_id)
    unit = service.create_org_unit(
        session,
        kind=body.kind,
        code=body.code,
        name=body.name,
        name_en=body.name_en,
        parent_id=body.parent_id,
    )
    return OrgUnitRead.model_validate(unit)


@router.get("/users", response_model=list[UserRead])
def list_users(session: DbSession, principal: Principal = require("org.read")) -> list[UserRead]:
    ids = service.visible_unit_ids(session, principal)
    users = session.scalars(select(User).where(User.org_unit_id.in_(ids)).order_by(User.id))
    return [user_read(u) for u in users]


@router.patch("/users/{user_id}", response_model=UserRead)
def update_user(
    user_id: Id, body: UserUpdate, session: DbSession, principal: Principal = require("users.admin")
) -> UserRead:
    """Change a user of the caller's subtree (role, unit, active, ...); audited."""
    user = service.user_visible(session, principal, user_id)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("org_unit_id") is not None:
        service.check_visible(session, principal, changes["org_unit_id"])
    return user_read(service.update_user(session, user, changes))


@router.post("/users", response_model=UserRead, status_code=201)
def create_user(
    body: UserCreate, session: DbSession, principal: Principal = require("users.admin")
) -> UserRead:
    service.check_visible(session, principal, body.org_unit_id)
    user = service.create_user(
        session,
        username=body.username,
        display_name=body.display_name,
        role=body.role,
        org_unit_id=body.org_unit_id,
        password=body.password,
        authority_limit=body.authority_limit,
        skills={s.key: s.level for s in body.skills},
        locale=body.locale,
    )
    return user_read(user)


def token_read(row: service.TokenRow, now: datetime) -> TokenRead:
    t = row.token
    live = t.revoked_at is None and (t.expires_at is None or t.expires_at > now)
    return TokenRead(id=t.id, name=t.name, prefix=t.prefix, user_id=t.user_id, username=row.owner.username,
                     user_display_name=row.owner.display_name, org_unit_id=row.owner.org_unit_id, scopes=t.scopes,
                     created_at=t.created_at, created_by=t.created_by, last_used_at=t.last_used_at,
                     expires_at=t.expires_at, revoked_at=t.revoked_at, active=live and row.owner.active)


@router.get("/tokens", response_model=TokenPage)
def list_tokens(session: DbSession, page: Paging, user_id: OptionalId = None, include_revoked: bool = True,
                principal: Principal = require("tokens.admin")) -> TokenPage:
    """API tokens of the users in the caller's subtree, newest first (never the secrets)."""
    rows, total = service.list_tokens(session, principal, user_id=user_id, include_revoked=include_revoked,
                                      limit=page.limit, offset=page.offset)
    now = utcnow()
    return TokenPage(items=[token_read(r, now) for r in rows], total=total, limit=page.limit, offset=page.offset)


@router.post("/tokens", response_model=TokenCreated, status_code=201)
def create_token(
    body: TokenCreate, session: DbSession, settings: AppSettings, principal: Principal = require("tokens.admin")
) -> TokenCreated:
    """A token for a user of the caller's subtree (default: the caller). The secret is in this answer only."""
    owner = service.user_visible(session, principal, principal.user_id if body.user_id is None else body.user_id)
    secret, tok = service.create_api_token(session, owner.id, body.name, scopes=body.scopes,
                                           expires_at=body.expires_at, days=settings.token_days,
                                           created_by=principal.user_id)
    return TokenCreated(id=tok.id, name=tok.name, token=secret, created_at=tok.created_at, scopes=tok.scopes,
                        expires_at=tok.expires_at)


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(token_id: Id, session: DbSession, principal: Principal = require("tokens.admin")) -> None:
    """Revoke a token of a user in the caller's subtree (404 for any other)."""
    service.token_visible(session, principal, token_id)
    service.revoke_api_token(session, token_id, actor_id=principal.user_id)


@router.get("/audit", response_model=AuditPage)
def search_audit(
    session: DbSession,
    page: Paging,
    actor_id: OptionalId = None,
    action: Annotated[str | None, Query(max_length=40, description="an action, or a family: 'login.'")] = None,
    object_type: Annotated[str | None, Query(max_length=32)] = None,
    object_id: Annotated[str | None, Query(max_length=64)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    principal: Principal = require("audit.read"),
) -> AuditPage:
    """The audit log of the caller's subtree, newest first, filtered by actor, action, object and time."""
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise InvalidInput(f"{name} needs a time zone (e.g. 2026-01-31T00:00:00+08:00)", code="invalid_time")
    filters = audit.AuditFilters(actor_id=actor_id, action=action, object_type=object_type, object_id=object_id,
                                 since=since, until=until)
    rows, total = audit.search(session, principal, service.visible_unit_ids(session, principal), filters,
                               limit=page.limit, offset=page.offset)
    return AuditPage(items=[AuditRead.model_validate(r) for r in rows], total=total, limit=page.limit,
                     offset=page.offset)
