"""In-memory audit chains and digests for the verification tests."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from driftline.audit.core import GENESIS, AuditEntry, entry_hash, recompute
from driftline.audit.digests import Digest, next_digest

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
KEY = b"k" * 32


def chain(n: int) -> list[AuditEntry]:
    """``n`` approvals, each approved by ``user:alice``, hash-chained from seq 1."""
    entries: list[AuditEntry] = []
    for i in range(1, n + 1):
        content = dict(
            event_id=f"e{i}",
            type="io.driftline.registry.model-approved.v1",
            subject="churn",
            source="driftline/registry",
            actor="user:alice",
            time=T0 + timedelta(seconds=i),
            correlation_id="c1",
            causation_id=f"e{i - 1}" if i > 1 else None,
            payload=f'{{"version": {i}, "approver": "alice"}}'.encode(),
        )
        prev = entries[-1].hash if entries else GENESIS
        entries.append(
            AuditEntry(seq=i, prev_hash=prev, hash=entry_hash(prev, **content), **content)
        )
    return entries


def rechain(entries: Sequence[AuditEntry]) -> list[AuditEntry]:
    """What an attacker does after editing rows: renumber densely and recompute every hash."""
    out: list[AuditEntry] = []
    for seq, entry in enumerate(entries, start=1):
        prev = out[-1].hash if out else GENESIS
        moved = dataclasses.replace(entry, seq=seq, prev_hash=prev)
        out.append(dataclasses.replace(moved, hash=recompute(moved)))
    return out


def sign_at(entries: Sequence[AuditEntry], heads: Sequence[int], key: bytes = KEY) -> list[Digest]:
    """Digests signed whenever the head reached one of ``heads``."""
    digests: list[Digest] = []
    by_seq = {e.seq: e for e in entries}
    for head in heads:
        digest = next_digest(key, digests[-1] if digests else None, head, by_seq[head].hash, "t")
        assert digest is not None
        digests.append(digest)
    return digests


def by_number(digests: Sequence[Digest]) -> dict[int, Digest]:
    """Copies as S3 holds them: by digest number."""
    return {d.number: d for d in digests}
