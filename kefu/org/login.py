"""Logging in, hardened: a limit per client address, a lockout per username, a bound on concurrent hashes.

One path for the API (`POST /api/v1/auth/login`) and the console's login form:

1. the client address may try `KEFU_LOGIN_PER_IP_PER_MINUTE` logins a minute (process memory, or Redis
   when `KEFU_REDIS_URL` is set so that every process counts together); over it: 429 `too_many_attempts`;
2. a username locked by failures is refused without checking the password: 429 `account_locked`;
3. the password is checked in one of `KEFU_PASSWORD_HASH_CONCURRENCY` slots (Argon2 takes 64 MiB a hash,
   so this bounds a process's memory); a login that finds no free slot within
   `KEFU_PASSWORD_HASH_WAIT_SECONDS`, or finds too many already waiting, is answered 503 `login_busy`;
   an unknown name is checked against a dummy hash, so a wrong name takes as long as a wrong password;
4. a failure is counted in the database (`login_failures`, in a transaction of its own since the request's
   is rolled back), per username whether it exists or not (so a lockout tells nothing about existence):
   `KEFU_LOGIN_MAX_FAILURES` failures within `KEFU_LOGIN_FAILURE_WINDOW_MINUTES` lock the name for
   `KEFU_LOGIN_LOCKOUT_MINUTES`; every process sees the lock. A success clears the count.

Every outcome is audited: login.succeeded, login.failed, login.locked (when a lock starts).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi import Request
from sqlalchemy import and_, case, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kefu.core.clock import utcnow
from kefu.core.config import Settings
from kefu.core.db import Database
from kefu.core.errors import KefuError, Unauthorized
from kefu.core.ratelimit import RateLimiter, rate_limiter
from kefu.org import audit
from kefu.org import service as org
from kefu.org.models import LoginFailure, User

log = logging.getLogger("kefu.org")

# A login that finds this many others already waiting for a hashing slot is refused at once.
WAITING_PER_SLOT = 4


class TooManyAttempts(KefuError):
    status = 429
    code = "too_many_attempts"


class AccountLocked(KefuError):
    status = 429
    code = "account_locked"


class LoginBusy(KefuError):
    status = 503
    code = "login_busy"


# ---- hashing slots ----------------------------------------------------------------------------------

class HashSlots:
    """At most `size` password checks at once; at most `size * WAITING_PER_SLOT` waiting for one."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._sem = threading.BoundedSemaphore(size)
        self._lock = threading.Lock()
        self._waiting = 0

    @contextmanager
    def slot(self, timeout: float) -> Iterator[None]:
        with self._lock:
            if self._waiting >= self.size * WAITING_PER_SLOT:
                raise LoginBusy("too many logins at once: try again in a moment")
            self._waiting += 1
        try:
            acquired = self._sem.acquire(timeout=timeout)
        finally:
            with self._lock:
                self._waiting -= 1
        if not acquired:
            raise LoginBusy("too many logins at once: try again in a moment")
        try:
            yield
        finally:
            self._sem.release()


@dataclass
class LoginGuard:
    limiter: RateLimiter
    slots: HashSlots


_guard_lock = threading.Lock()


def guard_for(state: Any, settings: Settings) -> LoginGuard:
    """The app's guard (made on first use and kept on `app.state`)."""
    guard: LoginGuard | None = getattr(state, "login_guard", None)
    if guard is None:
        limiter = rate_limiter(state, settings)
        with _guard_lock:
            guard = getattr(state, "login_guard", None)
            if guard is None:
                guard = LoginGuard(limiter, HashSlots(settings.password_hash_concurrency))
                state.login_guard = guard
    return guard


# ---- the lockout (in the database) ---------------------------------------------------------------

def locked_until(session: Session, username: str, at: datetime) -> datetime | None:
    """When the name's lock ends, if it is locked now."""
    until = session.scalar(select(LoginFailure.locked_until).where(LoginFailure.username == username))
    return until if until is not None and until > at else None


