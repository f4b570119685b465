"""S3ArtifactStore against a real S3 server (the stack's rclone, MinIO on compose)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from driftline.runtime.settings import StorageSettings
from driftline.runtime.storage import (
    IntegrityError,
    ObjectNotFound,
    StoreUnavailable,
    UriNotAllowed,
    build_artifact_store,
)
from driftline.runtime.storage.ports import ArtifactStore
from driftline.stack.s3 import rclone_bin

MB = 1 << 20


async def test_ping_and_round_trip(store: ArtifactStore) -> None:
    await store.ping()
    stored = await store.put_bytes("reports/r.json", b'{"ok": 1}', content_type="application/json")
    assert stored.uri.startswith("s3://")
    assert stored.uri.endswith("/reports/r.json")
    assert await store.get_bytes(stored.uri, sha256=stored.sha256) == b'{"ok": 1}'
    assert await store.exists(stored.uri)
    assert (await store.stat(stored.uri)).sha256 == stored.sha256


async def test_large_file_multipart_round_trip(store: ArtifactStore, tmp_path: Path) -> None:
    src = tmp_path / "model.bin"
    src.write_bytes(os.urandom(20 * MB))
    expected = hashlib.sha256(src.read_bytes()).hexdigest()
    stored = await store.put_file("models/m/1/model.bin", src)
    assert (stored.sha256, stored.size_bytes) == (expected, 20 * MB)
    dest = await store.download(stored.uri, tmp_path / "out" / "model.bin", sha256=expected)
    assert hashlib.sha256(dest.read_bytes()).hexdigest() == expected
    stat = await store.stat(stored.uri)
    assert (stat.sha256, stat.size_bytes) == (expected, 20 * MB)


async def test_wrong_sha256_is_refused_and_leaves_no_file(
    store: ArtifactStore, tmp_path: Path
) -> None:
    stored = await store.put_bytes("x.bin", b"payload")
    with pytest.raises(IntegrityError):
        await store.get_bytes(stored.uri, sha256="0" * 64)
    with pytest.raises(IntegrityError):
        await store.download(stored.uri, tmp_path / "x.bin", sha256="0" * 64)
    assert not (tmp_path / "x.bin").exists()


async def test_missing_key_is_object_not_found(store: ArtifactStore, tmp_path: Path) -> None:
    uri = store.uri_for("does/not/exist.bin")
    assert not await store.exists(uri)
    with pytest.raises(ObjectNotFound):
        await store.get_bytes(uri)
    with pytest.raises(ObjectNotFound):
        await store.download(uri, tmp_path / "nope.bin")
    with pytest.raises(ObjectNotFound):
        await store.stat(uri)


async def test_foreign_bucket_and_traversal_are_refused(store: ArtifactStore) -> None:
    with pytest.raises(UriNotAllowed):
        await store.get_bytes("s3://someone-elses-bucket/secret.csv")
    with pytest.raises(UriNotAllowed):
        await store.put_bytes("../../escape.bin", b"x")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def private_s3(tmp_path: Path) -> Iterator[tuple[StorageSettings, subprocess.Popen[bytes]]]:
    """An rclone S3 server of this test's own, so stopping it cannot hurt the shared stack."""
    port, key, secret = _free_port(), "outage-key", "outage-secret"
    (tmp_path / "s3").mkdir()
    proc = subprocess.Popen(
        [rclone_bin(), "serve", "s3", str(tmp_path / "s3"), "--addr", f"127.0.0.1:{port}",
         "--config", str(tmp_path / "rclone.conf")],
        # rclone reads RCLONE_AUTH_KEY as a CSV list: quote the key,secret pair.
        env={**os.environ, "RCLONE_AUTH_KEY": f'"{key},{secret}"'},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield StorageSettings(endpoint=f"127.0.0.1:{port}", access_key=key, secret_key=secret), proc
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.slow
async def test_stopped_server_is_store_unavailable_within_seconds(
    private_s3: tuple[StorageSettings, subprocess.Popen[bytes]],
) -> None:
    settings, proc = private_s3
    store = build_artifact_store(settings)
    deadline = time.monotonic() + 20
    while True:  # rclone takes a moment to listen
        try:
            await store.ensure_bucket()
            break
        except StoreUnavailable:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)
    stored = await store.put_bytes("x.bin", b"before the outage")
    proc.terminate()
    proc.wait(timeout=10)
    calls = {
        "ping": store.ping,
        "get": lambda: store.get_bytes(stored.uri),
        "put": lambda: store.put_bytes("y.bin", b"y"),
    }
    for name, call in calls.items():
        started = time.monotonic()
        with pytest.raises(StoreUnavailable):
            await call()
        assert time.monotonic() - started < 5, name
