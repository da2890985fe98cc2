"""Differences between two article versions (pure): changed fields and a character-level body diff.

Chinese text has few line breaks, so the body is compared character by character and reported as
equal / insert / delete / replace runs; a unified line diff is given as well.

The comparison is bounded, whatever the bodies hold. difflib alone (with autojunk off) is quadratic or worse
on repetitive text: a 20 KB body took minutes. Here the common prefix and suffix are taken off first, the
rest is cut into sentences and matched by patience diff (sentences that occur once on each side anchor the
alignment, O(n log n)), and what lies between the anchors is matched the same way down to characters. difflib
only compares the small gaps left (at most `GAP_CELLS` character pairs each, `BUDGET_CELLS` in all); a gap
past the budget is reported as one replace run, which is still a true diff, only coarser.
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

FIELDS = ("title", "kind", "department", "org_unit_id", "tags", "category_keys", "valid_from", "valid_until")

GAP_CELLS = 90_000  # len(a) x len(b) of one gap handed to difflib (about 50 ms at worst)
BUDGET_CELLS = 360_000  # the same summed over one diff
WORK_ITEMS = 2_000_000  # items scanned by the patience passes of one diff

_SENTENCE = re.compile(r"[^\n。！？；!?;]*[\n。！？；!?;]+|[^\n。！？；!?;]+")

Block = tuple[int, int, int]  # a[i:i+n] == b[j:j+n]
Opcode = tuple[str, int, int, int, int]


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def field_changes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        f: {"from": _plain(old.get(f)), "to": _plain(new.get(f))}
        for f in FIELDS
        if _plain(old.get(f)) != _plain(new.get(f))
    }


@dataclass
class _Budget:
    cells: int = BUDGET_CELLS
    work: int = WORK_ITEMS

    def difflib_may(self, cells: int) -> bool:
        if cells > GAP_CELLS or cells > self.cells:
            return False
        self.cells -= cells
        return True

    def scan(self, items: int) -> bool:
        self.work -= items
        return self.work >= 0


def _unique_anchors(a: Sequence[Hashable], alo: int, ahi: int, b: Sequence[Hashable], blo: int,
                    bhi: int) -> list[tuple[int, int]]:
    """Pairs (i, j) of items occurring once in a[alo:ahi] and once in b[blo:bhi], longest increasing run."""
    seen_a: dict[Hashable, int] = {}
    for i in range(alo, ahi):
        seen_a[a[i]] = -1 if a[i] in seen_a else i
    seen_b: dict[Hashable, int] = {}
    for j in range(blo, bhi):
        if seen_a.get(b[j], -1) >= 0:
            seen_b[b[j]] = -1 if b[j] in seen_b else j
    pairs = sorted((seen_a[x], j) for x, j in seen_b.items() if j >= 0)
    # patience sorting: the longest run of pairs increasing in j (they are increasing in i already)
    tails: list[int] = []
    tail_at: list[int] = []
    back: list[int] = []
    for k, (_, j) in enumerate(pairs):
        pos = bisect.bisect_left(tails, j)
        back.append(tail_at[pos - 1] if pos else -1)
        if pos == len(tails):
            tails.append(j)
            tail_at.append(k)
        else:
            tails[pos], tail_at[pos] = j, k
    run: list[tuple[int, int]] = []
    k = tail_at[-1] if tail_at else -1
    while k >= 0:
        run.append(pairs[k])
        k = back[k]
    return run[::-1]


def matching_blocks(a: Sequence[Hashable], b: Sequence[Hashable], budget: _Budget | None = None) -> list[Block]:
    """Blocks (i, j, n) with a[i:i+n] == b[j:j+n], increasing in both, adjacent ones merged."""
    budget = budget or _Budget()
    found: list[Block] = []
    stack = [(0, len(a), 0, len(b))]
    while stack:
        alo, ahi, blo, bhi = stack.pop()
        p = 0
        while alo + p < ahi and blo + p < bhi and a[alo + p] == b[blo + p]:
            p += 1
        if p:
            found.append((alo, blo, p))
            alo, blo = alo + p, blo + p
        s = 0
        while ahi - s > alo and bhi - s > blo and a[ahi - s - 1] == b[bhi - s - 1]:
            s += 1
        if s:
            found.append((ahi - s, bhi - s, s))
            ahi, bhi = ahi - s, bhi - s
        if alo == ahi or blo == bhi:
            continue
        if budget.difflib_may((ahi - alo) * (bhi - blo)):
            sm = difflib.SequenceMatcher(None, a[alo:ahi], b[blo:bhi], autojunk=False)
            found.extend((alo + i, blo + j, n) for i, j, n in sm.get_matching_blocks() if n)
            continue
        if not budget.scan((ahi - alo) + (bhi - blo)):
            continue  # out of work: the gap stays one replace run
        prev_i, prev_j = alo, blo
        for i, j in _unique_anchors(a, alo, ahi, b, blo, bhi):
            found.append((i, j, 1))
            stack.append((prev_i, i, prev_j, j))
            prev_i, prev_j = i + 1, j + 1
        if (prev_i, prev_j) != (alo, blo):
            stack.append((prev_i, ahi, prev_j, bhi))
    return _merged(sorted(found))


def _merged(blocks: list[Block]) -> list[Block]:
    out: list[Block] = []
    for i, j, n in blocks:
        if out and out[-1][0] + out[-1][2] == i and out[-1][1] + out[-1][2] == j:
            out[-1] = (out[-1][0], out[-1][1], out[-1][2] + n)
        else:
            out.append((i, j, n))
    return out


def opcodes(blocks: list[Block], len_a: int, len_b: int) -> list[Opcode]:
    """difflib-style opcodes (equal / replace / delete / insert) from matching blocks."""
    ops: list[Opcode] = []
    i = j = 0
    for ai, bj, n in [*blocks, (len_a, len_b, 0)]:
        if i < ai or j < bj:
            tag = "replace" if i < ai and j < bj else "delete" if i < ai else "insert"
            ops.append((tag, i, ai, j, bj))
        if n:
            ops.append(("equal", ai, ai + n, bj, bj + n))
        i, j = ai + n, bj + n
    return ops


def _sentences(text: str) -> list[str]:
    return _SENTENCE.findall(text)


def _char_blocks(old: str, new: str) -> list[Block]:
    """Character blocks: sentences matched first, then characters inside the unmatched stretches."""
    budget = _Budget()
    sa, sb = _sentences(old), _sentences(new)
    starts_a = [0]
    for s in sa:
        starts_a.append(starts_a[-1] + len(s))
    starts_b = [0]
    for s in sb:
        starts_b.append(starts_b[-1] + len(s))
    blocks: list[Block] = []
    ca = cb = 0  # character position after the last sentence block
    for ti, tj, tn in [*matching_blocks(sa, sb, budget), (len(sa), len(sb), 0)]:
        ai, bj = starts_a[ti], starts_b[tj]
        if ai > ca and bj > cb:
            blocks.extend((ca + i, cb + j, n) for i, j, n in matching_blocks(old[ca:ai], new[cb:bj], budget))
        if tn:
            blocks.append((ai, bj, starts_a[ti + tn] - ai))
        ca, cb = starts_a[ti + tn], starts_b[tj + tn]
    return _merged(blocks)


def body_changes(old: str, new: str) -> list[dict[str, str]]:
    """Runs of the body diff: ``{"op", "from", "to"}`` with op equal | insert | delete | replace."""
    return [{"op": op, "from": old[i1:i2], "to": new[j1:j2]}
            for op, i1, i2, j1, j2 in opcodes(_char_blocks(old, new), len(old), len(new))]


class _Grouping(difflib.SequenceMatcher):  # type: ignore[type-arg]
    """difflib's grouping of opcodes into hunks with context, over opcodes computed here."""

    def __init__(self, codes: list[Opcode]) -> None:
        self._codes = codes

    def get_opcodes(self) -> list[Opcode]:  # type: ignore[override]
        return list(self._codes)


def _range(start: int, stop: int) -> str:
    length = stop - start
    if length == 1:
        return str(start + 1)
    return f"{start + 1 if length else start},{length}"


def unified(old: str, new: str, old_label: str, new_label: str) -> list[str]:
    """A unified line diff (3 lines of context), as difflib.unified_diff writes it."""
    a, b = old.splitlines(), new.splitlines()
    return list(_unified_lines(a, b, old_label, new_label))


def _unified_lines(a: list[str], b: list[str], old_label: str, new_label: str) -> Iterator[str]:
    groups = list(_Grouping(opcodes(matching_blocks(a, b), len(a), len(b))).get_grouped_opcodes(3))
    if not groups:
        return
    yield f"--- {old_label}"
    yield f"+++ {new_label}"
    for group in groups:
        first, last = group[0], group[-1]
        yield f"@@ -{_range(first[1], last[2])} +{_range(first[3], last[4])} @@"
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                yield from (" " + line for line in a[i1:i2])
                continue
            if tag in ("replace", "delete"):
                yield from ("-" + line for line in a[i1:i2])
            if tag in ("replace", "insert"):
                yield from ("+" + line for line in b[j1:j2])
