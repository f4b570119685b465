"""Verify the audit trail: recompute the chain, then hold it to every signed digest and copy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from aiokafka.errors import KafkaError
from sqlalchemy.ext.asyncio import AsyncEngine

from driftline.audit.adapters.postgres import all_entries
from driftline.audit.adapters.postgres_digests import all_digests
from driftline.audit.core import AuditEntry, ChainProblem, verify_chain
from driftline.audit.digests import Digest, is_signed_by
from driftline.audit.integrity import (
    Finding,
    check_against_rows,
    check_digest_chain,
    compare_copies,
)
from driftline.audit.stream_witness import StreamUnreadableError, read_stream_copies
from driftline.audit.witnesses import read_store_copies
from driftline.runtime.settings import KafkaSettings
from driftline.runtime.storage import ArtifactStore

STREAM_TIMEOUT_S = 5.0
"""How long reading the digest topic may take before the stream is reported unchecked (the
HTTP endpoint answers within its callers' timeouts; the CLI waits longer)."""

Copies = Mapping[str, tuple[Mapping[int, Digest], bool]]
"""Where copies were read (``s3``, ``stream``) → (copies by number, whether every digest
should have one there)."""


@dataclass(frozen=True)
class VerifyReport:
    """Outcome of one verification run."""

    entries: int
    head_seq: int
    problem: ChainProblem | None
    digests: int
    signed_seq: int
    findings: tuple[Finding, ...]
    checked_against: tuple[str, ...]
    unchecked: tuple[str, ...] = ()
    """Copies that could not be read this time, and why (e.g. the broker is down)."""

    @property
    def ok(self) -> bool:
        """True when the chain, every digest and every copy check out."""
        return self.problem is None and not self.findings

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {**asdict(self), "ok": self.ok}


def assess(
    key: bytes, entries: Sequence[AuditEntry], db_digests: Sequence[Digest], copies: Copies
) -> VerifyReport:
    """The whole judgement, without I/O: rows, PostgreSQL's digests and their copies."""
    hashes = {e.seq: e.hash for e in entries}
    head_seq = max(hashes, default=0)
    db = {d.number: d for d in db_digests}
    findings = check_digest_chain(key, db_digests, "PostgreSQL")
    versions = {(d.number, d.signature): (d, "PostgreSQL") for d in db_digests}
    for where, (found, complete) in copies.items():
        for copy in found.values():
            versions.setdefault((copy.number, copy.signature), (copy, where))
            if not is_signed_by(key, copy):
                findings.append(
                    Finding("bad-signature", copy.last_seq, copy.number, f"{where} copy is forged")
                )
        findings.extend(compare_copies(db, found, where, complete))
    for digest, where in versions.values():
        finding = check_against_rows(digest, hashes, head_seq, where)
        if finding is not None:
            findings.append(finding)
    return VerifyReport(
        entries=len(entries),
        head_seq=head_seq,
        problem=verify_chain(entries),
        digests=len(db_digests),
        signed_seq=max((d.last_seq for d, _ in versions.values()), default=0),
        findings=tuple(sorted(dict.fromkeys(findings), key=lambda f: (f.seq, f.digest))),
        checked_against=("PostgreSQL", *copies),
    )


async def verify_audit_log(
    engine: AsyncEngine,
    store: ArtifactStore,
    key: bytes,
    kafka: KafkaSettings | None = None,
    stream_timeout_s: float = STREAM_TIMEOUT_S,
) -> VerifyReport:
    """Rows and digests from PostgreSQL, copies from S3 and (given ``kafka``) the stream.

    Rows and digests are read in one snapshot, so a digest signed meanwhile cannot look like
    a truncation; copies of digests signed after the snapshot are set aside once PostgreSQL
    confirms them (a copy it does not hold stays, and is named).
    """
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="REPEATABLE READ")
        async with conn.begin():
            entries = [entry async for entry in all_entries(conn)]
            db_digests = await all_digests(conn)
    found: dict[str, tuple[dict[int, Digest], bool]] = {
        "s3": (await read_store_copies(store), True)
    }
    unchecked: tuple[str, ...] = ()
    if kafka is not None:
        try:
            # The relay publishes a digest a moment after its commit: the stream may lag.
            found["stream"] = (await read_stream_copies(kafka, stream_timeout_s), False)
        except (StreamUnreadableError, KafkaError, OSError) as exc:
            unchecked = (f"stream: {exc!r}",)
    newest = db_digests[-1].number if db_digests else 0
    if any(n > newest for copies, _ in found.values() for n in copies):
        async with engine.connect() as conn:
            since = {d.number: d for d in await all_digests(conn) if d.number > newest}
        for copies, _ in found.values():
            for number in [n for n in copies if n in since and since[n] == copies[n]]:
                del copies[number]
    return replace(assess(key, entries, db_digests, found), unchecked=unchecked)
