"""Choose the weights of kefu's search, shipped as ``kefu/knowledge/text/rerank.json``.

``knowledge.search`` scores an FAQ as ``(1 - w) first stage + w match`` (:func:`kefu.knowledge.search.blend`):
the first stage mixes cosine, term coverage and character overlap (:func:`kefu.knowledge.search.first_stage`);
the match is the pair model's probability. The first pass set the first stage by hand (0.45 / 0.35 / 0.20),
and on question sets it was not tuned on, kefu's search recalled fewer right FAQs than a plain fusion.

Both are chosen here on the training sets only (``knowledge_data.train_sets``: the even-hash half of BQ,
AFQMC train, LCQMC dev; the held-out sets are never read). Each set becomes an FAQ base (the second
sentences) and its positive pairs' first sentences are the queries, exactly as in ``knowledge_quality.py``,
through kefu's own ``search.rank`` and ``search.score_hits``.

1. The first stage alone (``w = 0``), over a grid of weight triples summing to 1 (step GRID_STEP):
   5-fold cross-validation over the queries with the one-standard-error rule, toward the hand-set
   weights (:func:`kefu.knowledge.search.choose_first_stage`).
2. Then ``w`` starting from that first stage: among the grid weights that lose to it on no training set,
   neither in recall@5 nor in MRR@10, the smallest within one standard error of the best
   (:func:`kefu.knowledge.search.choose_match_weight`). So the re-rank starts from the best first stage
   found and loses to it on none of the training sets.

Run: ``python benchmarks/knowledge_train_rerank.py [--max-pairs N]`` (minutes: embeddings and the
candidates are cached under ``benchmarks/out``).
"""

from __future__ import annotations

import argparse
import json
import time
from multiprocessing import Pool

import numpy as np
from knowledge_data import ROOT, available, train_sets
from knowledge_quality import Query, product_candidates, product_figures, product_per_query

from kefu.knowledge.search import HAND_SET, Weights, choose_first_stage, choose_match_weight
from kefu.knowledge.text.embed import UseEmbedder

OUT = ROOT / "kefu" / "knowledge" / "text" / "rerank.json"
GRID = tuple(round(float(w), 2) for w in np.linspace(0.0, 1.0, 21))
GRID_STEP = 0.1


def triples(step: float) -> list[tuple[float, float, float]]:
    n = round(1 / step)
    return [
        (round(i * step, 2), round(j * step, 2), round((n - i - j) * step, 2))
        for i in range(n + 1)
        for j in range(n + 1 - i)
    ]


_cands: dict[str, list[Query]] = {}


def _share(cands: dict[str, list[Query]]) -> None:
    _cands.update(cands)


def _per_query_grid(job: tuple[str, list[Weights]]) -> list[tuple[list[float], list[float]]]:
    name, ws = job
    return [product_per_query(_cands[name], w) for w in ws]


def figures(hits5: list[float], rr: list[float]) -> tuple[float, float, float]:
    n = max(len(rr), 1)
    return sum(r == 1.0 for r in rr) / n, sum(hits5) / n, sum(rr) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-pairs", type=int, default=2000, help="first N pairs of each training set")
    parser.add_argument("--step", type=float, default=GRID_STEP, help="grid step of the first-stage weights")
    parser.add_argument("--jobs", type=int, default=2, help="processes scoring the grid")
    args = parser.parse_args()
    if not available():
        raise SystemExit("the zh-question-matching data is not here (set KEFU_QM_DATA)")
    embedder = UseEmbedder(threads=2)
    cands = {}
    for ps in train_sets():
        ps = ps.head(args.max_pairs)
        print(f"== {ps.name}: {len(ps)} pairs, {int(ps.labels.sum())} positive", flush=True)
        cands[ps.name] = product_candidates(embedder, ps)
    t0 = time.perf_counter()
    grid = triples(args.step)
    with Pool(args.jobs, initializer=_share, initargs=(cands,)) as pool:
        jobs = [(n, [Weights(*t, 0.0) for t in grid]) for n in cands]
        first_pq = dict(zip(cands, pool.map(_per_query_grid, jobs), strict=True))
        fs = choose_first_stage({n: dict(zip(grid, f, strict=True)) for n, f in first_pq.items()})
        print(f"first stage: chose cosine/terms/chars {fs} of {len(grid)} triples in {time.perf_counter() - t0:.0f}s")
        found = pool.map(_per_query_grid, [(n, [Weights(*fs, w) for w in GRID]) for n in cands])
    per_query = {n: dict(zip(GRID, f, strict=True)) for n, f in zip(cands, found, strict=True)}
    per_set: dict[str, dict[float, tuple[float, float, float]]] = {}
    for name in cands:
        per_set[name] = {w: figures(*per_query[name][w]) for w in GRID}
        hand = product_figures(cands[name], HAND_SET)
        print(f"  {name}: hand-set weights R@1 {hand[0]:.4f}  R@5 {hand[1]:.4f}  MRR@10 {hand[2]:.4f}")
        for w in GRID:
            r1, r5, mrr = per_set[name][w]
            print(f"  {name}: w={w:.2f}  R@1 {r1:.4f}  R@5 {r5:.4f}  MRR@10 {mrr:.4f}")
    weight = choose_match_weight(per_query)
    spec = {
        "first_stage": {"cosine": fs[0], "terms": fs[1], "chars": fs[2]},
        "match_weight": weight,
        "source": "benchmarks/knowledge_train_rerank.py",
        "chosen_on": [f"{name} (first {args.max_pairs} pairs)" for name in per_set],
        "rule": f"first stage: of the weight triples (step {args.step}, summing to 1) within one standard error"
        " (5 folds of each training set's queries) of the best mean (R@5 + MRR@10) / 2 at w = 0, the one"
        " nearest the hand-set 0.45/0.35/0.20; then w: the smallest grid weight losing to w = 0 on no training"
        " set whose mean (R@5 + MRR@10) / 2 is within one standard error of the best such weight's",
        "training": {
            name: {
                "hand-set": {"r5": round(hand[1], 4), "mrr10": round(hand[2], 4)},
                **{f"{w:.2f}": {"r5": round(f[w][1], 4), "mrr10": round(f[w][2], 4)} for w in (0.0, weight)},
            }
            for name, f in per_set.items()
            for hand in [product_figures(cands[name], HAND_SET)]
        },
    }
    OUT.write_text(json.dumps(spec, indent=2) + "\n", encoding="utf-8")
    print(f"chose first stage {fs}, match_weight {weight}; wrote {OUT}")


if __name__ == "__main__":
    main()
