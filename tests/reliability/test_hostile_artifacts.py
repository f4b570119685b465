"""Scenario 9: hostile model artifacts are refused before anything is deserialized.

Every path that turns stored bytes into a model — the deployment loader
(``fetch_model``/``load_model``) and the training adapter (``load_model``/``loads_verified``)
— gets a raw pickle whose ``__reduce__`` would create a marker file, that payload wrapped in
a skops archive, a good skops model with one byte flipped, and a good model under a wrong
sha256. Each is refused, and the marker file never appears.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import skops.io as sio
from sklearn.linear_model import LogisticRegression

from driftline.deployment.models import loading as deployment_loading
from driftline.runtime.storage.local import LocalArtifactStore
from driftline.training.adapters import artifacts as training_artifacts
from driftline_contracts.values import ArtifactRef
from tests.reliability.figures import Figures

REFUSED: dict[str, int] = {}
TYPED_REFUSALS = {"ModelLoadRefused", "IntegrityError", "UntrustedModelError"}


class Payload:
    """Unpickling this runs ``os.system('touch MARKER')``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (f"touch {self.marker}",))


def _good_model() -> bytes:
    rng = np.random.default_rng(9)
    x = rng.normal(size=(60, 3))
    model = LogisticRegression().fit(x, (x[:, 0] > 0).astype(int))
    return sio.dumps(model)


def _flip(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :]


def _hostile(marker: Path) -> dict[str, tuple[bytes, str]]:
    """name → (bytes stored, sha256 recorded for them)."""
    good = _good_model()
    pickled = pickle.dumps(Payload(marker))
    try:
        wrapped = sio.dumps(Payload(marker))
    except Exception:  # skops may refuse to serialize it; then wrap the raw pickle instead
        wrapped = pickled
    flipped = _flip(good)
    digest = hashlib.sha256
    return {
        "pickle with __reduce__ payload": (pickled, digest(pickled).hexdigest()),
        "payload inside a skops archive": (wrapped, digest(wrapped).hexdigest()),
        "flipped byte (sha256 of the original)": (flipped, digest(good).hexdigest()),
        "wrong sha256": (good, "0" * 64),
    }


Loader = Callable[[LocalArtifactStore, ArtifactRef], Awaitable[Any]]
LOADERS: dict[str, Loader] = {
    "deployment fetch_model": deployment_loading.fetch_model,
    "training load_model": training_artifacts.load_model,
}


@pytest.mark.parametrize("loader", LOADERS)
async def test_hostile_artifacts_are_refused_before_load(
    loader: str, tmp_path: Path, figures: Figures
) -> None:
    marker = tmp_path / "pwned"
    store = LocalArtifactStore(tmp_path / "objects")
    # Positive control: the same loader loads a good model under its true sha256.
    good = _good_model()
    stored = await store.put_bytes("models/good.skops", good)
    ok = ArtifactRef(uri=stored.uri, sha256=stored.sha256, media_type="application/octet-stream",
                     size_bytes=len(good))  # fmt: skip
    assert await LOADERS[loader](store, ok) is not None

    refusals = {}
    for name, (data, sha256) in _hostile(marker).items():
        stored = await store.put_bytes(f"models/{abs(hash(name))}.skops", data)
        ref = ArtifactRef(uri=stored.uri, sha256=sha256, media_type="application/octet-stream",
                          size_bytes=len(data))  # fmt: skip
        with pytest.raises(Exception) as refused:  # noqa: PT011 - each path names its own error
            await LOADERS[loader](store, ref)
        refusals[name] = type(refused.value).__name__
        assert refusals[name] in TYPED_REFUSALS, f"{name}: {refused.value!r}"
        assert not marker.exists(), f"{name}: the payload ran"
    assert not marker.exists()
    REFUSED[loader] = len(refusals)
    figures.record(
        f"9 hostile artifacts ({loader})",
        **{"artifacts": len(refusals), "refused": len(refusals), "marker file created": False},
        **{f"refused {k}": v for k, v in refusals.items()},
    )


def test_the_payload_would_have_run(tmp_path: Path) -> None:
    """Negative control: unpickling the payload does create the marker."""
    marker = tmp_path / "pwned"
    pickle.loads(pickle.dumps(Payload(marker)))
    assert marker.exists()
