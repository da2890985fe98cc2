"""The weights of search: the first stage's (cosine, term coverage, character overlap) and the pair model's
match, chosen on training question sets (the re-rank losing to the first stage it starts from on none of
them) and shipped with where they were chosen."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from kefu.knowledge.search import (
    Hit,
    QueryKind,
    Weights,
    blend,
    choose_first_stage,
    choose_match_weight,
    first_stage,
    match_weight,
    score_hits,
    weights,
)


def test_blend_mixes_first_stage_and_match_by_the_weight() -> None:
    assert blend(0.4, 0.9, 0.0) == 0.4  # the first stage alone
    assert blend(0.4, 0.9, 1.0) == 0.9  # the match alone
    assert blend(0.4, 0.8, 0.25) == pytest.approx(0.5)
    assert blend(0.4, 0.8) == pytest.approx((1 - match_weight()) * 0.4 + match_weight() * 0.8)


def test_the_shipped_weight_file_names_training_sets_only_and_its_weight_is_the_one_search_uses() -> None:
    raw = resources.files("kefu.knowledge.text").joinpath("rerank.json").read_text(encoding="utf-8")
    spec = json.loads(raw)
    assert 0.0 <= match_weight() == spec["match_weight"] <= 1.0
    fs = spec["first_stage"]
    assert (weights().cosine, weights().terms, weights().chars) == (fs["cosine"], fs["terms"], fs["chars"])
    assert fs["cosine"] + fs["terms"] + fs["chars"] == pytest.approx(1.0)
    assert spec["source"] == "benchmarks/knowledge_train_rerank.py"
    names = [c.split(" ")[0] for c in spec["chosen_on"]]
    assert names == ["bq-train-half", "afqmc-train", "lcqmc-dev"]  # never a held-out set
    for figures in spec["training"].values():  # on its training sets it does not lose to w = 0
        chosen, first = figures[f"{match_weight():.2f}"], figures["0.00"]
        assert chosen["r5"] >= first["r5"]
        assert chosen["mrr10"] >= first["mrr10"]


def queries(hits5: list[int], ranks: list[int]) -> tuple[list[float], list[float]]:
    """Per-query figures for a set: hit@5 and reciprocal rank (rank 0: not in the top 10)."""
    return [float(h) for h in hits5], [1.0 / r if r else 0.0 for r in ranks]


def test_a_weight_that_loses_to_the_first_stage_on_any_set_is_not_chosen() -> None:
    a = {
        0.0: queries([1, 0, 0, 0], [3, 0, 0, 0]),
        0.5: queries([1, 1, 0, 0], [1, 4, 0, 0]),
        1.0: queries([1, 1, 1, 1], [1, 1, 1, 1]),  # far better on a ...
    }
    b = {
        0.0: queries([1, 1, 0, 0], [2, 2, 0, 0]),
        0.5: queries([1, 1, 0, 0], [1, 2, 0, 0]),
        1.0: queries([1, 0, 0, 0], [1, 0, 0, 0]),  # ... but loses recall@5 on b
    }
    many = {name: {w: (h * 50, r * 50) for w, (h, r) in f.items()} for name, f in (("a", a), ("b", b))}
    assert choose_match_weight(many) == 0.5


def test_the_smallest_weight_within_one_standard_error_of_the_best_is_chosen() -> None:
    # 1.0 is best by one query in 8; the spread of the per-query figures makes 0.5 as good
    a = {
        0.0: queries([1, 1, 1, 0, 0, 0, 0, 0], [1, 2, 3, 0, 0, 0, 0, 0]),
        0.5: queries([1, 1, 1, 1, 0, 0, 0, 0], [1, 1, 3, 4, 0, 0, 0, 0]),
        1.0: queries([1, 1, 1, 1, 1, 0, 0, 0], [1, 1, 3, 4, 5, 0, 0, 0]),
    }
    assert choose_match_weight({"a": a}) == 0.5
    # with the same figures a thousand times over, the best one is clear and chosen
    big = {w: (h * 1000, r * 1000) for w, (h, r) in a.items()}
    assert choose_match_weight({"a": big}) == 1.0


def test_when_every_weight_loses_somewhere_the_first_stage_stays_alone() -> None:
    a = {0.0: queries([1, 1, 0], [1, 2, 0]), 1.0: queries([1, 0, 0], [1, 0, 0])}
    assert choose_match_weight({"a": a}) == 0.0
    with pytest.raises(ValueError, match="must include 0"):
        choose_match_weight({"a": {1.0: queries([1], [1])}})


def test_the_first_stage_mixes_cosine_terms_and_characters_by_the_weights() -> None:
    w = Weights(0.5, 0.3, 0.2, 0.0)
    assert first_stage(0.8, 0.5, 1.0, w) == pytest.approx(0.4 + 0.15 + 0.2)
    assert first_stage(0.8, 0.5, 1.0, Weights(1.0, 0.0, 0.0, 0.0)) == pytest.approx(0.8)


def faq(aid: int, kind: str = "faq") -> Hit:
    return Hit(aid, 1, kind, "", 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, [], [], None, "group")


def test_score_hits_lets_the_match_reorder_faqs_and_orders_ties_by_id() -> None:
    hits = [faq(1), faq(2), faq(3, "business")]
    score_hits(hits, [0.6, 0.5, 0.55], {1: 0.1, 2: 0.9}, QueryKind(True, True), Weights(0.45, 0.35, 0.2, 0.5))
    # FAQ 2: 0.5*0.5+0.5*0.9 = 0.70; the business article keeps its first stage 0.55; FAQ 1: 0.35
    assert [(h.article_id, h.score) for h in hits] == [(2, 0.7), (3, 0.55), (1, 0.35)]
    same = [faq(5), faq(4)]
    score_hits(same, [0.5, 0.5], {4: 0.5, 5: 0.5}, QueryKind(True, True), Weights(0.45, 0.35, 0.2, 0.5))
    assert [h.article_id for h in same] == [4, 5]


def test_a_keyword_query_is_never_sunk_by_the_match_and_a_query_without_chinese_keeps_its_first_stage() -> None:
    hits = [faq(1), faq(2)]
    score_hits(hits, [0.6, 0.5], {1: 0.1, 2: 0.2}, QueryKind(True, False), Weights(0.45, 0.35, 0.2, 0.5))
    assert [(h.article_id, h.match) for h in hits] == [(1, 0.6), (2, 0.5)]
    hits = [faq(1), faq(2)]
    score_hits(hits, [0.5, 0.6], {1: 0.9, 2: 0.1}, QueryKind(False, False), Weights(0.45, 0.35, 0.2, 0.5))
    assert [(h.article_id, h.score) for h in hits] == [(2, 0.6), (1, 0.5)]


def test_the_first_stage_triple_within_one_standard_error_nearest_the_hand_set_one_is_chosen() -> None:
    hand = (0.45, 0.35, 0.2)
    # (0.8, 0.1, 0.1) finds one more query in 10 on one fold: inside the folds' noise
    noisy = {
        hand: queries([1, 1, 0, 1, 0, 1, 0, 1, 0, 0], [1, 2, 0, 1, 0, 1, 0, 1, 0, 0]),
        (0.8, 0.1, 0.1): queries([1, 1, 1, 1, 0, 1, 0, 1, 0, 0], [1, 2, 1, 1, 0, 1, 0, 1, 0, 0]),
        (0.0, 0.0, 1.0): queries([0] * 10, [0] * 10),
    }
    assert choose_first_stage({"a": noisy}, near=hand) == hand
    # better on every fold: chosen
    clear = {
        hand: queries([1, 0, 1, 0, 1, 0, 1, 0, 1, 0], [1, 0, 1, 0, 1, 0, 1, 0, 1, 0]),
        (0.8, 0.1, 0.1): queries([1] * 10, [1] * 10),
    }
    assert choose_first_stage({"a": clear, "b": clear}, near=hand) == (0.8, 0.1, 0.1)
    with pytest.raises(ValueError, match="two folds"):
        choose_first_stage({"a": clear}, folds=1)
