"""Running a loaded model on rows: predictions, class probabilities, per-row failures."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from driftline.deployment.loading import LoadedModel


@dataclass(frozen=True)
class RowResult:
    """One row's outcome: a prediction (and probabilities) or the error the model raised."""

    prediction: Any = None
    probabilities: dict[str, float] | None = None
    error: str | None = None

    @property
    def score(self) -> float | None:
        """Probability of the predicted class, when the model gives probabilities."""
        if self.probabilities is None:
            return None
        return self.probabilities.get(str(self.prediction))


def scalar(value: Any) -> Any:
    """A NumPy value as a JSON scalar (non-finite floats become None)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


Rows = pd.DataFrame | np.ndarray


def _predict_all(estimator: Any, has_proba: bool, frame: Rows) -> list[RowResult]:
    predictions = estimator.predict(frame)
    if not has_proba:
        return [RowResult(prediction=scalar(p)) for p in predictions]
    probabilities = estimator.predict_proba(frame)
    classes = [str(scalar(c)) for c in estimator.classes_]
    return [
        RowResult(
            prediction=scalar(p),
            probabilities={c: float(v) for c, v in zip(classes, row, strict=True)},
        )
        for p, row in zip(predictions, probabilities, strict=True)
    ]


def _error(exc: Exception) -> RowResult:
    return RowResult(error=f"{type(exc).__name__}: {exc}"[:500])


def predict_rows(model: LoadedModel, frame: Rows) -> list[RowResult]:
    """Predict every row; if the batch fails, row by row so one bad row fails alone.

    ``frame`` is a DataFrame, or a float array in feature order when the model has an
    ``array_estimator`` (see ``array_twin``).
    """
    array = isinstance(frame, np.ndarray)
    estimator = model.array_estimator if array else model.estimator
    try:
        return _predict_all(estimator, model.has_proba, frame)
    except Exception as exc:  # recorded per row below: errors count towards the error rate
        if len(frame) == 1:
            return [_error(exc)]
    results: list[RowResult] = []
    for index in range(len(frame)):
        row = frame[index : index + 1] if array else frame.iloc[[index]]
        try:
            results.extend(_predict_all(estimator, model.has_proba, row))
        except Exception as exc:  # this row alone fails; it is served as an error
            results.append(_error(exc))
    return results
