"""Org units, users, skills, login sessions and API tokens. Services flush; callers commit."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from fastapi import Request
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from kefu.core import events
from kefu.core.auth import (
    CONSOLE_ROLES,
    Principal,
    digest,
    grantable_scopes,
    hash_password,
    new_secret,
    verify_password_or_dummy,
)
from kefu.core.clock import utcnow
from kefu.core.db import Database, after_commit
from kefu.core.errors import Conflict, InvalidInput, NotFound, Unauthorized
from kefu.org import audit
from kefu.org.models import ORG_KINDS, ROLES, ApiToken, AuthSession, OrgUnit, Skill, User, UserSkill
from kefu.org.token_cache import Entry, cache

log = logging.getLogger("kefu.org")

SESSION_COOKIE = "kefu_session"
_CHILD_KIND = {"group": "province", "province": "city"}
# A token's last_used_at is written at most this often (per token and process).
LAST_USED_EVERY = timedelta(minutes=1)
DEFAULT_TOKEN_DAYS = 365
DEFAULT_TOKEN_CACHE_SECONDS = 10.0


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


def users_in_units(session: Session, unit_ids: Iterable[int]) -> list[User]:
    """The users of these units, by name. Not scoped: callers pass the units they may see."""
    ids = sorted(set(unit_ids))
    if not ids:
        return []
    return list(session.scalars(select(User).where(User.org_unit_id.in_(ids)).order_by(User.display_name, User.id)))


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

def _check_role_and_password(role: str, password: str | None) -> None:
    if role not in ROLES:
        raise InvalidInput(f"unknown role '{role}' (one of {', '.join(ROLES)})", code="invalid_role")
    if password is not None:
        if role not in CONSOLE_ROLES:
            raise InvalidInput(f"a {role} user does not log in: give it an API token, not a password",
                               code="password_not_allowed")
        if len(password) < 8:
            raise InvalidInput("password must have at least 8 characters")


def create_user(session: Session, *, username: str, display_name: str, role: str, org_unit_id: int,
                password: str | None = None, authority_limit: Decimal | int = 0,
                skills: dict[str, int] | None = None, locale: str = "zh-CN") -> User:
    _check_role_and_password(role, password)
    org_unit(session, org_unit_id)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user '{username}' exists already", code="user_exists")
    user = User(username=username, display_name=display_name, role=role, org_unit_id=org_unit_id,
                password_hash=hash_password(password) if password else None,
                authority_limit=Decimal(authority_limit), locale=locale, active=True, created_at=utcnow())
    session.add(user)
    session.flush()
    for key, level in (skills or {}).items():
        set_skill(session, user, key, level)
    events.record(session, "user.created", {"username": username, "role": role},
                  aggregate_type="user", aggregate_id=user.id, org_unit_id=org_unit_id)
    audit.record(session, "user.created", object_id=user.id, org_unit_id=org_unit_id,
                 details={"username": username, "role": role})
    return user


USER_FIELDS = ("display_name", "role", "org_unit_id", "active", "authority_limit", "locale", "password")


def update_user(session: Session, user: User, changes: dict[str, Any]) -> User:
    """Change the given fields (USER_FIELDS; None leaves a field as it is). A change of role, unit or
    `active` takes effect on the user's tokens at the next request (the token cache drops the user);
    deactivating, a new role or a new password also ends the user's console sessions."""
    unknown = set(changes) - set(USER_FIELDS)
    if unknown:
        raise InvalidInput(f"cannot change {', '.join(sorted(unknown))}")
    changes = {k: v for k, v in changes.items() if v is not None}
    role = changes.get("role", user.role)
    password = changes.pop("password", None)
    _check_role_and_password(role, password)
    if "org_unit_id" in changes:
        org_unit(session, changes["org_unit_id"])
    changed: dict[str, Any] = {}
    for field, value in changes.items():
        if field == "authority_limit":
            value = Decimal(value)
        if getattr(user, field) != value:
            changed[field] = str(value) if isinstance(value, Decimal) else value
            setattr(user, field, value)
    if role not in CONSOLE_ROLES and user.password_hash is not None:  # a gateway keeps no password
        user.password_hash = None
        changed["password"] = "removed"
    elif password:
        user.password_hash = hash_password(password)
        changed["password"] = "changed"
    if changed.get("active") is False or "password" in changed or "role" in changed:
        session.execute(delete(AuthSession).where(AuthSession.user_id == user.id))
    session.flush()
    if changed:
        events.record(session, "user.updated", {"username": user.username, "fields": sorted(changed)},
                      aggregate_type="user", aggregate_id=user.id, org_unit_id=user.org_unit_id)
        audit.record(session, "user.updated", object_id=user.id, org_unit_id=user.org_unit_id,
                     details={"username": user.username, "changes": changed})
    return user


