"""Where the routing writer runs, and how it is woken.

Every server process (embedded and scaled) and every `kefu worker` starts a RoutingRunner; the one that
holds the writer's role routes (kefu/routing/runner.py). A transaction that queued a routing input
(`service.submit`) wakes it after commit: the runner of this process at once, and the runners of other
processes through the hub's `routing` channel (Redis in the scaled shape). Without a wake-up a runner
still looks every quarter of a second.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from kefu.core import pubsub
from kefu.core.db import Database
from kefu.routing.runner import RoutingRunner
from kefu.routing.service import KICK

log = logging.getLogger("kefu.routing")
CHANNEL = "routing"

_runner: RoutingRunner | None = None


def kick() -> None:
    """Wake the writer: this process's runner, and the others' through the hub."""
    if _runner is not None:
        _runner.kick()
    hub = pubsub.current()
    if hub is not pubsub.local():
        try:
            hub.publish(CHANNEL, {"kick": True})
        except pubsub.HubUnavailable as exc:  # the other runners poll anyway
            log.debug("routing kick not published: %s", exc)


@sa_event.listens_for(Session, "after_commit")
def _kick_after_commit(session: Session) -> None:
    if session.info.pop(KICK, False):
        kick()


@sa_event.listens_for(Session, "after_rollback")
def _no_kick_after_rollback(session: Session) -> None:
    session.info.pop(KICK, None)


def start(db: Database, *, on_commit: Callable[[], None] | None = None) -> Callable[[], None]:
    """Start this process's runner; returns the function that stops it."""
    global _runner
    runner = RoutingRunner(db, on_commit=on_commit)
    runner.start()
    _runner = runner
    hub = pubsub.current()
    unsubscribe = hub.subscribe(CHANNEL, lambda _m: runner.kick()) if hub is not pubsub.local() else None

    def stop() -> None:
        global _runner
        if unsubscribe is not None:
            unsubscribe()
        runner.stop()
        if _runner is runner:
            _runner = None

    return stop


def current() -> RoutingRunner | None:
    return _runner
