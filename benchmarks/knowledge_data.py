"""Shared loaders for the knowledge benchmarks: zh-question-matching splits, embeddings, features.

The data lives in ``../shared/data/zh-question-matching`` (research-use licences: read it there,
never copy it into the repository). Splits:

- train: AFQMC ``train.txt``, LCQMC ``dev.txt``, the BQ half whose pair hash is even;
- evaluation: BQ odd-hash half, AFQMC ``dev.txt``, LCQMC ``test.txt`` (never used for fitting).

Embeddings are cached per embedder under ``benchmarks/out/`` (git-ignored).
"""

from __future__ import annotations

import csv
import hashlib
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kefu.knowledge.text.embed import Embedder  # noqa: E402
from kefu.knowledge.text.score import Analysed, analyse, pair_features  # noqa: E402

DATA = Path(os.environ.get("KEFU_QM_DATA", ROOT.parent / "shared" / "data" / "zh-question-matching"))
OUT = ROOT / "benchmarks" / "out"


@dataclass
class PairSet:
    name: str
    left: list[str]
    right: list[str]
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def head(self, n: int | None) -> PairSet:
        if n is None or n >= len(self):
            return self
        return PairSet(self.name, self.left[:n], self.right[:n], self.labels[:n])


def _tsv(path: Path) -> list[tuple[str, str, int]]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 3 and parts[2].strip() in {"0", "1"}:
                rows.append((parts[0], parts[1], int(parts[2])))
    return rows


def _bq(half: int) -> list[tuple[str, str, int]]:
    with (DATA / "bq_corpus" / "dev.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = [(r[0], r[1], int(r[2])) for r in csv.reader(fh) if len(r) >= 3 and r[2] in {"0", "1"}]
    return [r for r in rows if int(hashlib.md5(f"{r[0]}\t{r[1]}".encode()).hexdigest(), 16) % 2 == half]


def _make(name: str, rows: list[tuple[str, str, int]]) -> PairSet:
    return PairSet(name, [r[0] for r in rows], [r[1] for r in rows], np.array([r[2] for r in rows]))


def available() -> bool:
    return (DATA / "bq_corpus" / "dev.csv").exists()


def train_sets() -> list[PairSet]:
    return [
        _make("bq-train-half", _bq(0)),
        _make("afqmc-train", _tsv(DATA / "afqmc" / "train.txt")),
        _make("lcqmc-dev", _tsv(DATA / "lcqmc" / "dev.txt")),
    ]


def eval_sets() -> list[PairSet]:
    return [
        _make("bq-heldout-half", _bq(1)),
        _make("afqmc-dev", _tsv(DATA / "afqmc" / "dev.txt")),
        _make("lcqmc-test", _tsv(DATA / "lcqmc" / "test.txt")),
    ]


_vectors: dict[str, dict[str, np.ndarray]] = {}  # embedder name -> text -> vector, for this process


def embed_cached(embedder: Embedder, texts: list[str], tag: str) -> np.ndarray:
    """Vectors for ``texts``, cached in ``benchmarks/out/emb-<embedder>-<tag>.npz``."""
    OUT.mkdir(parents=True, exist_ok=True)
    unique = sorted(set(texts))
    digest = hashlib.md5("\n".join(unique).encode()).hexdigest()[:12]
    path = OUT / f"emb-{embedder.name}-{tag}-{digest}.npy"
    memo = _vectors.setdefault(embedder.name, {})
    if path.exists():
        vecs = np.load(path)
    else:
        missing = [t for t in unique if t not in memo]  # texts another tag already embedded are reused
        if missing:
            t0 = time.perf_counter()
            fresh = embedder.encode(missing)
            print(
                f"  embedded {len(missing)} texts with {embedder.name} in {time.perf_counter() - t0:.1f}s",
                flush=True,
            )
            memo.update(zip(missing, fresh, strict=True))
        vecs = np.vstack([memo[t] for t in unique]) if unique else np.zeros((0, embedder.dim), np.float32)
        np.save(path, vecs)
    memo.update(zip(unique, vecs, strict=True))
    pos = {t: i for i, t in enumerate(unique)}
    return vecs[[pos[t] for t in texts]]


def pair_cosines(embedder: Embedder, ps: PairSet) -> np.ndarray:
    va = embed_cached(embedder, ps.left + ps.right, ps.name)
    return np.einsum("ij,ij->i", va[: len(ps)], va[len(ps) :])


_analysed: dict[str, Analysed] = {}


def analysed(text: str) -> Analysed:
    found = _analysed.get(text)
    if found is None:
        found = _analysed[text] = analyse(text)
    return found


def features(ps: PairSet, cosines: np.ndarray, cache_tag: str | None = None) -> np.ndarray:
    """Pair features; cached under ``benchmarks/out`` when ``cache_tag`` is given (keyed by the
    source of the scoring and segmentation modules, so a code change recomputes)."""
    path = None
    if cache_tag is not None:
        text_dir = ROOT / "kefu" / "knowledge" / "text"
        code = b"".join((text_dir / f).read_bytes() for f in ("score.py", "segment.py", "telecom_dict.txt"))
        key = hashlib.md5(code + "\n".join(ps.left + ps.right).encode()).hexdigest()[:12]
        path = OUT / f"feat-{cache_tag}-{ps.name}-{len(ps)}-{key}.npy"
        if path.exists():
            return np.load(path)
    x = np.array(
        [
            pair_features(analysed(a), analysed(b), float(c))
            for a, b, c in zip(ps.left, ps.right, cosines, strict=True)
        ]
    )
    if path is not None:
        OUT.mkdir(parents=True, exist_ok=True)
        np.save(path, x)
    return x
