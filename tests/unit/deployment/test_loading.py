"""Safe loading: only verified skops files of trusted types are ever deserialized."""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio
from sklearn.linear_model import LogisticRegression

from driftline.deployment.errors import ModelLoadRefused
from driftline.deployment.models.loading import fetch_model, load_model
from driftline.runtime.storage import IntegrityError
from driftline.runtime.storage.local import LocalArtifactStore
from driftline_contracts.values import ArtifactRef
from tests.hostile_models import Custom, Payload


def _model() -> LogisticRegression:
    rng = np.random.default_rng(0)
    return LogisticRegression().fit(rng.normal(size=(40, 2)), [0, 1] * 20)


def _ref(uri: str, data: bytes, sha256: str | None = None) -> ArtifactRef:
    digest = sha256 or hashlib.sha256(data).hexdigest()
    return ArtifactRef(
        uri=uri, sha256=digest, media_type="application/vnd.skops", size_bytes=len(data)
    )


def test_a_pickle_payload_is_refused_before_it_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    with pytest.raises(ModelLoadRefused, match="not a skops file"):
        load_model(pickle.dumps(Payload(str(marker))))
    assert not marker.exists()


async def test_a_pickle_payload_from_the_store_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    store = LocalArtifactStore(tmp_path / "objects")
    data = pickle.dumps(Payload(str(marker)))
    stored = await store.put_bytes("models/evil.skops", data)
    with pytest.raises(ModelLoadRefused):
        await fetch_model(store, _ref(stored.uri, data))
    assert not marker.exists()


def test_an_untrusted_type_is_refused() -> None:
    with pytest.raises(ModelLoadRefused, match="untrusted types"):
        load_model(sio.dumps(Custom()))


def test_a_trusted_model_loads_with_its_features() -> None:
    loaded = load_model(sio.dumps(_model()))
    assert loaded.features == ("x0", "x1")
    assert loaded.has_proba


async def test_a_flipped_byte_fails_the_integrity_check(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    data = sio.dumps(_model())
    stored = await store.put_bytes("models/m.skops", data)
    flipped = bytearray(data)
    flipped[len(flipped) // 2] ^= 0x01
    await store.put_bytes("models/m.skops", bytes(flipped))  # tampered after approval
    with pytest.raises(IntegrityError):
        await fetch_model(store, _ref(stored.uri, data))


async def test_a_wrong_sha256_is_refused(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    data = sio.dumps(_model())
    stored = await store.put_bytes("models/m.skops", data)
    with pytest.raises(IntegrityError):
        await fetch_model(store, _ref(stored.uri, data, sha256="0" * 64))


async def test_a_verified_model_loads_from_the_store(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    data = sio.dumps(_model())
    stored = await store.put_bytes("models/m.skops", data)
    loaded = await fetch_model(store, _ref(stored.uri, data))
    assert loaded.estimator.predict(np.zeros((1, 2))).shape == (1,)
