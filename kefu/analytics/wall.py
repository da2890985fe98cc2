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


METRICS = ("service_level", "abandonment", "answer_rate", "longest_wait")


def thresholds_for(media: str, overrides: Mapping[str, Threshold] | None = None) -> dict[str, Threshold]:
    """The thresholds of a tile: the defaults for its media, with an administrator's overrides."""
    return {**RATES, "longest_wait": LONGEST_WAIT[media], **(overrides or {})}


def check(metric: str, t: Threshold) -> None:
    """Refuse a threshold that cannot work (ValueError): unknown metric, a rate outside 0..1, a negative
    wait, or red on the good side of amber."""
    if metric not in METRICS:
        raise ValueError(f"unknown figure {metric!r} (one of {', '.join(METRICS)})")
    if metric == "longest_wait":
        if t.amber < 0 or t.red <= t.amber:
            raise ValueError("a longest wait turns red above where it turns amber (seconds, >= 0)")
        return
    if not (0 <= t.amber <= 1 and 0 <= t.red <= 1):
        raise ValueError("a rate threshold is between 0 % and 100 %")
    higher_better = metric != "abandonment"
    if (higher_better and t.red >= t.amber) or (not higher_better and t.red <= t.amber):
        raise ValueError("red must be worse than amber" + (" (lower)" if higher_better else " (higher)"))


def tile_levels(today: Tally, longest_wait: float | None, media: str,
                thresholds: Mapping[str, Threshold] | None = None, *, exclude_short: bool = True) -> dict[str, str]:
    """The colour of each figure of a tile and of the tile (key "tile"), of the service level and
    abandonment variant chosen (short abandons excluded, or counted)."""
    th = thresholds or thresholds_for(media)
    levels = {
        "service_level": th["service_level"].level(today.service_level(20, exclude_short=exclude_short)),
        "abandonment": th["abandonment"].level(today.abandonment(exclude_short=exclude_short)),
        "answer_rate": th["answer_rate"].level(today.answer_rate()),
        "longest_wait": th["longest_wait"].level(longest_wait),
    }
    levels["tile"] = worst(levels.values())
    return levels
