"""What a server process runs beside its requests, by shape: chosen from the settings, started by
create_app's lifespan.

| setting                         | embedded (default)                 | scaled out                                  |
|---------------------------------|------------------------------------|---------------------------------------------|
| KEFU_JOB_QUEUE                  | inline: InlineRunner thread        | procrastinate: Kicker thread (defers the    |
|                                 | (dispatch + periodic jobs)         | dispatch job; `kefu worker` does the work)  |
| KEFU_REDIS_URL                  | unset: notices stay in the process | set: RedisHub, this process's pages fed     |
|                                 |                                    | from Redis                                  |

`app.state.dispatcher` is the runner or the kicker: its `wake()` is called after each commit that
recorded events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from kefu.core import pubsub
from kefu.core.config import Settings
from kefu.core.db import Database
from kefu.core.events import bus
from kefu.jobs import registry


class Wakeable(Protocol):
    def wake(self) -> None: ...


@dataclass
class ServerRuntime:
    dispatcher: Wakeable | None
    hub: pubsub.Hub
    _stops: list[Callable[[], None]] = field(default_factory=list)

    def stop(self) -> None:
        while self._stops:
            self._stops.pop()()


def start_in_server(settings: Settings, db: Database, *, dispatch: bool = True) -> ServerRuntime:
    """Start the hub and the job side of a server process; `dispatch=False` (tests) starts no thread."""
    registry.configure(settings)
    registry.load()
    hub = pubsub.from_settings(settings)
    rt = ServerRuntime(None, hub)
    if hub is not pubsub.local():
        from kefu.web import live

        previous = pubsub.install(hub)

        def restore() -> None:
            pubsub.install(previous)

        rt._stops += [hub.close, restore, live.connect(hub)]
    if not dispatch:
        return rt
    if settings.job_queue == "procrastinate":
        from kefu.jobs.queue import Kicker

        if db.dialect != "postgresql":
            raise RuntimeError("KEFU_JOB_QUEUE=procrastinate needs PostgreSQL (KEFU_DATABASE_URL); "
                               "the embedded shape runs its jobs inline")

        kicker = Kicker(db)
        kicker.start()
        rt.dispatcher = kicker
        rt._stops.append(kicker.stop)
    elif settings.dispatch_events_inline:
        from kefu.jobs.inline import InlineRunner

        # Events a dead process left undispatched go out now; then the thread follows commits.
        bus.dispatch_pending(db)
        runner = InlineRunner(db, bus)
        runner.start()
        rt.dispatcher = runner
        rt._stops.append(runner.stop)
    if settings.routing_writer:
        from kefu.routing import runtime as routing

        dispatcher = rt.dispatcher
        rt._stops.append(routing.start(db, on_commit=dispatcher.wake if dispatcher is not None else None))
    return rt
