"""LightGBM and XGBoost models to ONNX with onnxmltools (32-bit float inputs only).

Covers the boosters as training fits them (``LGBMClassifier``/``LGBMRegressor``, the XGBoost
scikit-learn classes) and as the safe loader reads a native archive back
(``native_models.LightGBMModel``, the XGBoost classes). A booster behind a preprocessing step
(a pipeline, or ``PreprocessedModel``) is not converted: onnxmltools does not chain with
scikit-learn's converters here.
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
