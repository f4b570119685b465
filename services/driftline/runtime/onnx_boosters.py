"""LightGBM and XGBoost models to ONNX with onnxmltools (32-bit float inputs only).

Covers the boosters as training fits them (``LGBMClassifier``/``LGBMRegressor``, the XGBoost
scikit-learn classes) and as the safe loader reads a native archive back
(``native_models.LightGBMModel``, the XGBoost classes). Behind a scikit-learn preprocessing
step (the trainer's ``Pipeline(ColumnTransformer, booster)``), the boosters' converters are
registered with skl2onnx so the whole pipeline converts in one graph; a loaded native archive
with a preprocessing step (``PreprocessedModel``) converts when its booster is XGBoost (the
LightGBM one is a bare ``Booster`` that skl2onnx cannot place in a pipeline).
"""

from __future__ import annotations

import copy
from typing import Any

BOOSTER_OPSET = 15
"""The newest opset onnxmltools 1.16 converts boosters to."""


class BoosterExportError(Exception):
    """A booster onnxmltools cannot convert, or onnxmltools missing."""


def is_booster(estimator: Any) -> bool:
    """Whether ``estimator`` is a bare LightGBM or XGBoost model."""
    module = type(estimator).__module__
    return module.startswith(("lightgbm", "xgboost")) or type(estimator).__name__ == "LightGBMModel"


def convert_booster(estimator: Any, features: int, matrix: str) -> Any:
    """The ``ModelProto`` of a booster taking one float matrix named ``matrix``."""
    try:
        import onnxmltools
        from onnxmltools.convert.common.data_types import FloatTensorType
    except ImportError as exc:
        raise BoosterExportError("onnxmltools is not installed here (extra: onnx)") from exc
    inputs = [(matrix, FloatTensorType([None, features]))]
    if type(estimator).__module__.startswith("xgboost"):
        unnamed = copy.deepcopy(estimator)  # the converter reads only f0, f1, … names
        unnamed.get_booster().feature_names = None
        return onnxmltools.convert_xgboost(unnamed, initial_types=inputs,
                                           target_opset=BOOSTER_OPSET)  # fmt: skip
    booster = getattr(estimator, "booster_", None) or getattr(estimator, "booster", None)
    if booster is None:
        raise BoosterExportError(f"{type(estimator).__name__} holds no LightGBM booster")
    return onnxmltools.convert_lightgbm(booster, initial_types=inputs, zipmap=False,
                                        target_opset=BOOSTER_OPSET)  # fmt: skip


def register_pipeline_converters() -> None:
    """Let skl2onnx convert LightGBM / XGBoost classes inside a scikit-learn pipeline."""
    try:
        from onnxmltools.convert.lightgbm.operator_converters.LightGbm import convert_lightgbm
        from onnxmltools.convert.xgboost.operator_converters.XGBoost import convert_xgboost
        from skl2onnx import update_registered_converter
        from skl2onnx.common import shape_calculator as shapes
    except ImportError:
        return  # without onnxmltools a pipeline with a booster is refused by the converter
    options = {"nocl": [True, False], "zipmap": [True, False, "columns"]}
    for module, converter, prefix in (("lightgbm", convert_lightgbm, "LightGbm"),
                                      ("xgboost", convert_xgboost, "XGBoost")):  # fmt: skip
        try:
            library = __import__(module)
        except ImportError:
            continue
        for name in ("Classifier", "Regressor"):
            model = getattr(library, f"LGBM{name}" if module == "lightgbm" else f"XGB{name}")
            if name == "Classifier":
                update_registered_converter(model, f"{prefix}{model.__name__}",
                                            shapes.calculate_linear_classifier_output_shapes,
                                            converter, options=options)  # fmt: skip
            else:
                update_registered_converter(model, f"{prefix}{model.__name__}",
                                            shapes.calculate_linear_regressor_output_shapes,
                                            converter)  # fmt: skip


def as_pipeline(estimator: Any) -> Any:
    """A loaded ``PreprocessedModel`` with an XGBoost booster as a scikit-learn pipeline
    (anything else unchanged)."""
    if type(estimator).__name__ != "PreprocessedModel":
        return estimator
    if not type(estimator.model).__module__.startswith("xgboost"):
        return estimator
    from sklearn.pipeline import Pipeline

    return Pipeline([("preprocess", estimator.preprocess), ("model", estimator.model)])


def holds_booster(estimator: Any) -> bool:
    """Whether a pipeline's last step is a LightGBM / XGBoost model."""
    steps = getattr(estimator, "steps", None) or []
    return bool(steps) and is_booster(steps[-1][1])
