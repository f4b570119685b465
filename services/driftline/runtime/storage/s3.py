"""``S3ArtifactStore``: objects in an S3 bucket through the blocking minio client, off the loop."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import certifi
import urllib3
from minio import Minio
from minio.deleteobjects import DeleteObject

from driftline.runtime.settings import StorageSettings
from driftline.runtime.storage.errors import ObjectNotFound, StorageError
from driftline.runtime.storage.ports import DEFAULT_CONTENT_TYPE, StoredObject
from driftline.runtime.storage.s3_errors import classify, response_code
from driftline.runtime.storage.streams import (
    CHUNK_SIZE,
    HashingReader,
    atomic_write,
    sha256_hex,
    verified,
)
from driftline.runtime.storage.uris import UriPolicy, check_key

T = TypeVar("T")
SHA256_META = "sha256"  # stored as x-amz-meta-sha256
BUCKET_TAKEN = frozenset({"BucketAlreadyOwnedByYou", "BucketAlreadyExists"})
DELETE_BATCH = 1000
"""Keys per multi-object delete request: S3's limit."""


def minio_client(
    settings: StorageSettings,
    *,
    connect_timeout_s: float = 3.0,
    read_timeout_s: float = 20.0,
    retries: int = 2,
) -> Minio:
    """A minio client with short timeouts and few retries, so outages surface in seconds."""
    http = urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=connect_timeout_s, read=read_timeout_s),
        maxsize=10,
        cert_reqs="CERT_REQUIRED",
        ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
        retries=urllib3.Retry(
            total=retries, read=min(retries, 1), backoff_factor=0.2,
            status_forcelist=[500, 502, 503, 504],
        ),
    )  # fmt: skip
    return Minio(
        settings.endpoint,
        access_key=settings.access_key,
        secret_key=settings.secret_key.get_secret_value(),
        secure=settings.secure,
        region=settings.region,  # skips the bucket-location lookup
        http_client=http,
    )


