"""Training and evaluating the intake classifier (scikit-learn; used by `kefu complaints retrain` and
`kefu bench classify`, never when classifying).

Data: the dialogues of ../shared/data/stc3-weibo-helpdesk-zh labelled by hand (data/stc3_labels.tsv: ids and
labels only) plus the agents' confirmations and corrections kept in the database. The labelled dialogues are
split once and for all by a hash of their id: a quarter is held out for `kefu bench classify` and never used
to train or tune. Everything tuned (the regularisation, the temperature, the thresholds, the type head's
threshold for a complaint that voices no grievance) is chosen by cross-validation inside the training part.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from kefu.complaints import features
from kefu.complaints.classifier import type_applies, type_given_category
from kefu.complaints.labels import CATEGORIES, TYPES, grievance_terms

DATASET = "stc3-weibo-helpdesk-zh"
LABELS_RESOURCE = "data/stc3_labels.tsv"
RELABEL_RESOURCE = "data/stc3_relabel.tsv"
TARGET_PRECISION = 0.90  # what an applied prediction should achieve: a product choice, not fitted
C_GRID = (0.1, 0.3, 1.0, 3.0)
FOLDS = 5
SEED = 11
MIN_DF = 2


@dataclass(frozen=True)
class Example:
    key: str  # "stc3:<dialogue id>" or "ticket:<id>"
    text: str
    type: str
    category: str
    escalation: bool | None = None
    pool: str = "sequential"


def default_data_dir() -> Path | None:
    """../shared/data beside the project or one of its parents (a worktree sits one level deeper)."""
    import kefu

    for root in (Path(kefu.__file__).resolve().parents[1], Path.cwd().resolve()):
        for ancestor in root.parents[:3]:
            candidate = ancestor / "shared" / "data"
            if (candidate / DATASET).is_dir():
                return candidate
    return None


def held_out(key: str) -> bool:
    """A quarter of the labelled dialogues, fixed by the id: adding labels never moves one across."""
    return hashlib.sha1(key.encode()).digest()[0] % 4 == 0


def _tsv(resource: str) -> list[list[str]]:
    raw = resources.files(__package__).joinpath(resource).read_text(encoding="utf-8")
    rows = [line.split("\t") for line in raw.splitlines() if line and not line.startswith("#")]
    return rows[1:]  # the header


def customer_text(dialogue: dict[str, Any]) -> str:
    """What the customer wrote, turn after turn (the helpdesk's turns are left out)."""
    return "\n".join(u for turn in dialogue["turns"] if turn["sender"] == "customer" for u in turn["utterances"])


def load_dialogues(data_dir: Path) -> dict[str, str]:
    with (data_dir / DATASET / "dialogues_cn.json").open(encoding="utf-8") as f:
        return {str(d["id"]): customer_text(d) for d in json.load(f)}


def labelled(data_dir: Path) -> list[Example]:
    texts = load_dialogues(data_dir)
    return [Example(f"stc3:{r[0]}", texts[r[0]], r[1], r[2], r[3] == "1", r[4] if len(r) > 4 else "sequential")
            for r in _tsv(LABELS_RESOURCE) if r[0] in texts]


def relabelled() -> dict[str, tuple[str, str, bool]]:
    return {f"stc3:{r[0]}": (r[1], r[2], r[3] == "1") for r in _tsv(RELABEL_RESOURCE)}


# ---- fitting ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Recipe:
    """How a model is trained. The defaults are the shipped recipe; `BASELINE` is the one shipped before
    (December 2026, third round), kept so that `kefu bench classify` can train both on the same dialogues and
    compare."""

    grievance_feature: bool = True  # features.terms(grievance=True)
    type_other_by_category: bool = True  # classifier.type_given_category
    type_c_by_accuracy: bool = True  # the type head's C chosen by accuracy (its goal), not macro-F1
    asking_feature: bool = True  # features.terms(asking=True): question and request markers
    keyword_feature: bool = True  # features.terms(keywords=True): the guide's category words as markers
    first_line_feature: bool = True  # features.terms(first_line=True): how the customer's first line opens
    word_feature: bool = True  # features.terms(words=features.telecom_words()): whole telecom words


SHIPPED = Recipe()
BASELINE = Recipe(first_line_feature=False, word_feature=False)
NEAR_DUPLICATE = 0.6  # cosine of character 3-gram TF-IDF (masked digits ignored) at which two texts are one group
_MASK = re.compile(r"\*+")


def near_duplicate_groups(texts: Sequence[str], threshold: float = NEAR_DUPLICATE) -> list[int]:
    """A group number per text: texts whose character 3-gram TF-IDF cosine reaches `threshold` (directly or
    through others) share one, so cross-validation never puts a near-duplicate on both sides of a split.
    Masked digits (`****`) are left out: they made unrelated order-number messages look alike."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    cleaned = [_MASK.sub("", t) for t in texts]
    parent = list(range(len(texts)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    if any(c.strip() for c in cleaned):
        m = TfidfVectorizer(analyzer="char", ngram_range=(3, 3)).fit_transform(cleaned)
        sim = (m @ m.T).tocoo()
        for i, j, v in zip(sim.row, sim.col, sim.data, strict=True):
            if i < j and v >= threshold:
                parent[root(int(i))] = root(int(j))
    return [root(i) for i in range(len(texts))]


def _vectorizer(recipe: Recipe = SHIPPED) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    asking = recipe.asking_feature or recipe.keyword_feature
    analyzer = functools.partial(features.terms, grievance=recipe.grievance_feature or asking, asking=asking,
                                 keywords=recipe.keyword_feature, first_line=recipe.first_line_feature,
                                 words=features.telecom_words() if recipe.word_feature else ())
    return TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, min_df=MIN_DF, dtype=np.float32)


def _svc(c: float) -> Any:
    from sklearn.svm import LinearSVC

    return LinearSVC(C=c, class_weight="balanced", random_state=SEED)


def _without_topic_terms(vec: Any, x: Any) -> Any:
    """`x` with the columns of the category markers (`<k:...>`, features.terms(keywords=True)) and of the telecom
    words (`<w:...>`, features.terms(words=...)) set to zero: the type head never learns from them. They say what a
    text is about, not what kind of text it is; learnt by the type head the markers acted as a topic prior (billing
    texts are nearly all complaints, so 「查一下话费」 became a complaint sure enough to be applied), and the words did
    the same (「查一下话费」 a complaint at 0.88, above the no-grievance threshold) for no gain in type accuracy
    (docs/complaints.md)."""
    from scipy import sparse

    names = vec.get_feature_names_out()
    keep = np.asarray([0.0 if str(t).startswith(("<k:", features.WORD)) else 1.0 for t in names], dtype=np.float32)
    return x @ sparse.diags(keep)


def _cv_scores(texts: list[str], y: list[str], c: float, classes: list[str], groups: Sequence[int],
               recipe: Recipe = SHIPPED, *, category_markers: bool = True) -> np.ndarray:
    """Decision scores of each text from a model that did not see it nor any near-duplicate of it
    (vectoriser refitted per fold; `category_markers` False: the columns of the category markers and telecom words
    zeroed, as for the type head)."""
    from sklearn.model_selection import StratifiedGroupKFold

    counts = {k: y.count(k) for k in set(y)}
    splits = max(2, min(FOLDS, max(2, min(counts.values())), len(set(groups))))
    folds = StratifiedGroupKFold(n_splits=splits, shuffle=True, random_state=SEED)
    out = np.zeros((len(texts), len(classes)), dtype=np.float64)
    ya = np.asarray(y)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # classes rarer than the folds
        for tr, te in folds.split(texts, ya, groups):
            vec = _vectorizer(recipe)
            a = vec.fit_transform([texts[i] for i in tr])
            b = vec.transform([texts[i] for i in te])
            if not category_markers:
                a, b = _without_topic_terms(vec, a), _without_topic_terms(vec, b)
            m = _svc(c).fit(a, ya[tr])
            s = m.decision_function(b)
            if s.ndim == 1:
                s = np.stack([-s, s], axis=1)
            fold_classes = list(m.classes_)
            block = np.full((len(te), len(classes)), -10.0)
            for j, k in enumerate(fold_classes):
                block[:, classes.index(k)] = s[:, j]
            out[te] = block
    return out


def _softmax(s: np.ndarray, t: float) -> np.ndarray:
    z = s / t
    z = np.exp(z - z.max(axis=1, keepdims=True))
    p: np.ndarray = z / z.sum(axis=1, keepdims=True)
    return p


def _temperature(scores: np.ndarray, y_idx: np.ndarray) -> float:
    """The softmax temperature that makes cross-validated scores the most likely (log loss)."""
    best, best_t = math.inf, 1.0
    for t in np.geomspace(0.05, 5.0, 60):
        p = _softmax(scores, float(t))[np.arange(len(y_idx)), y_idx]
        loss = -float(np.mean(np.log(np.clip(p, 1e-9, 1.0))))
        if loss < best:
            best, best_t = loss, float(t)
    return best_t


def _threshold(conf: np.ndarray, right: np.ndarray, target: float) -> float:
    """The lowest confidence above which cross-validated predictions are right at least `target` of the time
    (1.0, nothing applied, when no threshold reaches it)."""
    order = np.argsort(-conf)
    hits = np.cumsum(right[order])
    n = np.arange(1, len(order) + 1)
    ok = np.nonzero(hits / n >= target)[0]
    # the largest prefix that still meets the target, and at least 10 predictions in it
    ok = ok[ok >= 9]
    if len(ok) == 0:
        return 1.0
    return float(conf[order[ok[-1]]])


@dataclass(frozen=True)
class HeadFit:
    classes: list[str]
    c: float
    temperature: float
    threshold: float
    cv_macro_f1: float
    cv_accuracy: float
    cv_coverage: float  # share of the training texts a threshold would apply
    cv_applied_precision: float
    # type head: the threshold for a complaint whose text has no grievance word (see _without_grievance)
    threshold_without_grievance: float | None = None
    cv_probabilities: np.ndarray | None = None  # (texts, classes), what the thresholds were chosen on


def _without_grievance(texts: list[str], classes: list[str], pred: np.ndarray, conf: np.ndarray,
                       right: np.ndarray, target: float) -> float:
    """The threshold for applying "complaint" to a text that voices no grievance (labels.grievance_terms),
    chosen like the head's own (`_threshold`) but on those cross-validated predictions only. The training
    dialogues are mostly complaints, so the model leans to "complaint" for a text with little to go on ("查一下
    话费"); the guide says a complaint needs a grievance. Such texts must earn the label by confidence."""
    if "complaint" not in classes:
        return 1.0
    k = classes.index("complaint")
    rows = np.asarray([i for i, t in enumerate(texts) if pred[i] == k and not grievance_terms(t)], dtype=np.int64)
    if len(rows) == 0:
        return 1.0
    return _threshold(conf[rows], right[rows], target)


def _fit_head(texts: list[str], y: list[str], order: Sequence[str], target: float,
              log: Callable[[str], None], *, groups: Sequence[int], recipe: Recipe = SHIPPED,
              by_accuracy: bool = False, category_markers: bool = True,
              adjust: Callable[[np.ndarray, list[str]], np.ndarray] | None = None) -> HeadFit:
    """C chosen by cross-validated macro-F1 (or accuracy), the temperature, the thresholds; `adjust` turns the
    cross-validated probabilities into the ones the classifier will give (the type head: type_given_category)."""
    from sklearn.metrics import accuracy_score, f1_score

    classes = [k for k in order if k in set(y)]
    yi = np.asarray([classes.index(k) for k in y])
    best: tuple[float, float, float, np.ndarray] | None = None
    for c in C_GRID:
        s = _cv_scores(texts, y, c, classes, groups, recipe, category_markers=category_markers)
        t = _temperature(s, yi)
        p = _softmax(s, t)
        if adjust is not None:
            p = adjust(p, classes)
        f1 = float(f1_score(yi, p.argmax(axis=1), average="macro"))
        acc = float(accuracy_score(yi, p.argmax(axis=1)))
        log(f"  C={c:<4} cross-validated macro-F1 {f1:.3f}, accuracy {acc:.3f}")
        key = acc if by_accuracy else f1
        if best is None or key > best[0]:
            best = (key, c, t, p)
    assert best is not None
    _, c, t, p = best
    pred, conf = p.argmax(axis=1), p.max(axis=1)
    f1 = float(f1_score(yi, pred, average="macro"))
    right = (pred == yi).astype(np.float64)
    th = _threshold(conf, right, target)
    th_plain = None
    applied = conf >= th
    if "complaint" in classes and "inquiry" in classes:  # the type head
        th_plain = max(th, _without_grievance(texts, classes, pred, conf, right, target))
        applied = np.asarray([type_applies(classes[k], float(p_), th, bool(grievance_terms(x)), th_plain)
                              for k, p_, x in zip(pred, conf, texts, strict=True)], dtype=bool)
    return HeadFit(classes, c, t, th, f1, float(accuracy_score(yi, pred)), float(applied.mean()),
                   float(right[applied].mean()) if applied.any() else 0.0, th_plain, p)


def fit(examples: Sequence[Example], *, target_precision: float = TARGET_PRECISION, recipe: Recipe = SHIPPED,
        log: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Train the model on `examples` and return it as the JSON document `classifier.Model` reads."""
    texts = [e.text for e in examples]
    groups = near_duplicate_groups(texts)
    heads: dict[str, Any] = {}
    fits: dict[str, HeadFit] = {}
    vec = _vectorizer(recipe)
    x = vec.fit_transform(texts)
    vocabulary = vec.get_feature_names_out().tolist()
    adjust: Callable[[np.ndarray, list[str]], np.ndarray] | None = None
    # the category head first: with `type_other_by_category` its cross-validated probability of "other"
    # decides the type head's complaint-or-other, as it will when classifying
    for name, order in (("category", CATEGORIES), ("type", TYPES)):
        y = [getattr(e, name) for e in examples]
        log(f"{name}:")
        hf = _fit_head(texts, y, order, target_precision, log, groups=groups, recipe=recipe,
                       by_accuracy=name == "type" and recipe.type_c_by_accuracy,
                       category_markers=name == "category", adjust=adjust if name == "type" else None)
        fits[name] = hf
        if name == "category" and recipe.type_other_by_category and "other" in hf.classes:
            assert hf.cv_probabilities is not None
            p_other = hf.cv_probabilities[:, hf.classes.index("other")]

            def adjust(p: np.ndarray, classes: list[str], p_other: np.ndarray = p_other) -> np.ndarray:
                return type_given_category(p, classes, p_other)

        m = _svc(hf.c).fit(x if name == "category" else _without_topic_terms(vec, x), np.asarray(y))
        coef = m.coef_ if len(m.classes_) > 2 else np.vstack([-m.coef_[0], m.coef_[0]])
        intercept = m.intercept_ if len(m.classes_) > 2 else np.array([-m.intercept_[0], m.intercept_[0]])
        heads[name] = {"classes": list(m.classes_), "coef": coef, "intercept": intercept,
                       "temperature": hf.temperature, "threshold": hf.threshold}
        if hf.threshold_without_grievance is not None:
            heads[name]["threshold_without_grievance"] = hf.threshold_without_grievance
    heads = {"type": heads["type"], "category": heads["category"]}
    # drop terms no head leans on (keeps the file small; their score contribution is below 1e-4)
    weight = np.max(np.vstack([np.abs(h["coef"]) for h in heads.values()]), axis=0)
    keep = np.nonzero(weight >= 1e-3)[0]
    for h in heads.values():
        h["coef"] = np.round(h["coef"][:, keep], 4).tolist()
        h["intercept"] = np.round(h["intercept"], 4).tolist()
    idf = np.round(vec.idf_[keep], 4).tolist()
    pools: dict[str, int] = {}
    for e in examples:
        pools[e.pool] = pools.get(e.pool, 0) + 1
    return {
        "format": 1,
        "features": {"grievance_marker": recipe.grievance_feature or recipe.asking_feature or recipe.keyword_feature,
                     **({"asking_marker": True} if recipe.asking_feature or recipe.keyword_feature else {}),
                     **({"keyword_marker": True} if recipe.keyword_feature else {}),
                     **({"first_line_marker": True} if recipe.first_line_feature else {}),
                     **({"telecom_words": True} if recipe.word_feature else {})},
        "type_other_by_category": recipe.type_other_by_category and adjust is not None,
        "trained_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "trained_on": {"examples": len(examples), "pools": pools},
        "near_duplicates": sum(1 for g in groups if groups.count(g) > 1),  # texts grouped with another
        "target_precision": target_precision,
        "cross_validation": {k: {"C": f.c, "macro_f1": round(f.cv_macro_f1, 4),
                                 "accuracy": round(f.cv_accuracy, 4), "coverage": round(f.cv_coverage, 4),
                                 "applied_precision": round(f.cv_applied_precision, 4),
                                 "temperature": round(f.temperature, 4), "threshold": round(f.threshold, 4),
                                 **({"threshold_without_grievance": round(f.threshold_without_grievance, 4)}
                                    if f.threshold_without_grievance is not None else {})}
                             for k, f in fits.items()},
        "vocabulary": [vocabulary[i] for i in keep],
        "idf": idf,
        "heads": heads,
    }


def write(model: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(model, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


def package_model_path() -> Path:
    return Path(str(resources.files(__package__).joinpath("model.json")))
