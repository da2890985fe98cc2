"""Knowledge gaps: searches that found nothing useful, grouped into topics for the back office.

A logged search is a gap when it returned nothing, when its best score stayed under
`search.GAP_SCORE`, or when the agent neither opened a result nor marked one helpful within
SESSION_MINUTES. Gap queries are grouped by average-linkage agglomerative clustering over
a similarity of half embedding cosine, half shared search terms (cut at TOPIC_SIMILARITY);
each topic is named by its most central query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from kefu.core.auth import Principal
from kefu.core.clock import utcnow
from kefu.knowledge import index
from kefu.knowledge.models import SearchLog
from kefu.knowledge.search import GAP_SCORE
from kefu.knowledge.text import embed

SESSION_MINUTES = 30
#: Queries whose average similarity (see `similarity`) reaches this are one topic.
TOPIC_SIMILARITY = 0.35
MAX_QUERIES = 2000


@dataclass
class Topic:
    label: str
    count: int
    users: int
    examples: list[str]
    last_at: datetime
    search_ids: list[int]


def gap_condition(at: datetime) -> ColumnElement[bool]:
    return or_(
        SearchLog.result_count == 0,
        SearchLog.top_score < GAP_SCORE,
        (SearchLog.useful_at.is_(None)) & (SearchLog.at <= at - timedelta(minutes=SESSION_MINUTES)),
    )


def gap_searches(session: Session, principal: Principal, *, since: datetime, at: datetime) -> list[SearchLog]:
    from kefu.org import service as org

    units = org.visible_unit_ids(session, principal)
    return list(
        session.scalars(
            select(SearchLog)
            .where(
                SearchLog.at >= since,
                SearchLog.at <= at,
                SearchLog.source == "search",
                SearchLog.useful_at.is_(None),
                gap_condition(at),
                SearchLog.org_unit_id.in_(units),
            )
            .order_by(SearchLog.at.desc(), SearchLog.id.desc())
            .limit(MAX_QUERIES)
        )
    )


def similarity(vectors: np.ndarray, queries: list[str]) -> np.ndarray:
    """Pairwise similarity of queries: half embedding cosine, half IDF-weighted containment of their
    search terms. The cosine alone (USE) puts unrelated short questions at 0.5 and paraphrases with
    one shared rare term (充电桩报装流程 / 小区充电桩安装) at 0.4; shared terms separate them."""
    from scipy import sparse

    from kefu.knowledge.search import _term_weight
    from kefu.knowledge.text import segment

    vocab: dict[str, int] = {}
    rows, cols = [], []
    for i, q in enumerate(queries):
        for t in set(segment.query_terms(q)):
            rows.append(i)
            cols.append(vocab.setdefault(t, len(vocab)))
    n = len(queries)
    weights = np.zeros(len(vocab))
    for t, j in vocab.items():
        weights[j] = _term_weight(t)
    b = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, len(vocab)))
    inter = (b @ sparse.diags(weights) @ b.T).toarray()
    sums = np.asarray(b @ weights).reshape(-1)
    smaller = np.minimum.outer(sums, sums)
    contain = np.divide(inter, smaller, out=np.zeros_like(inter), where=smaller > 0)
    cos = vectors.astype(np.float64) @ vectors.T.astype(np.float64)
    return np.asarray(0.5 * cos + 0.5 * contain, dtype=np.float64)


def cluster(sim: np.ndarray, threshold: float) -> list[int]:
    """Average-linkage clusters of a similarity matrix cut at `threshold`; labels 0..k-1 in order of
    first appearance."""
    n = sim.shape[0]
    if n == 0:
        return []
    if n == 1:
        return [0]
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    dist = np.clip(1.0 - sim, 0.0, 2.0)
    np.fill_diagonal(dist, 0.0)
    dist = (dist + dist.T) / 2
    raw = fcluster(
        linkage(squareform(dist, checks=False), method="average"), t=1.0 - threshold, criterion="distance"
    )
    relabel: dict[int, int] = {}
    return [relabel.setdefault(int(c), len(relabel)) for c in raw]


def topics(
    session: Session, principal: Principal, *, days: int = 30, at: datetime | None = None, limit: int = 50
) -> list[Topic]:
    at = at or utcnow()
    rows = gap_searches(session, principal, since=at - timedelta(days=days), at=at)
    if not rows:
        return []
    emb = index.embedder()
    missing = [r for r in rows if r.vector is None or r.embedder != emb.name]
    fresh = emb.encode([r.query for r in missing]) if missing else np.zeros((0, emb.dim), np.float32)
    by_id = {r.id: v for r, v in zip(missing, fresh, strict=True)}
    vectors = np.vstack(
        [by_id[r.id] if r.id in by_id else embed.from_bytes(r.vector or b"", emb.dim) for r in rows]
    )
    labels = cluster(similarity(vectors, [r.query for r in rows]), TOPIC_SIMILARITY)
    groups: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        groups.setdefault(label, []).append(i)
    out = []
    for members in groups.values():
        sub = vectors[members]
        centre = sub.mean(axis=0)
        medoid = members[int(np.argmax(sub @ centre))]
        examples = list(dict.fromkeys(rows[i].query for i in members))
        out.append(
            Topic(
                label=rows[medoid].query,
                count=len(members),
                users=len({rows[i].user_id for i in members}),
                examples=examples[:5],
                last_at=max(rows[i].at for i in members),
                search_ids=[rows[i].id for i in members],
            )
        )
    out.sort(key=lambda t: (-t.count, -t.last_at.timestamp(), t.label))
    return out[:limit]