def user_visible(session: Session, principal: Principal, user_id: int) -> User:
    """The user if in the principal's subtree; NotFound otherwise."""
    row = session.execute(select(User, OrgUnit.path).join(OrgUnit, OrgUnit.id == User.org_unit_id)
                          .where(User.id == user_id)).first()
    if row is None or not principal.sees_path(row[1]):
        raise NotFound(f"user {user_id} not found", code="user_not_found")
    user: User = row[0]
    return user


def list_users(session: Session, principal: Principal, *, active_only: bool = False) -> list[User]:
    """Users of the principal's subtree, by display name."""
    stmt = (select(User).join(OrgUnit, OrgUnit.id == User.org_unit_id)
            .where(OrgUnit.path.startswith(principal.org_path)).order_by(User.display_name, User.id))
    if active_only:
        stmt = stmt.where(User.active.is_(True))
    return list(session.scalars(stmt))


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


def skills(session: Session) -> list[Skill]:
    """Every skill, by key (choosers)."""
    return list(session.scalars(select(Skill).order_by(Skill.key)))


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
    """The principal of a user acting with their whole role (a console session)."""
    unit = user.org_unit or session.get(OrgUnit, user.org_unit_id)
    assert unit is not None
    return Principal(user_id=user.id, username=user.username, display_name=user.display_name, role=user.role,
                     org_unit_id=user.org_unit_id, org_path=unit.path,
                     authority_limit=Decimal(user.authority_limit), locale=user.locale, via_token=via_token)


# ---- login sessions -------------------------------------------------------------------------

def check_password(session: Session, username: str, password: str) -> User | None:
    """The user if the password is theirs and they may log in, else None. Takes as long for an unknown
    name, an inactive user or a gateway (no console login) as for a wrong password: the password is
    checked against a dummy hash. Callers bound how many run at once (kefu.org.login)."""
    user = user_by_username(session, username)
    can_log_in = user is not None and user.active and user.role in CONSOLE_ROLES
    stored = user.password_hash if can_log_in and user is not None else None
    return user if verify_password_or_dummy(stored, password) and can_log_in else None


def start_session(session: Session, user: User, *, hours: int = 12, at: datetime | None = None) -> str:
    """A console session for the user: returns the cookie's secret; audited as a successful login."""
    token = new_secret()
    now = at or utcnow()
    session.add(AuthSession(token_hash=digest(token), user_id=user.id, created_at=now,
                            expires_at=now + timedelta(hours=hours)))
    session.flush()
    audit.record(session, "login.succeeded", object_id=user.id, org_unit_id=user.org_unit_id,
                 actor_id=user.id, actor_name=user.username, at=now)
    return token


def login(session: Session, username: str, password: str, *, hours: int = 12) -> tuple[str, User]:
    """Check the password and start a session (no rate limit: requests go through kefu.org.login)."""
    user = check_password(session, username, password)
    if user is None:
        raise Unauthorized("wrong username or password", code="login_failed")
    return start_session(session, user, hours=hours), user


def logout(session: Session, token: str, *, ip: str | None = None) -> None:
    row = session.get(AuthSession, digest(token))
    if row is not None:
        user = session.get(User, row.user_id)
        session.delete(row)
        session.flush()
        if user is not None:
            audit.record(session, "logout", object_id=user.id, org_unit_id=user.org_unit_id,
                         actor_id=user.id, actor_name=user.username, ip=ip)


def user_for_session(session: Session, token: str) -> User | None:
    row = session.get(AuthSession, digest(token))
    if row is None or row.expires_at <= utcnow():
        return None
    user = session.get(User, row.user_id)
    return user if user is not None and user.active else None


# ---- API tokens -----------------------------------------------------------------------------

def check_scopes(role: str, scopes: Iterable[str] | None) -> list[str] | None:
    """The scopes, validated against what the owner's role may grant (None: the whole role)."""
    if scopes is None:
        return None
    from kefu.interactions.models import CHANNELS

    wanted = sorted(set(scopes))
    if not wanted:
        raise InvalidInput("a token needs at least one scope (leave scopes out for the owner's whole role)",
                           code="invalid_scope")
    allowed = grantable_scopes(role, CHANNELS)
    bad = [x for x in wanted if x not in allowed]
    if bad:
        raise InvalidInput(f"a {role} user's token cannot carry {', '.join(bad)}", code="invalid_scope",
                           details={"invalid": bad, "allowed": allowed})
    return wanted


