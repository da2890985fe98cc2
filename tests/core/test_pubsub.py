"""The hub: notices and presence shared across processes, in process and through a real Redis."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kefu.core import pubsub
from kefu.core.pubsub import Hub, LocalHub, RedisHub

WAIT = 10.0  # upper bound for a notice to cross Redis; the tests never measure it


class Inbox:
    """What one subscriber received, with a way to wait for the n-th message."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.reconnects = 0
        self._cond = threading.Condition()

    def __call__(self, message: dict[str, Any]) -> None:
        with self._cond:
            self.messages.append(message)
            self._cond.notify_all()

    def reconnected(self) -> None:
        with self._cond:
            self.reconnects += 1
            self._cond.notify_all()

    def wait_for(self, what: Callable[[], bool]) -> bool:
        with self._cond:
            return self._cond.wait_for(what, timeout=WAIT)


def wait_listening(hub: Hub, channel: str, n: int) -> None:
    """Redis subscriptions are made by the hub's listener thread: wait until `n` processes listen."""
    if isinstance(hub, RedisHub):
        deadline = time.monotonic() + WAIT
        while True:
            try:
                if hub.listeners(channel) >= n:
                    return
            except pubsub.HubUnavailable:  # still inside its fail-fast window after an outage
                pass
            assert time.monotonic() < deadline, f"{n} listener(s) on {channel} expected"
            time.sleep(0.02)


@pytest.fixture(params=["local", "redis"])
def two_processes(request: pytest.FixtureRequest) -> Iterator[tuple[Hub, Hub]]:
    """The hubs of two processes of one installation: one LocalHub twice, or two RedisHubs on one prefix."""
    if request.param == "local":
        hub = LocalHub()
        yield hub, hub
        return
    url = request.getfixturevalue("redis_url")
    prefix = request.getfixturevalue("redis_prefix")
    a, b = RedisHub(url, prefix=prefix), RedisHub(url, prefix=prefix)
    try:
        yield a, b
    finally:
        a.close()
        b.close()


def test_a_notice_published_in_one_process_reaches_the_subscribers_of_every_process(
    two_processes: tuple[Hub, Hub],
) -> None:
    a, b = two_processes
    in_a, in_b, other = Inbox(), Inbox(), Inbox()
    a.subscribe("live", in_a)
    b.subscribe("live", in_b)
    b.subscribe("elsewhere", other)
    wait_listening(a, "live", 1 if a is b else 2)
    wait_listening(b, "elsewhere", 1)

    a.publish("live", {"kind": "inbox", "unit": 3, "data": {"event": "message.received"}})

    assert in_b.wait_for(lambda: len(in_b.messages) == 1)
    assert in_a.wait_for(lambda: len(in_a.messages) == 1)
    assert in_a.messages == in_b.messages == [{"kind": "inbox", "unit": 3, "data": {"event": "message.received"}}]
    assert other.messages == []


def test_an_unsubscribed_handler_gets_nothing_more(two_processes: tuple[Hub, Hub]) -> None:
    a, b = two_processes
    kept, dropped = Inbox(), Inbox()
    b.subscribe("live", kept)
    stop = b.subscribe("live", dropped)
    wait_listening(a, "live", 1)
    a.publish("live", {"n": 1})
    assert kept.wait_for(lambda: len(kept.messages) == 1)
    assert dropped.wait_for(lambda: len(dropped.messages) == 1)

    stop()
    a.publish("live", {"n": 2})

    assert kept.wait_for(lambda: len(kept.messages) == 2)
    assert kept.messages == [{"n": 1}, {"n": 2}]
    assert dropped.messages == [{"n": 1}]


def test_a_failing_subscriber_does_not_keep_the_notice_from_the_others(two_processes: tuple[Hub, Hub]) -> None:
    a, b = two_processes
    got = Inbox()

    def broken(_message: dict[str, Any]) -> None:
        raise RuntimeError("this page's queue is gone")

    b.subscribe("live", broken)
    b.subscribe("live", got)
    wait_listening(a, "live", 1)
    a.publish("live", {"n": 1})
    assert got.wait_for(lambda: got.messages == [{"n": 1}])


