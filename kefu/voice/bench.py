"""`kefu bench cti`: CTI events per second through the whole call path (store once, fold, interaction,
customer by ANI, routing input), in process on a fresh database, beside the bare insert of the same
events (the storage floor) measured in the same run."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from kefu.voice.callstate import CtiEvent

Echo = Callable[[str], None]
BATCH = 500


def synthetic_calls(calls: int, *, start: datetime | None = None) -> list[CtiEvent]:
    """`calls` calls of six events each (offered, IVR, queued, ringing, answered, ended), a call every
    2 s, 60 distinct callers, in time order."""
    t0 = start or datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    out: list[CtiEvent] = []
    for n in range(calls):
        at = t0 + timedelta(seconds=2 * n)
        cid = f"B{n}"
        ani = f"1391234{n % 60:04d}"
        out += [CtiEvent(cid, "1", "offered", at, ani=ani, dnis="10086"),
                CtiEvent(cid, "2", "ivr", at + timedelta(seconds=1), node="root"),
                CtiEvent(cid, "3", "queued", at + timedelta(seconds=9), queue="voice"),
                CtiEvent(cid, "4", "ringing", at + timedelta(seconds=20), agent="bench_agent"),
                CtiEvent(cid, "5", "answered", at + timedelta(seconds=24), agent="bench_agent"),
                CtiEvent(cid, "6", "ended", at + timedelta(seconds=200))]
    out.sort(key=CtiEvent.sort_key)
    return out


@dataclass(frozen=True)
class CtiBench:
    kind: str
    events: int
    seconds: float
    floor_seconds: float

    @property
    def per_second(self) -> float:
        return self.events / self.seconds

    @property
    def floor_per_second(self) -> float:
        return self.events / self.floor_seconds


def run(kind: str, calls: int) -> CtiBench:
    from kefu.bench.common import fresh_database
    from kefu.core.db import Database
    from kefu.org import service as org
    from kefu.routing import service as routing
    from kefu.voice import service
    from kefu.voice.models import CtiEventRow

    events = synthetic_calls(calls)
    with fresh_database(kind) as url:
        db = Database(url)
        try:
            with db.unit_of_work() as s:
                unit = org.create_org_unit(s, kind="group", code="G", name="集团")
                routing.ensure_defaults(s, unit.id)
                org.create_user(s, username="bench_agent", display_name="坐席", role="agent", org_unit_id=unit.id,
                                password="bench-pass-1")
                unit_id = unit.id
            started = time.perf_counter()
            for i in range(0, len(events), BATCH):
                with db.unit_of_work() as s:
                    service.ingest(s, events[i:i + BATCH], org_unit_id=unit_id)
            seconds = time.perf_counter() - started
            rows = [{"call_id": "F" + e.call_id, "event_id": e.event_id, "kind": e.kind, "at": e.at, "data": {},
                     "received_at": e.at} for e in events]
            started = time.perf_counter()
            for i in range(0, len(rows), BATCH):
                with db.unit_of_work() as s:
                    for row in rows[i:i + BATCH]:  # one statement an event, as the path does
                        s.execute(insert(CtiEventRow), row)
            floor = time.perf_counter() - started
        finally:
            db.dispose()
    return CtiBench(kind, len(events), seconds, floor)


def print_result(r: CtiBench, echo: Echo) -> None:
    echo(f"{r.kind}: {r.events} CTI events ({r.events // 6} calls) in {r.seconds:.2f} s: "
         f"{r.per_second:,.0f} events/s through the call path; bare insert of the same events "
         f"{r.floor_per_second:,.0f} events/s; ratio {r.seconds / r.floor_seconds:.1f}x the storage floor")
