"""UI strings of the console: one flat JSON file per locale (kefu/web/i18n/<locale>.json), zh-CN first,
merged with each domain's own (kefu/<domain>/i18n/<locale>.json); a key defined twice is an error.

`translator(locale)` gives `t(key, **fields)`: the string in that locale, else in zh-CN, else the key
itself (so a missing string shows up plainly instead of breaking the page). Fields are filled with
`str.format_map`. The locale of a request is the `lang` cookie (the header switcher), else the user's
`locale`, else the configured default.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

I18N_DIR = Path(__file__).resolve().parent / "i18n"
DEFAULT_LOCALE = "zh-CN"
LOCALES: tuple[str, ...] = ("zh-CN", "en")
LANG_COOKIE = "lang"

Translate = Callable[..., str]


@cache
def strings(locale: str) -> Mapping[str, str]:
    from kefu.core import domains

    data: dict[str, str] = json.loads((I18N_DIR / f"{locale}.json").read_text(encoding="utf-8"))
    for folder in domains.folders("i18n"):
        path = folder / f"{locale}.json"
        if not path.exists():
            continue
        own: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
        if clash := sorted(data.keys() & own.keys()):
            raise ValueError(f"{path} redefines console strings: {', '.join(clash[:5])}")
        data.update(own)
    return data


class _Fields(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def normalize_locale(value: str | None) -> str | None:
    """'en', 'en-US', 'zh', 'zh-cn' → a supported locale; anything else → None."""
    if not value:
        return None
    v = value.strip().lower()
    for loc in LOCALES:
        if v == loc.lower():
            return loc
    if v.startswith("zh"):
        return "zh-CN"
    if v.startswith("en"):
        return "en"
    return None


def translator(locale: str) -> Translate:
    table = strings(locale)
    fallback = strings(DEFAULT_LOCALE)

    def t(key: str, **fields: Any) -> str:
        text = table.get(key) or fallback.get(key) or key
        return text.format_map(_Fields(fields)) if fields else text

    return t


def pick_locale(cookie: str | None, user_locale: str | None, default: str = DEFAULT_LOCALE) -> str:
    return (
        normalize_locale(cookie)
        or normalize_locale(user_locale)
        or normalize_locale(default)
        or DEFAULT_LOCALE
    )
