"""The search index: full text in the database, embeddings in a per-process numpy matrix.

Full text. On SQLite an FTS5 table `knowledge_fts(title, body)` (rowid = article id) over the
two-character pieces of `segment.fts_pieces`; on PostgreSQL `knowledge_index.tsv` =
setweight(to_tsvector('simple', title pieces), 'A') || ... 'B' with a GIN index. Both are written
here, in the transaction that publishes / takes down a version (no triggers, so both dialects are
kept the same way and tested the same way).

Embeddings. `knowledge_index.embedding` holds the live version's vector as float32 bytes. Each
process keeps a `VectorCache` per database: the matrix of every live vector. Every index change
bumps `knowledge_index_state.seq` in the same transaction and stamps the changed row with it; a
search first reads that counter (one primary-key read) and loads only the rows changed since.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from kefu.knowledge.models import ARTICLE_KINDS, Article, ArticleVersion, IndexEntry, IndexState
from kefu.knowledge.text import embed, segment
from kefu.org import service as org

#: Characters of the body that go into an article's embedding (with title and tags): a sentence
#: encoder blurs long texts, and the opening of an article says what it is about.
EMBED_BODY_CHARS = 160
KIND_CODE = {k: i for i, k in enumerate(ARTICLE_KINDS)}


def embedder() -> embed.Embedder:
    return embed.get_embedder()


def embed_text(title: str, tags: Sequence[str], body: str) -> str:
    plain = segment.normalize(body, keep_punct=True)
    return f"{title} {' '.join(tags)} {plain[:EMBED_BODY_CHARS]}".strip()


def categories_field(keys: Iterable[str]) -> str:
    return " " + " ".join(keys) + " " if keys else " "


def dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def bump_seq(session: Session) -> int:
    return int(
        session.execute(
            update(IndexState)
            .where(IndexState.id == 1)
            .values(seq=IndexState.seq + 1)
            .returning(IndexState.seq)
        ).scalar_one()
    )


def write_fulltext(session: Session, article_id: int, title_pieces: str, body_pieces: str) -> None:
    if dialect(session) == "sqlite":
        session.execute(text("DELETE FROM knowledge_fts WHERE rowid = :id"), {"id": article_id})
        session.execute(
            text("INSERT INTO knowledge_fts(rowid, title, body) VALUES (:id, :t, :b)"),
            {"id": article_id, "t": title_pieces, "b": body_pieces},
        )
    elif dialect(session) == "postgresql":
        session.execute(
            text(
                "UPDATE knowledge_index SET tsv = setweight(to_tsvector('simple', :t), 'A') || "
                "setweight(to_tsvector('simple', :b), 'B') WHERE article_id = :id"
            ),
            {"id": article_id, "t": title_pieces, "b": body_pieces},
        )


def remove_fulltext(session: Session, article_id: int) -> None:
    if dialect(session) == "sqlite":
        session.execute(text("DELETE FROM knowledge_fts WHERE rowid = :id"), {"id": article_id})
    elif dialect(session) == "postgresql":
        session.execute(
            text("UPDATE knowledge_index SET tsv = NULL WHERE article_id = :id"), {"id": article_id}
        )


def index_version(session: Session, article: Article, v: ArticleVersion, *, at: datetime) -> IndexEntry:
    """Make `v` the searchable version of `article`: full text, the article's embedding and the
    title's own embedding (what the pair model compares a question with)."""
    emb = embedder()
    vectors = emb.encode([embed_text(v.title, v.tags, v.body), v.title])
    vector, title_vector = embed.to_bytes(vectors[0]), embed.to_bytes(vectors[1])
    unit_kind = org.org_unit(session, v.org_unit_id).kind
    seq = bump_seq(session)
    entry = session.get(IndexEntry, article.id)
    values: dict[str, Any] = dict(
        version=v.number,
        seq=seq,
        live=True,
        kind=v.kind,
        org_unit_id=v.org_unit_id,
        scope_path=article.scope_path,
        scope_kind=unit_kind,
        categories=categories_field(v.category_keys),
        tags=list(v.tags),
        valid_from=v.valid_from,
        valid_until=v.valid_until,
        title=v.title,
        title_pieces=segment.fts_pieces(" ".join([v.title, *v.tags])),
        body_pieces=segment.fts_pieces(v.body),
        embedding=vector,
        title_embedding=title_vector,
        embedder=emb.name,
        indexed_at=at,
    )
    if entry is None:
        entry = IndexEntry(article_id=article.id, **values)
        session.add(entry)
    else:
        for k, val in values.items():
            setattr(entry, k, val)
    session.flush()
    write_fulltext(session, article.id, entry.title_pieces, entry.body_pieces)
    return entry


