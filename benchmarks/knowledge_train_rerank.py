"""Choose the weight of the pair model's match in kefu's search, shipped as ``kefu/knowledge/text/rerank.json``.

``knowledge.search`` scores an FAQ as ``(1 - w) first stage + w match`` (:func:`kefu.knowledge.search.blend`):
the first stage is the fusion of cosine, term coverage and character overlap; the match is the pair
model's probability. The first pass fixed ``w = 0.5`` by hand, and on question sets it was not tuned on
the re-rank recalled fewer right FAQs than the fusion it starts from.

Here ``w`` is chosen on the training sets only (see ``knowledge_data.train_sets``: the even-hash half
of BQ, AFQMC train, LCQMC dev; the held-out sets are never read): each set becomes an FAQ base (the
second sentences) and its positive pairs' first sentences are the queries, exactly as in
``knowledge_quality.py``. Among the weights of a fixed grid that lose to the first stage alone
(``w = 0``) on no training set, neither in recall@5 nor in MRR@10, the smallest whose mean of
recall@5 and MRR@10 over the sets (each set counts the same) is within one standard error of the
best is shipped (:func:`kefu.knowledge.search.choose_match_weight`).

Run: ``python benchmarks/knowledge_train_rerank.py [--max-pairs N]`` (minutes: embeddings are cached
under ``benchmarks/out``).
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from knowledge_data import ROOT, available, train_sets
from knowledge_quality import product_candidates, product_figures, product_per_query

from kefu.knowledge.search import choose_match_weight
from kefu.knowledge.text.embed import UseEmbedder

OUT = ROOT / "kefu" / "knowledge" / "text" / "rerank.json"
GRID = tuple(round(float(w), 2) for w in np.linspace(0.0, 1.0, 21))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-pairs", type=int, default=2000, help="first N pairs of each training set")
    args = parser.parse_args()
    if not available():
        raise SystemExit("the zh-question-matching data is not here (set KEFU_QM_DATA)")
    embedder = UseEmbedder(threads=2)
    per_set: dict[str, dict[float, tuple[float, float, float]]] = {}
    per_query: dict[str, dict[float, tuple[list[float], list[float]]]] = {}
    for ps in train_sets():
        ps = ps.head(args.max_pairs)
        print(f"== {ps.name}: {len(ps)} pairs, {int(ps.labels.sum())} positive", flush=True)
        cands = product_candidates(embedder, ps)
        per_set[ps.name] = {w: product_figures(cands, w) for w in GRID}
        per_query[ps.name] = {w: product_per_query(cands, w) for w in GRID}
        for w in GRID:
            r1, r5, mrr = per_set[ps.name][w]
            print(f"  w={w:.2f}  R@1 {r1:.4f}  R@5 {r5:.4f}  MRR@10 {mrr:.4f}")
    weight = choose_match_weight(per_query)
    spec = {
        "match_weight": weight,
        "source": "benchmarks/knowledge_train_rerank.py",
        "chosen_on": [f"{name} (first {args.max_pairs} pairs)" for name in per_set],
        "rule": "the smallest grid weight losing to w = 0 on no training set whose mean (R@5 + MRR@10) / 2"
        " is within one standard error of the best such weight's",
        "training": {
            name: {
                f"{w:.2f}": {"r5": round(f[w][1], 4), "mrr10": round(f[w][2], 4)} for w in (0.0, 0.5, weight)
            }
            for name, f in per_set.items()
        },
    }
    OUT.write_text(json.dumps(spec, indent=2) + "\n", encoding="utf-8")
    print(f"chose match_weight {weight}; wrote {OUT}")


if __name__ == "__main__":
    main()
