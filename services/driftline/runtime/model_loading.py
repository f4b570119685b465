"""Safe model loading shared by deployment and training: skops only, trusted types only.

A pickle, a zip that is not a skops file, or one naming a type outside scikit-learn, NumPy
and SciPy is refused before any object is built from it; ``skops.io.loads`` only ever runs
with an explicit list of types that passed that check. One exception, by exact name: a
``functools.partial`` is trusted only when every partial in the file wraps a function in
``PARTIAL_FUNCTIONS`` (scikit-learn's HistGradientBoosting with categorical features holds
``partial(check_array, ...)``); a partial of anything else (``os.system``, ``eval``,
``numpy.add``) is refused as before. Training runs the same check on its
own artifact before announcing it, so a model deployment would refuse is never registered.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

from driftline.runtime.native_models import (
    NativeModelError,
    PreprocessedModel,
    is_native_archive,
    load_native,
    preprocess_bytes,
)

TRUSTED_MODULES = ("sklearn.", "numpy.", "scipy.")
ZIP_MAGIC = b"PK\x03\x04"
PARTIAL = "functools.partial"
PARTIAL_FUNCTIONS = frozenset({"sklearn.utils.validation.check_array"})
"""The only functions a trusted ``functools.partial`` may wrap, by full name."""


class UnservableModelError(Exception):
    """An artifact is not a skops file of trusted types, or not a usable estimator."""


def _skops() -> Any:
    """``skops.io``, imported on first use: importing it lists every scikit-learn estimator
    (all of scikit-learn imported, seconds of a service's start-up that needs no model yet)."""
    import skops.io

    return skops.io


def trusted_types(data: bytes) -> list[str]:
    """The non-default types in a skops file, if all are trusted; else ``UnservableModelError``."""
    if not data.startswith(ZIP_MAGIC) or not zipfile.is_zipfile(io.BytesIO(data)):
        raise UnservableModelError("not a skops file (a pickle or other format is never loaded)")
    try:
        untrusted = _skops().get_untrusted_types(data=data)
    except Exception as exc:  # a malformed archive: skops raises many kinds
        raise UnservableModelError(f"unreadable skops file: {type(exc).__name__}: {exc}") from exc
    refused = [name for name in untrusted if not name.startswith(TRUSTED_MODULES)]
    if PARTIAL in refused and _partials_wrap_trusted_functions(data):
        refused.remove(PARTIAL)
    if refused:
        raise UnservableModelError(f"untrusted types in model: {', '.join(sorted(refused))}")
    return list(untrusted)


def _partial_functions(node: object) -> Iterator[str]:
    """Full names of the functions every partial node in a skops schema wraps."""
    if isinstance(node, dict):
        if f"{node.get('__module__')}.{node.get('__class__')}" == PARTIAL:
            func = (node.get("content") or {}).get("func") or {}
            yield f"{func.get('__module__')}.{func.get('__class__')}"
        for value in node.values():
            yield from _partial_functions(value)
    elif isinstance(node, list):
        for value in node:
            yield from _partial_functions(value)


def _partials_wrap_trusted_functions(data: bytes) -> bool:
    """Whether every ``functools.partial`` in the file wraps a ``PARTIAL_FUNCTIONS`` member."""
    try:
        schema = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("schema.json"))
    except (KeyError, ValueError, zipfile.BadZipFile):
        return False
    wrapped = set(_partial_functions(schema))
    return bool(wrapped) and wrapped <= PARTIAL_FUNCTIONS


def feature_names(estimator: Any) -> tuple[str, ...]:
    """``feature_names_in_`` when present, else ``x0 … x{n-1}`` from ``n_features_in_``."""
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None:
        return tuple(str(n) for n in names)
    count = getattr(estimator, "n_features_in_", None)
    if count is None:
        raise UnservableModelError("the estimator does not say which features it expects")
    return tuple(f"x{i}" for i in range(int(count)))


def load_estimator(data: bytes) -> tuple[Any, tuple[str, ...]]:
    """Deserialize a skops artifact whose types were checked first, or a native LightGBM /
    XGBoost archive (``runtime.native_models``, no pickle); with its feature names."""
    if data.startswith(ZIP_MAGIC) and is_native_archive(data):
        return _load_native_archive(data)
    estimator = _load_skops(data)
    return estimator, feature_names(estimator)


def _load_native_archive(data: bytes) -> tuple[Any, tuple[str, ...]]:
    """A native booster, behind its skops preprocessing step (same trust check) if any."""
    try:
        model, features = load_native(data)
        preprocess = preprocess_bytes(data)
    except NativeModelError as exc:
        raise UnservableModelError(f"native model archive refused: {exc}") from exc
    if preprocess is not None:
        model = PreprocessedModel(_load_skops(preprocess, need_predict=False), model)
    return model, features


def _load_skops(data: bytes, need_predict: bool = True) -> Any:
    """A skops file's object, its types checked before anything is built."""
    trusted = trusted_types(data)
    try:
        estimator = _skops().loads(data, trusted=trusted)
    except Exception as exc:  # skops refuses or fails in many ways; all mean "not servable"
        raise UnservableModelError(f"skops could not load the model: {exc}") from exc
    if need_predict and not hasattr(estimator, "predict"):
        raise UnservableModelError(f"{type(estimator).__name__} has no predict method")
    return estimator
