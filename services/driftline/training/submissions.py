"""Models trained elsewhere: checked with the safe loader, re-scored on the spec's holdout.

A submitted model is never fitted here. It must load with the loader deployment uses (a
pickle or an untrusted type is refused before anything is built), name the features it
expects (fitted on a DataFrame), find them in the dataset, and score the very holdout rows
the service's own runs of the spec are scored on (same seeded split of the same window), so
the gates compare like with like. The result is a ``RunOutput`` like a trained run's.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Any

import pandas as pd

from driftline.runtime.model_loading import UnservableModelError, load_estimator
from driftline.training import evaluation
from driftline.training.champion_check import ChampionInput, compare_with_champion
from driftline.training.runner import RunOutput, Sources, read_window
from driftline.training.servable import check_servable, onnx_serving_files
from driftline.training.signature import input_signature
from driftline.training.trainer import TrainingError, checked_target, hyperparameters, split
from driftline_contracts.modelspec import ModelSpec

REFUSED = "submission_refused"


def checked_submission(model_bytes: bytes) -> tuple[Any, list[str]]:
    """The submitted estimator and its feature names; ``TrainingError(submission_refused)``
    saying why when it is not a safe format, not trusted, or does not name its features."""
    try:
        estimator, features = load_estimator(model_bytes)
    except UnservableModelError as exc:
        raise TrainingError(REFUSED, f"the submitted model is refused: {exc}", "model") from exc
    if all(name == f"x{i}" for i, name in enumerate(features)):
        message = "the submitted model does not name its features: fit it on a pandas DataFrame"
        raise TrainingError(REFUSED, message, "model")
    return estimator, list(features)


def holdout_metrics(estimator: Any, holdout: pd.DataFrame, features: list[str],
                    spec: ModelSpec) -> tuple[dict[str, float], Any]:  # fmt: skip
    """The spec's metrics of ``estimator`` on the holdout, and the confusion matrix."""
    x_test, y_test = holdout[features], holdout[spec.target]
    try:
        if spec.task == "classification":
            values = evaluation.classification_metrics(estimator, x_test, y_test)
            matrix = evaluation.confusion(estimator, x_test, y_test)
        else:
            values, matrix = evaluation.regression_metrics(estimator, x_test, y_test), None
    except Exception as exc:  # a model that cannot score its own features is not a candidate
        raise TrainingError(REFUSED, f"the submitted model cannot score the holdout: {exc}",
                            "model") from exc  # fmt: skip
    return evaluation.selected(values, spec.metrics), matrix


def _json(value: Any) -> bytes:
    return json.dumps(value, indent=2, sort_keys=True, allow_nan=False).encode()


def _scored(frame: pd.DataFrame, spec: ModelSpec, model_bytes: bytes,
            champion: ChampionInput | None) -> RunOutput:  # fmt: skip
    estimator, features = checked_submission(model_bytes)
    labelled = checked_target(frame, spec)
    missing = [name for name in features if name not in labelled.columns]
    if missing:
        raise TrainingError(REFUSED, f"the dataset has no column {missing[0]!r} the submitted "
                            f"model expects ({len(missing)} missing)", "model")  # fmt: skip
    holdout = split(labelled, spec)[1]
    check_servable(model_bytes, holdout, features)
    metrics, matrix = holdout_metrics(estimator, holdout, features, spec)
    signature = input_signature(frame, features).model_dump(mode="json")
    compared = compare_with_champion(champion, estimator, holdout, features, spec, list(metrics))
    named = {"metrics.json": metrics, "signature.json": signature, "confusion_matrix.json": matrix}
    documents = {name: _json(value) for name, value in named.items() if value is not None}
    documents |= onnx_serving_files(estimator, spec, holdout, features)  # runtime onnx only
    return RunOutput(
        model_bytes=model_bytes, documents=documents, metrics=metrics,
        params=hyperparameters(estimator, spec), train_rows=0, holdout_rows=len(holdout),
        champion_comparison=compared, signature=signature, window_rows=len(frame),
    )  # fmt: skip


def score_submission(
    data_path: Sources,
    data_format: str,
    spec: dict[str, Any],
    max_rows: int,
    model_bytes: bytes,
    champion: ChampionInput | None = None,
) -> RunOutput:
    """Re-score a submitted model on the holdout of the spec's window (the same seeded split
    its own runs use); a ``RunOutput`` with the metrics, or its typed failure."""
    started = time.perf_counter()
    try:
        model_spec = ModelSpec.model_validate(spec)
        checked_submission(model_bytes)  # refused before the data is read
        frame = read_window(data_path, data_format, model_spec, max_rows)
        output = _scored(frame, model_spec, model_bytes, champion)
    except TrainingError as exc:
        return RunOutput(failure=(exc.code, exc.message[:2000], exc.field))
    except MemoryError:
        return RunOutput(failure=("resource_limit", "out of memory", None))
    return replace(output, duration_s=time.perf_counter() - started)
