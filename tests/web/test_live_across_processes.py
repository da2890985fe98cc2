"""Live updates through the hub: a worker's consumer reaches the pages of every API process, and presence."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from kefu.bench.common import free_port
from kefu.core import pubsub
from kefu.core.events import Event
from kefu.core.pubsub import LocalHub, RedisHub
from kefu.web import live
from tests.core.test_pubsub import wait_listening

AT = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
MESSAGE = Event(41, "message.received", "interaction", 7, 3, {"ticket_id": 12, "interaction_id": 7}, AT)


@pytest.fixture
def process_hub() -> Iterator[None]:
    """Whatever hub a test installs is put back afterwards."""
    previous = pubsub.current()
    yield
    pubsub.install(previous)


def test_a_notice_survives_the_trip_through_the_hub_unchanged() -> None:
    for notice in [*live.notices_for(MESSAGE), live.HELLO]:
        assert live.Notice.from_message(notice.to_message()) == notice


def test_the_workers_consumer_reaches_the_pages_of_an_api_process_through_redis(
    redis_url: str, redis_prefix: str, process_hub: None
) -> None:
    api = RedisHub(redis_url, prefix=redis_prefix)  # the API process: its pages listen
    worker = RedisHub(redis_url, prefix=redis_prefix)  # the worker process: its consumer publishes
    stop = live.connect(api)

    async def run() -> list[tuple[str, dict[str, object]]]:
        sub = live.broadcaster.subscribe(frozenset({3}))
        try:
            await asyncio.to_thread(wait_listening, api, live.CHANNEL, 1)
            pubsub.install(worker)
            live.on_event(None, MESSAGE)  # type: ignore[arg-type]  # the consumer needs no session
            got = [await asyncio.wait_for(sub.queue.get(), timeout=10) for _ in range(2)]
            return [(n.kind, n.data) for n in got if n is not None]
        finally:
            live.broadcaster.unsubscribe(sub)

    try:
        assert asyncio.run(run()) == [
            ("inbox", {"event": "message.received"}),
            ("ticket-12", {"event": "message.received", "ticket_id": 12}),
        ]
    finally:
        stop()
        api.close()
        worker.close()


def test_with_redis_unreachable_the_consumer_drops_the_notice_and_the_event_counts_as_done(
    process_hub: None, caplog: pytest.LogCaptureFixture
) -> None:
    down = RedisHub(f"redis://127.0.0.1:{free_port()}/0", prefix="nobody", connect_timeout=0.2)
    pubsub.install(down)
    try:
        with caplog.at_level(logging.WARNING, logger="kefu.web.live"):
            live.on_event(None, MESSAGE)  # type: ignore[arg-type]  # returns: the event is not retried
    finally:
        down.close()
    assert [r.getMessage().split(":")[0] for r in caplog.records] == ["live notice for event 41 dropped"]


def test_when_the_hub_is_back_every_page_refreshes_and_its_presence_is_announced_again(
    process_hub: None,
) -> None:
    hub = LocalHub()
    pubsub.install(hub)

    async def run() -> list[live.Notice | None]:
        sub = live.broadcaster.subscribe(frozenset({3}), user_id=9)
        try:
            live.broadcaster.refresh_all()  # what the hub calls on reconnecting
            assert hub.members(live.CONSOLE) == {sub.key: {"user_id": 9, "process": pubsub.PROCESS_ID}}
            return [await asyncio.wait_for(sub.queue.get(), timeout=5)]
        finally:
            live.broadcaster.unsubscribe(sub)

    assert asyncio.run(run()) == [live.HELLO]


def test_an_open_stream_is_present_in_every_process_until_it_closes(
    redis_url: str, redis_prefix: str, process_hub: None
) -> None:
    api_1 = RedisHub(redis_url, prefix=redis_prefix)
    api_2 = RedisHub(redis_url, prefix=redis_prefix)
    pubsub.install(api_1)

    async def run() -> tuple[list[live.Connection], set[int], list[str]]:
        sub = live.broadcaster.subscribe(frozenset({3}), user_id=5)

        async def never() -> bool:
            return False

        chunks = []
        async for chunk in live.stream(sub, never, heartbeat=5):
            chunks.append(chunk)
            if len(chunks) == 2:  # announced before the first byte; now look from the other process
                pubsub.install(api_2)
                seen = live.connections()
                users = live.online_user_ids()
                live.broadcaster.close_all()
        return seen, users, chunks

    try:
        seen, users, chunks = asyncio.run(run())
        assert seen == [live.Connection(seen[0].key, 5, pubsub.PROCESS_ID)]
        assert users == {5}
        assert chunks == ["retry: 3000\n\n", 'event: hello\ndata: {"ok": true}\n\n']
        assert live.connections() == []  # withdrawn when the stream ended
    finally:
        api_1.close()
        api_2.close()


def test_a_page_that_cannot_keep_up_gets_one_refresh_instead_of_the_notices_it_missed() -> None:
    async def run() -> list[live.Notice | None]:
        b = live.Broadcaster()
        sub = b.subscribe(frozenset({3}))
        for i in range(live.QUEUE_SIZE + 5):  # a burst while the page is not reading
            b.publish(live.Notice("inbox", "message.received", 3, {"n": i}))
        await asyncio.sleep(0)  # the loop runs the hand-overs
        await asyncio.sleep(0)
        got = []
        while not sub.queue.empty():
            got.append(sub.queue.get_nowait())
        return got

    got = asyncio.run(run())
    # the notice that did not fit and all before it: one refresh; then what came after
    assert got == [live.HELLO] + [live.Notice("inbox", "message.received", 3, {"n": i})
                                  for i in range(live.QUEUE_SIZE + 1, live.QUEUE_SIZE + 5)]
