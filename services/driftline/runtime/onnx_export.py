"""Exporting a scikit-learn model to ONNX, checked against the original on real rows.

Typed inputs come from the version's signature: a pipeline that starts with a
``ColumnTransformer`` (it selects columns by name, strings included) gets one ``[rows, 1]``
input per column, typed by the column (string columns as strings); any other model gets one
float matrix in feature order. Numbers go in as doubles where the converter and ONNX Runtime
support it (linear models, random-forest classifiers), else as 32-bit floats (tree
regressors, imputers), which is what bounds the agreement below.

What counts as the same answers: ``runtime.onnx_check``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from driftline.runtime.onnx_boosters import (
    BOOSTER_OPSET,
    as_pipeline,
    convert_booster,
    holds_booster,
    is_booster,
    register_pipeline_converters,
)
from driftline.runtime.onnx_check import (
    DEFAULT_TOLERANCE,
    OnnxCheck,
    Precision,
    Tolerance,
    compare,
)
from driftline.runtime.onnx_models import (
    MATRIX,
    META_CLASSES,
    META_FEATURES,
    META_LAYOUT,
    load_onnx,
)
from driftline_contracts.signature import ColumnSignature, InputSignature

TARGET_OPSET = {"": 18, "ai.onnx.ml": 3}
"""Opsets ONNX Runtime has run since 1.14, so an export also loads on older edge runtimes."""
BOOSTER_PIPELINE_OPSET = {"": BOOSTER_OPSET, "ai.onnx.ml": 2}
"""A pipeline ending in a booster: the opsets onnxmltools' converters emit."""


class OnnxExportError(Exception):
    """A model that cannot be exported to ONNX (the message names its type)."""


@dataclass(frozen=True)
class OnnxExport:
    """An ONNX model's bytes and how it compared with the original."""

    data: bytes
    check: OnnxCheck


def _skl2onnx() -> Any:
    try:
        import skl2onnx
        from skl2onnx.common import data_types
    except ImportError as exc:
        raise OnnxExportError("skl2onnx is not installed here (extra: onnx)") from exc
    return skl2onnx, data_types


def _parts(estimator: Any) -> Iterator[Any]:
    yield estimator
    for _, step in getattr(estimator, "steps", None) or ():
        yield from _parts(step)


def _per_column(estimator: Any) -> bool:
    first = next(iter(getattr(estimator, "steps", None) or [(None, estimator)]))[1]
    return type(first).__name__ == "ColumnTransformer"


def signature_of(rows: pd.DataFrame, features: list[str]) -> InputSignature:
    """A signature from the rows' dtypes, for a version that recorded none."""
    def kind(series: pd.Series) -> Any:
        return "number" if pd.api.types.is_numeric_dtype(series) else "string"

    columns = [ColumnSignature(name=name, dtype=kind(rows[name]), nullable=True)
               for name in features]  # fmt: skip
    return InputSignature(columns=columns)


def _input_types(estimator: Any, columns: list[ColumnSignature], precision: Precision) -> Any:
    data_types = _skl2onnx()[1]
    number = data_types.DoubleTensorType if precision == "double" else data_types.FloatTensorType
    if _per_column(estimator):
        return [(c.name, data_types.StringTensorType([None, 1]) if c.dtype == "string"
                 else number([None, 1])) for c in columns]  # fmt: skip
    text = [c.name for c in columns if c.dtype == "string"]
    if text:
        raise OnnxExportError(
            f"{type(estimator).__name__} takes string columns ({', '.join(text[:5])}) without a "
            "ColumnTransformer in front; only such a pipeline gets per-column string inputs"
        )
    return [(MATRIX, number([None, len(columns)]))]


def _walk(estimator: Any) -> Iterator[Any]:
    """Every fitted part: pipeline steps and column transformers' transformers, nested."""
    yield estimator
    for _, step in getattr(estimator, "steps", None) or ():
        yield from _walk(step)
    for _, part, _ in getattr(estimator, "transformers_", None) or ():
        yield from _walk(part)


def _onnx_ready(estimator: Any) -> Any:
    """A copy whose string imputers take ``""`` as missing (scikit-learn's NaN cannot be a
    string tensor's value); ``OnnxModel`` feeds a missing string as ``""``, so the copy and
    the original decide alike, which the check on real rows confirms."""
    ready = copy.deepcopy(estimator)
    for part in _walk(ready):
        statistics = getattr(part, "statistics_", None)
        if type(part).__name__ == "SimpleImputer" and statistics is not None and (
                np.asarray(statistics).dtype.kind in "OUS"):  # fmt: skip
            part.missing_values = ""
    return ready


def _described(estimator: Any) -> str:
    names = [type(p).__name__ for p in _walk(estimator) if p not in (None, "passthrough", "drop")]
    return names[0] if len(names) == 1 else f"{names[0]}({', '.join(names[1:])})"


