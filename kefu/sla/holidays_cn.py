"""China's statutory holidays and make-up working days (调休), as the State Council's General Office publishes
them each year. Typed in from the notices; pure data.

- 2025: 国务院办公厅关于2025年部分节假日安排的通知 (国办发明电〔2024〕12号, 12 Nov 2024).
- 2026: 国务院办公厅关于2026年部分节假日安排的通知 (国办发明电〔2025〕7号, Nov 2025).

Each entry: the festival, its days off (first and last, inclusive) and the weekend days that are worked
instead (上班). A year missing here has no statutory days in the shipped calendar: administrators add them
(or a later release does) as calendar overrides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Festival:
    key: str
    name: str  # 中文
    first: date
    last: date
    makeup: tuple[date, ...] = ()

    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]


D = date
SCHEDULE: dict[int, tuple[Festival, ...]] = {
    2025: (
        Festival("new_year", "元旦", D(2025, 1, 1), D(2025, 1, 1)),
        Festival("spring", "春节", D(2025, 1, 28), D(2025, 2, 4), (D(2025, 1, 26), D(2025, 2, 8))),
        Festival("qingming", "清明节", D(2025, 4, 4), D(2025, 4, 6)),
        Festival("labour", "劳动节", D(2025, 5, 1), D(2025, 5, 5), (D(2025, 4, 27),)),
        Festival("dragon_boat", "端午节", D(2025, 5, 31), D(2025, 6, 2)),
        Festival("national", "国庆节、中秋节", D(2025, 10, 1), D(2025, 10, 8), (D(2025, 9, 28), D(2025, 10, 11))),
    ),
    2026: (
        Festival("new_year", "元旦", D(2026, 1, 1), D(2026, 1, 3), (D(2026, 1, 4),)),
        Festival("spring", "春节", D(2026, 2, 15), D(2026, 2, 23), (D(2026, 2, 14), D(2026, 2, 28))),
        Festival("qingming", "清明节", D(2026, 4, 4), D(2026, 4, 6)),
        Festival("labour", "劳动节", D(2026, 5, 1), D(2026, 5, 5), (D(2026, 5, 9),)),
        Festival("dragon_boat", "端午节", D(2026, 6, 19), D(2026, 6, 21)),
        Festival("mid_autumn", "中秋节", D(2026, 9, 25), D(2026, 9, 27)),
        Festival("national", "国庆节", D(2026, 10, 1), D(2026, 10, 7), (D(2026, 9, 20), D(2026, 10, 10))),
    ),
}


def statutory_days() -> dict[date, tuple[str, str]]:
    """Every shipped special day: date -> ("holiday" | "workday", name)."""
    out: dict[date, tuple[str, str]] = {}
    for festivals in SCHEDULE.values():
        for f in festivals:
            for d in f.days():
                out[d] = ("holiday", f.name)
            for d in f.makeup:
                out[d] = ("workday", f"{f.name}调休上班")
    return out