def unindex(session: Session, article_id: int, *, at: datetime) -> None:
    entry = session.get(IndexEntry, article_id)
    if entry is None:
        return
    entry.live = False
    entry.seq = bump_seq(session)
    entry.indexed_at = at
    session.flush()
    remove_fulltext(session, article_id)


# ---- full-text candidates ---------------------------------------------------------------------

#: A term found in more documents than this is "common": ranking all its matches costs more than it
#: tells (bm25 / ts_rank are computed for every matching row), so common terms only narrow an AND.
COMMON_DF = 3000


def _phrases(query: str) -> list[tuple[str, str]]:
    """(FTS5 phrase, tsquery phrase) per query term, via the segment module's own builders."""
    out = []
    for term in segment.query_terms(query):
        f, t = segment.fts5_query(term), segment.tsquery(term)
        if f and t:
            out.append((f, t))
    return out


def fulltext_candidates(session: Session, query: str, limit: int) -> list[int]:
    """Article ids matching `query` in the database's full-text index (the final order is computed in
    Python; this only picks candidates).

    Selective terms (in at most COMMON_DF documents) are ORed and ranked by the database (bm25 on
    SQLite, ts_rank on PostgreSQL). Common terms are ANDed together and taken unranked: every row that
    has all of them is an equally good candidate, and the Python ranking orders them. So a query cost
    is bounded by COMMON_DF rows per term, whatever the corpus size.
    """
    phrases = _phrases(query)
    if not phrases:
        return []
    sqlite = dialect(session) == "sqlite"
    if not sqlite and dialect(session) != "postgresql":
        raise NotImplementedError(dialect(session))
    if sqlite:
        count_sql = (
            "SELECT count(*) FROM (SELECT 1 FROM knowledge_fts WHERE knowledge_fts MATCH :q LIMIT :cap)"
        )
        ranked_sql = (
            "SELECT rowid FROM knowledge_fts WHERE knowledge_fts MATCH :q "
            "ORDER BY bm25(knowledge_fts, 4.0, 1.0), rowid LIMIT :n"
        )
        plain_sql = "SELECT rowid FROM knowledge_fts WHERE knowledge_fts MATCH :q ORDER BY rowid LIMIT :n"
    else:
        count_sql = (
            "SELECT count(*) FROM (SELECT 1 FROM knowledge_index "
            "WHERE tsv @@ to_tsquery('simple', :q) LIMIT :cap) AS m"
        )
        ranked_sql = (
            "SELECT article_id FROM knowledge_index, to_tsquery('simple', :q) AS q "
            "WHERE tsv @@ q ORDER BY ts_rank(tsv, q) DESC, article_id LIMIT :n"
        )
        # No ORDER BY: the heap scan stops after :n rows (physical order, close to id order).
        plain_sql = "SELECT article_id FROM knowledge_index WHERE tsv @@ to_tsquery('simple', :q) LIMIT :n"
    pick = 0 if sqlite else 1
    selective: list[str] = []
    common: list[str] = []
    stats = None if sqlite else _pg_lexeme_stats(session)
    for ph in phrases:
        if stats is not None:
            # PostgreSQL: a GIN bitmap scan collects every match before any LIMIT, so counting a common
            # term costs 20-40 ms at 100k rows; the planner's lexeme statistics say the same for free.
            rows, freq = stats
            est = min(freq.get(p, 0.0) for p in _tsquery_lexemes(ph[1])) * rows
            (selective if est <= COMMON_DF else common).append(ph[pick])
            continue
        n = session.execute(text(count_sql), {"q": ph[pick], "cap": COMMON_DF + 1}).scalar_one()
        if n == 0:
            continue
        (selective if n <= COMMON_DF else common).append(ph[pick])
    out: dict[int, None] = {}
    if selective:
        joined = (" OR " if sqlite else " | ").join(selective if sqlite else [f"({p})" for p in selective])
        for (aid,) in session.execute(text(ranked_sql), {"q": joined, "n": limit}):
            out[int(aid)] = None
    if common:
        if sqlite:
            joined = " AND ".join(common)
        else:
            # Pieces without their phrase order: GIN answers that from the index alone (a phrase needs
            # every matching row read back to check positions); Python checks the phrase afterwards.
            lexemes = dict.fromkeys(x for p in common for x in _tsquery_lexemes(p))
            joined = " & ".join("'" + x.replace("\\", "\\\\").replace("'", "''") + "'" for x in lexemes)
        for (aid,) in session.execute(text(plain_sql), {"q": joined, "n": limit}):
            out[int(aid)] = None
    return list(out)


