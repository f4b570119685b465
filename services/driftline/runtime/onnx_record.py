"""A version's ONNX export beside its model: ``model.onnx`` and its record ``onnx.json``.

Both live in the run's folder next to ``model.skops`` (``models/{model}/{run}/``). The record
names the file's sha256 (deployment verifies it before loading), how the export compared with
the original, and whether the version serves it: training writes it with ``serving: true``
when the spec's serving runtime is ``onnx``; ``driftline models export`` writes it with
``serving: false`` for a version that has none (an export never changes what serves).
"""

from __future__ import annotations

import hashlib
from typing import Any

import pandas as pd
from pydantic import BaseModel, Field

from driftline.runtime.onnx_check import DEFAULT_TOLERANCE, OnnxCheck, Tolerance
from driftline.runtime.onnx_export import OnnxExportError, export_onnx
from driftline.runtime.onnx_models import checked_onnx
from driftline_contracts.signature import InputSignature

ONNX_FILE, RECORD_FILE = "model.onnx", "onnx.json"


class OnnxRecord(BaseModel):
    """What ``onnx.json`` says about the ONNX file beside a version's model."""

    file: str = Field(ONNX_FILE, description="The ONNX file's name, beside the model.")
    sha256: str = Field(description="SHA-256 of the ONNX file.")
    size_bytes: int = Field(description="Size of the ONNX file.")
    opset: dict[str, int] = Field(description="Operator sets the graph uses, by domain.")
    serving: bool = Field(description="Whether deployment serves this file (runtime onnx).")
    check: OnnxCheck = Field(description="The export compared with the original model.")


def export_files(estimator: Any, rows: pd.DataFrame, signature: InputSignature | None,
                 *, serving: bool, tolerance: Tolerance = DEFAULT_TOLERANCE
                 ) -> tuple[dict[str, bytes], OnnxRecord]:  # fmt: skip
    """``model.onnx`` and ``onnx.json`` for ``estimator`` checked on ``rows``;
    ``OnnxExportError`` when it cannot be exported or differs beyond the tolerance."""
    export = export_onnx(estimator, rows, signature, tolerance)
    if not export.check.passed:
        raise OnnxExportError(f"the ONNX export of {type(estimator).__name__} differs from the "
                              f"model beyond the tolerance: {_summary(export.check)}")  # fmt: skip
    opset = {o.domain or "ai.onnx": o.version for o in checked_onnx(export.data).opset_import}
    record = OnnxRecord(
        sha256=hashlib.sha256(export.data).hexdigest(), size_bytes=len(export.data),
        opset=opset, serving=serving, check=export.check,
    )  # fmt: skip
    files = {ONNX_FILE: export.data, RECORD_FILE: record.model_dump_json(indent=2).encode()}
    return files, record


def _summary(check: OnnxCheck) -> str:
    if check.task == "classification":
        return (f"labels agree on {check.label_agreement:.4%} of {check.rows} rows ({check.ties} "
                f"at a tie), largest "
                f"probability difference {check.max_probability_diff:.3g}")  # fmt: skip
    return (f"largest difference {check.max_abs_diff:.3g} on {check.rows} rows, allowed "
            f"{check.allowed_abs_diff:.3g}")  # fmt: skip


def sibling_uri(artifact_uri: str, name: str) -> str | None:
    """The URI of ``name`` in the folder of the model at ``artifact_uri`` (None: no folder)."""
    folder, slash, _ = artifact_uri.rpartition("/")
    return f"{folder}/{name}" if slash and folder else None
