"""`kefu bench duplicates`: the duplicate-ticket finder's threshold, chosen on training question pairs for a
stated precision, and what it gives on pairs it was not tuned on.

Data: ../shared/data/zh-question-matching through benchmarks/knowledge_data.py (the same train and
held-out splits the pair model was fitted and judged on).

The training curve. Every training pair is scored by a pair model fitted, with the shipped model's
parameters, on the other four of five hash folds (``knowledge_train_pair_model.out_of_fold``): the score
the shipped model would give a pair it never saw. Scoring the training pairs with the shipped model itself
would promise more precision than new pairs get, because the model has learnt their words. Each training
set weighs the same. For each precision from 0.60 to 0.95 (step 0.01) the threshold is the curve's point
with the most recall whose precision reaches it (:func:`kefu.knowledge.threshold.choose`); that point's
precision and recall are what an administrator is promised on /console/knowledge/duplicates.

Held-out pairs are then scored by the shipped model (``score.predict_pairs``, as the finder does) and the
bench prints, per held-out set and pooled (each set weighing the same), AUC and the precision and recall
at each chosen threshold next to the training curve's expected values. ``--write`` ships the points as
kefu/knowledge/text/duplicate_thresholds.json, which the finder reads.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from kefu.knowledge import threshold

ROOT = Path(__file__).resolve().parents[2]
TABLE = Path(__file__).resolve().parent / "text" / "duplicate_thresholds.json"
MODEL = Path(__file__).resolve().parent / "text" / "pair_model.json"
#: The precisions an administrator can ask for (the slider's stops).
PRECISIONS = tuple(round(0.60 + 0.01 * i, 2) for i in range(36))
#: The rows the bench prints (and the console lists under the slider).
SHOWN = (0.60, 0.70, 0.75, 0.80, 0.85, 0.90, 0.95)
FIRST_PASS_THRESHOLD = 0.5


@dataclass(frozen=True)
class Scored:
    name: str
    scores: npt.NDArray[np.float64]
    labels: npt.NDArray[np.int_]
    weights: npt.NDArray[np.float64] | None = None


def _bench_module(name: str) -> Any:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    return importlib.import_module(name)


def _score(kd: Any, ps: Any) -> Scored:
    from kefu.knowledge.text import embed, score

    emb = embed.get_embedder()
    vectors = kd.embed_cached(emb, ps.left + ps.right, ps.name)
    left = [kd.analysed(t) for t in ps.left]
    right = [kd.analysed(t) for t in ps.right]
    probs = score.predict_pairs(left, right, vectors[: len(ps)], vectors[len(ps) :], embedder_name=emb.name)
    return Scored(ps.name, np.asarray(probs, dtype=float), np.asarray(ps.labels, dtype=int))


def _out_of_fold(kd: Any) -> list[Scored]:
    """Every training pair's out-of-fold score (cached under benchmarks/out, keyed by the shipped model)."""
    from kefu.knowledge.text import embed

    emb = embed.get_embedder()
    key = hashlib.md5(MODEL.read_bytes()).hexdigest()[:12]
    path = kd.OUT / f"dup-oof-{emb.name}-{key}.npz"
    if not path.exists():
        trainer = _bench_module("knowledge_train_pair_model")
        params = json.loads(MODEL.read_text(encoding="utf-8"))["models"][emb.name]["params"]
        sets = kd.train_sets()
        pool, probs = trainer.out_of_fold(emb, sets, params)
        same = np.array([kd.analysed(a).chars == kd.analysed(b).chars and bool(kd.analysed(a).chars)
                         for ps in sets for a, b in zip(ps.left, ps.right, strict=True)])
        kd.OUT.mkdir(parents=True, exist_ok=True)
        np.savez(path, scores=np.where(same, 1.0, probs), labels=pool.y, group=pool.group, names=np.array(pool.names))
    data = np.load(path)
    return [Scored(str(name), data["scores"][data["group"] == g], data["labels"][data["group"] == g])
            for g, name in enumerate(data["names"])]


def auc(s: Scored) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(s.labels, s.scores))


def pool(sets: Sequence[Scored], name: str) -> Scored:
    """The sets as one, each weighing the same whatever its size."""
    return Scored(name, np.concatenate([s.scores for s in sets]), np.concatenate([s.labels for s in sets]),
                  np.concatenate([np.full(len(s.labels), 1.0 / len(s.labels)) for s in sets]))


def weighted_precision_recall(s: Scored, th: float) -> tuple[float, float]:
    w = np.ones(len(s.labels)) if s.weights is None else s.weights
    kept, pos = s.scores >= th, s.labels == 1
    tp = float(np.sum(w[kept & pos]))
    precision = tp / float(np.sum(w[kept])) if np.any(kept) else 1.0
    return precision, tp / float(np.sum(w[pos])) if np.any(pos) else 0.0


