"""Model performance on the labelled predictions of a window, against the training metrics."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Literal

from pydantic import Field

from driftline_contracts.values import FiniteFloat, Scalar, Value


class PerformanceResult(Value):
    """Accuracy (classification) or RMSE (regression) of one window's labelled predictions."""

    metric: Literal["accuracy", "rmse"] = Field(description="Metric measured.")
    value: FiniteFloat | None = Field(description="Window's value; null without labels.")
    training: FiniteFloat | None = Field(description="Holdout value at training, if known.")
    labelled: int = Field(ge=0, description="Predictions in the window with a label.")
    judged: bool = Field(False, description="Enough labels and a training value to compare.")
    dropped: bool = Field(description="Enough labels and worse than training beyond tolerance.")


def measure_performance(
    task: str,
    pairs: Sequence[tuple[Scalar, Scalar]],
    training: Mapping[str, float],
    *,
    min_labels: int,
    tolerance: float,
) -> PerformanceResult:
    """Performance of ``(prediction, label)`` pairs; ``dropped`` only on enough evidence."""
    metric: Literal["accuracy", "rmse"] = "accuracy" if task == "classification" else "rmse"
    value = _accuracy(pairs) if metric == "accuracy" else _rmse(pairs)
    baseline = training.get(metric)
    dropped = judged = False
    if value is not None and baseline is not None and len(pairs) >= min_labels:
        judged = True
        if metric == "accuracy":
            dropped = value < baseline - tolerance
        else:
            dropped = value > baseline * (1 + tolerance)
    return PerformanceResult(
        metric=metric, value=value, training=baseline, labelled=len(pairs), judged=judged,
        dropped=dropped,
    )  # fmt: skip


def _same(prediction: Scalar, label: Scalar) -> bool:
    if isinstance(prediction, int | float) and isinstance(label, int | float):
        return float(prediction) == float(label)  # 1 and 1.0 and True are the same class
    return str(prediction) == str(label)


def _accuracy(pairs: Sequence[tuple[Scalar, Scalar]]) -> float | None:
    if not pairs:
        return None
    return sum(_same(p, y) for p, y in pairs) / len(pairs)


def _rmse(pairs: Sequence[tuple[Scalar, Scalar]]) -> float | None:
    errors = [
        (float(p) - float(y)) ** 2
        for p, y in pairs
        if isinstance(p, int | float) and isinstance(y, int | float)
    ]
    if not errors:
        return None
    value = math.sqrt(sum(errors) / len(errors))
    return value if math.isfinite(value) else None
