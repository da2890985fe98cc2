"""The supervisor wall's colours: which figures turn a tile amber or red. Pure.

Each threshold names a KPI, the value where it turns amber and where it turns red; whether higher is
better follows from their order (a service level turns amber *below* 80 %, an abandonment rate *above*
5 %). A tile takes the worst colour of its figures; a red tile is an alert. Waits depend on the media:
a caller waits seconds, a text message minutes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kefu.analytics.kpi import Tally

GREEN, AMBER, RED, NONE = "green", "amber", "red", "none"
ORDER = {NONE: 0, GREEN: 1, AMBER: 2, RED: 3}


@dataclass(frozen=True)
class Threshold:
    amber: float
    red: float

    def level(self, value: float | None) -> str:
        if value is None:
            return NONE
        if self.red < self.amber:  # higher is better
            return RED if value < self.red else AMBER if value < self.amber else GREEN
        return RED if value > self.red else AMBER if value > self.amber else GREEN


#: Defaults: service level (20 s, short abandons out) below 80 % amber, below 60 % red; abandonment above
#: 5 % amber, 10 % red; answer rate below 90 % amber, 80 % red.
RATES: dict[str, Threshold] = {
    "service_level": Threshold(0.80, 0.60),
    "abandonment": Threshold(0.05, 0.10),
    "answer_rate": Threshold(0.90, 0.80),
}
#: The longest wait (seconds) by media: amber above, red above.
LONGEST_WAIT: dict[str, Threshold] = {
    "voice": Threshold(20, 60),
    "chat": Threshold(60, 180),
    "message": Threshold(15 * 60, 60 * 60),
    "ticket": Threshold(60 * 60, 4 * 60 * 60),
}


def worst(levels: Iterable[str]) -> str:
    return max(levels, key=ORDER.__getitem__, default=NONE)


def tile_levels(today: Tally, longest_wait: float | None, media: str,
                rates: Mapping[str, Threshold] = RATES,
                waits: Mapping[str, Threshold] = LONGEST_WAIT) -> dict[str, str]:
    """The colour of each figure of a tile and of the tile (key "tile")."""
    levels = {
        "service_level": rates["service_level"].level(today.service_level(20)),
        "abandonment": rates["abandonment"].level(today.abandonment()),
        "answer_rate": rates["answer_rate"].level(today.answer_rate()),
        "longest_wait": waits[media].level(longest_wait),
    }
    levels["tile"] = worst(levels.values())
    return levels
