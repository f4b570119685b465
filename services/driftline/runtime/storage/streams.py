"""Blocking stream helpers shared by the adapters: hash while reading, write atomically."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from driftline.runtime.storage.errors import IntegrityError

CHUNK_SIZE = 1 << 20


class HashingReader:
    """File-like wrapper that feeds everything read through sha256 (one pass, no buffering)."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._digest = hashlib.sha256()
        self.bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        """Read from the wrapped stream and hash what came back."""
        data = self._raw.read(size)
        self._digest.update(data)
        self.bytes_read += len(data)
        return data

    def hexdigest(self) -> str:
        """sha256 of everything read so far."""
        return self._digest.hexdigest()


def sha256_hex(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def file_chunks(path: Path) -> Iterator[bytes]:
    """The file's bytes in ``CHUNK_SIZE`` pieces."""
    with path.open("rb") as src:
        while chunk := src.read(CHUNK_SIZE):
            yield chunk


def verified(uri: str, data: bytes, expected: str | None) -> bytes:
    """``data``, after checking it against ``expected`` when given (call it off the event
    loop: hashing megabytes takes milliseconds)."""
    if expected is not None:
        verify(uri, expected, sha256_hex(data))
    return data


def verify(uri: str, expected: str | None, actual: str) -> None:
    """Raise ``IntegrityError`` when ``expected`` is given and differs from ``actual``."""
    if expected is not None and expected.lower() != actual:
        raise IntegrityError(uri, expected, actual)


def atomic_write(
    dest: Path, chunks: Iterable[bytes], *, uri: str = "", sha256: str | None = None
) -> tuple[str, int]:
    """Write ``chunks`` to ``dest`` via a temp file + rename; return (sha256, size).

    With ``sha256`` the temp file is checked before the rename, so ``dest`` never holds
    bytes that failed verification.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        digest, size = hashlib.sha256(), 0
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        verify(uri or str(dest), sha256, digest.hexdigest())
        tmp.replace(dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    return digest.hexdigest(), size
