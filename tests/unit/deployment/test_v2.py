"""Open Inference Protocol mapping: named tensors to rows, answers to output tensors."""

from __future__ import annotations

import pytest

from driftline.deployment.serving.schemas import PredictionOut
from driftline.deployment.serving.v2 import Tensor, infer_response, instances_from_inputs


def test_named_tensors_become_rows() -> None:
    inputs = [
        Tensor(name="age", shape=[2], datatype="INT64", data=[30, 40]),
        Tensor(name="plan", shape=[2, 1], datatype="BYTES", data=[["pro"], ["basic"]]),
    ]
    assert instances_from_inputs(inputs) == [
        {"age": 30, "plan": "pro"},
        {"age": 40, "plan": "basic"},
    ]


def test_a_tensor_with_the_wrong_length_is_refused() -> None:
    inputs = [
        Tensor(name="age", shape=[2], datatype="INT64", data=[30, 40]),
        Tensor(name="plan", shape=[1], datatype="BYTES", data=["pro"]),
    ]
    with pytest.raises(ValueError, match="'plan'"):
        instances_from_inputs(inputs)


def test_answers_become_predict_and_proba_tensors() -> None:
    answers = [
        PredictionOut(
            request_id=f"r{i}",
            prediction=i,
            probabilities={"0": 1.0 - i, "1": float(i)},
            model_version=3,
            variant="champion",
        )
        for i in (0, 1)
    ]
    body = infer_response("m", None, answers)
    assert body["model_version"] == "3"
    assert body["outputs"][0] == {
        "name": "predict",
        "shape": [2],
        "datatype": "INT64",
        "data": [0, 1],
    }
    assert body["outputs"][1]["data"] == [1.0, 0.0, 0.0, 1.0]
    assert body["parameters"]["request_ids"] == ["r0", "r1"]
