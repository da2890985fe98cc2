"""Org units, users, skills, login sessions and API tokens. Services flush; callers commit."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

from fastapi import Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.core import events
from kefu.core.auth import Principal, digest, hash_password, new_secret, verify_password
from kefu.core.clock import utcnow
from kefu.core.errors import Conflict, InvalidInput, NotFound, Unauthorized
from kefu.org.models import ORG_KINDS, ROLES, ApiToken, AuthSession, OrgUnit, Skill, User, UserSkill

SESSION_COOKIE = "kefu_session"
_CHILD_KIND = {"group": "province", "province": "city"}


# ---- org tree -------------------------------------------------------------------------------

def create_org_unit(session: Session, *, kind: str, code: str, name: str, parent_id: int | None = None,
                    name_en: str | None = None) -> OrgUnit:
    if kind not in ORG_KINDS:
        raise InvalidInput(f"unknown org unit kind '{kind}' (one of {', '.join(ORG_KINDS)})")
    parent = None
    if parent_id is not None:
        parent = session.get(OrgUnit, parent_id)
        if parent is None:
            raise NotFound(f"org unit {parent_id} not found", code="org_unit_not_found")
        if _CHILD_KIND.get(parent.kind) != kind:
            raise InvalidInput(f"a {kind} cannot sit under a {parent.kind}")
    elif kind != "group":
        raise InvalidInput("only a group may have no parent")
    if session.scalar(select(OrgUnit.id).where(OrgUnit.code == code)) is not None:
        raise Conflict(f"org unit code '{code}' exists already", code="org_unit_exists")
    unit = OrgUnit(kind=kind, code=code, name=name, name_en=name_en, parent_id=parent_id, created_at=utcnow())
    session.add(unit)
    session.flush()
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    session.flush()
    return unit


def org_unit(session: Session, unit_id: int) -> OrgUnit:
    unit = session.get(OrgUnit, unit_id)
    if unit is None:
        raise NotFound(f"org unit {unit_id} not found", code="org_unit_not_found")
    return unit


def unit_by_code(session: Session, code: str) -> OrgUnit:
    unit = session.scalar(select(OrgUnit).where(OrgUnit.code == code))
    if unit is None:
        raise NotFound(f"org unit '{code}' not found", code="org_unit_not_found")
    return unit


def unit_by_code_or_none(session: Session, code: str) -> OrgUnit | None:
    return session.scalar(select(OrgUnit).where(OrgUnit.code == code))


def default_city(session: Session) -> OrgUnit | None:
    """Where a sender nobody can place goes: the first city under the first province (by creation),
    else the top of the tree; None in an empty organisation."""
    first_province = (select(OrgUnit.id).where(OrgUnit.kind == "province")
                      .order_by(OrgUnit.id).limit(1).scalar_subquery())
    unit = session.scalar(select(OrgUnit).where(OrgUnit.parent_id == first_province)
                          .order_by(OrgUnit.id).limit(1))
    return unit if unit is not None else session.scalar(select(OrgUnit).order_by(OrgUnit.id).limit(1))


def unit_by_path(session: Session, path: str) -> OrgUnit | None:
    """The unit at this materialised path, or None."""
    return session.scalar(select(OrgUnit).where(OrgUnit.path == path))


def users(session: Session, ids: Iterable[int]) -> dict[int, User]:
    """Users by id, in one query (missing ids are absent). Not scoped: callers check scope."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(wanted)))}


def user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def user_by_username(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def units(session: Session, ids: list[int] | None = None) -> list[OrgUnit]:
    """Units by id (all units when ids is None), in tree order. Not scoped: for system jobs."""
    stmt = select(OrgUnit).order_by(OrgUnit.path)
    if ids is not None:
        stmt = stmt.where(OrgUnit.id.in_(ids))
    return list(session.scalars(stmt))


def subtree_ids(session: Session, path: str) -> list[int]:
    """The unit at `path` and every unit below it. Not scoped: callers check scope."""
    return list(session.scalars(select(OrgUnit.id).where(OrgUnit.path.startswith(path))))


def unit_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(OrgUnit)) or 0


def visible_unit_ids(session: Session, principal: Principal) -> list[int]:
    """The principal's own unit and every unit below it."""
    return subtree_ids(session, principal.org_path)


def list_units(session: Session, principal: Principal) -> list[OrgUnit]:
    return list(session.scalars(select(OrgUnit).where(OrgUnit.path.startswith(principal.org_path))
                                .order_by(OrgUnit.path)))


def check_visible(session: Session, principal: Principal, unit_id: int) -> OrgUnit:
    """The unit if the principal may see it; NotFound otherwise (we do not reveal what exists)."""
    unit = session.get(OrgUnit, unit_id)
    if unit is None or not principal.sees_path(unit.path):
        raise NotFound(f"org unit {unit_id} not found", code="org_unit_not_found")
    return unit


# ---- users and skills -----------------------------------------------------------------------

def create_user(session: Session, *, username: str, display_name: str, role: str, org_unit_id: int,
                password: str | None = None, authority_limit: Decimal | int = 0,
                skills: dict[str, int] | None = None, locale: str = "zh-CN") -> User:
    if role not in ROLES:
        raise InvalidInput(f"unknown role '{role}' (one of {', '.join(ROLES)})")
    org_unit(session, org_unit_id)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user '{username}' exists already", code="user_exists")
    if password is not None and len(password) < 8:
        raise InvalidInput("password must have at least 8 characters")
    user = User(username=username, display_name=display_name, role=role, org_unit_id=org_unit_id,
                password_hash=hash_password(password) if password else None,
                authority_limit=Decimal(authority_limit), locale=locale, active=True, created_at=utcnow())
    session.add(user)
    session.flush()
    for key, level in (skills or {}).items():
        set_skill(session, user, key, level)
    events.record(session, "user.created", {"username": username, "role": role},
                  aggregate_type="user", aggregate_id=user.id, org_unit_id=org_unit_id)
    return user


