"""Small worlds for routing tests: queues, agents and items with readable defaults."""

from __future__ import annotations

from collections.abc import Iterable

from kefu.routing.engine import Engine
from kefu.routing.model import (
    Agent,
    AgentPresenceChanged,
    AgentUpdated,
    Decision,
    EngineConfig,
    Offer,
    Presence,
    QueueConfig,
    WorkItem,
)


def agent(agent_id: int, *queues: str, voice: int = 1, chat: int = 0, email: int = 0, capacity: int = 100,
          skills: dict[str, int] | None = None, city: str | None = None, province: str | None = None) -> Agent:
    channels = {k: v for k, v in (("voice", voice), ("webchat", chat), ("email", email)) if v}
    return Agent(agent_id, frozenset(queues), skills or {}, channels, capacity, city, province)


def item(item_id: int, queue: str, at: float, *, channel: str = "voice", weight: int = 100,
         **fields: object) -> WorkItem:
    return WorkItem(item_id, queue, channel, at, weight=weight, **fields)  # type: ignore[arg-type]


def engine_with(queues: Iterable[QueueConfig], agents: Iterable[Agent] = (), *, config: EngineConfig | None = None,
                available: bool = True, now: float = 0.0) -> Engine:
    e = Engine(config or EngineConfig(move_check_every=1e12), queues, now=now)
    for a in agents:
        e.handle(AgentUpdated(a, now))
        if available:
            e.handle(AgentPresenceChanged(a.id, Presence.AVAILABLE, now))
    return e


def offers(decisions: Iterable[Decision]) -> list[tuple[int, int]]:
    """(item, agent) of each offer, in order."""
    return [(d.item_id, d.agent_id) for d in decisions if isinstance(d, Offer)]
