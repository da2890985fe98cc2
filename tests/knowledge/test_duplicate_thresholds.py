"""The duplicate finder's threshold: chosen on training pairs for a stated precision, set by an
administrator (KEFU_DUPLICATE_PRECISION)."""

from __future__ import annotations

import pytest

from kefu.core.db import Database


def test_the_threshold_follows_the_precision_an_administrator_asks_for(
    monkeypatch: pytest.MonkeyPatch, db: Database
) -> None:
    from kefu.core import config
    from kefu.knowledge import dupbench
    from kefu.tickets.duplicates import duplicate_threshold

    table = dupbench.thresholds()
    assert sorted(table) == [0.7, 0.75, 0.8, 0.85, 0.9, 0.95]
    assert list(table.values()) == sorted(table.values())  # surer duplicates need a higher score
    assert dupbench.threshold_for(0.8) == table[0.8]
    assert dupbench.threshold_for(0.82) == table[0.85]  # the next row that promises at least as much
    assert dupbench.threshold_for(0.99) == table[0.95]
    monkeypatch.setenv("KEFU_DUPLICATE_PRECISION", "0.9")
    config.get_settings.cache_clear()
    try:
        with db.unit_of_work() as s:
            assert duplicate_threshold(s) == table[0.9]
    finally:
        monkeypatch.delenv("KEFU_DUPLICATE_PRECISION")
        config.get_settings.cache_clear()


def test_precision_threshold_and_recall_on_scored_pairs() -> None:
    import numpy as np

    from kefu.knowledge.dupbench import Scored, precision_recall, threshold_for_precision

    s = Scored("x", np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4]), np.array([1, 1, 0, 1, 0, 0]))
    assert threshold_for_precision(s, 1.0) == 0.8
    assert threshold_for_precision(s, 0.75) == 0.6  # 3 of the top 4
    assert precision_recall(s, 0.6) == (0.75, 1.0)
    assert precision_recall(s, 0.95) == (1.0, 0.0)