def test_presence_announced_in_one_process_is_read_in_another_until_withdrawn(
    two_processes: tuple[Hub, Hub],
) -> None:
    a, b = two_processes
    a.announce("console", "s1", {"user_id": 7, "process": "api-1"}, ttl=60)
    b.announce("console", "s2", {"user_id": 8, "process": "api-2"}, ttl=60)
    b.announce("agents", "7", {"state": "available"}, ttl=60)

    assert a.members("console") == b.members("console") == {
        "s1": {"user_id": 7, "process": "api-1"},
        "s2": {"user_id": 8, "process": "api-2"},
    }
    assert a.members("agents") == {"7": {"state": "available"}}

    b.announce("console", "s1", {"user_id": 7, "process": "api-1", "renewed": True}, ttl=60)
    b.withdraw("console", "s2")

    assert a.members("console") == {"s1": {"user_id": 7, "process": "api-1", "renewed": True}}
    assert a.members("nobody") == {}


def test_a_member_that_is_not_renewed_lapses_by_itself(two_processes: tuple[Hub, Hub]) -> None:
    a, b = two_processes
    a.announce("console", "died", {"user_id": 1}, ttl=-1)  # its process stopped renewing long ago
    a.announce("console", "alive", {"user_id": 2}, ttl=60)
    assert b.members("console") == {"alive": {"user_id": 2}}
    assert b.members("console") == {"alive": {"user_id": 2}}  # and it stays gone


def test_local_presence_lapses_on_the_hubs_clock() -> None:
    now = [100.0]
    hub = LocalHub(clock=lambda: now[0])
    hub.announce("agents", "7", {"state": "busy"}, ttl=30)
    now[0] = 129.9
    assert hub.members("agents") == {"7": {"state": "busy"}}
    now[0] = 130.0
    assert hub.members("agents") == {}


def test_the_process_hub_is_local_until_another_is_installed(redis_url: str, redis_prefix: str) -> None:
    from kefu.core.config import Settings

    assert pubsub.from_settings(Settings(redis_url=None)) is pubsub.local()
    redis_hub = pubsub.from_settings(Settings(redis_url=redis_url, redis_prefix=redis_prefix))
    try:
        assert isinstance(redis_hub, RedisHub)
        assert redis_hub.prefix == redis_prefix
        previous = pubsub.install(redis_hub)
        assert pubsub.current() is redis_hub
        assert pubsub.install(previous) is redis_hub
        assert pubsub.current() is pubsub.local()
    finally:
        redis_hub.close()


def test_without_redis_calls_fail_fast_and_subscribers_are_told_when_it_is_back() -> None:
    """Redis killed and started again (a private redis-server, never the shared one)."""
    from kefu.scaled.local import RedisServer, redis_server_bin

    if redis_server_bin() is None:
        pytest.skip("no redis-server binary to start a private Redis")
    server = RedisServer()
    server.start()
    a = RedisHub(server.url, prefix="t", retry_seconds=0.2)
    b = RedisHub(server.url, prefix="t", retry_seconds=0.2)
    try:
        got = Inbox()
        b.subscribe("live", got, on_reconnect=got.reconnected)
        wait_listening(a, "live", 1)
        a.publish("live", {"n": 1})
        assert got.wait_for(lambda: len(got.messages) == 1)

        server.stop()
        with pytest.raises(pubsub.HubUnavailable):
            a.publish("live", {"n": 2})  # lost: nobody could get it
        with pytest.raises(pubsub.HubUnavailable):
            a.announce("console", "s1", {}, ttl=60)
        assert not a.ping()

        server.start()
        assert got.wait_for(lambda: got.reconnects == 1)
        wait_listening(a, "live", 1)
        a.publish("live", {"n": 3})
        assert got.wait_for(lambda: len(got.messages) == 2)
        assert got.messages == [{"n": 1}, {"n": 3}]
        assert got.reconnects == 1
    finally:
        a.close()
        b.close()
        server.remove()
