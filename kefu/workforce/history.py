"""Call-by-call history: parse the Technion "Anonymous Bank" log format and estimate from it.

Format (tab-separated, header line, one row per call; SOURCE.txt of the data set):
    vru+line call_id customer_id priority type date(yymmdd) vru_entry vru_exit vru_time q_start q_exit
    q_time outcome(AGENT|HANG|PHANTOM) ser_start ser_exit ser_time server
Times are h:mm:ss within the day; 0:00:00 means "did not happen".

Estimates: arrivals per interval, handle time (mean; lognormal fit by the MLE on log times, as Brown et al.
2005 found service times lognormal), and patience from abandonment as a censored sample: abandons (HANG
after queueing) are events at their queue time, answered calls are censored at their queue time.
Kaplan-Meier gives the survival curve; the exponential MLE gives mean patience = total exposure / abandons.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import Enum
from itertools import pairwise
from pathlib import Path
from typing import Any

from kefu.workforce.errors import WorkforceInputError

COLUMNS = 17
DAY_SECONDS = 86_400


class Outcome(Enum):
    AGENT = "AGENT"
    HANG = "HANG"
    PHANTOM = "PHANTOM"


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One call. Clock times are seconds after midnight of ``day``; None where the step did not happen."""

    line: int
    call_id: int
    customer_id: int | None  # None where the export mangled it (spreadsheet notation '6.02E+11')
    priority: int
    call_type: str
    day: date
    vru_entry: int | None
    vru_exit: int | None
    q_start: int | None
    q_time: int
    outcome: Outcome
    ser_start: int | None
    ser_time: int
    server: str | None
    vru_line: str = ""  # 'vru+line' column: call_id is unique per (vru_line, day), not per day

    @property
    def queue_arrival(self) -> int | None:
        """When the call asked for an agent: queue entry, or service start for a call served at once."""
        if self.q_start is not None:
            return self.q_start
        if self.outcome is Outcome.AGENT and self.ser_start is not None:
            return self.ser_start
        return None

    @property
    def abandoned(self) -> bool:
        """Hung up while waiting in the queue."""
        return self.outcome is Outcome.HANG and self.q_start is not None and self.ser_start is None

    @property
    def answered(self) -> bool:
        return self.outcome is Outcome.AGENT and self.ser_start is not None


@dataclass(frozen=True, slots=True)
class ParseIssue:
    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class ParsedLog:
    records: list[CallRecord]
    issues: list[ParseIssue]


def parse_clock(text: str) -> int | None:
    """'h:mm:ss' -> seconds after midnight; '0:00:00' -> None (did not happen). Raises ValueError."""
    parts = text.strip().split(":")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(f"bad time {text!r}")
    h, m, s = (int(p) for p in parts)
    if h > 23 or m > 59 or s > 59:
        raise ValueError(f"bad time {text!r}")
    seconds = h * 3600 + m * 60 + s
    return seconds or None


def _parse_date(text: str) -> date:
    t = text.strip()
    if len(t) != 6 or not t.isdigit():
        raise ValueError(f"bad date {text!r}")
    year = int(t[:2])
    return date(1900 + year if year >= 50 else 2000 + year, int(t[2:4]), int(t[4:6]))