def create_api_token(session: Session, user_id: int, name: str, *, scopes: Iterable[str] | None = None,
                     expires_at: datetime | None = None, days: int = DEFAULT_TOKEN_DAYS,
                     created_by: int | None = None, at: datetime | None = None) -> tuple[str, ApiToken]:
    """Returns the secret (shown once) and its record. Every new token expires: at `expires_at`, or
    `days` after creation when none is given."""
    now = at or utcnow()
    owner = session.get(User, user_id)
    if owner is None:
        raise NotFound(f"user {user_id} not found", code="user_not_found")
    clean = check_scopes(owner.role, scopes)
    expires = expires_at or now + timedelta(days=days)
    if expires.tzinfo is None:
        raise InvalidInput("expires_at needs a time zone (e.g. 2026-01-31T00:00:00+08:00)", code="invalid_expiry")
    if expires <= now:
        raise InvalidInput("expires_at must be in the future", code="invalid_expiry")
    if session.scalar(select(ApiToken.id).where(ApiToken.user_id == user_id, ApiToken.name == name)):
        raise Conflict(f"a token named '{name}' exists already", code="token_exists")
    secret = new_secret("kf_")
    tok = ApiToken(name=name, prefix=secret[:8], token_hash=digest(secret), user_id=user_id, created_at=now,
                   scopes=clean, expires_at=expires, created_by=created_by)
    session.add(tok)
    session.flush()
    audit.record(session, "token.created", object_id=tok.id, org_unit_id=owner.org_unit_id, at=now,
                 details={"name": name, "owner": owner.username, "scopes": clean,
                          "expires_at": expires.isoformat()})
    return secret, tok


def token_visible(session: Session, principal: Principal, token_id: int) -> ApiToken:
    """The token if its owner is in the principal's subtree; NotFound otherwise."""
    row = session.execute(select(ApiToken, OrgUnit.path).join(User, User.id == ApiToken.user_id)
                          .join(OrgUnit, OrgUnit.id == User.org_unit_id).where(ApiToken.id == token_id)).first()
    if row is None or not principal.sees_path(row[1]):
        raise NotFound(f"token {token_id} not found", code="token_not_found")
    tok: ApiToken = row[0]
    return tok


def revoke_api_token(session: Session, token_id: int, *, actor_id: int | None = None,
                     at: datetime | None = None) -> ApiToken:
    """Revoke (idempotent). Takes effect in this process at once, in others within the token cache's
    lifetime (kefu.org.token_cache)."""
    tok = session.get(ApiToken, token_id)
    if tok is None:
        raise NotFound(f"token {token_id} not found", code="token_not_found")
    if tok.revoked_at is None:
        tok.revoked_at = at or utcnow()
        tok.revoked_by = actor_id
        session.flush()
        owner = session.get(User, tok.user_id)
        audit.record(session, "token.revoked", object_id=tok.id, org_unit_id=owner.org_unit_id if owner else None,
                     details={"name": tok.name, "owner": owner.username if owner else None}, at=tok.revoked_at)
    return tok


@dataclass(frozen=True)
class TokenRow:
    token: ApiToken
    owner: User
    unit: OrgUnit


def list_tokens(session: Session, principal: Principal, *, user_id: int | None = None,
                include_revoked: bool = True, limit: int = 50, offset: int = 0) -> tuple[list[TokenRow], int]:
    """Tokens of users in the principal's subtree, newest first, and how many there are."""
    conds: list[Any] = [OrgUnit.path.startswith(principal.org_path)]
    if user_id is not None:
        conds.append(ApiToken.user_id == user_id)
    if not include_revoked:
        conds.append(ApiToken.revoked_at.is_(None))
    base = (select(ApiToken, User, OrgUnit).join(User, User.id == ApiToken.user_id)
            .join(OrgUnit, OrgUnit.id == User.org_unit_id).where(*conds))
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.execute(base.order_by(ApiToken.id.desc()).limit(limit).offset(offset)).all()
    return [TokenRow(r[0], r[1], r[2]) for r in rows], total


def user_for_api_token(session: Session, secret: str) -> User | None:
    tok = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(secret)))
    if tok is None or tok.revoked_at is not None:
        return None
    if tok.expires_at is not None and tok.expires_at <= utcnow():
        return None
    user = session.get(User, tok.user_id)
    return user if user is not None and user.active else None


_PRINCIPAL_COLUMNS = (User.id, User.username, User.display_name, User.role, User.org_unit_id, OrgUnit.path,
                      User.authority_limit, User.locale)


def _principal(row: Any, **extra: Any) -> Principal:
    return Principal(user_id=row[0], username=row[1], display_name=row[2], role=row[3], org_unit_id=row[4],
                     org_path=row[5], authority_limit=Decimal(row[6]), locale=row[7], **extra)


