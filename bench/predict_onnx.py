"""The predict suite's ONNX Runtime rows: the same model exported, scored in-process.

The benchmark's LogisticRegression is exported with ``runtime.onnx_export`` (one double
matrix input) and loaded as deployment loads it (``runtime.onnx_models``: CPU, one intra-op
thread). Measured beside the scikit-learn floor: ``predict`` + ``predict_proba`` on a NumPy
array of 1 and 100 rows, and Driftline's own scoring step (``predict_columns``, which also
turns the outputs into JSON values) on both runtimes.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd

from bench.tables import measure
from driftline.deployment.models.array_twin import array_twin
from driftline.deployment.models.loading import LoadedModel
from driftline.deployment.models.predictor import predict_columns
from driftline.runtime.onnx_export import export_onnx
from driftline.runtime.onnx_models import load_onnx

ONNX_FLOOR = "in-process predict + predict_proba, ONNX Runtime (no HTTP)"
SKLEARN_STEP = "Driftline scoring step (predict_columns), scikit-learn"
ONNX_STEP = "Driftline scoring step (predict_columns), ONNX Runtime"


def loaded_both(model: Any, frame: pd.DataFrame) -> tuple[LoadedModel, LoadedModel, str]:
    """The model as deployment serves it with each runtime, and the export's check summary."""
    features = tuple(str(f) for f in model.feature_names_in_)
    export = export_onnx(model, frame)
    onnx = load_onnx(export.data)
    sklearn = LoadedModel(model, features, array_twin(model, features))
    check = export.check
    summary = (f"export check on {check.rows} rows ({check.precision} inputs): labels agree on "
               f"{check.label_agreement:.2%}, largest probability difference "
               f"{check.max_probability_diff:.1e}")  # fmt: skip
    return sklearn, LoadedModel(onnx, features, onnx, runtime="onnx"), summary


def in_process_onnx(model: Any, rows: list[dict[str, float]], sizes: tuple[int, ...],
                    quick: bool) -> tuple[dict[str, dict[str, float]], str]:  # fmt: skip
    """Seconds per call by row name and batch size, and the export check's summary."""
    features = [str(f) for f in model.feature_names_in_]
    frame = pd.DataFrame(rows, columns=features)
    sklearn, onnx, summary = loaded_both(copy.deepcopy(model), frame)
    session = onnx.estimator
    found: dict[str, dict[str, float]] = {ONNX_FLOOR: {}, SKLEARN_STEP: {}, ONNX_STEP: {}}
    repeat, min_time_s = (2, 0.05) if quick else (5, 0.3)
    for size in sizes:
        matrix = np.array([[r[f] for f in features] for r in rows[:size]])
        calls: dict[str, Any] = {
            ONNX_FLOOR: lambda m=matrix: (session.predict(m), session.predict_proba(m)),
            SKLEARN_STEP: lambda m=matrix: predict_columns(sklearn, m),
            ONNX_STEP: lambda m=matrix: predict_columns(onnx, m),
        }
        for name, call in calls.items():
            found[name][f"{size}"] = measure(call, repeat=repeat, min_time_s=min_time_s)
    return found, summary
