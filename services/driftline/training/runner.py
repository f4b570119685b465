"""The function a training process runs: read the file, train, serialize it without pickle.

Module-level and free of I/O beyond reading one local file, so a ``ProcessPoolExecutor``
can run it and tests can call it directly.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pandas as pd

from driftline.runtime.trainer_policy import TrainerPolicy
from driftline.training.champion_check import ChampionInput, compare_with_champion
from driftline.training.formats import serialize_model
from driftline.training.run_io import RunOutput as RunOutput
from driftline.training.run_io import Sources as Sources
from driftline.training.servable import check_servable, holdout_of, onnx_serving_files
from driftline.training.signature import input_signature
from driftline.training.trainer import TrainingError, allowed, train_model
from driftline.training.windows import window_frame
from driftline_contracts.modelspec import ModelSpec


def read_frame(path: Path, data_format: str, max_rows: int) -> pd.DataFrame:
    """The dataset file as a frame; ``resource_limit`` beyond ``max_rows`` rows."""
    try:
        if data_format == "parquet":
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path, compression="infer", nrows=max_rows + 1)
    except MemoryError as exc:
        raise TrainingError("resource_limit", "out of memory while reading the data") from exc
    except Exception as exc:
        message = f"cannot read the {data_format} data: {exc}"
        raise TrainingError("unreadable_data", message) from exc
    if len(frame) > max_rows:
        raise TrainingError("resource_limit", f"more than {max_rows} rows")
    return frame


def with_labelled_rows(frame: pd.DataFrame, labelled: pd.DataFrame) -> pd.DataFrame:
    """The dataset with labelled production rows appended, on the dataset's columns only
    (a column production does not send is left empty, for imputation)."""
    if labelled.empty:
        return frame
    return pd.concat([frame, labelled.reindex(columns=frame.columns)], ignore_index=True)


def _json(value: Any) -> bytes:
    return json.dumps(value, indent=2, sort_keys=True, allow_nan=False).encode()


def read_window(sources: Sources, data_format: str, spec: ModelSpec, max_rows: int) -> pd.DataFrame:
    """The window's versions read, concatenated, deduplicated and capped."""
    files = [(sources, data_format)] if isinstance(sources, str) else list(sources)
    frames = [read_frame(Path(path), kind, max_rows) for path, kind in files]
    return window_frame(frames, spec.window)


def run_training(
    data_path: Sources,
    data_format: str,
    spec: dict[str, Any],
    max_rows: int,
    labelled_path: str | None = None,
    *,
    policy: TrainerPolicy,
    champion: ChampionInput | None = None,
) -> RunOutput:
    """Train the model ``spec`` describes on the window of dataset files at ``data_path``
    (plus the labelled production rows of the CSV at ``labelled_path``), if ``policy`` allows
    its trainer."""
    started = time.perf_counter()
    try:
        model_spec = ModelSpec.model_validate(spec)
        allowed(model_spec, policy)  # before the data is read: a refused spec costs nothing
        frame = read_window(data_path, data_format, model_spec, max_rows)
        window_rows, labelled_rows = len(frame), 0
        if labelled_path is not None:
            labelled = read_frame(Path(labelled_path), "csv", max_rows)
            frame, labelled_rows = with_labelled_rows(frame, labelled), len(labelled)
        trained = train_model(frame, model_spec, policy)
        signature = input_signature(frame, trained.features).model_dump(mode="json")
        model_bytes, _ = serialize_model(trained.estimator, trained.features)
        holdout = holdout_of(frame, model_spec)
        check_servable(model_bytes, holdout, trained.features)  # servable, or the run fails
        onnx_files = onnx_serving_files(trained.estimator, model_spec, holdout, trained.features)
        compared = compare_with_champion(
            champion, trained.estimator, holdout, trained.features, model_spec,
            list(trained.metrics),
        )  # fmt: skip
    except TrainingError as exc:
        return RunOutput(failure=(exc.code, exc.message[:2000], exc.field))
    except MemoryError:
        return RunOutput(failure=("resource_limit", "out of memory", None))
    except Exception as exc:  # e.g. an estimator skops cannot serialize
        return RunOutput(failure=("trainer_error", f"{type(exc).__name__}: {exc}"[:2000], None))
    documents = {"metrics.json": _json(trained.metrics), "signature.json": _json(signature)}
    documents |= onnx_files  # model.onnx and onnx.json when the spec serves with ONNX Runtime
    if trained.feature_importance is not None:
        documents["feature_importance.json"] = _json(trained.feature_importance)
    if trained.confusion is not None:
        documents["confusion_matrix.json"] = _json(trained.confusion)
    return RunOutput(
        model_bytes=model_bytes,
        documents=documents,
        metrics=trained.metrics,
        params=trained.params,
        train_rows=trained.train_rows,
        holdout_rows=trained.holdout_rows,
        duration_s=time.perf_counter() - started,
        champion_comparison=compared,
        signature=signature,
        window_rows=window_rows,
        labelled_rows=labelled_rows,
    )
