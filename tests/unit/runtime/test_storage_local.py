"""LocalArtifactStore: round trips, sha256 checks, atomic writes, confinement."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from driftline.runtime.settings import StorageSettings
from driftline.runtime.storage import (
    IntegrityError,
    ObjectNotFound,
    StorageError,
    StoreUnavailable,
    UriNotAllowed,
    build_artifact_store,
)
from driftline.runtime.storage.local import LocalArtifactStore


@pytest.fixture
def store(tmp_path: Path) -> LocalArtifactStore:
    return LocalArtifactStore(tmp_path / "objects")


async def test_put_get_round_trip_with_sha256(store: LocalArtifactStore) -> None:
    stored = await store.put_bytes("datasets/d/v1.csv", b"a,b\n1,2\n", content_type="text/csv")
    assert stored.uri == f"file://{store.root}/datasets/d/v1.csv"
    assert stored.sha256 == hashlib.sha256(b"a,b\n1,2\n").hexdigest()
    assert stored.size_bytes == 8
    assert await store.get_bytes(stored.uri, sha256=stored.sha256) == b"a,b\n1,2\n"
    assert await store.exists(stored.uri)
    assert await store.stat(stored.uri) == stored


async def test_flipped_byte_is_an_integrity_error(store: LocalArtifactStore) -> None:
    stored = await store.put_bytes("m/model.skops", b"\x00" * 64)
    path = store.root / "m/model.skops"
    path.write_bytes(b"\x01" + path.read_bytes()[1:])
    with pytest.raises(IntegrityError) as caught:
        await store.get_bytes(stored.uri, sha256=stored.sha256)
    assert caught.value.expected == stored.sha256
    assert caught.value.actual == hashlib.sha256(path.read_bytes()).hexdigest()


async def test_put_file_and_verified_download(store: LocalArtifactStore, tmp_path: Path) -> None:
    src = tmp_path / "big.bin"
    src.write_bytes(bytes(range(256)) * 10_000)
    stored = await store.put_file("big.bin", src)
    assert stored.sha256 == hashlib.sha256(src.read_bytes()).hexdigest()
    dest = await store.download(stored.uri, tmp_path / "out" / "big.bin", sha256=stored.sha256)
    assert dest.read_bytes() == src.read_bytes()


async def test_download_with_wrong_sha256_leaves_no_file(
    store: LocalArtifactStore, tmp_path: Path
) -> None:
    stored = await store.put_bytes("x.bin", b"payload")
    dest = tmp_path / "dl" / "x.bin"
    with pytest.raises(IntegrityError):
        await store.download(stored.uri, dest, sha256="0" * 64)
    assert list(dest.parent.iterdir()) == []


async def test_missing_object(store: LocalArtifactStore, tmp_path: Path) -> None:
    uri = store.uri_for("nope.bin")
    assert not await store.exists(uri)
    with pytest.raises(ObjectNotFound):
        await store.get_bytes(uri)
    with pytest.raises(ObjectNotFound):
        await store.download(uri, tmp_path / "nope.bin")
    with pytest.raises(ObjectNotFound):
        await store.stat(uri)


async def test_missing_source_file_is_not_object_not_found(
    store: LocalArtifactStore, tmp_path: Path
) -> None:
    with pytest.raises(StorageError) as caught:
        await store.put_file("x", tmp_path / "missing.bin")
    assert not isinstance(caught.value, ObjectNotFound)


@pytest.mark.parametrize("key", ["../escape.bin", "a/../../escape.bin", "/etc/passwd", "a//b"])
async def test_traversal_keys_are_refused(store: LocalArtifactStore, key: str) -> None:
    with pytest.raises(UriNotAllowed):
        await store.put_bytes(key, b"x")
    assert not (store.root.parent / "escape.bin").exists()


@pytest.mark.parametrize(
    "uri", ["s3://foreign-bucket/x.csv", "file:///etc/passwd", "file:///{root}/../x"]
)
async def test_foreign_uris_are_refused(store: LocalArtifactStore, uri: str) -> None:
    with pytest.raises(UriNotAllowed):
        await store.get_bytes(uri.format(root=store.root))


async def test_symlink_out_of_root_is_refused(store: LocalArtifactStore, tmp_path: Path) -> None:
    await store.ensure_bucket()
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret").write_bytes(b"s")
    (store.root / "link").symlink_to(tmp_path / "outside")
    with pytest.raises(UriNotAllowed, match="symlink"):
        await store.get_bytes(store.uri_for("link/secret"))


async def test_overwrite_replaces_whole_object(store: LocalArtifactStore) -> None:
    await store.put_bytes("k", b"old-and-longer")
    stored = await store.put_bytes("k", b"new")
    assert await store.get_bytes(stored.uri, sha256=stored.sha256) == b"new"
    assert [p.name for p in store.root.iterdir()] == ["k"]


async def test_ping_needs_the_root(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "later")
    with pytest.raises(StoreUnavailable):
        await store.ping()
    await store.ensure_bucket()
    await store.ping()


async def test_factory_builds_local_store_with_prefix(tmp_path: Path) -> None:
    settings = StorageSettings(backend="local", local_root=str(tmp_path), prefix="team-a")
    store = build_artifact_store(settings)
    stored = await store.put_bytes("x.bin", b"1")
    assert stored.uri == f"file://{tmp_path}/team-a/x.bin"
    assert (tmp_path / "team-a" / "x.bin").read_bytes() == b"1"


async def test_keys_older_than_a_time_and_their_deletion(store: LocalArtifactStore) -> None:
    for key in ("log/a.bin", "log/b.bin", "log/new.bin", "other/c.bin"):
        await store.put_bytes(key, b"x")
    for key in ("log/a.bin", "log/b.bin", "other/c.bin"):
        os.utime(store.root / key, (1_000_000_000, 1_000_000_000))  # 2001
    cutoff = datetime(2020, 1, 1, tzinfo=UTC)
    old = await store.keys_older_than("log", cutoff)
    assert old == ["log/a.bin", "log/b.bin"]
    await store.delete_keys([*old, "log/never-was.bin"])  # a missing key is no error
    assert await store.keys("log") == ["log/new.bin"]
    assert await store.keys("other") == ["other/c.bin"]
    await store.delete_keys([])


@pytest.mark.parametrize("key", ["../escape.bin", "a/../../escape.bin", "/etc/passwd", "a//b"])
async def test_deleting_outside_the_root_is_refused(
    store: LocalArtifactStore, tmp_path: Path, key: str
) -> None:
    (tmp_path / "escape.bin").write_bytes(b"keep me")
    with pytest.raises(UriNotAllowed):
        await store.delete_keys(["fine.bin", key])
    assert (tmp_path / "escape.bin").read_bytes() == b"keep me"
