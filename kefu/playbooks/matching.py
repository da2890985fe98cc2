"""Pure matching of tickets against playbook triggers (no clock, no database).

A playbook answers tickets of a category (a first-level one covers its children; none: any) in an org unit's
subtree. Its trigger says when it starts by itself on a new ticket:

- `keyword`: the ticket's subject or description holds one of the playbook's keywords (compared after NFKC
  folding and lower-casing, so full-width and upper-case forms match; spaces inside a keyword are kept);
- `threshold`: the tickets in scope opened within the playbook's window (`window_minutes`, the new one
  included) reach `min_count` — the category × region rule, counted by kefu itself until the complaints
  domain's surge alert covers it;
- `surge` and `manual` never start on a ticket (the surge event and a duty manager do).

A running playbook links each new ticket in its scope (and holding a keyword, for a keyword playbook).

`peak` is the review's peak measure: the most tickets opened in one bucket (an hour by default).
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

MAX_KEYWORDS = 20
MAX_KEYWORD_LENGTH = 40


@dataclass(frozen=True)
class Scope:
    """What a playbook answers: its unit's path, its category, its keywords (empty: any text)."""

    unit_path: str
    category_id: int | None = None
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class TicketFacts:
    unit_path: str
    category_id: int | None
    parent_category_id: int | None
    text: str


def fold(text: str) -> str:
    """Text as keywords are compared: NFKC (full-width → half-width), lower case, runs of space as one."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def clean_keywords(raw: Iterable[str]) -> tuple[str, ...]:
    """Keywords as they are kept: folded, empty ones dropped, duplicates once, in their first order. Raises
    ValueError for too many or too long ones."""
    out: list[str] = []
    for k in raw:
        f = fold(k)
        if not f or f in out:
            continue
        if len(f) > MAX_KEYWORD_LENGTH:
            raise ValueError(f"a keyword has at most {MAX_KEYWORD_LENGTH} characters")
        out.append(f)
    if len(out) > MAX_KEYWORDS:
        raise ValueError(f"at most {MAX_KEYWORDS} keywords")
    return tuple(out)


def keyword_hit(keywords: Sequence[str], text: str) -> str | None:
    """The first keyword (as kept, folded) the text holds, or None."""
    folded = fold(text)
    return next((k for k in keywords if k in folded), None)


def category_in(scope_category: int | None, category_id: int | None, parent_id: int | None) -> bool:
    if scope_category is None:
        return True
    return category_id is not None and scope_category in (category_id, parent_id)


def in_scope(scope: Scope, ticket: TicketFacts) -> bool:
    """The ticket is in the playbook's unit subtree and category, and holds a keyword when it has any."""
    if not ticket.unit_path.startswith(scope.unit_path):
        return False
    if not category_in(scope.category_id, ticket.category_id, ticket.parent_category_id):
        return False
    return not scope.keywords or keyword_hit(scope.keywords, ticket.text) is not None


def starts(trigger: str, scope: Scope, ticket: TicketFacts, *, recent: int, min_count: int) -> bool:
    """Whether a new ticket starts a playbook that is not running: a keyword playbook on a ticket in scope
    holding a keyword; a threshold playbook when `recent` (tickets in scope within its window, this one
    included) reaches `min_count` (at least 1)."""
    if trigger == "keyword":
        return bool(scope.keywords) and in_scope(scope, ticket)
    if trigger == "threshold":
        return in_scope(scope, ticket) and recent >= max(1, min_count)
    return False


@dataclass(frozen=True)
class Peak:
    count: int
    at: datetime | None  # the start of the busiest bucket (the earliest of equals)


def peak(times: Iterable[datetime], *, origin: datetime, bucket: timedelta = timedelta(hours=1)) -> Peak:
    """The most tickets opened in one bucket of `bucket` counted from `origin` (times before it are left out)."""
    width = bucket.total_seconds()
    counts = Counter(int((t - origin).total_seconds() // width) for t in times if t >= origin)
    if not counts:
        return Peak(0, None)
    best = max(counts.values())
    first = min(i for i, c in counts.items() if c == best)
    return Peak(best, origin + first * bucket)
