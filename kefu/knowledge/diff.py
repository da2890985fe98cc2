"""Differences between two article versions (pure): changed fields and a character-level body diff.

Chinese text has few line breaks, so the body is compared character by character (difflib) and
reported as equal / insert / delete / replace runs; a unified line diff is given as well.
"""

from __future__ import annotations

import difflib
from typing import Any

FIELDS = ("title", "kind", "department", "org_unit_id", "tags", "category_keys", "valid_from", "valid_until")


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def field_changes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        f: {"from": _plain(old.get(f)), "to": _plain(new.get(f))}
        for f in FIELDS
        if _plain(old.get(f)) != _plain(new.get(f))
    }


def body_changes(old: str, new: str) -> list[dict[str, str]]:
    """Runs of the body diff: ``{"op", "from", "to"}`` with op equal | insert | delete | replace."""
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    return [{"op": op, "from": old[i1:i2], "to": new[j1:j2]} for op, i1, i2, j1, j2 in matcher.get_opcodes()]


def unified(old: str, new: str, old_label: str, new_label: str) -> list[str]:
    return list(difflib.unified_diff(old.splitlines(), new.splitlines(), old_label, new_label, lineterm=""))
