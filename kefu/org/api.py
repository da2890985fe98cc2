"""Login, org units, users and API tokens."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy import select

from kefu.core.auth import PERMISSIONS, Principal
from kefu.core.deps import AppSettings, CurrentPrincipal, DbSession, Id, require
from kefu.core.errors import NotFound
from kefu.org import service
from kefu.org.models import User
from kefu.org.schemas import (
    LoginIn,
    Me,
    OrgUnitCreate,
    OrgUnitRead,
    TokenCreate,
    TokenCreated,
    UserCreate,
    UserRead,
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


@router.post("/auth/login", response_model=Me)
def login(body: LoginIn, response: Response, session: DbSession, settings: AppSettings) -> Me:
    token, user = service.login(session, body.username, body.password, hours=settings.session_hours)
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
        service.logout(session, token)
    response.delete_cookie(service.SESSION_COOKIE)


@router.get("/me", response_model=Me)
def me(principal: CurrentPrincipal, session: DbSession) -> Me:
    user = session.get(User, principal.user_id)
    assert user is not None
    return Me(**user_read(user).model_dump(), permissions=sorted(PERMISSIONS[user.role]))


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


@router.post("/tokens", response_model=TokenCreated, status_code=201)
def create_token(
    body: TokenCreate, session: DbSession, principal: Principal = require("tokens.admin")
) -> TokenCreated:
    user_id = body.user_id or principal.user_id
    owner = session.get(User, user_id)
    if owner is None or not principal.sees_path(service.org_unit(session, owner.org_unit_id).path):
        raise NotFound(f"user {user_id} not found", code="user_not_found")
    secret, tok = service.create_api_token(session, user_id, body.name)
    return TokenCreated(id=tok.id, name=tok.name, token=secret, created_at=tok.created_at)


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(token_id: Id, session: DbSession, principal: Principal = require("tokens.admin")) -> None:
    service.revoke_api_token(session, token_id)
