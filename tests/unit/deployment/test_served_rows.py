"""Answers built from columns: the same JSON as pydantic's response model, the same values as
the per-row predictor, random version-4 request ids, and event lines in the contract's shape."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime

import numpy as np
import orjson
from sklearn.datasets import load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression

from driftline.deployment.models.loading import LoadedModel
from driftline.deployment.models.predictor import json_values, predict_columns, scalar
from driftline.deployment.serving.schemas import PredictResponse
from driftline.deployment.serving.served_rows import ServedRows, new_request_ids

X, Y = load_iris(return_X_y=True)


def test_request_ids_are_distinct_version_4_uuids() -> None:
    found = new_request_ids(500)
    parsed = [uuid.UUID(i) for i in found]
    assert len(set(found)) == 500
    assert all(p.version == 4 and p.variant == uuid.RFC_4122 and str(p) == i
               for p, i in zip(parsed, found, strict=True))  # fmt: skip


def test_whole_columns_become_the_same_json_values_as_one_by_one() -> None:
    for values in (
        np.array([1, 2, 3]),
        np.array([0.5, np.nan, -np.inf, 2.0]),
        np.array(["a", "b"]),
        np.array([True, False]),
        np.array([1, "x", 2.5], dtype=object),
    ):
        assert json_values(values) == [scalar(v) for v in values]


def test_columns_hold_what_the_model_answers_bit_for_bit() -> None:
    model = LogisticRegression(max_iter=1000).fit(X, Y)
    loaded = LoadedModel(model, ("a", "b", "c", "d"), array_estimator=model)
    found = predict_columns(loaded, X[:30])
    proba = model.predict_proba(X[:30])
    assert found.predictions == model.predict(X[:30]).tolist()
    assert found.probabilities == [
        {"0": float(p[0]), "1": float(p[1]), "2": float(p[2])} for p in proba
    ]
    assert found.scores == [float(p[c]) for p, c in zip(proba, found.predictions, strict=True)]
    assert found.errors == [None] * 30


def test_non_finite_regression_outputs_are_null() -> None:
    model = LinearRegression().fit(X, Y)
    model.intercept_ = math.inf
    found = predict_columns(LoadedModel(model, ("a", "b", "c", "d"), model), X[:2])
    assert found.predictions == [None, None]
    assert found.probabilities == [None, None]


def test_the_response_body_is_the_response_model_as_json() -> None:
    model = LogisticRegression(max_iter=1000).fit(X, Y)
    predicted = predict_columns(LoadedModel(model, ("a", "b", "c", "d"), model), X[:3])
    served = ServedRows(
        model="iris", canary_id=None, created_at=datetime(2026, 1, 1, tzinfo=UTC),
        request_ids=new_request_ids(3), features=[{"a": 1.0}] * 3, versions=[1, 2, 1],
        variants=["champion", "canary", "champion"], predicted=predicted, latencies=[0.1] * 3,
    )  # fmt: skip
    expected = PredictResponse(model="iris", predictions=served.outputs())
    assert orjson.loads(served.response_body()) == orjson.loads(expected.model_dump_json())
