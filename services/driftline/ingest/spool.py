"""Streaming an upload body to a temp file: hashed, measured and size-capped on the way."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterable, Callable
from dataclasses import dataclass
from pathlib import Path

FLUSH_BYTES = 1 << 20  # memory held per upload, at most


class UploadTooLarge(Exception):  # noqa: N818 - maps to HTTP 413
    """The body is longer than the configured limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"upload larger than the limit of {limit} bytes")
        self.limit = limit


class EmptyUpload(Exception):  # noqa: N818 - maps to HTTP 422
    """The body holds no bytes."""


@dataclass(frozen=True)
class Spooled:
    """A body written to ``path``: its sha256, size, line breaks and NUL bytes."""

    path: Path
    sha256: str
    size_bytes: int
    newlines: int
    ends_with_newline: bool
    nul_bytes: int


class _Writer:
    """Blocking half of the spool: hashes, counts and writes one buffer at a time."""

    def __init__(self, path: Path, measure: Callable[[bytes], None] | None) -> None:
        self.path = path
        self.measure = measure
        self.digest = hashlib.sha256()
        self.size = self.newlines = self.nuls = 0
        self.last = b""
        self._file = path.open("wb")

    def write(self, data: bytes) -> None:
        self.digest.update(data)
        self.size += len(data)
        self.newlines += data.count(b"\n")
        self.nuls += data.count(b"\x00")
        self.last = data[-1:] or self.last
        if self.measure is not None:
            self.measure(data)
        self._file.write(data)

    def close(self) -> None:
        self._file.close()


async def spool(
    chunks: AsyncIterable[bytes],
    path: Path,
    *,
    limit: int,
    measure: Callable[[bytes], None] | None = None,
) -> Spooled:
    """Write ``chunks`` to ``path``; UploadTooLarge past ``limit``, EmptyUpload for no bytes.
    ``measure`` sees every buffer as it is written (off the event loop)."""
    writer = await asyncio.to_thread(_Writer, path, measure)
    buffer = bytearray()
    try:
        async for chunk in chunks:
            if writer.size + len(buffer) + len(chunk) > limit:
                raise UploadTooLarge(limit)
            buffer += chunk
            if len(buffer) >= FLUSH_BYTES:
                await asyncio.to_thread(writer.write, bytes(buffer))
                buffer.clear()
        if buffer:
            await asyncio.to_thread(writer.write, bytes(buffer))
    finally:
        await asyncio.to_thread(writer.close)
    if writer.size == 0:
        raise EmptyUpload("the upload body is empty")
    return Spooled(
        path=path,
        sha256=writer.digest.hexdigest(),
        size_bytes=writer.size,
        newlines=writer.newlines,
        ends_with_newline=writer.last == b"\n",
        nul_bytes=writer.nuls,
    )