def chosen_points(training: Scored) -> dict[float, threshold.Point]:
    """For each precision an administrator can ask for, the training curve's point that keeps it."""
    points = threshold.curve(training.scores, training.labels, training.weights)
    return {p: threshold.choose(points, p) for p in PRECISIONS}


def _pr(precision: float, recall: float) -> str:
    return f"  P {precision:.3f} R {recall:.3f}"


def run(per_set: int, *, write: bool = False) -> str:
    kd = _bench_module("knowledge_data")
    if not kd.available():
        return f"skipped: no question-matching data under {kd.DATA}"
    started = time.perf_counter()
    train = _out_of_fold(kd)
    training = pool(train, "training (out-of-fold)")
    chosen = chosen_points(training)
    held = [_score(kd, ps.head(per_set)) for ps in kd.eval_sets()]
    held_pooled = pool(held, "held-out pooled")
    lines = [
        f"training curve: out-of-fold scores of {len(training.labels)} training pairs "
        f"({', '.join(f'{s.name} {len(s.labels)}' for s in train)}; each set weighs the same)",
        "training AUC (out-of-fold): " + ", ".join(f"{s.name} {auc(s):.3f}" for s in train)
        + f"; mean {np.mean([auc(s) for s in train]):.3f}",
        "held-out AUC (shipped model): " + ", ".join(f"{s.name} ({len(s.labels)} pairs) {auc(s):.3f}" for s in held)
        + f"; mean {np.mean([auc(s) for s in held]):.3f}",
        "",
        f"{'asked':>6}{'threshold':>10}  {'expected P':>10}{'expected R':>11}  {'held-out P':>10}{'held-out R':>11}"
        + "".join(f"  {s.name[:16]:>16}" for s in held),
    ]
    rows: list[tuple[str, float, threshold.Point | None]] = [("0.5", FIRST_PASS_THRESHOLD, None)]
    rows += [(f"{p:.2f}", chosen[p].threshold, chosen[p]) for p in SHOWN]
    for label, th, point in rows:
        hp, hr = weighted_precision_recall(held_pooled, th)
        expected = f"{point.precision:>10.3f}{point.recall:>11.3f}" if point else f"{'(first pass)':>21}"
        per = "".join(_pr(*threshold.precision_recall(s.scores, s.labels, th)) for s in held)
        lines.append(f"{label:>6}{th:>10.4f}  {expected}  {hp:>10.3f}{hr:>11.3f}{per}")
    lines.append(f"{time.perf_counter() - started:.1f} s")
    if write:
        measured = {p: weighted_precision_recall(held_pooled, chosen[p].threshold) for p in PRECISIONS}
        TABLE.write_text(json.dumps({
            "source": "kefu bench duplicates --write",
            "pair_model": hashlib.md5(MODEL.read_bytes()).hexdigest()[:12],
            "training_pairs": len(training.labels),
            "held_out_pairs": len(held_pooled.labels),
            "points": [
                {"target": p, "threshold": round(chosen[p].threshold, 4),
                 "precision": round(chosen[p].precision, 3), "recall": round(chosen[p].recall, 3),
                 "held_out_precision": round(measured[p][0], 3), "held_out_recall": round(measured[p][1], 3)}
                for p in PRECISIONS
            ],
        }, indent=1) + "\n", encoding="utf-8")
        _shipped.cache_clear()
        lines.append(f"wrote {TABLE}")
    return "\n".join(lines)


@lru_cache(maxsize=1)
def _shipped() -> tuple[dict[str, float], ...]:
    data = json.loads(TABLE.read_text(encoding="utf-8"))
    return tuple({k: float(v) for k, v in row.items()} for row in data["points"])


def points() -> list[dict[str, float]]:
    """The shipped points, one per precision an administrator can ask for: the threshold chosen on the
    training curve, the precision and recall that curve expects there, and those measured on held-out pairs."""
    return [dict(row) for row in _shipped()]


def thresholds() -> dict[float, float]:
    """The shipped precision -> threshold table."""
    return {row["target"]: row["threshold"] for row in points()}


def point_for(precision: float) -> dict[str, float]:
    """The shipped point of the lowest precision at or above ``precision`` (the surest when none is that high)."""
    rows = points()
    at_least = [r for r in rows if r["target"] >= precision - 1e-9]
    return min(at_least, key=lambda r: r["target"]) if at_least else max(rows, key=lambda r: r["target"])


def threshold_for(precision: float) -> float:
    """The pair score a possible duplicate needs for ``precision`` (see :func:`point_for`)."""
    return point_for(precision)["threshold"]
