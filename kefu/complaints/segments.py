"""Customer segments for complaint handling (pure: numbers in, segments out; no database, no clock).

1. Correlation-based variable selection: variables are taken in priority order and one is dropped when its
   absolute Pearson correlation with a variable already kept exceeds `max_correlation` (it says the same
   thing twice and would weigh double in the distances); constant variables are dropped.
2. k-means on the standardised kept variables, the number of clusters chosen by two measures: the silhouette
   and the stability across resamples (mean adjusted Rand index between the clustering of a random 80% and
   the full clustering on the same customers). Among the k whose stability reaches `min_stability`, the one
   with the best silhouette; if none does, the most stable.
3. A profile in plain Chinese per segment (the variables that set it apart most) and a handling strategy:
   priority, compensation authority multiplier, recommended offer, from the segment's value, usage and
   complaint levels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

ROLES = ("value", "voice", "sms", "data", "complaints", "tenure", "other")


@dataclass(frozen=True)
class Variable:
    key: str
    name: str  # Chinese, for the profile
    role: str  # one of ROLES: what the handling strategy reads


@dataclass(frozen=True)
class Strategy:
    priority: str  # low / normal / high / urgent (the ticket priorities)
    authority_multiplier: float
    offer: str  # bill_credit / refund / data_pack / minutes / free_trial / gift_points


@dataclass(frozen=True)
class Segment:
    index: int
    size: int
    centroid_z: dict[str, float]  # kept variables, in standard deviations from the mean
    profile: str
    strategy: Strategy


@dataclass(frozen=True)
class Segmentation:
    variables: tuple[Variable, ...]
    kept: tuple[str, ...]
    dropped: dict[str, tuple[str, float]]  # dropped variable: (the kept one it duplicates, correlation)
    mean: np.ndarray
    std: np.ndarray
    centroids: np.ndarray  # in standardised units, over the kept variables
    k: int
    choice: list[tuple[int, float, float]]  # (k, silhouette, stability)
    segments: tuple[Segment, ...] = field(default=())

    def assign(self, rows: np.ndarray) -> np.ndarray:
        """The segment of each row (all variables, in `variables` order)."""
        idx = [i for i, v in enumerate(self.variables) if v.key in self.kept]
        z = (np.asarray(rows, dtype=np.float64)[:, idx] - self.mean) / self.std
        d = ((z[:, None, :] - self.centroids[None, :, :]) ** 2).sum(axis=2)
        out: np.ndarray = d.argmin(axis=1)
        return out


def select_variables(x: np.ndarray, variables: Sequence[Variable], max_correlation: float = 0.85
                     ) -> tuple[list[int], dict[str, tuple[str, float]]]:
    kept: list[int] = []
    dropped: dict[str, tuple[str, float]] = {}
    std = x.std(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):  # constant columns: dropped below
        corr = np.corrcoef(x, rowvar=False) if x.shape[0] > 1 else np.eye(x.shape[1])
    for j, v in enumerate(variables):
        if std[j] == 0:
            dropped[v.key] = ("(constant)", 0.0)
            continue
        twin = next((i for i in kept if abs(corr[i, j]) > max_correlation), None)
        if twin is None:
            kept.append(j)
        else:
            dropped[v.key] = (variables[twin].key, round(float(corr[twin, j]), 3))
    return kept, dropped


def _kmeans(z: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.cluster import KMeans

    m = KMeans(n_clusters=k, n_init=5, random_state=seed).fit(z)
    return m.labels_, m.cluster_centers_


def choose_k(z: np.ndarray, ks: Sequence[int] = range(2, 9), *, resamples: int = 8, min_stability: float = 0.8,
             seed: int = 0, sample: int = 2000) -> tuple[int, list[tuple[int, float, float]]]:
    from sklearn.metrics import adjusted_rand_score, silhouette_score

    rng = np.random.default_rng(seed)
    table = []
    for k in ks:
        if k >= len(z):
            break
        labels, _ = _kmeans(z, k, seed)
        n = min(sample, len(z))
        pick = rng.choice(len(z), n, replace=False)
        sil = float(silhouette_score(z[pick], labels[pick])) if len(set(labels[pick])) > 1 else 0.0
        aris = []
        for r in range(resamples):
            sub = rng.choice(len(z), int(0.8 * len(z)), replace=False)
            lab, _ = _kmeans(z[sub], k, seed + r + 1)
            aris.append(adjusted_rand_score(labels[sub], lab))
        table.append((k, round(sil, 4), round(float(np.mean(aris)), 4)))
    stable = [t for t in table if t[2] >= min_stability]
    best = max(stable, key=lambda t: t[1]) if stable else max(table, key=lambda t: t[2])
    return best[0], table


def strategy(z: dict[str, float], variables: Sequence[Variable]) -> Strategy:
    """Handling from the segment's levels (standard deviations from the average customer)."""
    def level(role: str) -> float:
        vals = [z[v.key] for v in variables if v.role == role and v.key in z]
        return float(np.mean(vals)) if vals else 0.0

    value, complaints = level("value"), level("complaints")
    if value > 0.5 and complaints > 0.5:
        priority = "urgent"
    elif value > 0.5 or complaints > 0.5:
        priority = "high"
    elif value < -0.5 and complaints <= 0:
        priority = "low"
    else:
        priority = "normal"
    multiplier = round(float(np.clip(1.0 + 0.5 * value, 0.5, 2.0)), 2)
    usage = {"voice": level("voice"), "sms": level("sms"), "data": level("data")}
    heavy = max(usage, key=lambda r: usage[r])
    if usage[heavy] > 0.5:
        offer = {"voice": "minutes", "sms": "gift_points", "data": "data_pack"}[heavy]
    elif value > 0.5:
        offer = "bill_credit"
    elif max(usage.values()) < -0.3:
        offer = "free_trial"
    else:
        offer = "gift_points"
    return Strategy(priority, multiplier, offer)


def profile(z: dict[str, float], variables: Sequence[Variable], top: int = 3) -> str:
    """The variables that set the segment apart most, in Chinese: "客户价值高、投诉多、在网时长短"."""
    names = {v.key: v.name for v in variables}
    order = sorted(z, key=lambda key: -abs(z[key]))[:top]
    parts = [f"{names[key]}{'高' if z[key] > 0 else '低'}（{z[key]:+.1f}σ）" for key in order if abs(z[key]) >= 0.3]
    return "、".join(parts) if parts else "各项接近平均"


def segment(rows: np.ndarray, variables: Sequence[Variable], *, ks: Sequence[int] = range(2, 9),
            max_correlation: float = 0.85, seed: int = 0) -> Segmentation:
    x = np.asarray(rows, dtype=np.float64)
    kept_idx, dropped = select_variables(x, variables, max_correlation)
    kept = [variables[i] for i in kept_idx]
    mean, std = x[:, kept_idx].mean(axis=0), x[:, kept_idx].std(axis=0)
    z = (x[:, kept_idx] - mean) / std
    k, table = choose_k(z, ks, seed=seed)
    labels, centroids = _kmeans(z, k, seed)
    segs = []
    for c in range(k):
        cz = {v.key: round(float(centroids[c, j]), 3) for j, v in enumerate(kept)}
        segs.append(Segment(c, int((labels == c).sum()), cz, profile(cz, kept), strategy(cz, kept)))
    return Segmentation(tuple(variables), tuple(v.key for v in kept), dropped, mean, std, centroids, k, table,
                        tuple(segs))
