"""Classification at intake: a customer's text → type, first-level category and escalation risk, each with a
confidence, and whether it is sure enough to be applied to the ticket.

Pure: no database, no clock. The model (`model.json`, shipped in this package) is written by
`kefu complaints retrain` (kefu/complaints/training.py): TF-IDF over character n-grams and one linear model
per head, its scores turned into probabilities by a softmax with a temperature fitted on cross-validated
scores, and a threshold per head chosen on the training folds so that what is applied is right at least
`target_precision` of the time. Below the threshold the prediction is only suggested to the agent. A complaint
whose text voices no grievance (labels.grievance_terms) has a higher threshold of its own, chosen the same way
on those texts: the training dialogues are mostly complaints, and a short question ("查一下话费") otherwise
came out a confident complaint on the strength of that prior alone.
"""

from __future__ import annotations

import gc
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from kefu.complaints import features
from kefu.complaints.labels import TICKET_TYPE_OF, escalation_terms, grievance_terms

MODEL_RESOURCE = "model.json"
MODEL_FORMAT = 1


def type_applies(type_: str, confidence: float, threshold: float, voices_grievance: bool,
                 threshold_without_grievance: float | None) -> bool:
    """Whether a predicted type is sure enough to be applied: the one rule, used when classifying
    (`Prediction.type_applies`), when choosing thresholds (training.py) and when measuring (bench.py).

    At or above the head's `threshold`; and a complaint whose text voices no grievance (labels.grievance_terms:
    "查一下话费") also at or above `threshold_without_grievance` when the model has one."""
    if confidence < threshold:
        return False
    if type_ == "complaint" and not voices_grievance and threshold_without_grievance is not None:
        return confidence >= threshold_without_grievance
    return True


def type_given_category(type_probs: np.ndarray, type_classes: Sequence[str],
                        category_other: float | np.ndarray) -> np.ndarray:
    """The type head's probabilities with "other" (not about an operator or a device, the guide) decided by the
    category head: the mass the type head gives to complaint and other together is split between them by the
    category head's probability of "other". The category head sees far more examples of what is and is not
    about an operator (every labelled category), and the two labels almost always agree (a type "other" is a
    category "other"; docs/complaints.md). Used by training (on cross-validated probabilities, before the
    thresholds are chosen) and by `Model.classify`, so both apply the same rule."""
    if "complaint" not in type_classes or "other" not in type_classes:
        return type_probs
    out = np.array(type_probs, dtype=np.float64, copy=True)
    c, o = type_classes.index("complaint"), type_classes.index("other")
    mass = out[..., c] + out[..., o]
    out[..., o] = mass * category_other
    out[..., c] = mass * (1.0 - category_other)
    return out


class ModelMissing(RuntimeError):
    """No model file: run `kefu complaints retrain`."""


@dataclass(frozen=True)
class Head:
    classes: tuple[str, ...]
    coef: np.ndarray  # (classes, terms)
    intercept: np.ndarray
    temperature: float
    threshold: float
    # type head: a complaint whose text voices no grievance is applied only at or above this (training.py)
    threshold_without_grievance: float | None = None

    def probabilities(self, cols: np.ndarray, vals: np.ndarray) -> np.ndarray:
        scores = self.coef[:, cols] @ vals + self.intercept if len(cols) else self.intercept.copy()
        z = scores / self.temperature
        z = np.exp(z - z.max())
        probs: np.ndarray = z / z.sum()
        return probs


@dataclass(frozen=True)
class Prediction:
    type: str
    type_confidence: float
    category: str
    category_confidence: float
    escalation: bool
    escalation_terms: tuple[str, ...]
    type_threshold: float
    category_threshold: float
    alternatives: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    grievance_terms: tuple[str, ...] = ()
    complaint_threshold_without_grievance: float | None = None

    @property
    def type_applies(self) -> bool:
        """Confident enough to apply: above the head's threshold, and a complaint whose text voices no
        grievance (labels.grievance_terms: "查一下话费") above the higher one chosen for such texts."""
        return type_applies(self.type, self.type_confidence, self.type_threshold, bool(self.grievance_terms),
                            self.complaint_threshold_without_grievance)

    @property
    def apply_type(self) -> str | None:
        """The ticket type to set, when confident and the type is one a ticket has."""
        return TICKET_TYPE_OF.get(self.type) if self.type_applies else None

    @property
    def apply_category(self) -> str | None:
        return self.category if self.category_confidence >= self.category_threshold else None


