"""A real day of a call log (Technion "Anonymous Bank" format) as the CTI events its switch would have sent.
Pure: no database, no clock.

Each logged call (PHANTOM rows left out, as kefu.interactions.calls does) becomes: offered at its VRU
entry, the IVR node of its call type entered at the same instant, queued at its queue start (when it asked
for an agent), answered at its service start by its agent, ended at the end of service; an abandon is
queued then abandoned after its queue time; a call served by the VRU alone ends at its VRU exit. Times
are the log's local clock in `tz` (the bank is Israeli), through `kefu.interactions.calls.logged_call`, so
the replay and the call-history import read the log the same way. The expected figures (`LogFigures`)
come from the log's rows themselves.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from kefu.interactions.calls import logged_call
from kefu.voice.callstate import CtiEvent
from kefu.workforce.history import CallRecord, Outcome

AGENT_PREFIX = "bank_"


def agent_username(server: str) -> str:
    """The kefu username of a logged agent (the log gives first names)."""
    return AGENT_PREFIX + (re.sub(r"[^A-Za-z0-9]", "", server).lower() or "x")


def call_key(record: CallRecord) -> str:
    return f"{record.vru_line}:{record.day:%y%m%d}:{record.call_id}"


@dataclass(frozen=True, slots=True)
class LogFigures:
    """What the log says of a day: calls by outcome, and the seconds of service of the answered calls."""

    calls: int
    answered: int
    abandoned: int
    self_served: int
    queued: int  # asked for an agent (the others went to an agent straight from the VRU, or never)
    talk_seconds: int
    agents: int


def day_records(records: Iterable[CallRecord], day: date) -> list[CallRecord]:
    return [r for r in records if r.day == day and r.outcome is not Outcome.PHANTOM]


def cti_events(records: Sequence[CallRecord], *, tz: tzinfo) -> list[CtiEvent]:
    """The day's calls as CTI events, in time order."""
    out: list[CtiEvent] = []
    for r in records:
        row = logged_call(r, tz=tz)
        if row is None:
            continue
        key = call_key(r)
        offered, queued, answered, ended = (row["offered_at"], row["queued_at"], row["answered_at"],
                                            row["ended_at"])
        assert isinstance(offered, datetime)
        assert isinstance(ended, datetime)
        steps: list[tuple[str, datetime, dict[str, str]]] = [
            ("offered", offered, {"dnis": "bank"}),
            ("ivr", offered, {"node": f"type_{(r.call_type or 'xx').lower()}"})]
        if isinstance(queued, datetime):
            # the log's clocks jitter: service may start a second before the queue exit says it was left
            steps.append(("queued", min(queued, answered) if isinstance(answered, datetime) else queued, {}))
        if isinstance(answered, datetime):
            agent = {"agent": agent_username(r.server)} if r.server else {}
            if agent:
                steps.append(("ringing", answered, agent))
            steps += [("answered", answered, agent), ("ended", ended, {})]
        else:
            steps.append(("abandoned" if row["outcome"] == "abandoned" else "ended", ended, {}))
        out += [CtiEvent(key, str(n), kind, at, **kw)
                for n, (kind, at, kw) in enumerate(steps, start=1)]
    out.sort(key=CtiEvent.sort_key)
    return out


def figures(records: Sequence[CallRecord], *, tz: tzinfo) -> LogFigures:
    rows = [row for row in (logged_call(r, tz=tz) for r in records) if row is not None]
    answered = [r for r in records if r.outcome is Outcome.AGENT and r.ser_start is not None]
    return LogFigures(
        calls=len(rows),
        answered=sum(1 for row in rows if row["outcome"] == "answered"),
        abandoned=sum(1 for row in rows if row["outcome"] == "abandoned"),
        self_served=sum(1 for row in rows if row["outcome"] == "self_served"),
        queued=sum(1 for row in rows if row["queued_at"] is not None),
        talk_seconds=sum(r.ser_time for r in answered),
        agents=len({r.server for r in answered if r.server}),
    )


def quietest_day(records: Iterable[CallRecord]) -> date:
    counts: dict[date, int] = {}
    for r in records:
        counts[r.day] = counts.get(r.day, 0) + 1
    return min(sorted(counts), key=lambda d: counts[d])
