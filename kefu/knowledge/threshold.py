"""Choosing a score threshold for a stated precision from a precision/recall curve (pure, no I/O).

A curve is made once from scored pairs whose answer is known (:func:`curve`: one point per distinct
score, each pair optionally weighted so that every data set counts the same); :func:`choose` then picks,
for a precision asked for, the point that keeps the most recall among those whose precision reaches it
(the lowest such threshold). The duplicate-ticket finder ships the points chosen this way on training
pairs (kefu/knowledge/text/duplicate_thresholds.json, `kefu bench duplicates --write`) and an administrator
moves along them on /console/knowledge/duplicates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["Point", "choose", "curve", "precision_recall"]


@dataclass(frozen=True, slots=True)
class Point:
    """Keeping every pair scored at least ``threshold`` gives this ``precision`` and ``recall``."""

    threshold: float
    precision: float
    recall: float


def curve(
    scores: npt.ArrayLike, labels: npt.ArrayLike, weights: npt.ArrayLike | None = None
) -> list[Point]:
    """The precision/recall points of ``scores`` against ``labels`` (1 = same question), highest threshold
    first: one point per distinct score, so tied pairs are kept or dropped together. ``weights`` (one per
    pair, default 1) weigh pairs, e.g. ``1 / size of its data set`` so that each set counts the same."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels) == 1
    w = np.ones_like(s) if weights is None else np.asarray(weights, dtype=np.float64)
    if s.size == 0:
        return []
    order = np.argsort(-s, kind="stable")
    s, y, w = s[order], y[order], w[order]
    tp = np.cumsum(w * y)
    kept = np.cumsum(w)
    positives = float(tp[-1])
    last = np.r_[np.nonzero(np.diff(s))[0], s.size - 1]  # the last pair of each run of equal scores
    return [
        Point(float(s[i]), float(tp[i] / kept[i]), float(tp[i] / positives) if positives else 0.0) for i in last
    ]


def choose(points: Sequence[Point], precision: float) -> Point:
    """The point with the most recall whose precision reaches ``precision`` (the lowest such threshold);
    when no point reaches it, the one with the highest precision (the surest the curve can do)."""
    if not points:
        raise ValueError("an empty curve has no point to choose")
    reaching = [p for p in points if p.precision >= precision - 1e-12]
    if reaching:
        return max(reaching, key=lambda p: (p.recall, p.threshold))
    return max(points, key=lambda p: (p.precision, p.threshold))


def precision_recall(scores: npt.ArrayLike, labels: npt.ArrayLike, threshold: float) -> tuple[float, float]:
    """Precision and recall of keeping the pairs scored at least ``threshold`` (precision 1 when none is kept)."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels) == 1
    kept = s >= threshold
    tp = int(np.sum(kept & y))
    precision = tp / int(np.sum(kept)) if np.any(kept) else 1.0
    recall = tp / int(np.sum(y)) if np.any(y) else 0.0
    return precision, recall
