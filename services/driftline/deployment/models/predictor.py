"""Running a loaded model on rows: predictions, class probabilities, per-row failures."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from driftline.deployment.models.loading import LoadedModel


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


@dataclass(frozen=True)
class Predicted:
    """Outcomes of a batch of rows, column by column (one entry per row, rows in order).

    Columns instead of a ``RowResult`` per row: a 100-row request built 100 objects and 100
    dicts one value at a time before; here NumPy hands over whole columns.
    """

    predictions: list[Any]
    probabilities: list[dict[str, float] | None]
    scores: list[float | None]
    errors: list[str | None]

    def __len__(self) -> int:
        return len(self.predictions)

    def results(self) -> list[RowResult]:
        """The same outcomes one object per row."""
        return [
            RowResult(prediction=p, probabilities=q, error=e)
            for p, q, e in zip(self.predictions, self.probabilities, self.errors, strict=True)
        ]

    @staticmethod
    def concat(parts: list[Predicted]) -> Predicted:
        """Parts one after the other."""
        if len(parts) == 1:
            return parts[0]
        return Predicted(
            [v for p in parts for v in p.predictions],
            [v for p in parts for v in p.probabilities],
            [v for p in parts for v in p.scores],
            [v for p in parts for v in p.errors],
        )


def scalar(value: Any) -> Any:
    """A NumPy value as a JSON scalar (non-finite floats become None)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def json_values(values: np.ndarray) -> list[Any]:
    """``[scalar(v) for v in values]`` for a whole 1-D array at once (``tolist`` gives the
    same Python values as ``item``)."""
    if values.ndim != 1 or values.dtype.kind not in "biufUS":
        return [scalar(v) for v in values]
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        return [v if math.isfinite(v) else None for v in values.tolist()]
    return values.tolist()


Rows: TypeAlias = pd.DataFrame | np.ndarray


def _outputs(estimator: Any, has_proba: bool, frame: Rows) -> tuple[Any, Any]:
    """Labels and (when given) probabilities; one pass for a model that computes both at once
    (an ONNX Runtime session: ``predict_with_proba``)."""
    both = getattr(estimator, "predict_with_proba", None) if has_proba else None
    if both is not None:
        return both(frame)
    return estimator.predict(frame), estimator.predict_proba(frame) if has_proba else None


def _predict_all(estimator: Any, has_proba: bool, frame: Rows) -> Predicted:
    labels, proba = _outputs(estimator, has_proba, frame)
    predictions = json_values(np.asarray(labels))
    count = len(predictions)
    if not has_proba:
        return Predicted(predictions, [None] * count, [None] * count, [None] * count)
    table = np.asarray(proba, dtype=np.float64).tolist()
    classes = [str(scalar(c)) for c in estimator.classes_]
    column = {c: j for j, c in enumerate(classes)}
    probabilities: list[dict[str, float] | None] = [
        dict(zip(classes, row, strict=True)) for row in table
    ]
    scores: list[float | None] = []
    for label, row in zip(predictions, table, strict=True):
        j = column.get(str(label))
        scores.append(None if j is None else row[j])
    return Predicted(predictions, probabilities, scores, [None] * count)


def _failed(exc: Exception, count: int = 1) -> Predicted:
    error = f"{type(exc).__name__}: {exc}"[:500]
    return Predicted([None] * count, [None] * count, [None] * count, [error] * count)


def predict_columns(model: LoadedModel, frame: Rows) -> Predicted:
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
            return _failed(exc)
    parts = []
    for index in range(len(frame)):
        row = frame[index : index + 1] if isinstance(frame, np.ndarray) else frame.iloc[[index]]
        try:
            parts.append(_predict_all(estimator, model.has_proba, row))
        except Exception as exc:  # this row alone fails; it is served as an error
            parts.append(_failed(exc))
    return Predicted.concat(parts)


def predict_rows(model: LoadedModel, frame: Rows) -> list[RowResult]:
    """``predict_columns`` one ``RowResult`` per row (batch scoring, the shadow mirror)."""
    return predict_columns(model, frame).results()
