"""The predict suite's ONNX Runtime rows: measured on the suite's model, the export checked."""

from __future__ import annotations

import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression

from bench.predict import STARLETTE, table
from bench.predict_load import Load
from bench.predict_onnx import ONNX_FLOOR, ONNX_STEP, SKLEARN_STEP, in_process_onnx

pytest.importorskip("onnxruntime")


def test_the_onnx_rows_are_measured_and_land_in_the_suite_table() -> None:
    frame, target = load_breast_cancer(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=20).fit(frame, target)  # the suite's model, briefly fit
    rows = frame.iloc[:100].to_dict(orient="records")
    found, summary = in_process_onnx(model, rows, (1,), quick=True)
    assert set(found) == {ONNX_FLOOR, SKLEARN_STEP, ONNX_STEP}
    assert all(seconds > 0 for per_size in found.values() for seconds in per_size.values())
    assert "labels agree on 100.00%" in summary
    starlette = {STARLETTE: {1: [Load(requests=1000, seconds=1.0, p50_ms=1.0, p99_ms=2.0)]}}
    lines = table(starlette, {"1": 1e-4}, 1, found)
    assert any(line.startswith(f"| {ONNX_FLOOR} | ") for line in lines)
    assert any(line.startswith(f"| {ONNX_STEP} | ") for line in lines)
