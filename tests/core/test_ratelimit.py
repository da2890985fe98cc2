"""The per-key counter behind the login limit and the refused-callback limit (kefu.core.ratelimit)."""

from __future__ import annotations

import uuid

import pytest

from kefu.core.config import Settings
from kefu.core.ratelimit import MemoryRateLimiter, RedisRateLimiter, rate_limiter


def test_memory_rate_limiter_counts_per_key_and_window() -> None:
    lim = MemoryRateLimiter()
    assert [lim.hit("a", 2, 60, 120.0) for _ in range(3)] == [True, True, False]
    assert lim.hit("b", 2, 60, 130.0) is True
    assert lim.hit("a", 2, 60, 180.0) is True  # the next window


@pytest.fixture
def redis_url() -> str:
    import redis

    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    return url


def test_redis_rate_limiter_counts_for_every_process_together(redis_url: str) -> None:
    key = f"test:{uuid.uuid4().hex}"
    one, two = RedisRateLimiter(redis_url), RedisRateLimiter(redis_url)
    assert [lim.hit(key, 3, 60, 600.0) for lim in (one, two, one, two)] == [True, True, True, False]
    assert one.hit(key, 3, 60, 660.0) is True


def test_redis_rate_limiter_falls_back_to_memory_when_redis_is_down() -> None:
    lim = RedisRateLimiter("redis://127.0.0.1:1/0")
    assert [lim.hit("k", 1, 60, 0.0) for _ in range(2)] == [True, False]


def test_redis_keys_live_under_the_configured_prefix(redis_url: str) -> None:
    """Two deployments sharing one Redis with different KEFU_REDIS_PREFIX values count apart."""
    import redis

    key = f"test:{uuid.uuid4().hex}"
    ours, theirs = RedisRateLimiter(redis_url, "kefu-a"), RedisRateLimiter(redis_url, "kefu-b")
    assert [ours.hit(key, 1, 60, 600.0) for _ in range(2)] == [True, False]
    assert theirs.hit(key, 1, 60, 600.0) is True
    assert redis.Redis.from_url(redis_url).get(f"kefu-a:rate:{key}:10") == b"2"


def test_the_app_keeps_one_counter_made_from_its_settings(redis_url: str) -> None:
    class State:
        pass

    state = State()
    memory = rate_limiter(state, Settings(redis_url=None))
    assert isinstance(memory, MemoryRateLimiter)
    assert rate_limiter(state, Settings(redis_url=None)) is memory
    shared = rate_limiter(State(), Settings(redis_url=redis_url, redis_prefix="kefu-x"))
    assert isinstance(shared, RedisRateLimiter)
    key = f"test:{uuid.uuid4().hex}"
    assert shared.hit(key, 5, 60, 600.0) is True
    import redis

    assert redis.Redis.from_url(redis_url).get(f"kefu-x:rate:{key}:10") == b"1"
