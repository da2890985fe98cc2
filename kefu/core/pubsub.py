"""Notices and presence shared by every process: in the process (embedded) or through Redis (scaled out).

A `Hub` carries what several API processes and workers must see alike:

- notices: `publish(channel, message)` hands a small JSON-able dict to the handlers that every process
  registered with `subscribe(channel, handler)`. Delivery is immediate and best effort: a notice
  published while Redis is unreachable is lost (`publish` raises `HubUnavailable`), and once the hub is
  connected again each subscription's `on_reconnect` runs, so that its owner catches up (the console
  pages refresh). Durable facts travel as outbox events (kefu.core.events), never only as notices.
- presence: `announce(group, member, info, ttl=...)` says that `member` is live for `ttl` seconds (its
  owner renews it before that), `withdraw(group, member)` ends it at once, `members(group)` reads every
  live member of the group across processes with its info. A process that dies stops renewing, and
  its members lapse by themselves. Used for open console connections (kefu.web.live) and, with the
  routing engine, for agents' states.

`current()` is the process's hub: the in-process `LocalHub` unless the server or worker installed a
`RedisHub` (`KEFU_REDIS_URL`, see `from_settings`). Handlers run in the hub's listener thread (Redis)
or in the publisher's thread (in process): they must be quick and thread-safe.

Redis keeps all of this in memory only, under `<prefix>:` (`KEFU_REDIS_PREFIX`): losing Redis loses
no data, only the notices of the moment and presence until its owners renew it.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from kefu.core.config import Settings

log = logging.getLogger(__name__)

Message = dict[str, Any]
Handler = Callable[[Message], None]
Callback = Callable[[], None]

#: This process, as presence entries name it: host, pid and a random tail (pids are reused).
PROCESS_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class HubUnavailable(Exception):
    """The hub cannot be reached now (Redis down); the caller decides what a lost notice means."""


@dataclass(eq=False)
class _Subscription:
    channel: str
    handler: Handler
    on_reconnect: Callback | None


class Hub(ABC):
    @abstractmethod
    def publish(self, channel: str, message: Message) -> None:
        """Hand `message` to every subscriber of `channel` in every process. Raises HubUnavailable."""

    @abstractmethod
    def subscribe(self, channel: str, handler: Handler, *, on_reconnect: Callback | None = None) -> Callback:
        """Call `handler(message)` for each notice on `channel`; returns the function that unsubscribes."""

    @abstractmethod
    def announce(self, group: str, member: str, info: Message, *, ttl: float) -> None:
        """`member` of `group` is live for `ttl` seconds, with `info`. Raises HubUnavailable."""

    @abstractmethod
    def withdraw(self, group: str, member: str) -> None:
        """`member` is no longer live. Raises HubUnavailable."""

    @abstractmethod
    def members(self, group: str) -> dict[str, Message]:
        """The live members of `group` across processes, with their info. Raises HubUnavailable."""

    def close(self) -> None:  # noqa: B027 - nothing to release for the in-process hub
        """Release connections and threads."""


class LocalHub(Hub):
    """The embedded shape: one process, so notices are plain calls and presence is a dict."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._subs: dict[str, list[_Subscription]] = {}
        self._presence: dict[str, dict[str, tuple[float, Message]]] = {}

    def publish(self, channel: str, message: Message) -> None:
        with self._lock:
            subs = list(self._subs.get(channel, ()))
        for sub in subs:
            _call(sub.handler, message)

    def subscribe(self, channel: str, handler: Handler, *, on_reconnect: Callback | None = None) -> Callback:
        sub = _Subscription(channel, handler, on_reconnect)
        with self._lock:
            self._subs.setdefault(channel, []).append(sub)

        def unsubscribe() -> None:
            with self._lock:
                subs = self._subs.get(channel, [])
                if sub in subs:
                    subs.remove(sub)

        return unsubscribe

    def announce(self, group: str, member: str, info: Message, *, ttl: float) -> None:
        with self._lock:
            self._presence.setdefault(group, {})[member] = (self._clock() + ttl, dict(info))

    def withdraw(self, group: str, member: str) -> None:
        with self._lock:
            self._presence.get(group, {}).pop(member, None)

    def members(self, group: str) -> dict[str, Message]:
        now = self._clock()
        with self._lock:
            entries = self._presence.get(group, {})
            for m in [m for m, (until, _) in entries.items() if until <= now]:
                del entries[m]
            return {m: dict(info) for m, (_, info) in entries.items()}


