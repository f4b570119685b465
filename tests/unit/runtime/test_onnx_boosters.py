"""LightGBM and XGBoost to ONNX: bare boosters, trained or loaded from a native archive."""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes

from driftline.runtime.model_loading import load_estimator
from driftline.runtime.onnx_export import OnnxExportError, export_onnx
from driftline.runtime.onnx_models import load_onnx
from driftline.training.formats import serialize_model

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


def test_a_booster_behind_a_preprocessing_step_is_refused_saying_so() -> None:
    rows, labels = _cancer()
    rows = rows.assign(size=pd.cut(rows["mean_radius"], [0, 12, 100], labels=["s", "l"])
                       .astype(str))  # fmt: skip
    model = lightgbm.LGBMClassifier(n_estimators=5, verbose=-1)
    from driftline.training.preprocessing import with_preprocessing

    pipeline = with_preprocessing(model, rows).fit(rows, labels)
    with pytest.raises(OnnxExportError, match="only as bare models"):
        export_onnx(_loaded(pipeline, rows), rows)
