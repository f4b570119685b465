"""Spooling an upload: hashed and counted in one pass, capped, never whole in memory."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from driftline.ingest import spool as spool_module
from driftline.ingest.spool import EmptyUpload, UploadTooLarge, spool


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_spooled_file_has_the_bytes_their_hash_and_line_count(tmp_path: Path) -> None:
    parts = [b"a,b\n", b"1,2\n3", b",4\n"]
    result = await spool(chunks(*parts), tmp_path / "body", limit=100)
    data = b"".join(parts)
    assert result.path.read_bytes() == data
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert (result.size_bytes, result.newlines, result.ends_with_newline) == (len(data), 3, True)
    assert result.nul_bytes == 0


async def test_body_past_the_limit_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UploadTooLarge, match="limit of 10 bytes"):
        await spool(chunks(b"123456", b"789012"), tmp_path / "body", limit=10)


async def test_body_exactly_at_the_limit_is_accepted(tmp_path: Path) -> None:
    result = await spool(chunks(b"12345", b"67890"), tmp_path / "body", limit=10)
    assert result.size_bytes == 10


async def test_empty_body_is_refused(tmp_path: Path) -> None:
    with pytest.raises(EmptyUpload):
        await spool(chunks(), tmp_path / "body", limit=10)


async def test_large_body_is_flushed_in_bounded_buffers(tmp_path: Path) -> None:
    piece = b"x" * 65536 + b"\n"
    count = 3 * spool_module.FLUSH_BYTES // len(piece) + 5
    result = await spool(chunks(*[piece] * count), tmp_path / "body", limit=1 << 30)
    assert result.size_bytes == len(piece) * count == result.path.stat().st_size
    assert result.newlines == count
