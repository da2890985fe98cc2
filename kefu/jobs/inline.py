"""The embedded shape's job runner: one thread of the server process.

It is the outbox dispatcher thread (kefu.core.events.Dispatcher: woken after each commit that recorded
events, and every `idle_seconds`) that also runs the periodic jobs when they are due. Deferred jobs run
as the outbox's `jobs` consumer while it dispatches (kefu.jobs.registry.run_inline). The job functions
are the ones `kefu worker` runs in the scaled shape.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

from kefu.core.db import Database
from kefu.core.events import Dispatcher, EventBus, bus
from kefu.jobs import registry, schedule

log = logging.getLogger(__name__)


class InlineRunner(Dispatcher):
    def __init__(self, db: Database, event_bus: EventBus = bus, *, idle_seconds: float = 2.0,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(db, event_bus, idle_seconds=idle_seconds)
        self.clock = clock
        self._last_tick: dict[str, float] = {}
        # When each periodic job is next due: reading a cron expression costs more than a dispatch round,
        # and the runner is woken after every commit.
        self._next_due: dict[str, float] = {}

    def tick(self) -> None:
        super().tick()
        self.run_due(self.clock())

    def run_due(self, now: float) -> list[tuple[str, float]]:
        """Run each periodic job's ticks that fell due up to `now` (at most once per tick across
        processes); returns the (job, tick) pairs this runner ran."""
        ran = []
        for j in registry.periodic():
            assert j.cron is not None
            if now < self._next_due.get(j.name, -math.inf):
                continue
            for t in schedule.due_ticks(j.cron, self._last_tick.get(j.name), now):
                self._last_tick[j.name] = t
                try:
                    if registry.run_periodic(self.db, j.name, registry.tick_time(t)):
                        ran.append((j.name, t))
                except Exception:  # the next tick runs it again; this one is not retried
                    log.exception("periodic job %s failed for tick %s", j.name, registry.tick_time(t))
            self._next_due[j.name] = schedule.next_tick(j.cron, max(now, self._last_tick.get(j.name, now)))
        return ran
