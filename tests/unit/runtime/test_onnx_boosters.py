"""LightGBM and XGBoost to ONNX: bare boosters, trained or loaded from a native archive."""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes

from driftline.runtime.model_loading import load_estimator
from driftline.runtime.onnx_export import OnnxExportError, export_onnx
from driftline.runtime.onnx_models import load_onnx
from driftline.training.formats import serialize_model
from driftline.training.preprocessing import with_preprocessing

pytest.importorskip("onnxmltools")
lightgbm = pytest.importorskip("lightgbm")
xgboost = pytest.importorskip("xgboost")


def _cancer() -> tuple[pd.DataFrame, pd.Series]:
    rows, labels = load_breast_cancer(return_X_y=True, as_frame=True)
    rows.columns = [c.replace(" ", "_") for c in rows.columns]
    return rows, labels


def _loaded(model: object, rows: pd.DataFrame) -> object:
    """The model as deployment reads it back from its native archive."""
    return load_estimator(serialize_model(model, list(rows.columns))[0])[0]


def test_a_lightgbm_classifier_from_its_archive_matches_in_floats() -> None:
    rows, labels = _cancer()
    model = lightgbm.LGBMClassifier(n_estimators=30, verbose=-1).fit(rows, labels)
    export = export_onnx(_loaded(model, rows), rows)
    assert export.check.passed
    assert export.check.precision == "float"
    assert export.check.max_probability_diff <= 1e-6
    served = load_onnx(export.data)
    assert list(served.predict(rows.iloc[:30])) == list(model.predict(rows.iloc[:30]))


def test_an_xgboost_regressor_with_named_features_matches_within_its_scale() -> None:
    rows, target = load_diabetes(return_X_y=True, as_frame=True)
    model = xgboost.XGBRegressor(n_estimators=30, max_depth=3).fit(rows, target)
    for candidate in (model, _loaded(model, rows)):
        check = export_onnx(candidate, rows).check
        assert check.passed
        assert check.max_abs_diff <= check.allowed_abs_diff


def test_an_xgboost_classifier_matches() -> None:
    rows, labels = _cancer()
    model = xgboost.XGBClassifier(n_estimators=20, max_depth=3).fit(rows, labels)
    check = export_onnx(model, rows).check
    assert check.passed
    assert check.label_agreement == 1.0


def _with_size(rows: pd.DataFrame) -> pd.DataFrame:
    size = pd.cut(rows["mean_radius"], [0, 12, 100], labels=["small", "large"]).astype(str)
    return rows.assign(size=size)


@pytest.mark.parametrize("library", ["lightgbm", "xgboost"])
def test_the_trainers_pipeline_ending_in_a_booster_converts_in_one_graph(library: str) -> None:
    rows, labels = _cancer()
    rows = _with_size(rows)
    booster = (lightgbm.LGBMClassifier(n_estimators=20, verbose=-1) if library == "lightgbm"
               else xgboost.XGBClassifier(n_estimators=20, max_depth=3))  # fmt: skip
    pipeline = with_preprocessing(booster, rows).fit(rows, labels)
    export = export_onnx(pipeline, rows)
    assert export.check.passed, export.check
    assert any(kind == "tensor(string)" for _, kind in load_onnx(export.data).inputs)
    if library == "xgboost":  # read back from its archive: preprocessing skops + UBJSON booster
        assert export_onnx(_loaded(pipeline, rows), rows).check.passed


def test_a_lightgbm_archive_with_preprocessing_is_refused_saying_so() -> None:
    rows, labels = _cancer()
    rows = _with_size(rows)
    model = lightgbm.LGBMClassifier(n_estimators=5, verbose=-1)
    pipeline = with_preprocessing(model, rows).fit(rows, labels)
    with pytest.raises(OnnxExportError, match="LightGBM archive with a preprocessing step"):
        export_onnx(_loaded(pipeline, rows), rows)
