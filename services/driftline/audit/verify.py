"""Recompute the audit chain from PostgreSQL and check the signed head digest in S3."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from driftline.audit.adapters.postgres import all_entries
from driftline.audit.core import ChainProblem, verify_chain
from driftline.audit.digests import LATEST_DIGEST, check_digest
from driftline.runtime.storage import ArtifactStore, ObjectNotFound


@dataclass(frozen=True)
class VerifyReport:
    """Outcome of one verification run."""

    entries: int
    head_seq: int
    problem: ChainProblem | None
    digest_seq: int | None
    digest_problem: str | None

    @property
    def ok(self) -> bool:
        """True when the chain and the digest both check out."""
        return self.problem is None and self.digest_problem is None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {**asdict(self), "ok": self.ok}


async def verify_audit_log(engine: AsyncEngine, store: ArtifactStore, key: bytes) -> VerifyReport:
    """Walk the whole chain, then hold it to the newest signed digest."""
    async with engine.connect() as conn:
        entries = [entry async for entry in all_entries(conn)]
    problem = verify_chain(entries)
    hashes = {e.seq: e.hash for e in entries}
    digest_seq, digest_problem = None, None
    try:
        document = json.loads(await store.get_bytes(store.uri_for(LATEST_DIGEST)))
        digest_seq = int(document["seq"])
        digest_problem = check_digest(key, document, hashes)
    except ObjectNotFound:
        digest_problem = "no signed digest yet" if entries else None
    return VerifyReport(
        entries=len(entries),
        head_seq=max(hashes, default=0),
        problem=problem,
        digest_seq=digest_seq,
        digest_problem=digest_problem,
    )