def record_failure(session: Session, settings: Settings, username: str, *, at: datetime) -> datetime | None:
    """Count a failed login of `username` (atomically, whatever the number of processes). Returns the
    end of the lock when this failure starts one."""
    window_start = at - timedelta(minutes=settings.login_failure_window_minutes)
    stale = or_(LoginFailure.last_failure_at < window_start,
                and_(LoginFailure.locked_until.is_not(None), LoginFailure.locked_until <= at))
    bump = (update(LoginFailure).where(LoginFailure.username == username)
            .values(failures=case((stale, 1), else_=LoginFailure.failures + 1),
                    locked_until=case((stale, None), else_=LoginFailure.locked_until),
                    last_failure_at=at)
            .execution_options(synchronize_session=False))
    if getattr(session.execute(bump), "rowcount", 0) == 0:
        try:
            with session.begin_nested():
                session.add(LoginFailure(username=username, failures=1, last_failure_at=at))
        except IntegrityError:  # another process counted the first failure at the same moment
            session.execute(bump)
    row = session.execute(select(LoginFailure.failures, LoginFailure.locked_until)
                          .where(LoginFailure.username == username)).one()
    if row.failures >= settings.login_max_failures and row.locked_until is None:
        until = at + timedelta(minutes=settings.login_lockout_minutes)
        session.execute(update(LoginFailure).where(LoginFailure.username == username)
                        .values(locked_until=until).execution_options(synchronize_session=False))
        return until
    return None


def prune_failures(session: Session, settings: Settings, *, at: datetime) -> int:
    """Forget failures older than the window whose lock (if any) has ended."""
    cutoff = at - timedelta(minutes=settings.login_failure_window_minutes)
    result = session.execute(delete(LoginFailure).where(
        LoginFailure.last_failure_at < cutoff,
        or_(LoginFailure.locked_until.is_(None), LoginFailure.locked_until <= at)))
    return int(getattr(result, "rowcount", 0) or 0)


_last_prune = 0.0


def _failed(db: Database, settings: Settings, username: str, ip: str | None, *, at: datetime) -> None:
    """Count and audit a failure in a transaction of its own (the request's is rolled back)."""
    global _last_prune
    with db.unit_of_work() as s:
        lock = record_failure(s, settings, username, at=at)
        user = org.user_by_username(s, username)
        who: dict[str, Any] = dict(object_id=user.id if user else None,
                                   org_unit_id=user.org_unit_id if user else None,
                                   actor_id=user.id if user else None, actor_name=username, ip=ip, at=at)
        audit.record(s, "login.failed", **who)
        if lock is not None:
            audit.record(s, "login.locked", details={"until": lock.isoformat()}, **who)
        if time.monotonic() - _last_prune > 60:
            _last_prune = time.monotonic()
            prune_failures(s, settings, at=at)


def _locked_error(until: datetime, at: datetime) -> AccountLocked:
    minutes = max(1, -(-int((until - at).total_seconds()) // 60))
    return AccountLocked(f"too many failed logins: this account is locked for {minutes} more minute(s)",
                         details={"locked_until": until.isoformat(), "minutes": minutes})


def attempt_login(request: Request, session: Session, settings: Settings, username: str,
                  password: str, *, at: datetime | None = None) -> tuple[str, User]:
    """Log in through the guard: the new session's secret and the user, or one of the errors above."""
    at = at or utcnow()
    ip = org.client_ip(request)
    guard = guard_for(request.app.state, settings)
    if not guard.limiter.hit(f"login:ip:{ip}", settings.login_per_ip_per_minute, 60, time.time()):
        raise TooManyAttempts("too many logins from this address: wait a minute and try again")
    until = locked_until(session, username, at)
    if until is not None:
        raise _locked_error(until, at)
    with guard.slots.slot(settings.password_hash_wait_seconds):
        user = org.check_password(session, username, password)
    if user is None:
        session.rollback()  # end the read, so the failure is counted on a fresh snapshot
        _failed(request.app.state.db, settings, username, ip, at=at)
        raise Unauthorized("wrong username or password", code="login_failed")
    session.execute(delete(LoginFailure).where(LoginFailure.username == username))
    audit.bind_request(session, None, ip)
    return org.start_session(session, user, hours=settings.session_hours, at=at), user
