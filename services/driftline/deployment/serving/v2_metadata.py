"""Open Inference Protocol model metadata: name, versions, platform, input and output tensors."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from driftline.deployment.models.loading import LoadedModel

PLATFORM, ONNX_PLATFORM = "scikit-learn", "onnxruntime_onnx"
CATEGORICAL_ENCODERS = ("OneHotEncoder", "OrdinalEncoder", "TargetEncoder")


def _children(estimator: Any) -> Iterable[tuple[Any, Any]]:
    """(sub-estimator, the columns it reads or None) of pipelines and column transformers."""
    for _, step in getattr(estimator, "steps", None) or ():
        yield step, None
    transformers = getattr(estimator, "transformers_", None) or getattr(
        estimator, "transformers", None
    )
    for entry in transformers or ():
        if len(entry) == 3 and not isinstance(entry[1], str):
            yield entry[1], entry[2]


def categorical_columns(estimator: Any, columns: Sequence[str] | None = None) -> set[str]:
    """Columns some categorical encoder inside ``estimator`` reads (named columns only)."""
    if type(estimator).__name__ in CATEGORICAL_ENCODERS and columns is not None:
        return {str(c) for c in columns if isinstance(c, str)}
    found: set[str] = set()
    for child, child_columns in _children(estimator):
        names = child_columns if child_columns is not None else columns
        if isinstance(names, str):
            names = [names]
        found |= categorical_columns(child, names if _named(names) else None)
    return found


def _named(columns: Any) -> bool:
    return isinstance(columns, list | tuple) and all(isinstance(c, str) for c in columns)


def _dtype_name(values: Any) -> str:
    kind = np.asarray(values).dtype.kind
    return {"b": "BOOL", "i": "INT64", "u": "UINT64", "f": "FP64"}.get(kind, "BYTES")


def output_tensors(model: LoadedModel) -> list[dict[str, Any]]:
    """``predict`` and, for classifiers with probabilities, ``predict_proba``."""
    classes = getattr(model.estimator, "classes_", None)
    predict_type = _dtype_name(classes) if classes is not None else "FP64"
    outputs: list[dict[str, Any]] = [{"name": "predict", "datatype": predict_type, "shape": [-1]}]
    if model.has_proba and classes is not None:
        outputs.append({"name": "predict_proba", "datatype": "FP64", "shape": [-1, len(classes)]})
    return outputs


def _text_inputs(model: LoadedModel) -> set[str]:
    """Features the model takes as strings: its encoders' columns, or an ONNX graph's string
    inputs."""
    if model.runtime != "onnx":
        return categorical_columns(model.estimator)
    kinds = [kind for _, kind in model.estimator.inputs]
    if model.estimator.matrix:
        return set()
    return {f for f, kind in zip(model.features, kinds, strict=True) if kind == "tensor(string)"}


def model_metadata(name: str, versions: Sequence[int], model: LoadedModel) -> dict[str, Any]:
    """The V2 metadata response for ``model`` (one of ``versions``)."""
    categorical = _text_inputs(model)
    return {
        "name": name,
        "versions": [str(v) for v in versions],
        "platform": ONNX_PLATFORM if model.runtime == "onnx" else PLATFORM,
        "inputs": [
            {
                "name": feature,
                "datatype": "BYTES" if feature in categorical else "FP64",
                "shape": [-1],
            }
            for feature in model.features
        ],
        "outputs": output_tensors(model),
    }
