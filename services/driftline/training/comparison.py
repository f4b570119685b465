"""Candidate against champion on the same holdout rows: a seeded paired bootstrap (pure).

Both models' predictions on the candidate's holdout are fixed once; every resample draws row
positions with replacement and scores *both* models on those same rows, so the interval is of
the paired difference (candidate - champion), not of two independent estimates. The metrics
are NumPy restatements of scikit-learn's (checked against it in the tests), because 1,000
resamples through scikit-learn's input validation would take tens of seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import rankdata

RESAMPLES = 1000
CONFIDENCE = 0.95
MAX_ROWS = 10_000
"""Holdouts above this are subsampled (seeded) first: a wider interval, never a biased one."""


@dataclass(frozen=True)
class Outputs:
    """One model's predictions (and class probabilities, columns in ``classes`` order)."""

    predicted: np.ndarray
    proba: np.ndarray | None = None
    classes: tuple[Any, ...] = ()


@dataclass(frozen=True)
class MetricComparison:
    """Both scores on the same rows and the interval of candidate - champion."""

    metric: str
    candidate: float
    champion: float
    delta: float
    interval_low: float
    interval_high: float


@dataclass(frozen=True)
class _Scored:
    """Truth and one model's outputs in a form every metric indexes by row position."""

    truth: np.ndarray
    predicted: np.ndarray
    scores: np.ndarray | None = None
    """Classification: probability of each truth code (columns: codes), or None."""
    classes: int = 0


Metric = Callable[[_Scored, np.ndarray], float | None]


def _accuracy(s: _Scored, rows: np.ndarray) -> float:
    return float(np.mean(s.predicted[rows] == s.truth[rows]))


def _f1(s: _Scored, rows: np.ndarray) -> float:
    """Macro F1 over the labels in truth or prediction (as ``f1_score(average="macro")``)."""
    truth, predicted = s.truth[rows], s.predicted[rows]
    hits = np.bincount(truth[truth == predicted], minlength=s.classes)
    both = np.bincount(truth, minlength=s.classes) + np.bincount(predicted, minlength=s.classes)
    present = both > 0
    return float(np.mean(2 * hits[present] / both[present]))


def _auc(positive: np.ndarray, score: np.ndarray) -> float:
    ranks = rankdata(score)
    count = int(positive.sum())
    return float((ranks[positive].sum() - count * (count + 1) / 2) / (count * (len(score) - count)))


def _roc_auc(s: _Scored, rows: np.ndarray) -> float | None:
    """Binary AUC of the greater label, or the macro one-vs-rest AUC over the labels present;
    None on one class."""
    if s.scores is None:
        return None
    truth, scores = s.truth[rows], s.scores[rows]
    present = np.unique(truth)
    if len(present) < 2:
        return None
    if len(present) == 2:
        return _auc(truth == present[1], scores[:, present[1]])
    return float(np.mean([_auc(truth == c, scores[:, c]) for c in present]))


def _log_loss(s: _Scored, rows: np.ndarray) -> float | None:
    if s.scores is None:
        return None
    eps = np.finfo(s.scores.dtype).eps
    chosen = np.clip(s.scores[rows, s.truth[rows]], eps, 1 - eps)
    return float(-np.mean(np.log(chosen)))


def _rmse(s: _Scored, rows: np.ndarray) -> float:
    return float(np.sqrt(np.mean((s.truth[rows] - s.predicted[rows]) ** 2)))


def _mae(s: _Scored, rows: np.ndarray) -> float:
    return float(np.mean(np.abs(s.truth[rows] - s.predicted[rows])))


def _r2(s: _Scored, rows: np.ndarray) -> float | None:
    truth = s.truth[rows]
    total = float(np.sum((truth - truth.mean()) ** 2))
    if total == 0:
        return None
    return 1 - float(np.sum((truth - s.predicted[rows]) ** 2)) / total


METRICS: dict[str, Metric] = {
    "accuracy": _accuracy, "f1": _f1, "roc_auc": _roc_auc, "log_loss": _log_loss,
    "rmse": _rmse, "mae": _mae, "r2": _r2,
}  # fmt: skip


def _classes(truth: np.ndarray, outputs: Sequence[Outputs]) -> list[Any]:
    labels = set(truth.tolist())
    for o in outputs:
        labels |= set(np.asarray(o.predicted).tolist())
    return sorted(labels, key=lambda v: (str(type(v)), v))


def _scored_classification(truth: np.ndarray, o: Outputs, labels: list[Any]) -> _Scored:
    code = {label: i for i, label in enumerate(labels)}
    codes = np.array([code[v] for v in truth.tolist()])
    predicted = np.array([code[v] for v in np.asarray(o.predicted).tolist()])
    scores = None
    known = [c for c in o.classes if c in code]
    truth_labels = set(truth.tolist())
    if o.proba is not None and len(o.classes) == o.proba.shape[1] and truth_labels <= set(known):
        proba = np.asarray(o.proba, dtype=float)
        proba = proba / proba.sum(axis=1, keepdims=True)
        scores = np.zeros((len(truth), len(labels)))
        for column, label in enumerate(o.classes):
            if label in code:
                scores[:, code[label]] = proba[:, column]
    return _Scored(codes, predicted, scores, len(labels))


def scored(task: str, truth: np.ndarray, candidate: Outputs, champion: Outputs) -> list[_Scored]:
    """Both models' outputs against the truth, labels coded alike for both."""
    if task != "classification":
        values = np.asarray(truth, dtype=float)
        pair = (candidate, champion)
        return [_Scored(values, np.asarray(o.predicted, dtype=float)) for o in pair]
    labels = _classes(truth, [candidate, champion])
    return [_scored_classification(truth, o, labels) for o in (candidate, champion)]


def paired_bootstrap(
    task: str,
    truth: np.ndarray,
    candidate: Outputs,
    champion: Outputs,
    metrics: Sequence[str],
    *,
    seed: int,
    resamples: int = RESAMPLES,
    confidence: float = CONFIDENCE,
) -> list[MetricComparison]:
    """Per metric both models have: scores on all rows and the percentile interval of the
    difference over ``resamples`` paired resamples (resamples leaving the metric undefined,
    e.g. roc_auc on one class, are left out of its interval)."""
    a, b = scored(task, np.asarray(truth), candidate, champion)
    every, size = np.arange(len(a.truth)), len(a.truth)
    rng = np.random.default_rng(seed)
    draws = [rng.integers(0, size, size) for _ in range(resamples)]
    tail = (1 - confidence) / 2
    result = []
    for name in metrics:
        metric = METRICS.get(name)
        full_a, full_b = (None, None) if metric is None else (metric(a, every), metric(b, every))
        if metric is None or full_a is None or full_b is None:
            continue
        deltas = [(x - y) for x, y in ((metric(a, r), metric(b, r)) for r in draws)
                  if x is not None and y is not None]  # fmt: skip
        if not deltas:
            continue
        low, high = np.quantile(np.asarray(deltas), [tail, 1 - tail])
        result.append(MetricComparison(name, full_a, full_b, full_a - full_b,
                                       float(low), float(high)))  # fmt: skip
    return result


def subsample(size: int, seed: int, limit: int = MAX_ROWS) -> np.ndarray:
    """Row positions to compare on: all of them, or a seeded ``limit`` of them."""
    if size <= limit:
        return np.arange(size)
    return np.sort(np.random.default_rng(seed).choice(size, limit, replace=False))