class S3ArtifactStore:
    """Objects in ``bucket`` under ``prefix``; reads also from ``allowed_buckets``."""

    def __init__(self, client: Minio, policy: UriPolicy) -> None:
        self._client = client
        self.policy = policy

    @classmethod
    def from_settings(cls, settings: StorageSettings) -> S3ArtifactStore:
        """A store using a fresh minio client built from ``settings``."""
        policy = UriPolicy(
            "s3", settings.bucket, settings.prefix, frozenset(settings.allowed_buckets)
        )
        return cls(minio_client(settings), policy)

    def uri_for(self, key: str) -> str:
        """The canonical ``s3://`` URI of ``key``."""
        return self.policy.uri_for(key)

    async def put_bytes(
        self, key: str, data: bytes, *, content_type: str = DEFAULT_CONTENT_TYPE
    ) -> StoredObject:
        """Upload ``data``; its sha256 is also kept as object metadata."""
        uri = self.uri_for(key)
        target = self.policy.check_write(uri)

        def upload() -> str:  # hashing too runs off the event loop
            digest = sha256_hex(data)
            self._client.put_object(
                target.bucket, target.key, io.BytesIO(data), len(data),
                content_type=content_type, metadata={SHA256_META: digest},
            )  # fmt: skip
            return digest

        digest = await self._call(uri, upload)
        return StoredObject(uri, digest, len(data), content_type)

    async def put_file(
        self, key: str, path: Path, *, content_type: str = DEFAULT_CONTENT_TYPE
    ) -> StoredObject:
        """Stream the file up (multipart when large), hashing it in the same single pass."""
        uri = self.uri_for(key)
        target = self.policy.check_write(uri)

        def upload() -> tuple[str, int]:
            with path.open("rb") as src:
                size = os.fstat(src.fileno()).st_size
                reader = HashingReader(src)
                self._client.put_object(
                    target.bucket,
                    target.key,
                    reader,  # type: ignore[arg-type]  # has the read() minio uses
                    size,
                    content_type=content_type,
                )
            if reader.bytes_read != size:
                raise StorageError(f"{path} changed size during the upload to {uri}")
            return reader.hexdigest(), size

        digest, size = await self._call(uri, upload)
        return StoredObject(uri, digest, size, content_type)

    async def get_bytes(self, uri: str, *, sha256: str | None = None) -> bytes:
        """Download the object into memory, checked against ``sha256`` when given."""
        source = self.policy.check_read(uri)

        def fetch() -> bytes:
            response = self._client.get_object(source.bucket, source.key)
            try:
                data = response.read()
            finally:
                response.close()
                response.release_conn()
            return verified(uri, data, sha256)

        return await self._call(uri, fetch)

    async def download(self, uri: str, dest: Path, *, sha256: str | None = None) -> Path:
        """Stream the object to ``dest`` via a temp file; ``dest`` only appears if verified."""
        source = self.policy.check_read(uri)

        def fetch() -> tuple[str, int]:
            response = self._client.get_object(source.bucket, source.key)
            try:
                return atomic_write(dest, response.stream(CHUNK_SIZE), uri=uri, sha256=sha256)
            finally:
                response.close()
                response.release_conn()

        await self._call(uri, fetch)
        return dest

    async def keys(self, prefix: str) -> list[str]:
        """Keys under ``prefix`` in the configured bucket, relative to the store's prefix."""
        return await self._listed(prefix, None)

    async def keys_older_than(self, prefix: str, before: datetime) -> list[str]:
        """Keys under ``prefix`` whose objects were last modified before ``before``."""
        return await self._listed(prefix, before)

    async def _listed(self, prefix: str, before: datetime | None) -> list[str]:
        full, bucket = self.policy.prefix + check_key(prefix.rstrip("/")) + "/", self.policy.bucket

        def listed() -> list[str]:
            found = self._client.list_objects(bucket, prefix=full, recursive=True)
            old = (o for o in found if before is None or (o.last_modified or before) < before)
            return sorted(o.object_name[len(self.policy.prefix) :] for o in old)

        return await self._call(f"s3://{bucket}/{full}", listed)

    async def delete_keys(self, keys: Sequence[str]) -> None:
        """Delete ``keys``, up to 1,000 per request (S3's multi-object delete)."""
        if not keys:
            return
        bucket = self.policy.bucket
        names = [self.policy.prefix + check_key(key) for key in keys]

        def deleted() -> None:
            for start in range(0, len(names), DELETE_BATCH):
                batch = [DeleteObject(name) for name in names[start : start + DELETE_BATCH]]
                failures = list(self._client.remove_objects(bucket, batch))
                if failures:
                    first = failures[0]
                    raise StorageError(f"{len(failures)} objects not deleted from "
                                       f"s3://{bucket}: {first.name}: {first.message}")  # fmt: skip

        await self._call(f"s3://{bucket}/{self.policy.prefix}", deleted)

    async def exists(self, uri: str) -> bool:
        """Whether the object exists (HEAD)."""
        source = self.policy.check_read(uri)
        try:
            await self._call(uri, self._client.stat_object, source.bucket, source.key)
        except ObjectNotFound:
            return False
        return True

    async def stat(self, uri: str) -> StoredObject:
        """Size and type from HEAD; sha256 from metadata, else by streaming the object."""
        source = self.policy.check_read(uri)
        info = await self._call(uri, self._client.stat_object, source.bucket, source.key)
        digest = (info.metadata or {}).get(f"x-amz-meta-{SHA256_META}")
        if not digest:
            # Multipart uploads, foreign objects and rclone restarts leave no sha256 metadata.
            digest = await self._call(uri, self._hash_object, source.bucket, source.key)
        size = info.size or 0
        return StoredObject(uri, digest, size, info.content_type or DEFAULT_CONTENT_TYPE)

    async def ping(self) -> None:
        """Raise ``StoreUnavailable`` when S3 does not answer, ``StorageError`` if no bucket."""
        bucket = self.policy.bucket
        if not await self._call(f"s3://{bucket}", self._client.bucket_exists, bucket):
            raise StorageError(f"bucket {bucket!r} does not exist")

    async def ensure_bucket(self) -> None:
        """Create the configured bucket unless it exists (a concurrent creator is fine)."""
        bucket = self.policy.bucket
        await self._call(f"s3://{bucket}", self._ensure_bucket_blocking, bucket)

    def _ensure_bucket_blocking(self, bucket: str) -> None:
        """Blocking body of ``ensure_bucket``."""
        if self._client.bucket_exists(bucket):
            return
        try:
            self._client.make_bucket(bucket)
        except Exception as exc:
            if response_code(exc) not in BUCKET_TAKEN:
                raise

    def _hash_object(self, bucket: str, key: str) -> str:
        """sha256 of an object, streamed (blocking)."""
        digest = hashlib.sha256()
        response = self._client.get_object(bucket, key)
        try:
            for chunk in response.stream(CHUNK_SIZE):
                digest.update(chunk)
        finally:
            response.close()
            response.release_conn()
        return digest.hexdigest()

    async def _call(self, uri: str, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking client call in a thread; failures become storage errors."""
        try:
            return await asyncio.to_thread(func, *args, **kwargs)
        except Exception as exc:
            error = classify(exc, uri)
            if error is None or error is exc:
                raise
            raise error from exc
