"""The largest assignment of holders (agents) to slots (pure): Kuhn's augmenting paths.

Each slot belongs to a group (a skill, a shift's shape); ``candidates[group]`` lists the holders that may take
a slot of that group, in the order they are tried. Slots are filled in order; once a slot of a group finds no
augmenting path, no later slot of the same group can (the matching did not change), so they are skipped, and
the search stops when every holder has a slot.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

G = TypeVar("G", bound=Hashable)
H = TypeVar("H", bound=Hashable)


def largest_matching(groups: Sequence[G], candidates: Mapping[G, Sequence[H]]) -> dict[int, H]:
    """Slot index -> its holder, for a largest matching."""
    holders = {h for hs in candidates.values() for h in hs}
    slot_of: dict[H, int] = {}
    holder_of: dict[int, H] = {}

    def augment(i: int, seen: set[H]) -> bool:
        for h in candidates.get(groups[i], ()):
            if h in seen:
                continue
            seen.add(h)
            if h not in slot_of or augment(slot_of[h], seen):
                slot_of[h] = i
                holder_of[i] = h
                return True
        return False

    failed: set[G] = set()
    for i, group in enumerate(groups):
        if group in failed or len(slot_of) == len(holders):
            continue
        if not augment(i, set()):
            failed.add(group)
    return holder_of