_LEXEME_RE = re.compile(r"'((?:[^']|'')*)'")
_pg_stats: dict[str, tuple[float, float, dict[str, float]]] = {}
#: Seconds the planner's lexeme frequencies are reused before being read again.
PG_STATS_TTL = 300.0
#: Below this many rows exact counts are cheap (and keep SQLite and PostgreSQL candidates identical).
PG_STATS_MIN_ROWS = 10 * COMMON_DF


def _tsquery_lexemes(tsq: str) -> list[str]:
    return [m.replace("''", "'") for m in _LEXEME_RE.findall(tsq)]


def _pg_lexeme_stats(session: Session) -> tuple[float, dict[str, float]] | None:
    """(rows, lexeme -> share of rows) from pg_stats for knowledge_index.tsv, or None when the table is
    small or has not been analysed (then exact counts are used)."""
    key = repr(getattr(session.get_bind(), "url", ""))
    now = time.monotonic()
    cached = _pg_stats.get(key)
    if cached is not None and now - cached[0] < PG_STATS_TTL:
        rows, freq = cached[1], cached[2]
    else:
        rows = float(
            session.execute(text("SELECT reltuples FROM pg_class WHERE relname = 'knowledge_index'")).scalar()
            or 0.0
        )
        freq = {}
        row = session.execute(
            text(
                "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
                "WHERE tablename = 'knowledge_index' AND attname = 'tsv'"
            )
        ).first()
        if row is not None and row[0] is not None:
            freq = {str(e): float(f) for e, f in zip(row[0], row[1], strict=False)}
        _pg_stats[key] = (now, rows, freq)
    if rows < PG_STATS_MIN_ROWS or not freq:
        return None
    return rows, freq


# ---- vectors ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Snapshot:
    ids: np.ndarray  # int64 article ids
    matrix: np.ndarray  # float32 (n, dim), zero rows where no usable vector
    live: np.ndarray  # bool
    kind: np.ndarray  # int8 codes
    until: np.ndarray  # float64 epoch seconds, +inf when open
    since: np.ndarray  # float64 epoch seconds, -inf when open
    basis: np.ndarray | None = None  # (dim, PCA_DIMS) projection for the first pass, large caches only
    reduced: np.ndarray | None = None  # matrix @ basis, float32 (n, PCA_DIMS)


def _epoch(dt: datetime | None, default: float) -> float:
    if dt is None:
        return default
    from kefu.core.clock import ensure_aware

    return ensure_aware(dt).timestamp()


#: Above this many vectors the cosine scan runs in two passes: a PCA projection to PCA_DIMS finds
#: RERANK_DEPTH candidates (a 512-d scan of 100k rows reads 200 MB: ~40 ms on 2 cores; 128-d ~10 ms),
#: then their exact cosines decide. Below it one exact pass is cheaper.
PCA_MIN_ROWS = 20_000
PCA_DIMS = 128
PCA_SAMPLE = 20_000
RERANK_DEPTH = 400


def _pca_basis(matrix: np.ndarray) -> np.ndarray:
    rows = np.flatnonzero(np.abs(matrix).sum(axis=1) > 0)
    if rows.size > PCA_SAMPLE:
        rows = np.random.default_rng(0).choice(rows, PCA_SAMPLE, replace=False)
    sample = matrix[rows].astype(np.float64)
    # Uncentred: cosines are dot products of the raw vectors, so keep the directions that carry them.
    _, _, vt = np.linalg.svd(sample, full_matrices=False)
    return np.ascontiguousarray(vt[:PCA_DIMS].T, dtype=np.float32)


