"""Safe model loading: verified bytes, skops format only, trusted types only.

A pickle, a zip that is not a skops file, or one naming a type outside scikit-learn, NumPy
and SciPy is refused before any object is built from it; ``skops.io.loads`` only ever runs
with an explicit list of types that passed that check.
"""

from __future__ import annotations

import asyncio
import io
import zipfile
from dataclasses import dataclass, field
from typing import Any

import skops.io as sio

from driftline.deployment.array_twin import array_twin
from driftline.deployment.errors import ModelLoadRefused
from driftline.runtime.storage import ArtifactStore
from driftline_contracts.values import ArtifactRef

TRUSTED_MODULES = ("sklearn.", "numpy.", "scipy.")
ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class LoadedModel:
    """A deserialized estimator and the feature names it expects, in order."""

    estimator: Any
    features: tuple[str, ...]
    array_estimator: Any = None
    """The estimator for float arrays in ``features`` order, when that is safe (else None)."""
    feature_set: frozenset[str] = field(init=False, repr=False, compare=False)
    """``features`` as a set: a row with exactly these keys needs no further name check."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "feature_set", frozenset(self.features))

    @property
    def has_proba(self) -> bool:
        """Whether the estimator gives class probabilities."""
        return hasattr(self.estimator, "predict_proba")


def trusted_types(data: bytes) -> list[str]:
    """The non-default types in a skops file, if all are trusted; else ``ModelLoadRefused``."""
    if not data.startswith(ZIP_MAGIC) or not zipfile.is_zipfile(io.BytesIO(data)):
        raise ModelLoadRefused("not a skops file (a pickle or other format is never loaded)")
    try:
        untrusted = sio.get_untrusted_types(data=data)
    except Exception as exc:  # a malformed archive: skops raises many kinds
        raise ModelLoadRefused(f"unreadable skops file: {type(exc).__name__}: {exc}") from exc
    refused = [name for name in untrusted if not name.startswith(TRUSTED_MODULES)]
    if refused:
        raise ModelLoadRefused(f"untrusted types in model: {', '.join(sorted(refused))}")
    return list(untrusted)


def feature_names(estimator: Any) -> tuple[str, ...]:
    """``feature_names_in_`` when present, else ``x0 … x{n-1}`` from ``n_features_in_``."""
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None:
        return tuple(str(n) for n in names)
    count = getattr(estimator, "n_features_in_", None)
    if count is None:
        raise ModelLoadRefused("the estimator does not say which features it expects")
    return tuple(f"x{i}" for i in range(int(count)))


def load_model(data: bytes) -> LoadedModel:
    """Deserialize a skops artifact whose types were checked first."""
    trusted = trusted_types(data)
    try:
        estimator = sio.loads(data, trusted=trusted)
    except Exception as exc:  # skops refuses or fails in many ways; all mean "not servable"
        raise ModelLoadRefused(f"skops could not load the model: {exc}") from exc
    if not hasattr(estimator, "predict"):
        raise ModelLoadRefused(f"{type(estimator).__name__} has no predict method")
    features = feature_names(estimator)
    return LoadedModel(estimator, features, array_twin(estimator, features))


async def fetch_model(store: ArtifactStore, artifact: ArtifactRef) -> LoadedModel:
    """Fetch the artifact, verify its sha256 (``IntegrityError``), then load it safely."""
    data = await store.get_bytes(artifact.uri, sha256=artifact.sha256)
    return await asyncio.to_thread(load_model, data)
