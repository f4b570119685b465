"""Serialize a trained estimator in a format loaded without pickle: native archive or skops.

LightGBM and XGBoost estimators are saved in their libraries' own model formats (a text
model, a UBJSON model) inside a native model archive (``runtime.native_models``); every
other estimator is saved with skops.
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import skops.io as sio
from sklearn.pipeline import Pipeline

from driftline.runtime.native_models import ESTIMATORS, FORMAT, MANIFEST, MEDIA_TYPE, PREPROCESS

SKOPS_MEDIA_TYPE = "application/vnd.skops"


def estimator_name(estimator: Any) -> str:
    """``xgboost.XGBClassifier`` for an estimator of a booster library's public class."""
    return f"{type(estimator).__module__.split('.')[0]}.{type(estimator).__name__}"


def _json_params(estimator: Any) -> dict[str, Any]:
    """The constructor parameters that are JSON values (for the manifest; never loaded)."""
    params = {}
    for key, value in estimator.get_params(deep=False).items():
        try:
            json.dumps(value)
        except TypeError:
            continue
        params[key] = value
    return params


def _native_model_file(estimator: Any, name: str) -> bytes:
    if name.endswith(".txt"):
        return str(estimator.booster_.model_to_string()).encode("utf-8")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        estimator.save_model(str(path))  # keeps the scikit-learn attributes (classes, type)
        return path.read_bytes()


def split_booster(estimator: Any) -> tuple[Any, Any]:
    """(preprocessing or None, booster) when the estimator ends in a listed booster, else
    (None, None)."""
    steps = getattr(estimator, "steps", None)
    if steps and estimator_name(steps[-1][1]) in ESTIMATORS:
        head = steps[0][1] if len(steps) == 2 else Pipeline(steps[:-1])
        return head, steps[-1][1]
    return (None, estimator) if estimator_name(estimator) in ESTIMATORS else (None, None)


def native_archive(estimator: Any, features: list[str] | None = None) -> bytes:
    """A fitted LightGBM/XGBoost estimator (or a pipeline ending in one) as an archive."""
    preprocess, estimator = split_booster(estimator)
    name = estimator_name(estimator)
    model_file = ESTIMATORS[name]
    fitted = preprocess if preprocess is not None else estimator
    names = features or [str(f) for f in getattr(fitted, "feature_names_in_", [])]
    if not names:
        names = [f"x{i}" for i in range(int(estimator.n_features_in_))]
    classes = getattr(estimator, "classes_", None)
    manifest = {
        "format": FORMAT, "estimator": name, "model_file": model_file, "features": names,
        "classes": None if classes is None else list(classes.tolist()),
        "params": _json_params(estimator),
        "preprocess": None if preprocess is None else PREPROCESS,
    }  # fmt: skip
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, json.dumps(manifest, indent=2))
        archive.writestr(model_file, _native_model_file(estimator, model_file))
        if preprocess is not None:
            archive.writestr(PREPROCESS, sio.dumps(preprocess))
    return buffer.getvalue()


def serialize_model(estimator: Any, features: list[str] | None = None) -> tuple[bytes, str]:
    """The estimator's bytes and media type: a native archive for boosters, else skops."""
    if split_booster(estimator)[1] is not None:
        return native_archive(estimator, features), MEDIA_TYPE
    return sio.dumps(estimator), SKOPS_MEDIA_TYPE
