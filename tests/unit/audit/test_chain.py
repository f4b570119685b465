"""The audit hash chain: intact chains verify; edits, deletions and swaps are named."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from driftline.audit.core import (
    GENESIS,
    AuditEntry,
    entry_hash,
    verify_chain,
)

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _chain(n: int) -> list[AuditEntry]:
    entries, prev = [], GENESIS
    for i in range(1, n + 1):
        content = dict(
            event_id=f"e{i}",
            type="io.driftline.model.promoted.v1",
            subject="churn",
            source="driftline/deployment",
            actor="service:deployment",
            time=T0 + timedelta(seconds=i),
            correlation_id="c1",
            causation_id=f"e{i - 1}" if i > 1 else None,
            payload=f'{{"version": {i}}}'.encode(),
        )
        digest = entry_hash(prev, **content)
        entries.append(AuditEntry(seq=i, prev_hash=prev, hash=digest, **content))
        prev = digest
    return entries


def test_intact_chain_verifies() -> None:
    assert verify_chain(_chain(10)) is None
    assert verify_chain([]) is None


def test_edited_payload_is_tampered_at_that_row() -> None:
    chain = _chain(6)
    chain[3] = dataclasses.replace(chain[3], payload=b'{"version": 99}')
    problem = verify_chain(chain)
    assert problem is not None
    assert (problem.kind, problem.seq) == ("tampered", 4)


def test_edited_actor_is_tampered() -> None:
    chain = _chain(4)
    chain[1] = dataclasses.replace(chain[1], actor="user:mallory")
    problem = verify_chain(chain)
    assert problem is not None
    assert (problem.kind, problem.seq) == ("tampered", 2)


def test_deleted_row_is_named_at_the_next_row() -> None:
    chain = _chain(6)
    del chain[2]
    problem = verify_chain(chain)
    assert problem is not None
    assert (problem.kind, problem.seq) == ("deleted", 4)


def test_deleted_first_row_is_detected() -> None:
    problem = verify_chain(_chain(3)[1:])
    assert problem is not None
    assert (problem.kind, problem.seq) == ("deleted", 2)


def test_swapped_rows_are_reordered() -> None:
    chain = _chain(6)
    a, b = chain[2], chain[3]
    chain[2], chain[3] = dataclasses.replace(b, seq=3), dataclasses.replace(a, seq=4)
    problem = verify_chain(chain)
    assert problem is not None
    assert (problem.kind, problem.seq) == ("reordered", 3)