def _classes(estimator: Any) -> list[Any] | None:
    classes = getattr(estimator, "classes_", None)
    if classes is None or not hasattr(estimator, "predict_proba"):
        return None
    return [c.item() if isinstance(c, np.generic) else c for c in classes]


def convert(estimator: Any, signature: InputSignature, precision: Precision) -> bytes:
    """The ONNX bytes of ``estimator`` with Driftline's metadata; ``OnnxExportError`` naming
    the type when the converter cannot handle it."""
    if is_booster(estimator):
        return _with_metadata(_booster(estimator, signature, precision), estimator, signature)
    booster = holds_booster(estimator)
    if booster and precision == "double":
        raise OnnxExportError(f"{_described(estimator)} takes 32-bit float inputs in ONNX")
    foreign = [p for p in _parts(estimator) if p not in (None, "passthrough")
               and not type(p).__module__.startswith("sklearn.")
               and not (booster and is_booster(p))]  # fmt: skip
    if foreign:
        name = f"{type(foreign[0]).__module__}.{type(foreign[0]).__name__}"
        if name.endswith("PreprocessedModel"):
            raise OnnxExportError("a LightGBM archive with a preprocessing step in front of the "
                                  "booster is not exported to ONNX (XGBoost ones are)")
        raise OnnxExportError(f"{name} is not a scikit-learn estimator; scikit-learn models "
                              "and pipelines, LightGBM and XGBoost models are exported to ONNX")
    skl2onnx = _skl2onnx()[0]
    if booster:
        register_pipeline_converters()
    classes = _classes(estimator)
    try:
        inputs = _input_types(estimator, signature.columns, precision)
        model = skl2onnx.convert_sklearn(
            _onnx_ready(estimator), initial_types=inputs,
            options={"zipmap": False} if classes is not None else None,
            target_opset=BOOSTER_PIPELINE_OPSET if booster else TARGET_OPSET,
        )  # fmt: skip
    except OnnxExportError:
        raise
    except Exception as exc:  # the converter raises many kinds; all mean "not exportable"
        message = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
        raise OnnxExportError(f"{_described(estimator)} cannot be converted to ONNX: "
                              f"{type(exc).__name__}: {message}") from exc  # fmt: skip
    return _with_metadata(model, estimator, signature)


def _booster(estimator: Any, signature: InputSignature, precision: Precision) -> Any:
    if precision == "double":
        raise OnnxExportError(f"{type(estimator).__name__} takes 32-bit float inputs in ONNX")
    _input_types(estimator, signature.columns, precision)  # strings are refused the same way
    try:
        return convert_booster(estimator, len(signature.columns), MATRIX)
    except Exception as exc:  # onnxmltools raises many kinds; all mean "not exportable"
        message = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
        raise OnnxExportError(f"{type(estimator).__name__} cannot be converted to ONNX: "
                              f"{type(exc).__name__}: {message}") from exc  # fmt: skip


def _with_metadata(model: Any, estimator: Any, signature: InputSignature) -> bytes:
    """The model's bytes with Driftline's input layout and classes in its metadata."""
    classes = _classes(estimator)
    props = {META_FEATURES: [c.name for c in signature.columns],
             META_LAYOUT: "columns" if _per_column(estimator) else MATRIX}  # fmt: skip
    if classes is not None:
        props[META_CLASSES] = classes
    for key, value in props.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, json.dumps(value)
    data: bytes = model.SerializeToString()
    return data


def export_onnx(estimator: Any, rows: pd.DataFrame, signature: InputSignature | None = None,
                tolerance: Tolerance = DEFAULT_TOLERANCE) -> OnnxExport:  # fmt: skip
    """``estimator`` as ONNX, compared with itself on ``rows``: doubles where supported, else
    floats. ``OnnxExportError`` when no precision converts and loads."""
    estimator = as_pipeline(estimator)
    features = [str(name) for name in getattr(estimator, "feature_names_in_", rows.columns)]
    signature = signature or signature_of(rows, features)
    if [c.name for c in signature.columns] != features:
        signature = signature_of(rows, features)  # the model's own order decides
    problems: list[str] = []
    for precision in ("double", "float"):
        try:
            data = convert(estimator, signature, precision)
            model = load_onnx(data)
            check = compare(estimator, model, rows[features], precision, tolerance)
        except OnnxExportError as exc:  # the converter refused this precision
            problems.append(str(exc))
            continue
        except Exception as exc:  # ONNX Runtime refused the graph or failed on the rows
            problems.append(f"{type(estimator).__name__} cannot run in ONNX Runtime "
                            f"({precision}): {type(exc).__name__}: {str(exc)[:200]}")  # fmt: skip
            continue
        return OnnxExport(data, check)
    raise OnnxExportError(problems[-1])
