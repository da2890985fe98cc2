"""Counting attempts per key in fixed windows: the per-address limits of logins (kefu.org.login) and of
refused provider callbacks (kefu.channels.limits) share one counter per app.

In process memory by default; in Redis when `KEFU_REDIS_URL` is set, so that every process counts
together (keys under `KEFU_REDIS_PREFIX`, like the live updates). A Redis that fails is logged and the
process counts on its own until it answers again: a limit is never lifted by an outage.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Protocol

from kefu.core.config import Settings

log = logging.getLogger("kefu.core")


class RateLimiter(Protocol):
    def hit(self, key: str, limit: int, window_seconds: int, now: float) -> bool:
        """Count one attempt for `key`; False when it is over `limit` in the current window."""
        ...


class MemoryRateLimiter:
    """Fixed windows in process memory (one process's view)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, int], int] = {}
        self._window = -1

    def hit(self, key: str, limit: int, window_seconds: int, now: float) -> bool:
        window = int(now // window_seconds)
        with self._lock:
            if window != self._window:  # a new window: the old counts are worthless
                self._counts = {k: v for k, v in self._counts.items() if k[1] >= window}
                self._window = window
            count = self._counts.get((key, window), 0) + 1
            self._counts[(key, window)] = count
        return count <= limit


class RedisRateLimiter:
    """Fixed windows in Redis: every process counts together. Falls back to memory if Redis fails."""

    def __init__(self, url: str, prefix: str = "kefu") -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self._prefix = prefix
        self._fallback = MemoryRateLimiter()

    def hit(self, key: str, limit: int, window_seconds: int, now: float) -> bool:
        import redis

        window = int(now // window_seconds)
        name = f"{self._prefix}:rate:{key}:{window}"
        try:
            pipe = self._redis.pipeline()
            pipe.incr(name)
            pipe.expire(name, window_seconds + 1)
            count = int(pipe.execute()[0])
        except redis.RedisError as exc:
            log.warning("Redis unavailable for a rate limit (%s): counting in this process", exc)
            return self._fallback.hit(key, limit, window_seconds, now)
        return count <= limit


_lock = threading.Lock()


def rate_limiter(state: Any, settings: Settings) -> RateLimiter:
    """The app's per-key counter (in Redis when the app has one: every process counts together), made on
    first use and kept on `app.state`."""
    limiter: RateLimiter | None = getattr(state, "rate_limiter", None)
    if limiter is None:
        with _lock:
            limiter = getattr(state, "rate_limiter", None)
            if limiter is None:
                limiter = (RedisRateLimiter(settings.redis_url, settings.redis_prefix) if settings.redis_url
                           else MemoryRateLimiter())
                state.rate_limiter = limiter
    return limiter
