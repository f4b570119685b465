"""Servable or failed: the run loads its own artifact as deployment will and scores a row.

A model that the shared safe loader refuses (a type outside scikit-learn, NumPy and SciPy,
e.g. a ``functools.partial`` inside a ``FunctionTransformer``) or that cannot predict once
loaded fails its run with ``unservable_model``; it never reaches the registry.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from driftline.runtime.model_loading import UnservableModelError, load_estimator
from driftline.runtime.onnx_export import OnnxExportError
from driftline.runtime.onnx_record import export_files
from driftline.training.trainer import TrainingError, checked_target, split
from driftline_contracts.modelspec import ModelSpec

UNSERVABLE = "unservable_model"


def scoring_rows(holdout: pd.DataFrame, features: tuple[str, ...], fallback: list[str]) -> Any:
    """Holdout rows as deployment would hand them to the model: by the names it expects,
    else (a model fitted on arrays, names ``x0…``) the run's feature columns as an array."""
    if all(name in holdout.columns for name in features):
        return holdout[list(features)]
    return holdout[fallback].to_numpy()


def check_servable(model_bytes: bytes, holdout: pd.DataFrame, features: list[str]) -> Any:
    """The artifact loaded back with deployment's loader, after it scored one holdout row;
    ``TrainingError(unservable_model)`` saying why deployment would refuse it."""
    try:
        estimator, expected = load_estimator(model_bytes)
    except UnservableModelError as exc:
        message = f"the trained model cannot be served (deployment would refuse it): {exc}"
        raise TrainingError(UNSERVABLE, message, "trainer") from exc
    try:
        estimator.predict(scoring_rows(holdout.iloc[:1], expected, features))
    except Exception as exc:  # whatever breaks here breaks the first request too
        message = (f"the trained model loads but cannot score a holdout row as deployment "
                   f"would send it: {type(exc).__name__}: {exc}")  # fmt: skip
        raise TrainingError(UNSERVABLE, message, "trainer") from exc
    return estimator


def holdout_of(frame: pd.DataFrame, spec: ModelSpec) -> pd.DataFrame:
    """The run's holdout rows, every column kept (the seeded split is deterministic)."""
    return split(checked_target(frame, spec), spec)[1]


def onnx_serving_files(estimator: Any, spec: ModelSpec, holdout: pd.DataFrame,
                       features: list[str]) -> dict[str, bytes]:  # fmt: skip
    """``model.onnx`` and ``onnx.json`` when the spec serves with ONNX Runtime (else none), the
    export checked on the holdout; ``TrainingError(unservable_model)`` when it cannot be."""
    if spec.serving.runtime != "onnx":
        return {}
    try:
        return export_files(estimator, holdout[features], None, serving=True)[0]
    except OnnxExportError as exc:
        message = f"serving.runtime onnx: the model cannot be served with ONNX Runtime: {exc}"
        raise TrainingError(UNSERVABLE, message[:2000], "serving") from exc
