"""The ``ArtifactStore`` port: what services need from an object store, nothing more."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

DEFAULT_CONTENT_TYPE = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class StoredObject:
    """An object in the store: where it is, what its bytes hash to, how big, what type."""

    uri: str
    sha256: str
    size_bytes: int
    content_type: str = DEFAULT_CONTENT_TYPE


class ArtifactStore(Protocol):
    """Object store for datasets, reports and model artifacts (S3 or local files).

    Keys are relative to the configured prefix; URIs are canonical (``s3://bucket/key`` or
    ``file:///abs/path``). Every method raises a subclass of ``StorageError``.
    """

    async def put_bytes(
        self, key: str, data: bytes, *, content_type: str = DEFAULT_CONTENT_TYPE
    ) -> StoredObject:
        """Store ``data`` under ``key`` (replacing what was there)."""
        ...

    async def put_file(
        self, key: str, path: Path, *, content_type: str = DEFAULT_CONTENT_TYPE
    ) -> StoredObject:
        """Stream the file at ``path`` to ``key``, hashing it on the way."""
        ...

    async def get_bytes(self, uri: str, *, sha256: str | None = None) -> bytes:
        """The object's bytes, checked against ``sha256`` when given."""
        ...

    async def download(self, uri: str, dest: Path, *, sha256: str | None = None) -> Path:
        """Stream the object to ``dest`` (atomically, checked against ``sha256`` when given)."""
        ...

    async def exists(self, uri: str) -> bool:
        """Whether an object lives at ``uri``."""
        ...

    async def stat(self, uri: str) -> StoredObject:
        """Size, type and sha256 of the object at ``uri``."""
        ...

    def uri_for(self, key: str) -> str:
        """The canonical URI that ``key`` is stored at."""
        ...

    async def keys(self, prefix: str) -> list[str]:
        """The keys (relative to the configured prefix) of every object under ``prefix``."""
        ...

    async def keys_older_than(self, prefix: str, before: datetime) -> list[str]:
        """The keys under ``prefix`` of objects last written before ``before``."""
        ...

    async def delete_keys(self, keys: Sequence[str]) -> None:
        """Delete the objects at ``keys`` (relative to the configured prefix); a key with no
        object is no error."""
        ...

    async def ping(self) -> None:
        """Return when the store answers; raise ``StoreUnavailable`` when it does not."""
        ...

    async def ensure_bucket(self) -> None:
        """Create the configured bucket (or root folder) if it is missing."""
        ...
