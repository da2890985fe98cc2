"""Pure text core of the knowledge base: segmentation, full-text queries, embeddings and scores.

No database and no I/O beyond reading the package's own data files. Modules:

- :mod:`kefu.knowledge.text.segment`: normalisation, jieba with the telecom dictionary, FTS pieces
  and query builders for SQLite FTS5 and PostgreSQL ``tsquery``.
- :mod:`kefu.knowledge.text.embed`: sentence embeddings (USE multilingual, offline fallback),
  bytes round-trip, cosine top-k.
- :mod:`kefu.knowledge.text.score`: the learned pair score (FAQ match, duplicate tickets) and the
  hybrid ``rank`` for FAQ retrieval.
"""
