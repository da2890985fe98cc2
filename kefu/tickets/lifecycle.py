"""The ticket lifecycle as data: statuses, the allowed moves, and which moves need a reason. Pure.

    new ──► assigned ──► in_progress ◄──► waiting_customer / waiting_support
     │         │             │                       │
     └─────────┴─────────────┴──► resolved ◄─────────┘
                                     │  ▲ reopen
                                     ▼  │
                                   closed ──► in_progress (reopen, within REOPEN_WINDOW of closing)

- Every open status may also go straight to `closed` (spam, withdrawn by the customer, duplicate
  not worth a merge): a close without a resolution needs a reason.
- `merged` is reached only through a merge (`via_merge=True`), from an open status, and is terminal.
- A closed ticket may be reopened for REOPEN_WINDOW (7 days) after it was closed; after that it is
  terminal and the customer gets a new ticket.
- Needing a reason: resolve, reopen, close without resolving, merge.
- No status moves to itself.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from kefu.core.errors import Conflict, InvalidInput

NEW = "new"
ASSIGNED = "assigned"
IN_PROGRESS = "in_progress"
WAITING_CUSTOMER = "waiting_customer"
WAITING_SUPPORT = "waiting_support"
RESOLVED = "resolved"
CLOSED = "closed"
MERGED = "merged"

STATUSES: tuple[str, ...] = (NEW, ASSIGNED, IN_PROGRESS, WAITING_CUSTOMER, WAITING_SUPPORT, RESOLVED, CLOSED,
                             MERGED)
# "Open": someone still has to act. Resolved, closed and merged tickets are not open.
OPEN_STATUSES: frozenset[str] = frozenset({NEW, ASSIGNED, IN_PROGRESS, WAITING_CUSTOMER, WAITING_SUPPORT})
TERMINAL_STATUSES: frozenset[str] = frozenset({MERGED})

REOPEN_WINDOW = timedelta(days=7)

TRANSITIONS: dict[str, frozenset[str]] = {
    NEW: frozenset({ASSIGNED, IN_PROGRESS, RESOLVED, CLOSED}),
    ASSIGNED: frozenset({IN_PROGRESS, RESOLVED, CLOSED}),
    IN_PROGRESS: frozenset({WAITING_CUSTOMER, WAITING_SUPPORT, RESOLVED, CLOSED}),
    WAITING_CUSTOMER: frozenset({IN_PROGRESS, RESOLVED, CLOSED}),
    WAITING_SUPPORT: frozenset({IN_PROGRESS, RESOLVED, CLOSED}),
    RESOLVED: frozenset({CLOSED, IN_PROGRESS}),
    CLOSED: frozenset({IN_PROGRESS}),
    MERGED: frozenset(),
}


class IllegalTransition(Conflict):
    code = "illegal_transition"


class UnknownStatus(InvalidInput):
    code = "unknown_status"


def is_open(status: str) -> bool:
    return status in OPEN_STATUSES


def is_reopen(src: str | None, dst: str) -> bool:
    return src in (RESOLVED, CLOSED) and dst == IN_PROGRESS


def requires_reason(src: str | None, dst: str) -> bool:
    """Resolving, reopening, closing without a resolution and merging must say why."""
    return dst in (RESOLVED, MERGED) or is_reopen(src, dst) or (dst == CLOSED and src in OPEN_STATUSES)


def allowed_targets(src: str, *, closed_at: datetime | None = None, at: datetime | None = None,
                    via_merge: bool = False) -> frozenset[str]:
    """Where `src` may go now. A ticket closed longer than REOPEN_WINDOW before `at` goes nowhere."""
    if src not in TRANSITIONS:
        raise UnknownStatus(f"unknown ticket status '{src}' (one of {', '.join(STATUSES)})")
    targets = TRANSITIONS[src]
    if src == CLOSED and closed_at is not None and at is not None and at - closed_at > REOPEN_WINDOW:
        targets = frozenset()
    if via_merge and src in OPEN_STATUSES:
        targets = targets | {MERGED}
    return targets


def check_transition(src: str, dst: str, *, closed_at: datetime | None = None, at: datetime | None = None,
                     via_merge: bool = False) -> None:
    """Raise IllegalTransition (409) unless `src → dst` is allowed; UnknownStatus (422) for a made-up one."""
    if dst not in STATUSES:
        raise UnknownStatus(f"unknown ticket status '{dst}' (one of {', '.join(STATUSES)})")
    allowed = allowed_targets(src, closed_at=closed_at, at=at, via_merge=via_merge)
    if dst in allowed:
        return
    if src == CLOSED and dst in TRANSITIONS[CLOSED]:
        message = (f"a ticket closed more than {REOPEN_WINDOW.days} days ago cannot be reopened; "
                   "open a new ticket")
    elif dst == MERGED and src in OPEN_STATUSES:
        message = "a ticket becomes 'merged' only by merging it into another ticket"
    else:
        message = f"a ticket cannot go from '{src}' to '{dst}'"
    raise IllegalTransition(message, details={"from": src, "to": dst,
                                              "allowed": sorted(allowed)})
