"""Customers' age bands, from the birth year only (the one thing of a date of birth that is kept). Pure: no
database, no clock (the year of the contact comes in as an argument).

The age at a contact is the contact's (local) year less the birth year: a customer born in 1990 is 35 for
every contact of 2025, a year early for part of it. Good enough for bands ten years wide.
"""

from __future__ import annotations

from datetime import datetime

from kefu.core.clock import CHINA
from kefu.core.errors import InvalidInput

EARLIEST_BIRTH_YEAR = 1900
#: The bands as (key, lowest age): a band holds the ages from its lowest to the next band's; '' is unknown.
BANDS: tuple[tuple[str, int], ...] = (("lt25", 0), ("25-34", 25), ("35-44", 35), ("45-54", 45), ("55-64", 55),
                                       ("65+", 65))
#: zh-CN and English names, '' (no birth year) first.
BAND_NAMES: dict[str, tuple[str, str]] = {"": ("不详", "Unknown"), "lt25": ("25岁以下", "Under 25"),
                                          "25-34": ("25–34岁", "25–34"), "35-44": ("35–44岁", "35–44"),
                                          "45-54": ("45–54岁", "45–54"), "55-64": ("55–64岁", "55–64"),
                                          "65+": ("65岁及以上", "65 and over")}


def age_band(birth_year: int | None, year: int) -> str:
    """The band of a customer born in ``birth_year`` in ``year`` ('' unknown: no birth year, or one after it)."""
    if birth_year is None or birth_year > year:
        return ""
    age = year - birth_year
    return next(key for key, lowest in reversed(BANDS) if age >= lowest)


def local_year(at: datetime) -> int:
    """The year in China at the instant ``at`` (an aware datetime): ages count in China's year, as the
    reports' days do (1 January begins at 16:00 UTC)."""
    return at.astimezone(CHINA).year


def check_birth_year(value: object, this_year: int) -> int | None:
    """A birth year as given (None clears it), or InvalidInput outside 1900..this year."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not EARLIEST_BIRTH_YEAR <= value <= this_year:
        raise InvalidInput(f"birth_year must be a year from {EARLIEST_BIRTH_YEAR} to {this_year}, got {value}",
                           code="invalid_customer")
    return value


def birth_year_of_id(id_number: str) -> int | None:
    """The birth year of a valid 18-digit 居民身份证号 (region, birth date and check digit), else None."""
    from kefu.customers.pii import is_id_number

    text = id_number.strip()
    if len(text) != 18 or not is_id_number(text):
        return None
    return int(text[6:10])
