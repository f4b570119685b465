"""How an ONNX export compares with the original model on real rows: the tolerance.

The export counts only when the ONNX model gives the same answers as the original on the
check rows, within ``Tolerance``: classification labels agree on at least 99.9% of rows and
every class probability is within 1e-5; regression values within 1e-4 times the scale of the
original's predictions (their standard deviation, at least 1). Labels that differ where the
original gives both labels probabilities within 1e-5 of each other are ties that rounding
decided (a 20-tree forest's 10-10 vote in 32-bit floats); they count as agreeing and are
reported as ``ties``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from driftline.runtime.onnx_models import OnnxModel

Precision = Literal["double", "float"]


@dataclass(frozen=True)
class Tolerance:
    """How close the ONNX model's answers must be to the original's."""

    label_agreement: float = 0.999
    probability: float = 1e-5
    regression: float = 1e-4


DEFAULT_TOLERANCE = Tolerance()


class OnnxCheck(BaseModel):
    """The ONNX model's answers compared with the original's on the check rows."""

    rows: int = Field(description="Rows scored by both.")
    task: Literal["classification", "regression"] = Field(description="What the model does.")
    precision: Precision = Field(description="Element type of the numeric inputs.")
    label_agreement: float | None = Field(
        None, description="Share of rows with equal labels or a tie (see ties)."
    )
    ties: int | None = Field(
        None, description="Rows whose labels differ at a tie: the original gives both labels "
        "probabilities within the probability tolerance of each other.",
    )
    max_probability_diff: float | None = Field(None, description="Largest |Δ| of a probability.")
    max_abs_diff: float | None = Field(None, description="Regression: largest |Δ| of a value.")
    allowed_abs_diff: float | None = Field(None, description="Regression: the bound on |Δ|.")
    tolerance: dict[str, float] = Field(description="The tolerance the check applied.")
    passed: bool = Field(description="Whether every measure is within the tolerance.")


def compare(estimator: Any, onnx_model: OnnxModel, rows: pd.DataFrame, precision: Precision,
            tolerance: Tolerance = DEFAULT_TOLERANCE) -> OnnxCheck:  # fmt: skip
    """Both models on ``rows`` (in the estimator's feature order), within ``tolerance``?"""
    bounds = {"label_agreement": tolerance.label_agreement, "probability": tolerance.probability,
              "regression": tolerance.regression}  # fmt: skip
    common = {"rows": len(rows), "precision": precision, "tolerance": bounds}
    expected, found = np.asarray(estimator.predict(rows)), onnx_model.predict(rows)
    if hasattr(onnx_model, "predict_proba"):
        original = np.asarray(estimator.predict_proba(rows), dtype=np.float64)
        diff = np.abs(original - onnx_model.predict_proba(rows))
        largest = float(diff.max()) if diff.size else 0.0
        equal, ties = labels_agree(expected, found, original, onnx_model, tolerance.probability)
        agreement = float(np.mean(equal | ties)) if len(rows) else 1.0
        passed = agreement >= tolerance.label_agreement and largest <= tolerance.probability
        return OnnxCheck(task="classification", label_agreement=agreement, ties=int(ties.sum()),
                         max_probability_diff=largest, passed=passed, **common)  # fmt: skip
    values = np.asarray(expected, dtype=np.float64)
    gap = np.abs(values - np.asarray(found, dtype=np.float64))
    allowed = tolerance.regression * max(1.0, float(np.std(values)) if values.size else 1.0)
    largest = float(gap.max()) if gap.size else 0.0
    return OnnxCheck(task="regression", max_abs_diff=largest, allowed_abs_diff=allowed,
                     passed=bool(largest <= allowed), **common)  # fmt: skip


def labels_agree(
    expected: np.ndarray, found: np.ndarray, original: np.ndarray, onnx_model: OnnxModel,
    within: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Rows with equal labels, and rows whose labels differ only at a tie: the original gives
    the ONNX label a probability within ``within`` of its top one (rounding decided it)."""
    equal = np.asarray([str(a) == str(b) for a, b in zip(expected, found, strict=True)], bool)
    column = {str(c): j for j, c in enumerate(getattr(onnx_model, "classes", ()))}
    chosen = np.asarray([column.get(str(label), -1) for label in found])
    given = np.where(chosen >= 0, original[np.arange(len(found)), np.maximum(chosen, 0)], -1.0)
    ties = ~equal & (chosen >= 0) & (original.max(axis=1) - given <= within)
    return equal, ties
