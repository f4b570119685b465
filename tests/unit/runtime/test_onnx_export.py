"""ONNX exports: the same answers as the original within the stated tolerance, or refused."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from driftline.runtime.onnx_check import Tolerance, labels_agree
from driftline.runtime.onnx_export import OnnxExportError, export_onnx
from driftline.runtime.onnx_models import OnnxClassifier, load_onnx
from driftline.runtime.onnx_record import export_files

pytest.importorskip("skl2onnx")
warnings.filterwarnings("ignore", category=FutureWarning)


@pytest.fixture(scope="module")
def cancer() -> tuple[pd.DataFrame, pd.Series]:
    rows, labels = load_breast_cancer(return_X_y=True, as_frame=True)
    return rows, labels


def with_size(rows: pd.DataFrame) -> pd.DataFrame:
    """The breast-cancer rows plus a categorical column cut from the mean radius."""
    bins = pd.cut(rows["mean radius"], [0, 12, 15, 100], labels=["small", "medium", "large"])
    return rows.assign(size=bins.astype(str))


def test_logistic_regression_matches_to_double_precision(cancer) -> None:
    rows, labels = cancer
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)).fit(rows, labels)
    check = export_onnx(model, rows).check
    assert check.passed
    assert check.precision == "double"
    assert check.rows == len(rows)
    assert check.label_agreement == 1.0
    assert check.max_probability_diff < 1e-12


def test_random_forest_matches_within_tolerance(cancer) -> None:
    rows, labels = cancer
    model = RandomForestClassifier(n_estimators=30, random_state=0).fit(rows, labels)
    check = export_onnx(model, rows).check
    assert check.passed
    assert check.label_agreement == 1.0
    assert check.max_probability_diff <= 1e-5


def test_pipeline_with_a_categorical_column_gets_typed_inputs_per_column(cancer) -> None:
    rows, labels = cancer
    rows = with_size(rows)
    columns = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(), StandardScaler()), list(rows.columns[:-1])),
        ("cat", OneHotEncoder(handle_unknown="ignore"), ["size"]),
    ])
    model = make_pipeline(columns, LogisticRegression(max_iter=5000)).fit(rows, labels)
    export = export_onnx(model, rows)
    assert export.check.passed, export.check
    onnx = load_onnx(export.data)
    assert len(onnx.inputs) == rows.shape[1]
    assert onnx.inputs[-1][1] == "tensor(string)"
    assert onnx.features == tuple(rows.columns)
    unseen = rows.iloc[:3].assign(size="enormous")  # unknown category: ignored by both
    assert list(onnx.predict(unseen)) == list(model.predict(unseen))


def test_regression_within_its_scale(cancer) -> None:
    rows, target = load_diabetes(return_X_y=True, as_frame=True)
    for model in (Ridge(), RandomForestRegressor(n_estimators=20, random_state=0)):
        check = export_onnx(model.fit(rows, target), rows).check
        assert check.passed
        assert check.task == "regression"
        assert check.max_abs_diff <= check.allowed_abs_diff


def test_an_export_outside_the_tolerance_is_refused(cancer) -> None:
    rows, labels = cancer
    model = RandomForestClassifier(n_estimators=10, random_state=0).fit(rows, labels)
    check = export_onnx(model, rows, tolerance=Tolerance(probability=0.0)).check
    assert check.max_probability_diff > 0
    assert not check.passed
    with pytest.raises(OnnxExportError, match="differs from the model beyond the tolerance"):
        export_files(model, rows, None, serving=True, tolerance=Tolerance(probability=0.0))


def test_export_files_are_the_onnx_file_and_its_record(cancer) -> None:
    rows, labels = cancer
    model = RandomForestClassifier(n_estimators=10, random_state=0).fit(rows, labels)
    files, record = export_files(model, rows, None, serving=True)
    assert set(files) == {"model.onnx", "onnx.json"}
    assert record.serving
    assert record.check.passed
    assert record.size_bytes == len(files["model.onnx"])


def test_an_unsupported_model_is_refused_naming_its_type(cancer) -> None:
    rows, labels = cancer
    model = HistGradientBoostingClassifier(max_iter=2, max_depth=2).fit(rows, labels)
    with pytest.raises(OnnxExportError, match="HistGradientBoostingClassifier"):
        export_onnx(model, rows)


def test_a_model_that_is_not_scikit_learn_is_refused(cancer) -> None:
    class Foreign:
        feature_names_in_ = np.asarray(["a"], dtype=object)

        def predict(self, rows: object) -> list[int]:
            return [0]

    with pytest.raises(OnnxExportError, match="Foreign is not a scikit-learn estimator"):
        export_onnx(Foreign(), pd.DataFrame({"a": [1.0]}))


def test_strings_without_a_column_transformer_are_refused(cancer) -> None:
    rows, labels = cancer
    model = LogisticRegression(max_iter=10).fit(rows.iloc[:, :2], labels)
    odd = rows.iloc[:, :2].astype(str)
    with pytest.raises(OnnxExportError, match="string columns"):
        export_onnx(model, odd)


def test_the_served_model_gives_classes_in_probability_order(cancer) -> None:
    rows, labels = cancer
    named = labels.map({0: "malignant", 1: "benign"})
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(rows, named)
    onnx = load_onnx(export_onnx(model, rows).data)
    assert isinstance(onnx, OnnxClassifier)
    assert list(onnx.classes_) == list(model.classes_)
    assert list(onnx.predict(rows.iloc[:20])) == list(model.predict(rows.iloc[:20]))


def test_a_label_that_differs_only_at_a_tie_counts_as_agreeing(cancer) -> None:
    rows, labels = cancer
    model = RandomForestClassifier(n_estimators=10, random_state=0).fit(rows, labels)
    onnx = load_onnx(export_onnx(model, rows).data)
    original = np.asarray([[0.5, 0.5], [0.9, 0.1], [0.2, 0.8]])
    expected, found = np.asarray([0, 0, 1]), np.asarray([1, 1, 1])
    equal, ties = labels_agree(expected, found, original, onnx, 1e-5)
    assert list(equal) == [False, False, True]
    assert list(ties) == [True, False, False]  # 0.9 vs 0.1 is a real disagreement
