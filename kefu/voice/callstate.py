"""A call as the switch reports it: CTI events folded into one state. Pure: no database, no clock.

The switch (its CTI link) tells kefu what happens to a call: offered, IVR node entered, queued, ringing at
an agent, answered, held, retrieved, transferred, abandoned, ended. Events arrive late, twice, or out of
order (two links, a retransmission after a time-out, a batch replayed after an outage). The state of a
call is therefore not built event by event in arrival order but as a fold over the call's *set* of
events in a canonical order: by the time the switch stamped, then by the natural order of kinds at the
same instant (a call is offered before it is queued, answered before it ends), then by event id. A
duplicate (the same event id) counts once. So the state after any arrival order, with any duplicates,
is the state of the sorted set: tests/voice/test_callstate.py checks it with hypothesis.

Rules of the fold (an event that does not apply is ignored, never an error, since the switch is the truth
of what happened and a lost event must not stop the rest):

* the call's times are offered (the first event if no "offered" came), queued (the first time it asked
  for an agent), answered (the first time an agent took it), ended (the first "ended" or "abandoned");
* time is split into segments: IVR (offered to queued, or to the end for a call served by the IVR alone),
  queue (queued to answered or abandoned; every time a transfer puts it back in a queue), talk (answered
  to held, transferred to a queue, or ended) and hold (held to retrieved, transferred, or ended);
* a transfer to an agent keeps the call talking with the new agent; a transfer to a queue puts it back
  in the queue;
* after the end nothing changes but a recording reference, which may come in a later event;
* outcome: answered (an agent took it), abandoned (it asked for an agent and the caller hung up before
  one answered), self_served (it never left the IVR).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

KINDS = ("offered", "ivr", "queued", "ringing", "answered", "held", "retrieved", "transferred", "abandoned",
         "ended")
RANK = {k: i for i, k in enumerate(KINDS)}
PHASES = ("offered", "ivr", "queued", "ringing", "talking", "held", "ended")
WAITING = ("queued", "ringing")  # the caller waits for an agent
WITH_AGENT = ("talking", "held")


@dataclass(frozen=True, slots=True)
class CtiEvent:
    """One CTI event. `event_id` is the switch's own id (its sequence number); two events with the same id
    are the same event."""

    call_id: str
    event_id: str
    kind: str
    at: datetime
    ani: str | None = None
    dnis: str | None = None
    node: str | None = None  # ivr: the menu node entered
    queue: str | None = None  # queued, transferred: the queue
    agent: str | None = None  # ringing, answered, transferred: the agent (their kefu username)
    recording_url: str | None = None

    def sort_key(self) -> tuple[datetime, int, str]:
        return (self.at, RANK[self.kind], self.event_id)


@dataclass(frozen=True, slots=True)
class CallState:
    call_id: str
    phase: str = "offered"
    ani: str | None = None
    dnis: str | None = None
    offered_at: datetime | None = None
    queued_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    ivr_path: tuple[tuple[str, datetime], ...] = ()
    queue: str | None = None
    agent: str | None = None
    transfers: tuple[tuple[datetime, str, str], ...] = ()  # (at, "agent" | "queue", target)
    abandoned: bool = False
    recording_url: str | None = None
    ivr_seconds: float = 0.0
    queue_seconds: float = 0.0
    talk_seconds: float = 0.0
    hold_seconds: float = 0.0
    events: int = 0  # distinct events folded in
    last_at: datetime | None = None
    since: datetime | None = field(default=None)  # start of the current segment

    @property
    def outcome(self) -> str | None:
        """None while the call goes on."""
        if self.phase != "ended":
            return None
        if self.answered_at is not None:
            return "answered"
        return "abandoned" if self.queued_at is not None else "self_served"

    @property
    def waiting(self) -> bool:
        return self.phase in WAITING


def _secs(a: datetime | None, b: datetime) -> float:
    return max(0.0, (b - a).total_seconds()) if a is not None else 0.0


def _close(s: CallState, at: datetime) -> CallState:
    """End the current segment at `at`, adding its length to its phase's total."""
    d = _secs(s.since, at)
    if s.phase in ("offered", "ivr"):
        return replace(s, ivr_seconds=s.ivr_seconds + d, since=at)
    if s.phase in WAITING:
        return replace(s, queue_seconds=s.queue_seconds + d, since=at)
    if s.phase == "talking":
        return replace(s, talk_seconds=s.talk_seconds + d, since=at)
    if s.phase == "held":
        return replace(s, hold_seconds=s.hold_seconds + d, since=at)
    return s


