"""Signed digests of the chain head in S3, and their verification."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from driftline.audit.core import digest_matches, sign_head
from driftline.runtime.logging import get_logger

log = get_logger(__name__)

DIGEST_PREFIX = "audit/digests/"
LATEST_DIGEST = f"{DIGEST_PREFIX}latest.json"


def digest_key(seq: int) -> str:
    """Object key of the digest for chain position ``seq``."""
    return f"{DIGEST_PREFIX}{seq:012d}.json"


def digest_document(key: bytes, seq: int, head_hash: str) -> bytes:
    """The JSON stored for one digest."""
    return json.dumps(
        {
            "seq": seq,
            "hash": head_hash,
            "signed_at": datetime.now(UTC).isoformat(),
            "algorithm": "HMAC-SHA256",
            "signature": sign_head(key, seq, head_hash),
        },
        sort_keys=True,
    ).encode()


def check_digest(key: bytes, document: dict[str, Any], hashes_by_seq: dict[int, str]) -> str | None:
    """None when the digest is authentic and the chain still holds its head; else why not."""
    seq, head = int(document["seq"]), str(document["hash"])
    if not digest_matches(key, seq, head, str(document["signature"])):
        return f"digest for seq {seq} has a bad signature"
    if hashes_by_seq.get(seq) != head:
        return f"chain no longer holds the signed head at seq {seq} (rows removed or rewritten)"
    return None


async def write_digests_forever(runtime: Any, key: bytes, interval_s: float) -> None:
    """Every ``interval_s``, sign the chain head if it moved since the last digest."""
    last_seq = -1
    while True:
        await asyncio.sleep(interval_s)
        try:
            last_seq = await write_digest(runtime, key, skip_seq=last_seq)
        except Exception as exc:  # an outage must not end the job; the next round retries
            log.warning("audit digest not written", error=repr(exc))


async def write_digest(runtime: Any, key: bytes, skip_seq: int = -1) -> int:
    """Sign the current head (unless it is ``skip_seq`` or empty); returns the head's seq."""
    from driftline.audit.adapters.postgres import PostgresAuditLog

    async with runtime.units() as uow:
        seq, head = await PostgresAuditLog(uow.session).head()
    if seq in (0, skip_seq):
        return seq
    document = digest_document(key, seq, head)
    for object_key in (digest_key(seq), LATEST_DIGEST):
        await runtime.store.put_bytes(object_key, document, content_type="application/json")
    return seq
