"""Holdout evaluation: metrics by task, confusion matrix and feature importance (pure)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from driftline_contracts.modelspec import TASK_METRICS

CLASSIFICATION_METRICS = TASK_METRICS["classification"]
REGRESSION_METRICS = TASK_METRICS["regression"]


def _finite(values: dict[str, float]) -> dict[str, float]:
    """Only finite values (a holdout missing a class makes roc_auc undefined)."""
    return {k: float(v) for k, v in values.items() if v is not None and math.isfinite(v)}


def _probabilities(estimator: Any, features: pd.DataFrame) -> np.ndarray | None:
    if not hasattr(estimator, "predict_proba"):
        return None
    try:
        return np.asarray(estimator.predict_proba(features))
    except (AttributeError, NotImplementedError):
        return None  # e.g. SVC(probability=False) exposes the method but refuses to run it


def classification_metrics(
    estimator: Any, features: pd.DataFrame, truth: pd.Series
) -> dict[str, float]:
    """accuracy, macro f1, roc_auc (binary or one-vs-rest) and log_loss on the holdout."""
    predicted = estimator.predict(features)
    result = {
        "accuracy": skm.accuracy_score(truth, predicted),
        "f1": skm.f1_score(truth, predicted, average="macro"),
    }
    proba = _probabilities(estimator, features)
    classes = list(getattr(estimator, "classes_", []))
    if proba is None or len(classes) != proba.shape[1] or truth.nunique() < 2:
        return _finite(result)
    if len(classes) == 2:
        result["roc_auc"] = skm.roc_auc_score(truth, proba[:, 1])
    elif set(truth.unique()) == set(classes):
        result["roc_auc"] = skm.roc_auc_score(truth, proba, multi_class="ovr", labels=classes)
    result["log_loss"] = skm.log_loss(truth, proba, labels=classes)
    return _finite(result)


def regression_metrics(
    estimator: Any, features: pd.DataFrame, truth: pd.Series
) -> dict[str, float]:
    """rmse, mae and r2 on the holdout."""
    predicted = estimator.predict(features)
    return _finite(
        {
            "rmse": math.sqrt(skm.mean_squared_error(truth, predicted)),
            "mae": skm.mean_absolute_error(truth, predicted),
            "r2": skm.r2_score(truth, predicted) if len(truth) > 1 else float("nan"),
        }
    )


def selected(values: dict[str, float], wanted: list[str] | None) -> dict[str, float]:
    """The metrics the spec asks for (all computed ones when it names none)."""
    if not wanted:
        return values
    return {k: v for k, v in values.items() if k in wanted}


def confusion(estimator: Any, features: pd.DataFrame, truth: pd.Series) -> dict[str, Any]:
    """Confusion matrix on the holdout: labels (as text) and counts, rows are truth."""
    predicted = estimator.predict(features)
    labels = sorted(set(truth.tolist()) | set(np.asarray(predicted).tolist()), key=str)
    matrix = skm.confusion_matrix(truth, predicted, labels=labels)
    return {"labels": [str(x) for x in labels], "matrix": matrix.tolist()}


def _feature_names(estimator: Any, fallback: list[str]) -> list[str]:
    steps = getattr(estimator, "steps", None)
    if steps and len(steps) > 1:
        try:
            return [str(n) for n in estimator[:-1].get_feature_names_out()]
        except (AttributeError, ValueError):
            return fallback
    return [str(n) for n in getattr(estimator, "feature_names_in_", fallback)]


def feature_importance(estimator: Any, fallback: list[str]) -> dict[str, float] | None:
    """``feature_importances_`` or mean absolute ``coef_`` per feature, if the model has them."""
    final = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    if hasattr(final, "feature_importances_"):
        values = np.asarray(final.feature_importances_, dtype=float)
    elif hasattr(final, "coef_"):
        coef = np.abs(np.asarray(final.coef_, dtype=float))
        values = coef.mean(axis=0) if coef.ndim > 1 else coef
    else:
        return None
    names = _feature_names(estimator, fallback)
    if len(names) != len(values):
        names = [f"x{i}" for i in range(len(values))]
    return _finite(dict(zip(names, values.tolist(), strict=True)))
