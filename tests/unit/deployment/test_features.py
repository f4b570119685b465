"""Feature validation: 422 problems that name the missing or unknown feature and row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from driftline.deployment.errors import FeatureError
from driftline.deployment.serving.features import feature_problems, frame_of, to_frame

FEATURES = ("age", "plan", "spend")


def test_a_missing_feature_is_named_with_its_row() -> None:
    (problem,) = feature_problems(
        [{"age": 3, "plan": "pro", "spend": 1.0}, {"age": 4, "plan": "x"}], FEATURES
    )
    assert problem["type"] == "missing_feature"
    assert problem["loc"] == ["body", "instances", 1, "spend"]
    assert problem["msg"] == "missing feature 'spend' (row 1)"


def test_an_unknown_feature_is_named() -> None:
    (problem,) = feature_problems([{"age": 3, "plan": "pro", "spend": 1.0, "agee": 1}], FEATURES)
    assert problem["type"] == "unknown_feature"
    assert "unknown feature 'agee' (row 0)" in str(problem["msg"])


def test_the_frame_follows_the_training_order() -> None:
    frame = to_frame([{"spend": 1.5, "age": 3, "plan": "pro"}], FEATURES)
    assert list(frame.columns) == list(FEATURES)
    assert frame.iloc[0].tolist() == [3, "pro", 1.5]


def test_wrong_rows_raise_with_every_problem() -> None:
    with pytest.raises(FeatureError, match="missing feature 'age'") as caught:
        to_frame([{"plan": "pro", "spend": 1.0, "x": 1}], FEATURES)
    assert len(caught.value.problems) == 2


def test_float_rows_build_the_same_frame_as_pandas_inference() -> None:
    rows = [{"a": 1.5, "b": -2.0}, {"b": 0.25, "a": 3.0}]
    frame = frame_of(rows, ("a", "b"))
    assert frame.equals(pd.DataFrame([[1.5, -2.0], [3.0, 0.25]], columns=["a", "b"]))
    assert list(frame.dtypes) == [np.float64, np.float64]


def test_mixed_rows_keep_a_type_per_column() -> None:
    frame = frame_of([{"age": 3, "plan": "pro", "spend": 1.5}], FEATURES)
    assert str(frame.dtypes["age"]) == "int64"
    assert frame.iloc[0].tolist() == [3, "pro", 1.5]
