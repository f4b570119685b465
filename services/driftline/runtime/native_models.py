"""LightGBM and XGBoost models in their own formats, loaded without pickle.

A native model archive is a zip holding ``driftline-model.json`` (the manifest: library,
estimator class, feature names, classes, params) and the library's own model file: a
LightGBM text model or an XGBoost UBJSON model (a scikit-learn preprocessing step in front of
the booster rides along as ``preprocess.skops``, loaded by the checked skops path). Neither
booster format can name Python code, so loading one builds nothing but trees. The estimator
class must be one of ``ESTIMATORS``, by full name; the archive is refused otherwise.
"""

from __future__ import annotations

import importlib
import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

import numpy as np

MANIFEST = "driftline-model.json"
FORMAT = "driftline-native-model"
MEDIA_TYPE = "application/vnd.driftline.native-model+zip"
PREPROCESS = "preprocess.skops"
MAX_MODEL_BYTES = 512 * 1024 * 1024
ESTIMATORS = {
    "lightgbm.LGBMClassifier": "model.txt",
    "lightgbm.LGBMRegressor": "model.txt",
    "xgboost.XGBClassifier": "model.ubj",
    "xgboost.XGBRegressor": "model.ubj",
    "xgboost.XGBRFClassifier": "model.ubj",
    "xgboost.XGBRFRegressor": "model.ubj",
}
"""Estimator classes a native archive may name, and the file that holds the model."""


class NativeModelError(Exception):
    """A native model archive that is malformed or names an estimator outside the list."""


def is_native_archive(data: bytes) -> bool:
    """Whether ``data`` is a zip holding a Driftline native-model manifest."""
    try:
        return MANIFEST in zipfile.ZipFile(io.BytesIO(data)).namelist()
    except zipfile.BadZipFile:
        return False


@dataclass(frozen=True)
class LightGBMModel:
    """A LightGBM booster behind scikit-learn's ``predict``/``predict_proba``."""

    booster: Any
    feature_names_in_: np.ndarray
    classes: tuple[Any, ...] | None

    @property
    def n_features_in_(self) -> int:
        """How many features the booster expects."""
        return len(self.feature_names_in_)

    @property
    def classes_(self) -> np.ndarray:
        """The class labels, in the order of ``predict_proba``'s columns."""
        if self.classes is None:
            raise AttributeError("a regressor has no classes")
        return np.asarray(self.classes)

    def _scores(self, rows: Any) -> np.ndarray:
        return np.asarray(self.booster.predict(rows))

    def predict_proba(self, rows: Any) -> np.ndarray:
        """Class probabilities, one column per class."""
        scores = self._scores(rows)
        return np.column_stack([1 - scores, scores]) if scores.ndim == 1 else scores

    def predict(self, rows: Any) -> np.ndarray:
        """Predicted labels (classifier) or values (regressor)."""
        if self.classes is None:
            return self._scores(rows)
        labels: np.ndarray = self.classes_[np.argmax(self.predict_proba(rows), axis=1)]
        return labels


@dataclass(frozen=True)
class PreprocessedModel:
    """A scikit-learn preprocessing step (from skops) in front of a native booster."""

    preprocess: Any
    model: Any

    @property
    def feature_names_in_(self) -> np.ndarray:
        """The columns the preprocessing step was fitted on."""
        return np.asarray(self.preprocess.feature_names_in_, dtype=object)

    @property
    def n_features_in_(self) -> int:
        """How many columns the preprocessing step expects."""
        return len(self.feature_names_in_)

    @property
    def classes_(self) -> np.ndarray:
        """The booster's class labels."""
        return np.asarray(self.model.classes_)

    def predict(self, rows: Any) -> np.ndarray:
        """The booster's predictions on the preprocessed rows."""
        return np.asarray(self.model.predict(self.preprocess.transform(rows)))

    def predict_proba(self, rows: Any) -> np.ndarray:
        """The booster's class probabilities on the preprocessed rows."""
        return np.asarray(self.model.predict_proba(self.preprocess.transform(rows)))


def read_manifest(archive: zipfile.ZipFile) -> dict[str, Any]:
    """The manifest, checked: its format, estimator class and model file."""
    try:
        manifest = json.loads(archive.read(MANIFEST))
    except (KeyError, ValueError) as exc:
        raise NativeModelError(f"unreadable {MANIFEST}: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise NativeModelError(f"{MANIFEST} is not a {FORMAT} manifest")
    estimator = manifest.get("estimator")
    if estimator not in ESTIMATORS:
        raise NativeModelError(f"estimator {estimator!r} is not one of {sorted(ESTIMATORS)}")
    if not isinstance(manifest.get("features"), list) or not manifest["features"]:
        raise NativeModelError("the manifest names no features")
    return manifest


def _model_file(archive: zipfile.ZipFile, name: str) -> bytes:
    try:
        info = archive.getinfo(name)
    except KeyError as exc:
        raise NativeModelError(f"the archive has no {name}") from exc
    if info.file_size > MAX_MODEL_BYTES:
        raise NativeModelError(f"{name} is larger than {MAX_MODEL_BYTES} bytes")
    return archive.read(name)


def _library(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise NativeModelError(f"{name} is not installed here (extra: boosting)") from exc


def preprocess_bytes(data: bytes) -> bytes | None:
    """The skops file of the archive's preprocessing step, if it has one (load it safely)."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    if read_manifest(archive).get("preprocess") is None:
        return None
    return _model_file(archive, PREPROCESS)


def load_native(data: bytes) -> tuple[Any, tuple[str, ...]]:
    """The booster in a native archive, and its feature names; ``NativeModelError`` else."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    manifest = read_manifest(archive)
    library, _, class_name = manifest["estimator"].partition(".")
    raw = _model_file(archive, ESTIMATORS[manifest["estimator"]])
    features = tuple(str(name) for name in manifest["features"])
    try:
        if library == "lightgbm":
            booster = _library("lightgbm").Booster(model_str=raw.decode("utf-8"))
            classes = manifest.get("classes")
            model: Any = LightGBMModel(booster, np.asarray(features, dtype=object),
                                       None if classes is None else tuple(classes))  # fmt: skip
        else:
            model = getattr(_library("xgboost"), class_name)()
            model.load_model(bytearray(raw))
    except NativeModelError:
        raise
    except Exception as exc:  # the libraries raise their own errors on a corrupt model
        raise NativeModelError(f"{library} could not read the model: {exc}") from exc
    return model, features