class Model:
    def __init__(self, data: dict[str, Any]) -> None:
        if data.get("format") != MODEL_FORMAT:
            raise ValueError(f"unknown model format {data.get('format')!r}")
        self.data = data
        self.vocabulary: dict[str, int] = {t: i for i, t in enumerate(data["vocabulary"])}
        self.idf: list[float] = list(data["idf"])
        # what a model trained before these options did: no grievance marker, type "other" on its own
        self.grievance_feature = bool(data.get("features", {}).get("grievance_marker", False))
        self.asking_feature = bool(data.get("features", {}).get("asking_marker", False))
        self.keyword_feature = bool(data.get("features", {}).get("keyword_marker", False))
        self.first_line_feature = bool(data.get("features", {}).get("first_line_marker", False))
        # the telecom words the model knows (features.terms(words=...)): looked for in every text it classifies
        self.words: tuple[str, ...] = (tuple(features.word_terms(data["vocabulary"]))
                                       if data.get("features", {}).get("telecom_words") else ())
        self.type_other_by_category = bool(data.get("type_other_by_category", False))
        self.heads: dict[str, Head] = {
            name: Head(tuple(h["classes"]), np.asarray(h["coef"], dtype=np.float32),
                       np.asarray(h["intercept"], dtype=np.float32), float(h["temperature"]),
                       float(h["threshold"]),
                       float(h["threshold_without_grievance"]) if "threshold_without_grievance" in h else None)
            for name, h in data["heads"].items()
        }

    @property
    def info(self) -> dict[str, Any]:
        return {k: v for k, v in self.data.items() if k not in ("vocabulary", "idf", "heads")}

    def classify(self, text: str) -> Prediction:
        vec = features.weighted(text, self.vocabulary, self.idf, grievance=self.grievance_feature,
                                asking=self.asking_feature, keywords=self.keyword_feature,
                                first_line=self.first_line_feature, words=self.words)
        cols = np.fromiter(vec.keys(), dtype=np.int64, count=len(vec))
        vals = np.fromiter(vec.values(), dtype=np.float32, count=len(vec))
        best: dict[str, tuple[str, float]] = {}
        alternatives: dict[str, list[tuple[str, float]]] = {}
        probs = {name: head.probabilities(cols, vals) for name, head in self.heads.items()}
        if self.type_other_by_category:
            cat = self.heads["category"]
            other = float(probs["category"][cat.classes.index("other")]) if "other" in cat.classes else 0.0
            probs["type"] = type_given_category(probs["type"], self.heads["type"].classes, other)
        for name, head in self.heads.items():
            p = probs[name]
            order = np.argsort(-p)
            best[name] = (head.classes[order[0]], float(p[order[0]]))
            alternatives[name] = [(head.classes[i], round(float(p[i]), 3)) for i in order[:3]]
        found = tuple(escalation_terms(text))
        return Prediction(type=best["type"][0], type_confidence=best["type"][1],
                          category=best["category"][0], category_confidence=best["category"][1],
                          escalation=bool(found), escalation_terms=found,
                          type_threshold=self.heads["type"].threshold,
                          category_threshold=self.heads["category"].threshold, alternatives=alternatives,
                          grievance_terms=tuple(grievance_terms(text)),
                          complaint_threshold_without_grievance=self.heads["type"].threshold_without_grievance)


def load(path: Path | None = None) -> Model:
    """The model at `path`, or the one shipped in this package."""
    if path is None:
        res = resources.files(__package__).joinpath(MODEL_RESOURCE)
        if not res.is_file():
            raise ModelMissing("no complaint model in the package: run `kefu complaints retrain`")
        raw = res.read_text(encoding="utf-8")
    else:
        raw = path.read_text(encoding="utf-8")
    return Model(json.loads(raw))


_lock = threading.Lock()
_model: Model | None = None


def model() -> Model:
    """The shipped model, loaded once per process."""
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                _model = load()
                # The model's large dicts live as long as the process: out of the cyclic collector's sight
                # (with everything else alive now), a full collection no longer walks them each time.
                gc.freeze()
    return _model


def reset() -> None:
    """Forget the loaded model (after a retrain in this process)."""
    global _model
    with _lock:
        _model = None


def classify(text: str) -> Prediction:
    return model().classify(text)
