"""Which queue a piece of work goes to, and what it is worth to the engine. Pure: no database, no clock.

Rules are ordered; the first active rule whose every condition holds names the queue (an empty condition
holds for anything). A category condition names category keys: a first-level key ("billing") holds for
its children too ("billing.refund"). Work no rule takes goes to no queue: it stays in the inbox for
someone to claim, and the console says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kefu.routing.model import Reach, Ring

# The engine's "channel" is the kind of attention a piece of work takes, its media: a call (voice), a live
# conversation (chat: web chat, WeChat, the app, QQ), a message answered in turn (message: SMS, e-mail, the
# web portal, Weibo), or a ticket worked in the back office (ticket: no customer waiting on the line). A
# queue serves one media; what it routes takes the queue's media.
MEDIA = ("voice", "chat", "message", "ticket")
CHANNEL_MEDIA = {"voice": "voice", "webchat": "chat", "wechat": "chat", "app": "chat", "im": "chat",
                 "weibo": "message", "sms": "message", "email": "message", "web": "message"}
# Capacity units an agent has, and what an item of each media takes of it by default: a call takes the whole
# agent; about three chats, or five messages or tickets, fit at once.
CAPACITY = 100
MEDIA_WEIGHT = {"voice": 100, "chat": 33, "message": 20, "ticket": 20}
# Items of a media an agent takes at once when their profile does not say.
MEDIA_LIMIT = {"voice": 1, "chat": 3, "message": 5, "ticket": 5}
REACHES = {r.name.lower(): r for r in Reach}


@dataclass(frozen=True)
class Rule:
    queue_key: str
    channels: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()

    def holds(self, *, channel: str | None, type: str | None, category: str | None, tier: str | None) -> bool:
        if self.channels and channel not in self.channels:
            return False
        if self.types and type not in self.types:
            return False
        if self.tiers and (tier or "standard") not in self.tiers:
            return False
        return not self.categories or (category is not None and any(
            category == key or category.startswith(key + ".") for key in self.categories))


def choose_queue(rules: Iterable[Rule], *, channel: str | None, type: str | None, category: str | None,
                 tier: str | None) -> str | None:
    """The queue of the first rule that holds, or None."""
    for rule in rules:
        if rule.holds(channel=channel, type=type, category=category, tier=tier):
            return rule.queue_key
    return None


def rings_from_json(rows: Sequence[dict[str, object]]) -> tuple[Ring, ...]:
    """Rings as an administrator stores them ({"after": s, "level_drop": n, "reach": "province"}), with the
    first ring at 0 s (the city, no drop) supplied when the list does not start there."""
    rings = [Ring(float(str(r.get("after", 0))), int(str(r.get("level_drop", 0))),
                  REACHES[str(r.get("reach", "city"))]) for r in rows]
    if not rings or rings[0].after != 0:
        rings.insert(0, Ring(0.0))
    return tuple(rings)


def rings_to_json(rings: Sequence[Ring]) -> list[dict[str, object]]:
    return [{"after": r.after, "level_drop": r.level_drop, "reach": r.reach.name.lower()} for r in rings]
