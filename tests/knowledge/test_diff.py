"""The article diff (kefu/knowledge/diff.py, pure): a true diff of any two bodies, in bounded work."""

from __future__ import annotations

import difflib
import itertools
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.knowledge import diff
from kefu.knowledge.service import MAX_BODY_CHARS

# Small alphabets make the repetitive texts that were quadratic (or worse) for difflib with autojunk off.
texts = st.text(alphabet=st.sampled_from("ab话费。\n!"), max_size=400)
bodies = st.text(alphabet=st.sampled_from("副卡月功能费元。，流量包\n0123456789"), max_size=2_000)


def _check(old: str, new: str) -> list[dict[str, str]]:
    runs = diff.body_changes(old, new)
    assert "".join(r["from"] for r in runs) == old
    assert "".join(r["to"] for r in runs) == new
    for r in runs:
        assert r["op"] in ("equal", "insert", "delete", "replace")
        assert (r["op"] == "equal") == (r["from"] == r["to"])
        assert (r["op"] == "insert") == (r["from"] == "" and r["to"] != "")
        assert (r["op"] == "delete") == (r["to"] == "" and r["from"] != "")
    assert all(a["op"] != b["op"] or a["op"] == "replace" for a, b in itertools.pairwise(runs))
    assert not any(a["op"] != "equal" and b["op"] != "equal" for a, b in itertools.pairwise(runs))
    return runs


@given(texts, texts)
def test_the_runs_rebuild_both_versions_and_equal_runs_are_equal(old: str, new: str) -> None:
    _check(old, new)


@given(bodies, st.integers(0, 2_000), st.integers(0, 50), st.text(alphabet="改动新增", max_size=20))
def test_one_edit_is_found_exactly(body: str, at: int, cut: int, insert: str) -> None:
    at = min(at, len(body))
    new = body[:at] + insert + body[at + cut:]
    runs = _check(body, new)
    changed = [r for r in runs if r["op"] != "equal"]
    # one change, no larger than the edit itself (the same text may be matched elsewhere by chance)
    assert len(changed) <= 1
    assert sum(len(r["from"]) for r in changed) <= len(body[at:at + cut])
    assert sum(len(r["to"]) for r in changed) <= len(insert)


@given(texts, texts)
@settings(max_examples=200)
def test_the_unified_diff_is_a_valid_patch_of_the_lines(old: str, new: str) -> None:
    lines = diff.unified(old, new, "v1", "v2")
    a, b = old.splitlines(), new.splitlines()
    if a == b:
        assert lines == []
        return
    assert lines[:2] == ["--- v1", "+++ v2"]
    assert _patch(a, lines[2:]) == b


def _patch(a: list[str], hunks: list[str]) -> list[str]:
    """Apply a unified diff's hunks to the old lines, checking every context and removed line."""
    out: list[str] = []
    pos = 0
    for line in hunks:
        header = re.fullmatch(r"@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@", line)
        if header:
            start = int(header.group(1)) - (0 if header.group(2) == "0" else 1)
            out.extend(a[pos:start])
            pos = start
        elif line[0] in " -":
            assert a[pos] == line[1:]
            pos += 1
            if line[0] == " ":
                out.append(line[1:])
        else:
            out.append(line[1:])
    return out + a[pos:]


def test_small_edits_read_as_before() -> None:
    assert diff.body_changes("副卡月功能费10元。", "副卡月功能费5元。") == [
        {"op": "equal", "from": "副卡月功能费", "to": "副卡月功能费"},
        {"op": "replace", "from": "10", "to": "5"},
        {"op": "equal", "from": "元。", "to": "元。"},
    ]
    old, new = "一\n二\n三\n四\n五\n六\n七\n八\n九\n", "一\n二\n三\n四\n五改\n六\n七\n八\n九\n"
    assert diff.unified(old, new, "v1", "v2") == list(
        difflib.unified_diff(old.splitlines(), new.splitlines(), "v1", "v2", lineterm=""))


def test_the_worst_bodies_of_the_largest_size_give_a_true_diff() -> None:
    """Bodies at the article limit that made difflib run for minutes: a 20 KB repetitive body took > 120 s.
    Measured in benchmarks/knowledge_diff.py: these take tens of milliseconds now."""
    n = MAX_BODY_CHARS
    shifted_a, shifted_b = ("ab" * n)[:n], ("ba" * n)[:n]
    assert _check(shifted_a, shifted_b) == [{"op": "replace", "from": shifted_a, "to": shifted_b}]
    repeated = ("话费。" * n)[:n]
    assert _check(repeated, "费话。" + repeated[:-3]) == [
        {"op": "insert", "from": "", "to": "费"},
        {"op": "equal", "from": "话", "to": "话"},
        {"op": "delete", "from": "费", "to": ""},
        {"op": "equal", "from": repeated[2:], "to": repeated[2:]},
    ]
    two_edits = "X" + ("话费" * n)[: n - 2] + "Y"
    assert [r["op"] for r in _check(("话费" * n)[:n], two_edits)] == ["replace"]
    lines_a = "\n".join("ab"[i % 2] for i in range(n // 2))
    lines_b = "\n".join("ba"[i % 2] for i in range(n // 2))
    _check(lines_a, lines_b)
    assert diff.unified(lines_a, lines_b, "v1", "v2")[2] == f"@@ -1,{n // 2} +1,{n // 2} @@"