def apply(s: CallState, e: CtiEvent) -> CallState:
    """The state after one more event, which must not sort before the events folded so far."""
    s = replace(s, events=s.events + 1, last_at=e.at, ani=s.ani or e.ani, dnis=s.dnis or e.dnis,
                recording_url=e.recording_url or s.recording_url)
    if s.offered_at is None:
        s = replace(s, offered_at=e.at, since=e.at)
    if s.phase == "ended":
        return s
    k = e.kind
    if k == "offered":
        return s
    if k == "ivr":
        if s.phase not in ("offered", "ivr") or not e.node:
            return s
        return replace(s, phase="ivr", ivr_path=(*s.ivr_path, (e.node, e.at)))
    if k == "queued":
        if s.phase in WAITING:
            return replace(s, queue=e.queue or s.queue)
        if s.phase in WITH_AGENT:
            return s  # a talking call is put back in a queue by a transfer, not by "queued"
        s = _close(s, e.at)
        return replace(s, phase="queued", queued_at=s.queued_at or e.at, queue=e.queue or s.queue)
    if k == "ringing":
        if s.phase not in WAITING:
            return s
        return replace(s, phase="ringing", agent=e.agent or s.agent)
    if k == "answered":
        if s.phase in WITH_AGENT:
            return s
        s = _close(s, e.at)
        return replace(s, phase="talking", answered_at=s.answered_at or e.at, agent=e.agent or s.agent)
    if k == "held":
        return replace(_close(s, e.at), phase="held") if s.phase == "talking" else s
    if k == "retrieved":
        return replace(_close(s, e.at), phase="talking") if s.phase == "held" else s
    if k == "transferred":
        if s.phase not in WITH_AGENT:
            if s.phase in WAITING and e.queue:
                return replace(s, queue=e.queue, transfers=(*s.transfers, (e.at, "queue", e.queue)))
            return s
        s = _close(s, e.at)
        if e.agent:
            return replace(s, phase="talking", agent=e.agent, transfers=(*s.transfers, (e.at, "agent", e.agent)))
        if e.queue:
            return replace(s, phase="queued", queue=e.queue, agent=None,
                           transfers=(*s.transfers, (e.at, "queue", e.queue)))
        return s
    if k in ("abandoned", "ended"):
        s = _close(s, e.at)
        abandoned = k == "abandoned" and s.phase in ("queued", "ringing") and s.answered_at is None
        if k == "ended" and s.phase in WAITING and s.answered_at is None:
            abandoned = True  # the caller hung up while waiting: the switch may report it as a plain end
        return replace(s, phase="ended", ended_at=e.at, abandoned=s.abandoned or abandoned, since=None)
    raise ValueError(f"unknown CTI event kind {k!r}")


def canonical(events: Iterable[CtiEvent]) -> list[CtiEvent]:
    """The distinct events (by event id; the first seen wins) in fold order."""
    seen: dict[str, CtiEvent] = {}
    for e in events:
        seen.setdefault(e.event_id, e)
    return sorted(seen.values(), key=CtiEvent.sort_key)


def fold(call_id: str, events: Iterable[CtiEvent]) -> CallState:
    """The call's state from its events, in whatever order and with whatever duplicates they came."""
    s = CallState(call_id)
    for e in canonical(events):
        s = apply(s, e)
    return s


def derived_event_id(kind: str, at: datetime, detail: str | None) -> str:
    """An event id for a switch that sends none: the same event sent twice gets the same id."""
    return f"{kind}@{at.isoformat()}" + (f"/{detail}" if detail else "")