def _parse_int(name: str, text: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise ValueError(f"bad {name} {text!r}") from None
    if value < 0:
        raise ValueError(f"negative {name} {text!r}")
    return value


def parse_row(line_number: int, row: str) -> CallRecord:
    """One tab-separated row -> a record. Raises ValueError with the reason."""
    f = row.rstrip("\r\n").split("\t")
    if len(f) != COLUMNS:
        raise ValueError(f"expected {COLUMNS} tab-separated fields, got {len(f)}")
    try:
        outcome = Outcome(f[12].strip())
    except ValueError:
        raise ValueError(f"bad outcome {f[12]!r}") from None
    server = f[16].strip()
    return CallRecord(
        line=line_number,
        call_id=_parse_int("call_id", f[1]),
        customer_id=int(f[2]) if f[2].strip().isdigit() else None,
        priority=_parse_int("priority", f[3]),
        call_type=f[4].strip(),
        day=_parse_date(f[5]),
        vru_entry=parse_clock(f[6]),
        vru_exit=parse_clock(f[7]),
        q_start=parse_clock(f[9]),
        q_time=_parse_int("q_time", f[11]),
        outcome=outcome,
        ser_start=parse_clock(f[13]),
        ser_time=_parse_int("ser_time", f[15]),
        server=None if server in ("", "NO_SERVER") else server,
        vru_line=f[0].strip(),
    )


def parse_call_log(lines: Iterable[str], *, first_line: int = 1) -> ParsedLog:
    """Parse a whole file's lines (header included); bad rows are reported by line number and skipped."""
    records: list[CallRecord] = []
    issues: list[ParseIssue] = []
    for number, row in enumerate(lines, start=first_line):
        if number == first_line and row.startswith("vru+line"):
            continue
        if not row.strip():
            continue
        try:
            records.append(parse_row(number, row))
        except ValueError as exc:
            issues.append(ParseIssue(number, str(exc)))
    return ParsedLog(records, issues)


def read_call_log(paths: Sequence[Path]) -> ParsedLog:
    """Parse several files; an issue keeps its line number within its file and names the file."""
    records: list[CallRecord] = []
    issues: list[ParseIssue] = []
    for path in paths:
        with path.open(encoding="ascii", errors="replace") as handle:
            parsed = parse_call_log(handle)
        records.extend(parsed.records)
        issues.extend(ParseIssue(i.line, f"{path.name}: {i.reason}") for i in parsed.issues)
    return ParsedLog(records, issues)


# ---------------------------------------------------------------- arrivals


def _check_interval(interval_minutes: int) -> None:
    if interval_minutes not in (15, 30, 60):
        raise WorkforceInputError(f"interval_minutes must be 15, 30 or 60, got {interval_minutes!r}")


def offered_calls(records: Iterable[CallRecord]) -> list[CallRecord]:
    """Calls that asked for an agent (answered or abandoned), phantom calls left out."""
    return [r for r in records if r.queue_arrival is not None and r.outcome is not Outcome.PHANTOM]


def arrivals_per_interval(records: Iterable[CallRecord], interval_minutes: int = 30) -> dict[date, list[int]]:
    """Offered calls per day and interval of the day (queue arrival time), days with any call only."""
    _check_interval(interval_minutes)
    width = interval_minutes * 60
    days: dict[date, list[int]] = defaultdict(lambda: [0] * (DAY_SECONDS // width))
    for r in offered_calls(records):
        arrival = r.queue_arrival
        assert arrival is not None
        days[r.day][arrival // width] += 1
    return dict(sorted(days.items()))


def agents_per_interval(records: Iterable[CallRecord], interval_minutes: int = 30) -> dict[date, list[int]]:
    """Distinct agents that served during each interval (a service overlapping it), per day."""
    _check_interval(interval_minutes)
    width = interval_minutes * 60
    seen: dict[date, list[set[str]]] = defaultdict(lambda: [set() for _ in range(DAY_SECONDS // width)])
    for r in records:
        if r.answered and r.server is not None and r.ser_start is not None:
            end = min(DAY_SECONDS - 1, r.ser_start + max(r.ser_time - 1, 0))
            for k in range(r.ser_start // width, end // width + 1):
                seen[r.day][k].add(r.server)
    return {d: [len(s) for s in slots] for d, slots in sorted(seen.items())}


def busy_agents_per_interval(records: Iterable[CallRecord],
                             interval_minutes: int = 30) -> dict[date, list[int]]:
    """ceil(agent seconds in service during the interval / interval seconds): the fewest agents that
    could have done the observed work, a lower bound on staffing (agents_per_interval is an upper one).
    """
    _check_interval(interval_minutes)
    width = interval_minutes * 60
    busy: dict[date, list[float]] = defaultdict(lambda: [0.0] * (DAY_SECONDS // width))
    for r in records:
        if r.answered and r.ser_start is not None and r.ser_time > 0:
            start, end = r.ser_start, min(DAY_SECONDS, r.ser_start + r.ser_time)
            for k in range(start // width, (end - 1) // width + 1):
                busy[r.day][k] += min(end, (k + 1) * width) - max(start, k * width)
    return {d: [math.ceil(b / width - 1e-9) for b in slots] for d, slots in sorted(busy.items())}


# ---------------------------------------------------------------- handle time


@dataclass(frozen=True, slots=True)
class HandleTimeFit:
    count: int
    mean: float
    lognormal_mu: float  # mean of log(time)
    lognormal_sigma: float  # standard deviation of log(time), MLE
    lognormal_mean: float  # exp(mu + sigma^2/2)


def handle_time_fit(records: Iterable[CallRecord]) -> HandleTimeFit:
    """Mean and lognormal MLE of the service time of answered calls with a positive service time."""
    times = [r.ser_time for r in records if r.answered and r.ser_time > 0]
    if not times:
        raise WorkforceInputError("no answered call with a service time to fit")
    logs = [math.log(t) for t in times]
    mu = math.fsum(logs) / len(logs)
    sigma = math.sqrt(math.fsum((v - mu) ** 2 for v in logs) / len(logs))
    return HandleTimeFit(len(times), math.fsum(times) / len(times), mu, sigma, math.exp(mu + sigma**2 / 2))


# ---------------------------------------------------------------- patience


@dataclass(frozen=True, slots=True)
class PatienceFit:
    abandons: int
    censored: int
    exposure: float  # total seconds waited by all queued calls
    exponential_mean: float  # exposure / abandons (MLE of an exponential patience)
    km_times: list[float]  # Kaplan-Meier: distinct abandonment times ...
    km_survival: list[float]  # ... and the survival just after each

    def km_at(self, t: float) -> float:
        """Kaplan-Meier estimate of P(patience > t)."""
        s = 1.0
        for time, value in zip(self.km_times, self.km_survival, strict=True):
            if time > t:
                break
            s = value
        return s


def patience_sample(records: Iterable[CallRecord]) -> list[tuple[float, bool]]:
    """(queue time, abandoned?) for every call that waited in the queue or was answered from it."""
    sample: list[tuple[float, bool]] = []
    for r in offered_calls(records):
        if r.abandoned:
            sample.append((float(r.q_time), True))
        elif r.answered:
            sample.append((float(r.q_time), False))
    return sample


def patience_fit(sample: Sequence[tuple[float, bool]]) -> PatienceFit:
    """Kaplan-Meier and exponential MLE from (time, is_event) pairs; events are abandons."""
    abandons = sum(1 for _, event in sample if event)
    if abandons == 0:
        raise WorkforceInputError("no abandoned call: patience cannot be estimated")
    exposure = math.fsum(t for t, _ in sample)
    times, survival = kaplan_meier(sample)
    return PatienceFit(abandons, len(sample) - abandons, exposure, exposure / abandons, times, survival)


def kaplan_meier(sample: Sequence[tuple[float, bool]]) -> tuple[list[float], list[float]]:
    """S(t) = prod_{t_i <= t} (1 - d_i / n_i); ties: events before censorings at the same time."""
    ordered = sorted(sample, key=lambda p: (p[0], not p[1]))
    at_risk = len(ordered)
    s = 1.0
    times: list[float] = []
    survival: list[float] = []
    i = 0
    while i < len(ordered):
        t = ordered[i][0]
        deaths = removed = 0
        while i < len(ordered) and ordered[i][0] == t:
            deaths += ordered[i][1]
            removed += 1
            i += 1
        if deaths:
            s *= 1.0 - deaths / at_risk
            times.append(t)
            survival.append(s)
        at_risk -= removed
    return times, survival


def served_types(rows: Sequence[CallRecord]) -> dict[str, set[str]]:
    """The call types each agent of one day's log served that day (the skills the log shows)."""
    skills: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        if r.answered and r.server is not None and r.ser_start is not None:
            skills[r.server].add(r.call_type)
    return skills


def calls_waiting(rows: Sequence[CallRecord]) -> dict[str, Any]:
    """Per call type of one day's log, whether a call of that type was waiting in the queue at each second
    of the day (a boolean numpy array of 86,400)."""
    import numpy as np

    day = 86_400
    waiting: dict[str, Any] = {}
    for r in rows:
        if r.q_start is not None and r.q_time > 0:
            w = waiting.setdefault(r.call_type, np.zeros(day + 1, dtype=np.int32))
            w[min(r.q_start, day)] += 1
            w[min(r.q_start + r.q_time, day)] -= 1
    return {t: np.cumsum(w)[:day] > 0 for t, w in waiting.items()}


def after_call_spans(rows: Sequence[CallRecord], *, within: int) -> list[tuple[str, int, int]]:
    """(agent, end of a call, start of their next call) where a call they could take (of a type they
    served that day) was waiting when the first ended, and the next began less than ``within`` seconds
    later: the agent's not-ready time after a call (wrap-up, the ring of the next call, a pause). Shorter
    than ``within`` only: longer is the shift's end or a long break."""
    served = sorted((r for r in rows if r.answered and r.server is not None and r.ser_start is not None),
                    key=lambda r: (r.server or "", r.ser_start or 0))
    skills = served_types(rows)
    waits = calls_waiting(rows)
    spans: list[tuple[str, int, int]] = []
    for a, b in pairwise(served):
        if a.server != b.server or a.server is None or a.ser_start is None or b.ser_start is None:
            continue
        end = a.ser_start + a.ser_time
        if 0 <= b.ser_start - end < within and end < DAY_SECONDS and any(
                waits[t][end] for t in skills[a.server] if t in waits):
            spans.append((a.server, end, b.ser_start))
    return spans


def ready_agents(rows: Sequence[CallRecord], slot_seconds: int, *, duty_seconds: int = 1800,
                 after_call_within: int | None = None) -> dict[str, list[bool]]:
    """Which agents of one day's log were ready for calls in each slot of ``slot_seconds``, inferred from
    the log alone (it records no logins): an agent is on duty in each ``duty_seconds`` period in which they
    served, and within it ready while serving, or while idle with no call they could take (of a type they
    served that day) waiting in the queue: a ready agent would have taken it (calls are served as soon as a
    fitting agent is free), so an idle agent while such a call waited was on a break, in wrap-up or
    otherwise not ready. An agent counts in a slot when ready for at least half of it.

    With ``after_call_within`` (seconds), the not-ready time right after a call (``after_call_spans``)
    counts as ready: for a replay that keeps each agent busy after each call for a gap drawn from these
    spans, which would otherwise take that time from the agent twice."""
    import numpy as np

    day = 86_400
    served = [r for r in rows if r.answered and r.server is not None and r.ser_start is not None]
    skills = served_types(rows)
    waiting_now = calls_waiting(rows)
    wrapping: dict[str, Any] = {}
    if after_call_within is not None:
        for name, end, start in after_call_spans(rows, within=after_call_within):
            mark = wrapping.setdefault(name, np.zeros(day, dtype=bool))
            mark[end:start] = True
    out: dict[str, list[bool]] = {}
    slots = day // slot_seconds
    for name in sorted(skills):
        busy = np.zeros(day + 1, dtype=np.int32)
        duty = np.zeros(day // duty_seconds + 1, dtype=bool)
        for r in served:
            if r.server != name:
                continue
            assert r.ser_start is not None
            start, end = min(r.ser_start, day), min(r.ser_start + max(r.ser_time, 1), day)
            busy[start] += 1
            busy[end] -= 1
            duty[start // duty_seconds: (end - 1) // duty_seconds + 1] = True
        serving = np.cumsum(busy)[:day] > 0
        blocked = np.zeros(day, dtype=bool)
        for t in skills[name]:
            if t in waiting_now:
                blocked |= waiting_now[t]
        on_duty = np.repeat(duty, duty_seconds)[:day]
        ready = on_duty & (serving | ~blocked | wrapping[name]) if name in wrapping else on_duty & (serving | ~blocked)
        per_slot = ready[: slots * slot_seconds].reshape(slots, slot_seconds).sum(axis=1)
        out[name] = (2 * per_slot >= slot_seconds).tolist()
    return out


def logged_in_agents(
    rows: Sequence[CallRecord], slot_seconds: int, *, gap_seconds: int = 1800
) -> dict[str, list[bool]]:
    """Which agents of one day's log were logged in during each slot of ``slot_seconds``, inferred from the
    log alone (it records no logins): from the start of an agent's first call to the end of their last,
    logged out wherever they took no call for ``gap_seconds`` or more (a break, the end of a shift). An agent
    counts in a slot when logged in for at least half of it. Logged in is not ready: the not-ready time
    after each call (wrap-up, pauses) is kefu.routing.replay.after_call_gaps."""
    import numpy as np

    day = 86_400
    spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for r in rows:
        if r.answered and r.server is not None and r.ser_start is not None:
            spans[r.server].append((min(r.ser_start, day), min(r.ser_start + max(r.ser_time, 1), day)))
    slots = day // slot_seconds
    out: dict[str, list[bool]] = {}
    for name in sorted(spans):
        on = np.zeros(day + 1, dtype=np.int32)
        calls = sorted(spans[name])
        start, end = calls[0]
        for a, b in calls[1:]:
            if a - end >= gap_seconds:
                on[start] += 1
                on[end] -= 1
                start = a
            end = max(end, b)
        on[start] += 1
        on[end] -= 1
        logged = np.cumsum(on)[:day] > 0
        per_slot = logged[: slots * slot_seconds].reshape(slots, slot_seconds).sum(axis=1)
        out[name] = (2 * per_slot >= slot_seconds).tolist()
    return out


def priority_head_start(rows: Sequence[CallRecord], *, priority: int = 2) -> float | None:
    """The waiting credit (seconds) a ``priority`` customer gets over the others, estimated from the
    service order the log shows: for each pair of answered calls of one type where a priority call joined
    the queue ``d`` seconds after another (non-priority) call that was still waiting, the priority call
    was answered first or not. A credit h would have it first exactly when d < h; the estimate is the h
    that the fewest pairs contradict (the smallest such h on a tie). None without any such pair."""
    by_type: dict[str, list[tuple[int, int, bool]]] = defaultdict(list)  # (joined, answered, priority)
    for r in rows:
        if r.answered and r.q_start is not None and r.ser_start is not None:
            by_type[r.call_type].append((r.q_start, r.ser_start, r.priority == priority))
    pairs: list[tuple[int, bool]] = []  # (d, the priority call was answered first)
    for calls in by_type.values():
        calls.sort()
        for k, (joined, answered, favoured) in enumerate(calls):
            if favoured:
                continue
            for other_joined, other_answered, other_favoured in calls[k + 1:]:
                if other_joined >= answered:
                    break
                if other_favoured:
                    pairs.append((other_joined - joined, other_answered < answered))
    if not pairs:
        return None
    pairs.sort()
    # h at 0 (no credit): every pair the priority call won contradicts it; raising h past a pair's d
    # makes a pair it won agree and a pair it lost contradict
    errors = best_errors = sum(1 for _, first in pairs if first)
    best = 0
    for k, (d, first) in enumerate(pairs):
        errors += -1 if first else 1
        if k + 1 < len(pairs) and pairs[k + 1][0] == d:
            continue  # h lies between distinct values of d
        if errors < best_errors:
            best_errors, best = errors, d + 1
    return float(best)


@dataclass(frozen=True, slots=True)
class CrossingPair:
    """Two answered calls of different types that waited together: ``newer`` joined the queue ``later``
    seconds after ``older``, while it still waited; ``newer_first``: it was answered first. Kept only where
    the agent who answered the first of the two served the other's type that day too (they had the choice)."""

    older: str
    newer: str
    later: int
    newer_first: bool


def crossing_pairs(rows: Sequence[CallRecord], *, priority: int = 2) -> list[CrossingPair]:
    """The pairs of one day's log that show how call types are served against each other. Both calls of a
    pair are of the same customer group (``priority`` or not), so the group's own credit plays no part."""
    skills = served_types(rows)
    # (joined, answered, type, favoured, server)
    queued = sorted(((r.q_start, r.ser_start, r.call_type, r.priority == priority, r.server) for r in rows
                     if r.answered and r.q_start is not None and r.ser_start is not None), key=lambda c: c[:2])
    out = []
    for k, (joined, answered, kind, favoured, server) in enumerate(queued):
        for other_joined, other_answered, other_kind, other_favoured, other_server in queued[k + 1:]:
            if other_joined >= answered:
                break
            if other_kind == kind or other_favoured != favoured:
                continue
            newer_first = other_answered < answered
            chooser, passed_over = (other_server, kind) if newer_first else (server, other_kind)
            if chooser is None or passed_over not in skills.get(chooser, ()):
                continue
            out.append(CrossingPair(kind, other_kind, other_joined - joined, newer_first))
    return out


#: A type's credit moves only when the pairs it changes the verdict of favour the move this clearly:
#: a one-sided sign test at this level (the pairs that agree with the new credit against those that agree
#: with the old, each equally likely without a credit).
CREDIT_EVIDENCE = 0.01


def _contradicted(lower: list[int], upper: list[int], credit: int) -> int:
    """The pairs a credit contradicts: those that need it at least a bound above it or at most one below."""
    return len(lower) - bisect_right(lower, credit) + bisect_left(upper, credit)


def type_credits(pairs: Sequence[CrossingPair], *, evidence: float = CREDIT_EVIDENCE,
                 rounds: int = 20) -> dict[str, float]:
    """Per call type, the waiting credit (seconds, relative to the type in most pairs, which gets 0) that
    the service order of ``pairs`` shows: calls are served in the order of time in queue plus their type's
    credit, so a newer call first is one whose credit exceeds the older's by more than the seconds between
    them. Fitted one type at a time (each to the credit the fewest of its pairs contradict, the one nearest
    its current credit on a tie) until none moves; a type keeps 0 unless the pairs whose verdict a move
    changes favour it clearly (sign test at ``evidence``). Types in no pair get no entry."""
    from scipy.stats import binom

    count: dict[str, int] = defaultdict(int)
    for p in pairs:
        count[p.older] += 1
        count[p.newer] += 1
    if not count:
        return {}
    order = sorted(count, key=lambda t: (-count[t], t))
    credit = {t: 0 for t in order}
    for _ in range(rounds):
        moved = False
        for t in order[1:]:
            lower: list[int] = []  # the pair agrees when credit >= bound
            upper: list[int] = []  # ... when credit <= bound
            for p in pairs:
                if p.newer == t:  # newer first iff credit - c_older > later
                    x = p.later + credit[p.older]
                    (lower.append(x + 1) if p.newer_first else upper.append(x))
                elif p.older == t:  # newer first iff c_newer - credit > later
                    x = credit[p.newer] - p.later
                    (upper.append(x - 1) if p.newer_first else lower.append(x))
            lower.sort()
            upper.sort()
            now = credit[t]
            best = min({now, *lower, *upper}, key=lambda c: (_contradicted(lower, upper, c), abs(c - now)))
            gain = _contradicted(lower, upper, now) - _contradicted(lower, upper, best)
            if gain <= 0:
                continue
            # the pairs whose verdict changes between now and best: k agree with best, the rest with now
            a, b = sorted((now, best))
            changed = (bisect_right(lower, b) - bisect_right(lower, a)
                       + bisect_left(upper, b) - bisect_left(upper, a))
            agree = (changed + gain) // 2
            if binom.sf(agree - 1, changed, 0.5) >= evidence:
                continue
            credit[t] = best
            moved = True
        if not moved:
            break
    return {t: float(c) for t, c in credit.items()}
