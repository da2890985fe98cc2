"""China's statutory holidays and make-up working days (调休), as the State Council's General Office publishes
them each year (国务院办公厅关于部分节假日安排的通知), from the `chinesecalendar` package: it has every year
since 2004 and a new release follows each November's notice, so next year's days come by upgrading it.

Here the package's day-by-day table becomes festivals: each run of consecutive days off is one festival (named
after every holiday in it: 2025's 国庆节、中秋节), with the weekend days worked instead (上班) attached to the
festival they make up for. A year the installed package does not have has no statutory days: administrators
add them as calendar overrides, or upgrade the package.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from chinese_calendar import constants

# the package's holidays (by their English value) as kefu names them
KEYS: dict[str, tuple[str, str]] = {
    "New Year's Day": ("new_year", "元旦"),
    "Spring Festival": ("spring", "春节"),
    "Tomb-sweeping Day": ("qingming", "清明节"),
    "Labour Day": ("labour", "劳动节"),
    "Dragon Boat Festival": ("dragon_boat", "端午节"),
    "Mid-autumn Festival": ("mid_autumn", "中秋节"),
    "National Day": ("national", "国庆节"),
}


@dataclass(frozen=True)
class Festival:
    key: str
    name: str  # 中文
    first: date
    last: date
    makeup: tuple[date, ...] = ()

    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]


def _key_name(value: str) -> tuple[str, str]:
    if value in KEYS:
        return KEYS[value]
    special = next((h for h in constants.Holiday if h.value == value), None)  # e.g. a one-off commemoration
    return (value.lower().replace(" ", "_").replace("-", "_"), special.chinese if special else value)


def festivals(holidays: dict[date, str], workdays: dict[date, str]) -> dict[int, tuple[Festival, ...]]:
    """Day tables (date -> holiday) grouped into each year's festivals; pure."""
    runs: list[list[date]] = []
    for d in sorted(holidays):
        if runs and d - runs[-1][-1] == timedelta(days=1):
            runs[-1].append(d)
        else:
            runs.append([d])
    makeup: dict[int, list[date]] = {i: [] for i in range(len(runs))}
    for w, value in sorted(workdays.items()):  # to the nearest run that has this holiday
        candidates = [i for i, r in enumerate(runs) if any(holidays[d] == value for d in r)] or list(range(len(runs)))
        if candidates:
            best = min(candidates, key=lambda i: min(abs((d - w).days) for d in runs[i]))
            makeup[best].append(w)
    out: dict[int, list[Festival]] = {}
    for i, run in enumerate(runs):
        values = list(dict.fromkeys(holidays[d] for d in run))
        key, _ = _key_name(values[0])
        name = "、".join(_key_name(v)[1] for v in values)
        out.setdefault(run[0].year, []).append(Festival(key, name, run[0], run[-1], tuple(makeup[i])))
    return {y: tuple(fs) for y, fs in out.items()}


SCHEDULE: dict[int, tuple[Festival, ...]] = festivals(constants.holidays, constants.workdays)


def statutory_days() -> dict[date, tuple[str, str]]:
    """Every shipped special day: date -> ("holiday" | "workday", name)."""
    out: dict[date, tuple[str, str]] = {}
    for festivals_ in SCHEDULE.values():
        for f in festivals_:
            for d in f.days():
                out[d] = ("holiday", f.name)
            for d in f.makeup:
                out[d] = ("workday", f"{f.name}调休上班")
    return out