# Removes the lapsed members of a presence group (sorted set of expiry times + hash of infos) in
# one step, so a member renewed meanwhile is never removed by mistake. Chunked: unpack() has limits.
_SWEEP = """
local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
for i = 1, #gone, 500 do
  local chunk = {unpack(gone, i, math.min(i + 499, #gone))}
  redis.call('ZREM', KEYS[1], unpack(chunk))
  redis.call('HDEL', KEYS[2], unpack(chunk))
end
return #gone
"""
#: Presence keys disappear this long after their last announcement (members lapse much sooner).
_KEY_LIFETIME = 86_400


class RedisHub(Hub):
    """The scaled shape: notices through Redis PUBLISH/SUBSCRIBE, presence in sorted sets with expiry times.

    One listener thread per hub (started by the first `subscribe`) holds the SUBSCRIBE connection; when
    it breaks, the thread reconnects with backoff, subscribes again and runs every `on_reconnect`.
    While Redis is unreachable, calls fail fast with HubUnavailable for `retry_seconds` instead of
    each waiting for a connection timeout.
    """

    def __init__(self, url: str, *, prefix: str = "kefu", connect_timeout: float = 1.0,
                 retry_seconds: float = 1.0) -> None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self.prefix = prefix
        # No silent retries inside the client: a lost connection must surface here, so that the listener
        # can tell its subscribers (they may have missed notices) and publishers can fail fast.
        self._redis = redis.Redis.from_url(url, socket_connect_timeout=connect_timeout,
                                           socket_timeout=max(2.0, connect_timeout), health_check_interval=10,
                                           retry=Retry(NoBackoff(), 0))
        self._retry = retry_seconds
        self._down_until = 0.0
        self._lock = threading.Lock()
        self._subs: dict[str, list[_Subscription]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sweep = self._redis.register_script(_SWEEP)
        self.connected = threading.Event()  # the listener holds a live subscription

    def key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    # ---- failing fast while Redis is away ----

    def _call(self, fn: Callable[[], Any]) -> Any:
        import redis

        if time.monotonic() < self._down_until:
            raise HubUnavailable("redis is unreachable (retrying shortly)")
        try:
            return fn()
        except redis.RedisError as exc:
            self._down_until = time.monotonic() + self._retry
            raise HubUnavailable(f"redis: {exc}") from exc

    # ---- notices ----

    def publish(self, channel: str, message: Message) -> None:
        data = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
        self._call(lambda: self._redis.publish(self.key("n", channel), data))

    def subscribe(self, channel: str, handler: Handler, *, on_reconnect: Callback | None = None) -> Callback:
        sub = _Subscription(self.key("n", channel), handler, on_reconnect)
        with self._lock:
            self._subs.setdefault(sub.channel, []).append(sub)
            if self._thread is None:
                self._thread = threading.Thread(target=self._listen, name="kefu-hub", daemon=True)
                self._thread.start()

        def unsubscribe() -> None:
            with self._lock:
                subs = self._subs.get(sub.channel, [])
                if sub in subs:
                    subs.remove(sub)
                if not subs:
                    self._subs.pop(sub.channel, None)

        return unsubscribe

    def _listen(self) -> None:
        import redis

        backoff, failed = 0.1, False
        while not self._stop.is_set():
            ps = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                subscribed: set[str] = set()
                ps.subscribe(self.key("ctl", PROCESS_ID))  # holds the connection open with no channel yet
                self._resubscribe(ps, subscribed)
                self.connected.set()
                self._down_until = 0.0
                if failed:
                    log.warning("live hub: connected to redis again")
                    self._reconnected()
                backoff, failed = 0.1, False
                while not self._stop.is_set():
                    self._resubscribe(ps, subscribed)
                    msg = ps.get_message(timeout=0.5)
                    if msg and msg.get("type") == "message":
                        self._deliver(_text(msg["channel"]), _text(msg["data"]))
            except (redis.RedisError, OSError) as exc:
                if not failed:
                    log.warning("live hub: redis connection lost (%s); reconnecting", exc)
                failed = True
                self._down_until = time.monotonic() + self._retry
            finally:
                self.connected.clear()
                ps.close()
            if failed:
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 2.0)

    def _resubscribe(self, ps: Any, subscribed: set[str]) -> None:
        with self._lock:
            wanted = set(self._subs)
        if wanted - subscribed:
            ps.subscribe(*sorted(wanted - subscribed))
        if subscribed - wanted:
            ps.unsubscribe(*sorted(subscribed - wanted))
        subscribed.clear()
        subscribed.update(wanted)

    def _deliver(self, channel: str, data: str) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            log.warning("live hub: not JSON on %s: %.200s", channel, data)
            return
        with self._lock:
            subs = list(self._subs.get(channel, ()))
        for sub in subs:
            _call(sub.handler, message)

    def _reconnected(self) -> None:
        with self._lock:
            callbacks = [s.on_reconnect for subs in self._subs.values() for s in subs if s.on_reconnect]
        for cb in callbacks:
            _call(cb)

    # ---- presence ----

    def announce(self, group: str, member: str, info: Message, *, ttl: float) -> None:
        zkey, hkey = self.key("p", group), self.key("p", group, "info")

        def run() -> None:
            pipe = self._redis.pipeline(transaction=True)
            pipe.zadd(zkey, {member: time.time() + ttl})
            pipe.hset(hkey, member, json.dumps(info, ensure_ascii=False))
            pipe.expire(zkey, _KEY_LIFETIME)
            pipe.expire(hkey, _KEY_LIFETIME)
            pipe.execute()

        self._call(run)

    def withdraw(self, group: str, member: str) -> None:
        zkey, hkey = self.key("p", group), self.key("p", group, "info")

        def run() -> None:
            pipe = self._redis.pipeline(transaction=True)
            pipe.zrem(zkey, member)
            pipe.hdel(hkey, member)
            pipe.execute()

        self._call(run)

    def members(self, group: str) -> dict[str, Message]:
        zkey, hkey = self.key("p", group), self.key("p", group, "info")

        def run() -> dict[str, Message]:
            now = time.time()
            self._sweep(keys=[zkey, hkey], args=[now])
            live = [_text(m) for m in cast(list[bytes], self._redis.zrangebyscore(zkey, f"({now}", "+inf"))]
            if not live:
                return {}
            infos = self._redis.hmget(hkey, live)
            return {m: json.loads(_text(i)) if i is not None else {} for m, i in zip(live, infos, strict=True)}

        result: dict[str, Message] = self._call(run)
        return result

    def listeners(self, channel: str) -> int:
        """How many connections (processes) are subscribed to `channel` now."""
        rows = self._call(lambda: self._redis.pubsub_numsub(self.key("n", channel)))
        return int(rows[0][1]) if rows else 0

    def ping(self) -> bool:
        try:
            return bool(self._call(self._redis.ping))
        except HubUnavailable:
            return False

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._redis.close()


def _text(v: bytes | str) -> str:
    return v.decode() if isinstance(v, bytes) else v


def _call(fn: Callable[..., None], *args: Any) -> None:
    try:
        fn(*args)
    except Exception:  # one broken subscriber must not stop the others
        log.exception("hub subscriber %r failed", fn)


_local = LocalHub()
_current: Hub = _local


def local() -> LocalHub:
    """The process's in-process hub (the default)."""
    return _local


def current() -> Hub:
    """The hub this process publishes to and reads presence from."""
    return _current


def install(hub: Hub) -> Hub:
    """Make `hub` the process's hub; returns the previous one (to put back on shutdown)."""
    global _current
    previous, _current = _current, hub
    return previous


def from_settings(settings: Settings) -> Hub:
    """A RedisHub when KEFU_REDIS_URL is set, else the in-process hub."""
    if settings.redis_url:
        return RedisHub(settings.redis_url, prefix=settings.redis_prefix)
    return _local
