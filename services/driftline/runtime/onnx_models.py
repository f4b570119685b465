"""ONNX models served by ONNX Runtime: checked before a session is built, scored like sklearn.

An ONNX file is a graph of operators, not code: ONNX Runtime runs only the operators it
implements. Two ways it could still reach outside the graph are refused before a session is
built: operators of a custom domain (a library the process would have to load) and tensors
stored as external data (a path the runtime would read from disk). Sessions run on the CPU
with one intra-op thread, as the rest of serving does (one BLAS thread).

Driftline's exports carry their input layout in the model's metadata (``driftline.*`` keys,
written by ``runtime.onnx_export``): the features in order, one input per column or one
float matrix, and a classifier's classes in probability-column order.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

ALLOWED_DOMAINS = frozenset({"", "ai.onnx", "ai.onnx.ml"})
MAX_ONNX_BYTES = 512 * 1024 * 1024
MEDIA_TYPE = "application/onnx"
META_FEATURES, META_LAYOUT = "driftline.features", "driftline.layout"
META_CLASSES = "driftline.classes"
MATRIX = "matrix"
"""Layout of a model with one float input ``[rows, features]`` (no per-column inputs)."""


class OnnxModelError(Exception):
    """An ONNX file that is malformed, too large, not a Driftline export, or not allowed."""


def _onnx() -> Any:
    try:
        import onnx
    except ImportError as exc:
        raise OnnxModelError("onnx is not installed here (extra: onnx)") from exc
    return onnx


def _runtime() -> Any:
    try:
        import onnxruntime
    except ImportError as exc:
        raise OnnxModelError("onnxruntime is not installed here (extra: onnx)") from exc
    return onnxruntime


def _graphs(graph: Any) -> Any:
    """``graph`` and every subgraph its nodes hold (If / Loop / Scan bodies)."""
    yield graph
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.HasField("g"):
                yield from _graphs(attribute.g)
            for sub in attribute.graphs:
                yield from _graphs(sub)


def checked_onnx(data: bytes) -> Any:
    """The parsed ``ModelProto`` if it uses standard operator domains and no external data;
    ``OnnxModelError`` saying why not otherwise."""
    if len(data) > MAX_ONNX_BYTES:
        raise OnnxModelError(f"the ONNX file is larger than {MAX_ONNX_BYTES} bytes")
    onnx = _onnx()
    try:
        model = onnx.load_model_from_string(data)
    except Exception as exc:  # protobuf raises DecodeError and others on garbage
        raise OnnxModelError(f"not an ONNX model: {type(exc).__name__}: {exc}") from exc
    domains = {opset.domain for opset in model.opset_import}
    domains |= {node.domain for graph in _graphs(model.graph) for node in graph.node}
    if model.functions:
        domains |= {function.domain for function in model.functions}
    custom = sorted(domains - ALLOWED_DOMAINS)
    if custom:
        raise OnnxModelError(f"custom operator domains are refused: {', '.join(custom)}")
    external = onnx.TensorProto.EXTERNAL
    for graph in _graphs(model.graph):
        for tensor in graph.initializer:
            if tensor.data_location == external or tensor.external_data:
                raise OnnxModelError(f"tensor {tensor.name!r} is stored as external data")
    return model


@dataclass(frozen=True)
class OnnxModel:
    """An ONNX Runtime session behind scikit-learn's ``predict`` (a regressor's outputs)."""

    session: Any
    features: tuple[str, ...]
    inputs: tuple[tuple[str, str], ...]
    """Per input: its name and element type (``tensor(double)``, ``tensor(string)`` …)."""
    matrix: bool
    """One float input ``[rows, features]`` instead of one input per column."""

    @property
    def feature_names_in_(self) -> np.ndarray:
        """The columns the model expects, in order."""
        return np.asarray(self.features, dtype=object)

    @property
    def n_features_in_(self) -> int:
        """How many columns the model expects."""
        return len(self.features)

    def feeds(self, rows: pd.DataFrame | np.ndarray) -> dict[str, np.ndarray]:
        """The session's inputs for ``rows`` (a frame, or an array in feature order)."""
        if self.matrix:
            name, kind = self.inputs[0]
            values = rows[list(self.features)] if isinstance(rows, pd.DataFrame) else rows
            return {name: np.asarray(values, dtype=_numpy_type(kind))}
        columns = _columns(rows, self.features)
        return {name: _column(values, kind) for (name, kind), values in zip(self.inputs, columns,
                                                                             strict=True)}

    def run(self, rows: pd.DataFrame | np.ndarray) -> list[Any]:
        """The session's outputs for ``rows``."""
        outputs: list[Any] = self.session.run(None, self.feeds(rows))
        return outputs

    def predict(self, rows: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Predicted values, one per row."""
        return np.asarray(self.run(rows)[0]).reshape(len(rows), -1)[:, 0]


@dataclass(frozen=True)
class OnnxClassifier(OnnxModel):
    """A classifier's session: labels and class probabilities (one column per class)."""

    classes: tuple[Any, ...] = ()

    @property
    def classes_(self) -> np.ndarray:
        """The class labels, in the order of ``predict_proba``'s columns."""
        return np.asarray(self.classes)

    def predict(self, rows: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Predicted labels: the most probable class, the first one on a tie, as scikit-learn's
        classifiers decide (the graph's own label output breaks ties its own way)."""
        return self.predict_with_proba(rows)[0]

    def predict_with_proba(self, rows: pd.DataFrame | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Labels and class probabilities from one run of the session."""
        proba = self.predict_proba(rows)
        labels: np.ndarray = self.classes_[np.argmax(proba, axis=1)]
        return labels, proba

    def predict_proba(self, rows: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Class probabilities, one column per class."""
        return np.asarray(self.run(rows)[1], dtype=np.float64)


def _numpy_type(kind: str) -> Any:
    known = {"tensor(double)": np.float64, "tensor(float)": np.float32,
             "tensor(int64)": np.int64, "tensor(string)": object}  # fmt: skip
    if kind not in known:
        raise OnnxModelError(f"input type {kind} is not supported")
    return known[kind]


def _columns(rows: pd.DataFrame | np.ndarray, features: Sequence[str]) -> list[np.ndarray]:
    if isinstance(rows, pd.DataFrame):
        return [rows[name].to_numpy() for name in features]
    return [rows[:, index] for index in range(len(features))]


def _column(values: np.ndarray, kind: str) -> np.ndarray:
    """One column as a ``[rows, 1]`` tensor of the input's type (missing strings: empty)."""
    if kind == "tensor(string)":
        text = np.asarray([("" if pd.isna(v) else str(v)) for v in values], dtype=object)
        return text.reshape(-1, 1)
    return np.asarray(values, dtype=_numpy_type(kind)).reshape(-1, 1)


def _metadata(session: Any) -> dict[str, Any]:
    found = session.get_modelmeta().custom_metadata_map
    try:
        return {key: json.loads(found[key]) for key in (META_FEATURES, META_LAYOUT)} | {
            META_CLASSES: json.loads(found.get(META_CLASSES, "null"))
        }
    except (KeyError, ValueError) as exc:
        raise OnnxModelError(f"not a Driftline ONNX export (metadata {exc} missing)") from exc


def load_onnx(data: bytes) -> OnnxModel:
    """An ONNX Runtime session (CPU, one intra-op thread) for a checked Driftline export."""
    checked_onnx(data)
    runtime = _runtime()
    options = runtime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    try:
        session = runtime.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # ONNX Runtime refuses graphs it cannot run
        raise OnnxModelError(f"ONNX Runtime cannot load the model: {exc}") from exc
    meta = _metadata(session)
    features = tuple(str(name) for name in meta[META_FEATURES])
    inputs = tuple((i.name, i.type) for i in session.get_inputs())
    matrix = meta[META_LAYOUT] == MATRIX
    if len(inputs) != (1 if matrix else len(features)):
        raise OnnxModelError(f"{len(inputs)} inputs for {len(features)} features")
    if meta[META_CLASSES] is None:
        return OnnxModel(session, features, inputs, matrix)
    return OnnxClassifier(session, features, inputs, matrix, tuple(meta[META_CLASSES]))
