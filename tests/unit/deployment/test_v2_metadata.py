"""KServe V2 model metadata: inputs named and typed from the estimator, outputs by task."""

from __future__ import annotations

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from driftline.deployment.models.loading import LoadedModel, feature_names
from driftline.deployment.serving.v2_metadata import categorical_columns, model_metadata

FRAME = pd.DataFrame(
    {
        "tenure": [1.0, 5.0, 9.0, 2.0],
        "plan": ["pro", "basic", "pro", "basic"],
        "age": [20, 30, 40, 50],
    }
)


def _loaded(estimator: object) -> LoadedModel:
    return LoadedModel(estimator, feature_names(estimator))


def test_categorical_inputs_are_bytes_and_numeric_ones_fp64() -> None:
    columns = ColumnTransformer(
        [("num", StandardScaler(), ["tenure", "age"]), ("cat", OneHotEncoder(), ["plan"])]
    )
    model = make_pipeline(columns, LogisticRegression()).fit(FRAME, ["a", "b", "a", "b"])
    assert categorical_columns(model) == {"plan"}
    meta = model_metadata("churn", [1, 3], _loaded(model))
    assert meta["name"] == "churn"
    assert meta["versions"] == ["1", "3"]
    assert meta["platform"] == "scikit-learn"
    assert meta["inputs"] == [
        {"name": "tenure", "datatype": "FP64", "shape": [-1]},
        {"name": "plan", "datatype": "BYTES", "shape": [-1]},
        {"name": "age", "datatype": "FP64", "shape": [-1]},
    ]
    assert meta["outputs"] == [
        {"name": "predict", "datatype": "BYTES", "shape": [-1]},
        {"name": "predict_proba", "datatype": "FP64", "shape": [-1, 2]},
    ]


def test_a_regressor_has_one_fp64_output() -> None:
    model = LinearRegression().fit(FRAME[["tenure", "age"]], [1.0, 2.0, 3.0, 4.0])
    meta = model_metadata("price", [2], _loaded(model))
    assert [i["name"] for i in meta["inputs"]] == ["tenure", "age"]
    assert meta["outputs"] == [{"name": "predict", "datatype": "FP64", "shape": [-1]}]


def test_integer_classes_are_int64() -> None:
    model = LogisticRegression().fit(FRAME[["tenure"]], [0, 1, 0, 1])
    assert model_metadata("m", [1], _loaded(model))["outputs"][0]["datatype"] == "INT64"
