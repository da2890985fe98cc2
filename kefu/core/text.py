"""Text hygiene shared by every domain: bidirectional control characters.

U+202A–U+202E (LRE, RLE, PDF, LRO, RLO) and U+2066–U+2069 (LRI, RLI, FSI, PDI) reorder how text is shown: a
name "\u202eredna" is shown as "andre…" and can disguise what follows it on the line. No name needs them:
they are stripped from names as they come in (`Name`, `strip_bidi`), and the console removes them from
everything it shows (kefu/web/render.py), so text stored before is neutralised too.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_DROP = {ord(ch): None for ch in BIDI_CONTROLS}


def strip_bidi(text: str) -> str:
    return text.translate(_DROP)


def _strip_value(value: Any) -> Any:
    return strip_bidi(value).strip() if isinstance(value, str) else value


# A person's, a customer's or a unit's name as it comes in: bidi controls stripped before the length checks.
Name = Annotated[str, BeforeValidator(_strip_value)]
