"""The duplicate finder's threshold: chosen on training pairs for a stated precision, set by an
administrator (KEFU_DUPLICATE_PRECISION until one chooses on the console)."""

from __future__ import annotations

import pytest

from kefu.core.db import Database


def test_the_shipped_points_trade_recall_for_precision() -> None:
    from kefu.knowledge import dupbench

    rows = dupbench.points()
    assert [r["target"] for r in rows] == [round(0.60 + 0.01 * i, 2) for i in range(36)]
    thresholds = [r["threshold"] for r in rows]
    assert thresholds == sorted(thresholds)  # surer duplicates need a higher score
    recalls = [r["recall"] for r in rows]
    assert recalls == sorted(recalls, reverse=True)  # and are fewer
    # each point keeps the precision asked for on the training curve (unless the curve never reaches it)
    assert all(r["precision"] >= r["target"] - 0.0005 for r in rows if r["threshold"] < max(thresholds))
    assert all(0 <= r[k] <= 1 for r in rows for k in ("held_out_precision", "held_out_recall"))


def test_the_threshold_follows_the_precision_an_administrator_asks_for(
    monkeypatch: pytest.MonkeyPatch, db: Database
) -> None:
    from kefu.core import config
    from kefu.knowledge import dupbench
    from kefu.tickets.duplicates import duplicate_threshold

    table = dupbench.thresholds()
    assert dupbench.threshold_for(0.8) == table[0.8]
    assert dupbench.threshold_for(0.815) == table[0.82]  # the next point that promises at least as much
    assert dupbench.threshold_for(0.99) == table[0.95]
    assert dupbench.threshold_for(0.5) == table[0.6]
    with db.unit_of_work() as s:
        assert duplicate_threshold(s) == table[0.65]  # the default, 0.65
    monkeypatch.setenv("KEFU_DUPLICATE_PRECISION", "0.9")
    config.get_settings.cache_clear()
    try:
        with db.unit_of_work() as s:
            assert duplicate_threshold(s) == table[0.9]
    finally:
        monkeypatch.delenv("KEFU_DUPLICATE_PRECISION")
        config.get_settings.cache_clear()


def test_weighted_precision_and_recall_of_pooled_sets() -> None:
    import numpy as np

    from kefu.knowledge.dupbench import Scored, pool, weighted_precision_recall

    a = Scored("a", np.array([0.9, 0.2]), np.array([1, 0]))
    b = Scored("b", np.array([0.8, 0.7, 0.6, 0.5]), np.array([0, 0, 0, 1]))
    both = pool([a, b], "both")
    # at 0.65: a keeps its positive (weight 1/2), b two negatives (1/4 each) and loses its positive (1/4)
    assert weighted_precision_recall(both, 0.65) == pytest.approx((0.5, 2 / 3))
    assert weighted_precision_recall(both, 0.95) == (1.0, 0.0)
