"""The audit chain: each entry's hash covers its content and the previous entry's hash.

Pure functions only. ``verify_chain`` names the first entry that does not fit: its content
changed (``tampered``), entries before it are gone (``deleted``), or it sits in the wrong
place (``reordered``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    """One audited event as stored in the append-only log."""

    seq: int
    event_id: str
    type: str
    subject: str
    source: str
    actor: str
    time: datetime
    correlation_id: str
    causation_id: str | None
    payload: bytes
    prev_hash: str
    hash: str
    origin: str | None = None
    """The service whose signature on the event the sink verified; None: not verified
    (unsigned, as pipelines publish, or entries chained before signatures existed)."""


@dataclass(frozen=True)
class ChainProblem:
    """The first entry that breaks the chain, and how."""

    seq: int
    event_id: str
    kind: Literal["tampered", "deleted", "reordered"]
    detail: str


def entry_hash(
    prev_hash: str,
    *,
    event_id: str,
    type: str,
    subject: str,
    source: str,
    actor: str,
    time: datetime,
    correlation_id: str,
    causation_id: str | None,
    payload: bytes,
    origin: str | None = None,
) -> str:
    """SHA-256 over the previous hash, the canonical envelope and the payload bytes; a
    verified ``origin`` is part of the envelope (absent otherwise, as before it existed)."""
    fields: dict[str, object] = {
        "id": event_id,
        "type": type,
        "subject": subject,
        "source": source,
        "actor": actor,
        "time": time.isoformat(),
        "correlationid": correlation_id,
        "causationid": causation_id,
    }
    if origin is not None:
        fields["origin"] = origin
    envelope = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256()
    for part in (prev_hash.encode(), envelope.encode(), payload):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def recompute(entry: AuditEntry) -> str:
    """The hash ``entry`` should carry given its content and its ``prev_hash``."""
    return entry_hash(
        entry.prev_hash,
        event_id=entry.event_id,
        type=entry.type,
        subject=entry.subject,
        source=entry.source,
        actor=entry.actor,
        time=entry.time,
        correlation_id=entry.correlation_id,
        causation_id=entry.causation_id,
        payload=entry.payload,
        origin=entry.origin,
    )


def verify_chain(entries: Iterable[AuditEntry]) -> ChainProblem | None:
    """None when every entry is intact and linked in order; else the first problem."""
    ordered = list(entries)
    known_hashes = {e.hash for e in ordered}
    prev_hash, prev_seq = GENESIS, 0
    for entry in ordered:
        if recompute(entry) != entry.hash:
            return ChainProblem(
                entry.seq, entry.event_id, "tampered", "content does not match its hash"
            )
        if entry.prev_hash != prev_hash:
            if entry.seq != prev_seq + 1 or entry.prev_hash not in known_hashes:
                return ChainProblem(
                    entry.seq,
                    entry.event_id,
                    "deleted",
                    f"entries between seq {prev_seq} and {entry.seq} are missing",
                )
            return ChainProblem(
                entry.seq,
                entry.event_id,
                "reordered",
                "entry follows a different entry than the one it was chained to",
            )
        prev_hash, prev_seq = entry.hash, entry.seq
    return None
