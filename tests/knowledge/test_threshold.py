"""Choosing a threshold for a stated precision on a precision/recall curve (kefu.knowledge.threshold)."""

from __future__ import annotations

import pytest

from kefu.knowledge.threshold import Point, choose, curve, precision_recall


def test_the_curve_has_one_point_per_distinct_score_highest_first() -> None:
    # scores 0.9 0.8 0.8 0.6 0.5 0.3; same question: 1 1 0 1 0 0 (3 positives)
    pts = curve([0.8, 0.9, 0.3, 0.6, 0.8, 0.5], [1, 1, 0, 1, 0, 0])
    assert pts == [
        Point(0.9, 1.0, 1 / 3),
        Point(0.8, 2 / 3, 2 / 3),  # the two pairs tied at 0.8 come in together
        Point(0.6, 3 / 4, 1.0),
        Point(0.5, 3 / 5, 1.0),
        Point(0.3, 3 / 6, 1.0),
    ]


def test_weights_make_each_set_count_the_same() -> None:
    # a set of 1 positive pair at 0.9 weighs as much as a set of 4 negative pairs at 0.7
    pts = curve([0.9, 0.7, 0.7, 0.7, 0.7], [1, 0, 0, 0, 0], [1.0, 0.25, 0.25, 0.25, 0.25])
    assert pts == [Point(0.9, 1.0, 1.0), Point(0.7, 0.5, 1.0)]


def test_the_chooser_keeps_the_most_recall_that_reaches_the_precision_asked() -> None:
    pts = [
        Point(0.95, 1.0, 0.10),
        Point(0.90, 0.92, 0.30),
        Point(0.80, 0.81, 0.45),
        Point(0.70, 0.84, 0.55),  # precision rises again lower down: this point still reaches 0.80
        Point(0.60, 0.78, 0.70),
        Point(0.40, 0.60, 0.95),
    ]
    assert choose(pts, 0.80) == Point(0.70, 0.84, 0.55)
    assert choose(pts, 0.85) == Point(0.90, 0.92, 0.30)
    assert choose(pts, 0.78) == Point(0.60, 0.78, 0.70)  # exactly the precision asked counts
    assert choose(pts, 0.50) == Point(0.40, 0.60, 0.95)
    assert choose(pts, 1.00) == Point(0.95, 1.0, 0.10)


def test_when_no_point_reaches_the_precision_the_surest_point_is_chosen() -> None:
    pts = [Point(0.9, 0.7, 0.2), Point(0.5, 0.6, 0.9)]
    assert choose(pts, 0.95) == Point(0.9, 0.7, 0.2)
    with pytest.raises(ValueError, match="empty curve"):
        choose([], 0.8)


def test_precision_and_recall_at_a_threshold() -> None:
    scores, labels = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4], [1, 1, 0, 1, 0, 0]
    assert precision_recall(scores, labels, 0.6) == (0.75, 1.0)
    assert precision_recall(scores, labels, 0.95) == (1.0, 0.0)  # nothing kept: nothing wrong
    chosen = choose(curve(scores, labels), 0.75)
    assert chosen == Point(0.6, 0.75, 1.0)
    assert precision_recall(scores, labels, chosen.threshold) == (chosen.precision, chosen.recall)
