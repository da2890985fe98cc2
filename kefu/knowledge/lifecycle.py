"""Article lifecycle (pure): draft → in_review → published → expired | withdrawn.

Review can send an article back to draft; an expired or withdrawn article is revived only by
reopening it as a draft (and going through review again). Editing any article makes it a draft
again; its live version (if any) stays visible until the new version is published.
"""

from __future__ import annotations

from datetime import datetime

from kefu.knowledge.errors import CampaignEnded, IllegalTransition

TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"in_review", "withdrawn"}),
    "in_review": frozenset({"draft", "published", "withdrawn"}),
    "published": frozenset({"expired", "withdrawn"}),
    "expired": frozenset({"draft"}),
    "withdrawn": frozenset({"draft"}),
}

#: Permission each target status needs (on top of knowledge.write for any change).
PERMISSION_FOR: dict[str, str] = {
    "in_review": "knowledge.write",
    "draft": "knowledge.write",
    "published": "knowledge.publish",
    "expired": "knowledge.publish",
    "withdrawn": "knowledge.publish",
}


def check_transition(src: str, dst: str) -> None:
    if dst not in TRANSITIONS:
        raise IllegalTransition(f"unknown article status '{dst}'", details={"from": src, "to": dst})
    if dst not in TRANSITIONS.get(src, frozenset()):
        allowed = sorted(TRANSITIONS.get(src, frozenset()))
        raise IllegalTransition(
            f"an article in status '{src}' cannot become '{dst}' (allowed: {', '.join(allowed) or 'none'})",
            details={"from": src, "to": dst, "allowed": allowed},
        )


def check_publishable(valid_until: datetime | None, at: datetime) -> None:
    """A campaign (or any dated article) whose end has passed cannot be published."""
    if valid_until is not None and valid_until < at:
        raise CampaignEnded(
            f"the article's end date {valid_until.isoformat()} has passed; change the dates to publish it",
            details={"valid_until": valid_until.isoformat()},
        )


def is_current(valid_from: datetime | None, valid_until: datetime | None, at: datetime) -> bool:
    return (valid_from is None or valid_from <= at) and (valid_until is None or valid_until >= at)
