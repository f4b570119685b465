"""The loader turns store failures and size limits into typed reasons before parsing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from driftline.runtime.storage.local import LocalArtifactStore
from driftline.validation.adapters.loader import load_dataset
from driftline_contracts.values import DatasetRef
from tests.unit.validation.helpers import dataset_ref, limits

GOOD = b"a,b\n1,x\n2,y\n"


@pytest.fixture
def store(tmp_path: Path) -> LocalArtifactStore:
    """A local-files store under the test's folder."""
    return LocalArtifactStore(tmp_path / "objects")


async def _put(store: LocalArtifactStore, data: bytes, key: str = "datasets/c.csv") -> DatasetRef:
    stored = await store.put_bytes(key, data)
    return dataset_ref(stored.uri, data)


async def test_good_object_loads(store: LocalArtifactStore, tmp_path: Path) -> None:
    outcome = await load_dataset(store, await _put(store, GOOD), limits(), workdir=tmp_path)
    assert outcome.failure is None
    assert outcome.frame is not None
    assert outcome.frame.shape == (2, 2)
    assert not any(p.name.startswith("driftline-validation-") for p in os.scandir(tmp_path))


async def test_too_large_is_refused_before_download(store: LocalArtifactStore) -> None:
    outcome = await load_dataset(store, await _put(store, GOOD), limits(max_bytes=5))
    assert outcome.failure is not None
    assert outcome.failure.code == "too_large"


async def test_zero_byte_object_is_empty(store: LocalArtifactStore) -> None:
    outcome = await load_dataset(store, await _put(store, b""), limits())
    assert outcome.failure is not None
    assert outcome.failure.code == "empty_file"
    assert outcome.about_bytes


async def test_missing_object(store: LocalArtifactStore) -> None:
    ref = dataset_ref(store.uri_for("datasets/nowhere.csv"), GOOD)
    outcome = await load_dataset(store, ref, limits())
    assert outcome.failure is not None
    assert outcome.failure.code == "object_missing"
    assert not outcome.about_bytes


async def test_uri_outside_the_store(store: LocalArtifactStore) -> None:
    for uri in ("s3://elsewhere/x.csv", "file:///etc/passwd"):
        outcome = await load_dataset(store, dataset_ref(uri, GOOD), limits())
        assert outcome.failure is not None
        assert outcome.failure.code == "uri_not_allowed"


async def test_sha256_mismatch(store: LocalArtifactStore) -> None:
    ref = await _put(store, GOOD)
    wrong = ref.model_copy(update={"sha256": "0" * 64})
    outcome = await load_dataset(store, wrong, limits())
    assert outcome.failure is not None
    assert outcome.failure.code == "sha256_mismatch"


async def test_parse_failures_keep_their_code(store: LocalArtifactStore) -> None:
    outcome = await load_dataset(store, await _put(store, b"a,b\n"), limits())
    assert outcome.failure is not None
    assert outcome.failure.code == "header_only"
