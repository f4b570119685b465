"""Which URIs a pipeline may announce, and the facts the store gives about objects."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from driftline.ingest.adapters.objects import StoreDatasetObjects, arrival_policy, uri_problem
from driftline.ingest.models import MissingObject
from driftline.runtime.settings import StorageSettings
from driftline.runtime.storage.local import LocalArtifactStore


@pytest.fixture
def s3_policy():
    return arrival_policy(
        StorageSettings(bucket="driftline", prefix="team-a", allowed_buckets=["lake"])
    )


@pytest.mark.parametrize(
    "uri", ["s3://driftline/team-a/datasets/x.csv", "s3://lake/anything/x.parquet"]
)
def test_own_prefix_and_allowed_buckets_are_accepted(s3_policy, uri: str) -> None:
    assert uri_problem(s3_policy, uri) is None


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("s3://elsewhere/x.csv", "bucket 'elsewhere' is not allowed"),
        ("s3://driftline/team-b/x.csv", "outside the prefix 'team-a/'"),
        ("file:///etc/passwd", "file:// URIs are not allowed"),
        ("s3://driftline/team-a/../x.csv", "dot segment"),
        ("https://example.com/x.csv", "scheme"),
    ],
)
def test_foreign_or_unsafe_uris_are_refused_with_a_reason(s3_policy, uri: str, reason: str) -> None:
    problem = uri_problem(s3_policy, uri)
    assert problem is not None
    assert reason in problem


async def test_local_store_facts_hash_the_object(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "objects")
    await store.ensure_bucket()
    stored = await store.put_bytes("datasets/x.csv", b"a,b\n1,2\n")
    policy = arrival_policy(StorageSettings(backend="local", local_root=str(tmp_path / "objects")))
    objects = StoreDatasetObjects(store, policy)
    facts = await objects.facts(stored.uri)
    assert facts.sha256 == hashlib.sha256(b"a,b\n1,2\n").hexdigest()
    assert facts.size_bytes == 8
    assert objects.uri_problem(stored.uri) is None
    assert objects.uri_problem("file:///tmp/outside.csv") is not None
    with pytest.raises(MissingObject):
        await objects.facts(store.uri_for("datasets/missing.csv"))