def active_user_ids(session: Session, *, unit_paths: list[str], roles: tuple[str, ...],
                    skill_keys: list[str] | None = None) -> list[int]:
    """Active users with one of ``roles`` in the subtrees of ``unit_paths``, holding any of ``skill_keys``
    (all when none are given), in id order."""
    from sqlalchemy import or_

    q = (
        select(User.id)
        .join(OrgUnit, OrgUnit.id == User.org_unit_id)
        .where(User.active.is_(True), User.role.in_(roles), or_(*[OrgUnit.path.startswith(p) for p in unit_paths]))
    )
    if skill_keys:
        q = q.where(User.id.in_(select(UserSkill.user_id).join(Skill, Skill.id == UserSkill.skill_id)
                                .where(Skill.key.in_(skill_keys))))
    return list(session.scalars(q.order_by(User.id)))


def ensure_skill(session: Session, key: str, name: str | None = None, name_en: str | None = None) -> Skill:
    skill = session.scalar(select(Skill).where(Skill.key == key))
    if skill is None:
        skill = Skill(key=key, name=name or key, name_en=name_en)
        session.add(skill)
        session.flush()
    return skill


def set_skill(session: Session, user: User, key: str, level: int) -> None:
    if not 1 <= level <= 5:
        raise InvalidInput(f"skill level must be 1..5, got {level}")
    skill = ensure_skill(session, key)
    for us in user.skills:
        if us.skill_id == skill.id:
            us.level = level
            return
    user.skills.append(UserSkill(skill_id=skill.id, level=level, skill=skill))
    session.flush()


def principal_for(session: Session, user: User, *, via_token: bool = False) -> Principal:
    unit = user.org_unit or session.get(OrgUnit, user.org_unit_id)
    assert unit is not None
    return Principal(user_id=user.id, username=user.username, display_name=user.display_name, role=user.role,
                     org_unit_id=user.org_unit_id, org_path=unit.path,
                     authority_limit=Decimal(user.authority_limit), locale=user.locale, via_token=via_token)


# ---- login sessions -------------------------------------------------------------------------

def login(session: Session, username: str, password: str, *, hours: int = 12) -> tuple[str, User]:
    user = user_by_username(session, username)
    if user is None or not user.active or not verify_password(user.password_hash, password):
        raise Unauthorized("wrong username or password", code="login_failed")
    token = new_secret()
    now = utcnow()
    session.add(AuthSession(token_hash=digest(token), user_id=user.id, created_at=now,
                            expires_at=now + timedelta(hours=hours)))
    session.flush()
    return token, user


def logout(session: Session, token: str) -> None:
    row = session.get(AuthSession, digest(token))
    if row is not None:
        session.delete(row)
        session.flush()


def user_for_session(session: Session, token: str) -> User | None:
    row = session.get(AuthSession, digest(token))
    if row is None or row.expires_at <= utcnow():
        return None
    user = session.get(User, row.user_id)
    return user if user is not None and user.active else None


# ---- API tokens -----------------------------------------------------------------------------

def create_api_token(session: Session, user_id: int, name: str) -> tuple[str, ApiToken]:
    """Returns the secret (shown once) and its record."""
    if session.get(User, user_id) is None:
        raise NotFound(f"user {user_id} not found", code="user_not_found")
    if session.scalar(select(ApiToken.id).where(ApiToken.user_id == user_id, ApiToken.name == name)):
        raise Conflict(f"a token named '{name}' exists already", code="token_exists")
    secret = new_secret("kf_")
    tok = ApiToken(name=name, prefix=secret[:8], token_hash=digest(secret), user_id=user_id,
                   created_at=utcnow())
    session.add(tok)
    session.flush()
    return secret, tok


def revoke_api_token(session: Session, token_id: int) -> None:
    tok = session.get(ApiToken, token_id)
    if tok is None:
        raise NotFound(f"token {token_id} not found", code="token_not_found")
    tok.revoked_at = tok.revoked_at or utcnow()
    session.flush()


def user_for_api_token(session: Session, secret: str) -> User | None:
    tok = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(secret)))
    if tok is None or tok.revoked_at is not None:
        return None
    user = session.get(User, tok.user_id)
    return user if user is not None and user.active else None


def _principal_row(session: Session, where: Any) -> Principal | None:
    """One joined query: the active user behind a credential, as a Principal (no ORM objects)."""
    row = session.execute(
        select(User.id, User.username, User.display_name, User.role, User.org_unit_id, OrgUnit.path,
               User.authority_limit, User.locale)
        .join(OrgUnit, OrgUnit.id == User.org_unit_id)
        .where(User.active.is_(True), where)
    ).first()
    if row is None:
        return None
    return Principal(user_id=row[0], username=row[1], display_name=row[2], role=row[3], org_unit_id=row[4],
                     org_path=row[5], authority_limit=Decimal(row[6]), locale=row[7])


def principal_from_request(session: Session, request: Request) -> Principal | None:
    """The principal behind the request's bearer token or console session cookie, in one query."""
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        token = select(ApiToken.user_id).where(ApiToken.token_hash == digest(auth[7:].strip()),
                                               ApiToken.revoked_at.is_(None))
        p = _principal_row(session, User.id == token.scalar_subquery())
        return replace(p, via_token=True) if p else None
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        live = select(AuthSession.user_id).where(AuthSession.token_hash == digest(cookie),
                                                 AuthSession.expires_at > utcnow())
        return _principal_row(session, User.id == live.scalar_subquery())
    return None