class VectorCache:
    """Every indexed article's vector for one database, refreshed by the index change counter."""

    def __init__(self, dim: int, embedder_name: str) -> None:
        self.dim = dim
        self.embedder_name = embedder_name
        self.seq = -1
        self._lock = threading.Lock()
        self._rows: dict[int, int] = {}
        self._snap = _Snapshot(
            np.zeros(0, np.int64),
            np.zeros((0, dim), np.float32),
            np.zeros(0, bool),
            np.zeros(0, np.int8),
            np.zeros(0),
            np.zeros(0),
        )

    def refresh(self, session: Session) -> None:
        current = session.scalar(select(IndexState.seq).where(IndexState.id == 1)) or 0
        if current == self.seq:
            return
        with self._lock:
            if current == self.seq:
                return
            if current < self.seq:  # a different database behind the same URL: start over
                self.seq = -1
                self._rows = {}
                self._snap = _Snapshot(
                    np.zeros(0, np.int64),
                    np.zeros((0, self.dim), np.float32),
                    np.zeros(0, bool),
                    np.zeros(0, np.int8),
                    np.zeros(0),
                    np.zeros(0),
                )
            self._load(session, self.seq)

    def _load(self, session: Session, after: int) -> None:
        cols = (
            IndexEntry.article_id,
            IndexEntry.seq,
            IndexEntry.live,
            IndexEntry.kind,
            IndexEntry.valid_from,
            IndexEntry.valid_until,
            IndexEntry.embedding,
            IndexEntry.embedder,
        )
        q = select(*cols).where(IndexEntry.seq > after).order_by(IndexEntry.seq)
        snap = self._snap
        ids, live, kind = list(snap.ids), list(snap.live), list(snap.kind)
        until, since = list(snap.until), list(snap.since)
        new_vectors: list[tuple[int, np.ndarray]] = []
        top = after
        for aid, seq, is_live, k, vf, vu, blob, emb_name in session.execute(q):
            top = max(top, seq)
            vec = (
                embed.from_bytes(blob, self.dim)
                if blob is not None and emb_name == self.embedder_name
                else np.zeros(self.dim, np.float32)
            )
            row = self._rows.get(aid)
            if row is None:
                row = self._rows[aid] = len(ids)
                ids.append(aid)
                live.append(False)
                kind.append(0)
                until.append(np.inf)
                since.append(-np.inf)
            live[row] = bool(is_live)
            kind[row] = KIND_CODE.get(k, 0)
            until[row] = _epoch(vu, np.inf)
            since[row] = _epoch(vf, -np.inf)
            new_vectors.append((row, vec))
        matrix = snap.matrix
        if len(ids) > matrix.shape[0]:
            grown = np.zeros((len(ids), self.dim), np.float32)
            grown[: matrix.shape[0]] = matrix
            matrix = grown
        else:
            matrix = matrix.copy() if new_vectors else matrix
        for row, vec in new_vectors:
            matrix[row] = vec
        basis, reduced = snap.basis, snap.reduced
        if len(ids) >= PCA_MIN_ROWS:
            if basis is None or reduced is None or len(new_vectors) > len(ids) // 2:
                basis = _pca_basis(matrix)
                reduced = np.ascontiguousarray(matrix @ basis)
            else:
                if len(ids) > reduced.shape[0]:
                    grown_r = np.zeros((len(ids), basis.shape[1]), np.float32)
                    grown_r[: reduced.shape[0]] = reduced
                    reduced = grown_r
                else:
                    reduced = reduced.copy()
                for row, vec in new_vectors:
                    reduced[row] = vec @ basis
        else:
            basis = reduced = None
        self._snap = _Snapshot(
            np.asarray(ids, np.int64),
            matrix,
            np.asarray(live, bool),
            np.asarray(kind, np.int8),
            np.asarray(until, np.float64),
            np.asarray(since, np.float64),
            basis,
            reduced,
        )
        self.seq = top

    def vectors_of(self, article_ids: Sequence[int]) -> dict[int, np.ndarray]:
        snap = self._snap
        return {a: snap.matrix[self._rows[a]] for a in article_ids if a in self._rows}

    def top_k(
        self,
        qvec: np.ndarray,
        k: int,
        *,
        at: datetime,
        kinds: Sequence[str] | None = None,
        current_only: bool = False,
    ) -> list[tuple[int, float]]:
        snap = self._snap
        if snap.ids.size == 0:
            return []
        ts = at.timestamp()
        mask = snap.live & (snap.until >= ts)
        if current_only:
            mask &= snap.since <= ts
        if kinds:
            mask &= np.isin(snap.kind, [KIND_CODE[x] for x in kinds if x in KIND_CODE])
        rows = np.flatnonzero(mask)
        if rows.size == 0:
            return []
        if snap.basis is not None and snap.reduced is not None and rows.size > RERANK_DEPTH:
            rough = (snap.reduced @ (qvec @ snap.basis))[rows]
            depth = min(RERANK_DEPTH, rows.size)
            rows = rows[np.argpartition(-rough, depth - 1)[:depth]]
        sub = snap.matrix[rows] @ qvec if snap.basis is not None else (snap.matrix @ qvec)[rows]
        k = min(k, rows.size)
        part = np.argpartition(-sub, k - 1)[:k]
        part = part[np.lexsort((snap.ids[rows[part]], -sub[part]))]
        return [(int(snap.ids[rows[i]]), float(sub[i])) for i in part]


_caches: dict[str, VectorCache] = {}
_caches_lock = threading.Lock()


def cache_for(session: Session) -> VectorCache:
    emb = embedder()
    key = f"{getattr(session.get_bind(), 'url', '')!r}|{emb.name}"
    cache = _caches.get(key)
    if cache is None:
        with _caches_lock:
            cache = _caches.get(key)
            if cache is None:
                cache = _caches[key] = VectorCache(emb.dim, emb.name)
    cache.refresh(session)
    return cache
