"""Who may take an item: queue membership, channel, skill levels and place, widened by bullseye rings.

The rules depend only on the agent's profile, the item's requirement and the ring, never on load or
time, so the engine caches them per (agent, bucket of items with the same requirement and ring).
Load, presence and time enter through :func:`fits` and the ring the item has reached.
"""

from __future__ import annotations

from collections.abc import Mapping

from kefu.routing.model import Agent, QueueConfig, Reach, Ring, WorkItem

Requirement = tuple[tuple[str, int], ...]


def requirement(item: WorkItem, queue: QueueConfig) -> Requirement:
    """The skills an item needs in its queue: the queue's and the item's, the higher level of each."""
    need = dict(queue.skills)
    for skill, level in item.skills.items():
        if level > need.get(skill, 0):
            need[skill] = level
    return tuple(sorted(need.items()))


def ring_index(rings: tuple[Ring, ...], waited: float) -> int:
    """The widest ring an item that waited ``waited`` seconds has reached."""
    k = 0
    while k + 1 < len(rings) and rings[k + 1].after <= waited:
        k += 1
    return k


def skills_met(agent: Agent, need: Requirement, level_drop: int) -> bool:
    for skill, level in need:
        required = level - level_drop
        if required > 0 and agent.skills.get(skill, 0) < required:
            return False
    return True


def place_met(agent: Agent, city: str | None, province: str | None, reach: Reach,
              neighbours: Mapping[str, frozenset[str]]) -> bool:
    """Is the agent close enough: same city, a neighbouring city, the province, or anywhere."""
    if reach is Reach.ANYWHERE:
        return True
    if reach is not Reach.PROVINCE and city is not None:
        if agent.city == city:
            return True
        return reach is Reach.NEIGHBOURS and agent.city is not None and agent.city in neighbours.get(city, ())
    return province is None or agent.province == province


def eligible(agent: Agent, queue: str, channel: str, need: Requirement, city: str | None,
             province: str | None, ring: Ring, neighbours: Mapping[str, frozenset[str]]) -> bool:
    """May the agent take items of this requirement at this ring (load and presence aside)?"""
    return (queue in agent.queues and agent.channels.get(channel, 0) > 0
            and skills_met(agent, need, ring.level_drop)
            and place_met(agent, city, province, ring.reach, neighbours))


def item_eligible(agent: Agent, item: WorkItem, queue: QueueConfig, waited: float,
                  neighbours: Mapping[str, frozenset[str]]) -> bool:
    """The same rule for one item that waited ``waited`` seconds (the form tests and services use)."""
    ring = queue.rings[ring_index(queue.rings, waited)]
    return eligible(agent, queue.key, item.channel, requirement(item, queue), item.city, item.province, ring,
                    neighbours)


def weight_on(agent: Agent, weight: int) -> int:
    """An item weighing more than the agent's capacity takes all of it (a call on any agent)."""
    return weight if weight < agent.capacity else agent.capacity


def fits(agent: Agent, load: int, channel_count: int, channel: str, weight: int) -> bool:
    """Room for one more item of ``channel`` weighing ``weight``, given what the agent holds."""
    return (load + weight_on(agent, weight) <= agent.capacity
            and channel_count < agent.channels.get(channel, 0))
