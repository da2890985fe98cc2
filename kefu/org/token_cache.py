"""The principal behind an API token, cached in process memory by the token's digest.

A hot channel gateway posts many messages a second with one token; without the cache each request
resolves its principal in a joined query. An entry lives `KEFU_TOKEN_CACHE_SECONDS` (default 10 s).

Changes take effect:
- in this process at once: every ORM change of a user (role, unit, active, ...) or a token (revoked,
  expiry, scopes) drops the cached entries concerned when it is flushed and again after commit (the
  second drop removes an entry another request may have loaded from the not-yet-committed state);
- in other processes within the entry's lifetime (`KEFU_TOKEN_CACHE_SECONDS`), the documented bound;
- expiry everywhere at once: the entry keeps `expires_at` and every hit checks it.

A generation counter makes a load that raced with an invalidation leave nothing behind.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from kefu.core.auth import Principal

MAX_ENTRIES = 10_000
_STALE_KEY = "kefu_token_cache_stale"


@dataclass
class Entry:
    principal: Principal
    expires_at: datetime | None
    loaded: float  # monotonic seconds
    last_used_at: datetime | None  # as last written (or read) for this token


class TokenCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, Entry] = {}
        self._generation = 0

    @property
    def generation(self) -> int:
        return self._generation

    def get(self, digest: str, ttl: float, now: float | None = None) -> Entry | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if (time.monotonic() if now is None else now) - entry.loaded >= ttl:
            with self._lock:
                self._entries.pop(digest, None)
            return None
        return entry

    def put(self, digest: str, entry: Entry, generation: int) -> None:
        """Store unless something was invalidated since the caller read `generation` (its load may be stale)."""
        with self._lock:
            if generation != self._generation:
                return
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[digest] = entry

    def invalidate(self, *, user_ids: Iterable[int] = (), token_ids: Iterable[int] = ()) -> None:
        users, tokens = set(user_ids), set(token_ids)
        with self._lock:
            self._generation += 1
            for key in [k for k, e in self._entries.items()
                        if e.principal.user_id in users or e.principal.token_id in tokens]:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


cache = TokenCache()


# ---- invalidation on ORM changes --------------------------------------------------------------

def _changed(session: Session) -> tuple[set[int], set[int]]:
    from kefu.org.models import ApiToken, OrgUnit, User

    users: set[int] = set()
    tokens: set[int] = set()
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, User) and obj.id is not None:
            users.add(obj.id)
        elif isinstance(obj, ApiToken) and obj.id is not None:
            tokens.add(obj.id)
        elif isinstance(obj, OrgUnit):  # a unit's path changed (rare): forget everything
            users.add(-1)
    return users, tokens


def _after_flush(session: Session, _context: Any) -> None:
    users, tokens = _changed(session)
    if not users and not tokens:
        return
    stale = session.info.setdefault(_STALE_KEY, (set(), set()))
    stale[0].update(users)
    stale[1].update(tokens)
    _drop(users, tokens)


def _after_commit(session: Session) -> None:
    stale = session.info.pop(_STALE_KEY, None)
    if stale is not None:
        _drop(*stale)


def _drop(users: set[int], tokens: set[int]) -> None:
    if -1 in users:
        cache.clear()
    else:
        cache.invalidate(user_ids=users, token_ids=tokens)


event.listen(Session, "after_flush", _after_flush)
event.listen(Session, "after_commit", _after_commit)
