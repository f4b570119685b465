"""The verified origin the sink records is part of an entry's hash; entries without one (all
entries chained before signatures existed) hash and verify exactly as before."""

from __future__ import annotations

import dataclasses

from driftline.audit.core import GENESIS, AuditEntry, entry_hash, verify_chain
from tests.unit.audit.test_chain import T0, _chain


def _with_origin(origin: str | None) -> list[AuditEntry]:
    content = dict(
        event_id="approved-1", type="io.driftline.registry.approved.v1", subject="churn",
        source="driftline/registry", actor="user:bob", time=T0, correlation_id="c1",
        causation_id=None, payload=b'{"version": 1}', origin=origin,
    )  # fmt: skip
    digest = entry_hash(GENESIS, **content)  # type: ignore[arg-type]
    return [AuditEntry(seq=1, prev_hash=GENESIS, hash=digest, **content)]  # type: ignore[arg-type]


def test_entries_without_an_origin_hash_as_they_always_did() -> None:
    assert verify_chain(_chain(5)) is None
    assert _with_origin(None)[0].hash == entry_hash(
        GENESIS, event_id="approved-1", type="io.driftline.registry.approved.v1",
        subject="churn", source="driftline/registry", actor="user:bob", time=T0,
        correlation_id="c1", causation_id=None, payload=b'{"version": 1}',
    )  # fmt: skip


def test_a_verified_origin_is_covered_by_the_hash() -> None:
    chain = _with_origin("registry")
    assert verify_chain(chain) is None
    assert chain[0].hash != _with_origin(None)[0].hash


def test_claiming_an_origin_afterwards_is_tampering() -> None:
    for forged in (
        dataclasses.replace(_with_origin(None)[0], origin="registry"),  # unsigned made signed
        dataclasses.replace(_with_origin("registry")[0], origin=None),  # signed made unsigned
        dataclasses.replace(_with_origin("registry")[0], origin="deployment"),
    ):
        problem = verify_chain([forged])
        assert problem is not None
        assert (problem.kind, problem.seq) == ("tampered", 1)