def _principal_row(session: Session, where: Any) -> Principal | None:
    """One joined query: the active user behind a credential, as a Principal (no ORM objects)."""
    row = session.execute(
        select(*_PRINCIPAL_COLUMNS).join(OrgUnit, OrgUnit.id == User.org_unit_id).where(User.active.is_(True), where)
    ).first()
    return None if row is None else _principal(row)


def principal_for_token(session: Session, secret: str, *, cache_seconds: float = DEFAULT_TOKEN_CACHE_SECONDS,
                        db: Database | None = None, at: datetime | None = None) -> Principal | None:
    """The principal behind an API token (None: unknown, revoked, expired, or its user inactive).

    Cached by digest for `cache_seconds` (kefu.org.token_cache: how changes reach the cache). The token's
    `last_used_at` is written at most once a minute, in a short transaction of its own on `db` (the
    caller's session when no database is given), so a read request does not become a writer."""
    now = at or utcnow()
    key = digest(secret)
    entry = cache.get(key, cache_seconds)
    if entry is None:
        generation = cache.generation
        row = session.execute(
            select(*_PRINCIPAL_COLUMNS, ApiToken.id, ApiToken.scopes, ApiToken.expires_at, ApiToken.last_used_at)
            .select_from(ApiToken).join(User, User.id == ApiToken.user_id)
            .join(OrgUnit, OrgUnit.id == User.org_unit_id)
            .where(ApiToken.token_hash == key, ApiToken.revoked_at.is_(None), User.active.is_(True))
        ).first()
        if row is None:
            return None
        scopes = frozenset(row[9]) if row[9] is not None else None
        entry = Entry(_principal(row, via_token=True, scopes=scopes, token_id=row[8]), expires_at=row[10],
                      loaded=time.monotonic(), last_used_at=row[11])
        cache.put(key, entry, generation)
    if entry.expires_at is not None and entry.expires_at <= now:
        return None
    if entry.last_used_at is None or now - entry.last_used_at >= LAST_USED_EVERY:
        entry.last_used_at = now
        _touch_token(db, session, entry.principal.token_id, now)
    return entry.principal


def _touch_token(db: Database | None, session: Session, token_id: int | None, now: datetime) -> None:
    """Record the token's use once the request's transaction has committed (a read request does not
    become a writer; on SQLite a second writer inside a writing request would wait on itself)."""
    stmt = (update(ApiToken).where(ApiToken.id == token_id,
                                   or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - LAST_USED_EVERY))
            .values(last_used_at=now))

    def touch(s: Session) -> None:
        s.execute(stmt)

    after_commit(session, touch)


def cached_token_principal(request: Request) -> Principal | None:
    """The principal behind the request's bearer token when the cache holds it, unexpired, and nothing is
    due to be written (its last use was recorded within the minute): no database at all. None otherwise;
    the caller then resolves it with `principal_from_request`."""
    auth = request.headers.get("authorization", "")
    if not auth.lower().startswith("bearer "):
        return None
    settings = getattr(request.app.state, "settings", None)
    entry = cache.get(digest(auth[7:].strip()), getattr(settings, "token_cache_seconds",
                                                        DEFAULT_TOKEN_CACHE_SECONDS))
    if entry is None:
        return None
    now = utcnow()
    if entry.expires_at is not None and entry.expires_at <= now:
        return None
    if entry.last_used_at is None or now - entry.last_used_at >= LAST_USED_EVERY:
        return None
    return entry.principal


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def principal_from_request(session: Session, request: Request) -> Principal | None:
    """The principal behind the request's bearer token (cached, see `principal_for_token`) or console
    session cookie (one query), bound to the session for the audit log."""
    auth = request.headers.get("authorization", "")
    principal: Principal | None = None
    if auth.lower().startswith("bearer "):
        settings = getattr(request.app.state, "settings", None)
        ttl = getattr(settings, "token_cache_seconds", DEFAULT_TOKEN_CACHE_SECONDS)
        principal = principal_for_token(session, auth[7:].strip(), cache_seconds=ttl,
                                        db=getattr(request.app.state, "db", None))
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            live = select(AuthSession.user_id).where(AuthSession.token_hash == digest(cookie),
                                                     AuthSession.expires_at > utcnow())
            principal = _principal_row(session, User.id == live.scalar_subquery())
    audit.bind_request(session, principal, client_ip(request))
    return principal


def console_principal(session: Session, request: Request) -> Principal | None:
    """`principal_from_request` for console pages: None for principals that may not use the console
    (a gateway, or a token narrowed by scopes: the pages check little beyond who is logged in)."""
    principal = principal_from_request(session, request)
    return principal if principal is not None and principal.can_use_console else None
