"""Safe model loading: verified bytes, skops format only, trusted types only.

A pickle, a zip that is not a skops file, or one naming a type outside scikit-learn, NumPy
and SciPy is refused before any object is built from it; ``skops.io.loads`` only ever runs
with an explicit list of types that passed that check.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from typing import Any

from driftline.deployment.errors import ModelLoadRefused
from driftline.deployment.models.array_twin import array_twin
from driftline.deployment.models.onnx_serving import fetch_onnx_model, serving_record
from driftline.deployment.models.signature import fetch_signature
from driftline.runtime import model_loading
from driftline.runtime.model_loading import UnservableModelError, load_estimator
from driftline.runtime.storage import ArtifactStore, IntegrityError, ObjectNotFound, UriNotAllowed
from driftline_contracts.signature import InputSignature
from driftline_contracts.values import ArtifactRef

# Retrying cannot fix these: the version is recorded as load_failed and never served.
UNLOADABLE = (ModelLoadRefused, IntegrityError, ObjectNotFound, UriNotAllowed)


@dataclass(frozen=True)
class LoadedModel:
    """A deserialized estimator and the feature names it expects, in order."""

    estimator: Any
    features: tuple[str, ...]
    array_estimator: Any = None
    """The estimator for float arrays in ``features`` order, when that is safe (else None)."""
    signature: InputSignature | None = None
    """Types and category domains of the training data (None: served unchecked)."""
    runtime: str = "sklearn"
    """What runs the model: sklearn (as trained) or onnx (ONNX Runtime, ``onnx_serving``)."""
    feature_set: frozenset[str] = field(init=False, repr=False, compare=False)
    """``features`` as a set: a row with exactly these keys needs no further name check."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "feature_set", frozenset(self.features))

    @property
    def has_proba(self) -> bool:
        """Whether the estimator gives class probabilities."""
        return hasattr(self.estimator, "predict_proba")


def feature_names(estimator: Any) -> tuple[str, ...]:
    """``feature_names_in_`` when present, else ``x0 … x{n-1}`` from ``n_features_in_``."""
    try:
        return model_loading.feature_names(estimator)
    except UnservableModelError as exc:
        raise ModelLoadRefused(str(exc)) from exc


def load_model(data: bytes) -> LoadedModel:
    """Deserialize a skops artifact whose types were checked first (``runtime.model_loading``)."""
    try:
        estimator, features = load_estimator(data)
    except UnservableModelError as exc:
        raise ModelLoadRefused(str(exc)) from exc
    return LoadedModel(estimator, features, array_twin(estimator, features))


async def fetch_model(store: ArtifactStore, artifact: ArtifactRef) -> LoadedModel:
    """Fetch the artifact, verify its sha256 (``IntegrityError``), then load it safely, with
    the input signature its training run recorded; a version trained for ONNX Runtime serving
    loads its verified ONNX export instead (``onnx_serving``)."""
    record = await serving_record(store, artifact)
    if record is not None:
        onnx = await fetch_onnx_model(store, artifact, record)
        array = onnx if onnx.matrix else None
        loaded = LoadedModel(onnx, onnx.features, array, runtime="onnx")
    else:
        data = await store.get_bytes(artifact.uri, sha256=artifact.sha256)
        loaded = await asyncio.to_thread(load_model, data)
    signature = await fetch_signature(store, artifact)
    return loaded if signature is None else replace(loaded, signature=signature)
