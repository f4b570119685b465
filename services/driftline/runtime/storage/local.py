"""``LocalArtifactStore``: objects as files under one root folder (the simplest runs)."""

from __future__ import annotations

import asyncio
import hashlib
import mimetypes
import os
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from driftline.runtime.settings import StorageSettings
from driftline.runtime.storage.errors import (
    ObjectNotFound,
    StorageError,
    StoreUnavailable,
    UriNotAllowed,
)
from driftline.runtime.storage.ports import DEFAULT_CONTENT_TYPE, StoredObject
from driftline.runtime.storage.streams import (
    atomic_write,
    file_chunks,
    verified,
)
from driftline.runtime.storage.uris import UriPolicy, check_key

T = TypeVar("T")


class LocalArtifactStore:
    """Keys map to files under ``root``; URIs are ``file:///abs/root/<prefix><key>``.

    Content types are not persisted: ``stat`` guesses them from the file name.
    """

    def __init__(self, root: Path, *, prefix: str = "") -> None:
        self.root = root.resolve()
        self.policy = UriPolicy("local", bucket="", prefix=prefix, root=self.root.as_posix())

    @classmethod
    def from_settings(cls, settings: StorageSettings) -> LocalArtifactStore:
        """A store rooted at ``settings.local_root``."""
        return cls(Path(settings.local_root), prefix=settings.prefix)

    def uri_for(self, key: str) -> str:
        """The canonical ``file://`` URI of ``key``."""
        return self.policy.uri_for(key)

    async def put_bytes(
        self, key: str, data: bytes, *, content_type: str = DEFAULT_CONTENT_TYPE
    ) -> StoredObject:
        """Write ``data`` atomically under ``key``."""
        uri = self.uri_for(key)
        path = self._path(uri, write=True)
        digest, size = await _io(uri, lambda: atomic_write(path, [data], uri=uri), reading=False)
        return StoredObject(uri, digest, size, content_type)

    async def put_file(
        self, key: str, path: Path, *, content_type: str = DEFAULT_CONTENT_TYPE
    ) -> StoredObject:
        """Copy the file at ``path`` under ``key`` atomically, hashing it in the same pass."""
        uri = self.uri_for(key)
        dest = self._path(uri, write=True)
        digest, size = await _io(
            uri, lambda: atomic_write(dest, file_chunks(path), uri=uri), reading=False
        )
        return StoredObject(uri, digest, size, content_type)

    async def get_bytes(self, uri: str, *, sha256: str | None = None) -> bytes:
        """The file's bytes, checked against ``sha256`` when given."""
        path = self._path(uri)
        return await _io(uri, lambda: verified(uri, path.read_bytes(), sha256))

    async def download(self, uri: str, dest: Path, *, sha256: str | None = None) -> Path:
        """Copy the file to ``dest`` atomically; ``dest`` is untouched if the hash differs."""
        src = self._path(uri)
        await _io(uri, lambda: atomic_write(dest, file_chunks(src), uri=uri, sha256=sha256))
        return dest

    async def keys(self, prefix: str) -> list[str]:
        """Keys of the files under ``prefix``, relative to the store's prefix."""
        return await self._listed(prefix, None)

    async def keys_older_than(self, prefix: str, before: datetime) -> list[str]:
        """Keys of the files under ``prefix`` last modified before ``before``."""
        return await self._listed(prefix, before)

    async def _listed(self, prefix: str, before: datetime | None) -> list[str]:
        base = self.root / self.policy.prefix
        folder = base / check_key(prefix.rstrip("/"))
        cutoff = None if before is None else before.timestamp()

        def listed() -> list[str]:
            files = (p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
            old = (p for p in files if cutoff is None or p.stat().st_mtime < cutoff)
            return sorted(p.relative_to(base).as_posix() for p in old)

        return await _io(self.uri_for(prefix.rstrip("/")), listed)

    async def delete_keys(self, keys: Sequence[str]) -> None:
        """Remove the files at ``keys`` (confined to the root like every write)."""
        if not keys:
            return
        paths = [self._path(self.uri_for(key), write=True) for key in keys]

        def deleted() -> None:
            for path in paths:
                path.unlink(missing_ok=True)

        await _io(self.uri_for(keys[0]), deleted, reading=False)

    async def exists(self, uri: str) -> bool:
        """Whether a file lives at ``uri``."""
        path = self._path(uri)
        return await asyncio.to_thread(path.is_file)

    async def stat(self, uri: str) -> StoredObject:
        """Size and sha256 (computed by streaming the file) of the object at ``uri``."""
        path = self._path(uri)
        digest, size = await _io(uri, lambda: _hash_file(path))
        content_type = mimetypes.guess_type(path.name)[0] or DEFAULT_CONTENT_TYPE
        return StoredObject(uri, digest, size, content_type)

    async def ping(self) -> None:
        """Raise ``StoreUnavailable`` unless the root folder exists and is writable."""
        ok = await asyncio.to_thread(lambda: os.access(self.root, os.W_OK | os.X_OK))
        if not ok:
            raise StoreUnavailable(f"local store root {self.root} missing or not writable")

    async def ensure_bucket(self) -> None:
        """Create the root folder."""
        await asyncio.to_thread(lambda: self.root.mkdir(parents=True, exist_ok=True))

    def _path(self, uri: str, *, write: bool = False) -> Path:
        """The file behind ``uri`` after confinement, symlinks included."""
        parsed = self.policy.check_write(uri) if write else self.policy.check_read(uri)
        path = Path(parsed.path)
        # A symlinked folder under root must not lead out of it.
        if not path.resolve().is_relative_to(self.root):
            raise UriNotAllowed(uri, "resolves (through a symlink) outside the storage root")
        return path


def _hash_file(path: Path) -> tuple[str, int]:
    """(sha256, size) of the file, read in chunks."""
    digest, size = hashlib.sha256(), 0
    for chunk in file_chunks(path):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


async def _io(uri: str, call: Callable[[], T], *, reading: bool = True) -> T:
    """Run blocking file I/O off the loop; map OS errors to storage errors."""
    try:
        return await asyncio.to_thread(call)
    except (FileNotFoundError, IsADirectoryError) as exc:
        if not reading:
            raise StorageError(f"{uri}: {exc}") from exc
        raise ObjectNotFound(uri) from exc
    except StorageError:
        raise
    except OSError as exc:
        raise StorageError(f"{uri}: {exc}") from exc
