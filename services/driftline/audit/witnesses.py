"""Write-once copies of the digests in S3: one object per digest number, never overwritten."""

from __future__ import annotations

import asyncio

from driftline.audit.digests import Digest, DigestFormatError, digest_from_json, digest_key
from driftline.runtime.logging import get_logger
from driftline.runtime.storage import ArtifactStore, ObjectNotFound

log = get_logger(__name__)

READ_BATCH = 32
"""Copies fetched at once while reading them all (the store cannot list a prefix)."""


async def copy_to_store(store: ArtifactStore, digest: Digest) -> bool:
    """Write ``digest`` under its number unless it is there; True when this call wrote it.

    An object already there is never replaced: if it holds another digest, that is evidence
    (of a re-signed chain or a forged copy) that verification must see; it is logged and kept.
    """
    uri = store.uri_for(digest_key(digest.number))
    if await store.exists(uri):
        if await _read(store, digest.number) != digest:
            log.error("S3 holds another digest under this number", number=digest.number)
        return False
    await store.put_bytes(digest_key(digest.number), digest.to_json(), content_type=JSON)
    return True


JSON = "application/json"


async def read_store_copies(store: ArtifactStore) -> dict[int, Digest]:
    """Every digest copy in S3: numbers 1, 2, 3, … up to the first one that is missing."""
    copies: dict[int, Digest] = {}
    start = 1
    while True:
        numbers = range(start, start + READ_BATCH)
        batch = await asyncio.gather(*(_read(store, n) for n in numbers))
        for number, digest in zip(numbers, batch, strict=True):
            if digest is None:
                return copies
            copies[number] = digest
        start += READ_BATCH


async def _read(store: ArtifactStore, number: int) -> Digest | None:
    """The copy of digest ``number``; None when absent; an unsigned stand-in when unreadable."""
    try:
        data = await store.get_bytes(store.uri_for(digest_key(number)))
    except ObjectNotFound:
        return None
    try:
        return digest_from_json(data)
    except DigestFormatError:
        log.warning("unreadable audit digest copy", number=number)
        return Digest(number, 0, 0, "", "", "", signature="unreadable")
