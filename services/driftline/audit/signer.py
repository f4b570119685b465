"""The digest job: sign new rows, record the digest, copy it where no database role reaches."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from driftline.audit.adapters.postgres import PostgresAuditLog
from driftline.audit.adapters.postgres_digests import PostgresDigests
from driftline.audit.digests import next_digest
from driftline.audit.stream_witness import digest_event
from driftline.audit.witnesses import copy_to_store
from driftline.runtime.background import BackgroundJob
from driftline.runtime.logging import get_logger
from driftline.runtime.retry import RetryPolicy

log = get_logger(__name__)


async def write_digests_forever(runtime: Any, key: bytes, interval_s: float) -> None:
    """Every ``interval_s``, sign the rows appended since the last digest (if any); an outage
    is waited out, a bug logged with its traceback and counted (``BackgroundJob``)."""
    copied = 0

    async def sign_round() -> bool:
        nonlocal copied
        copied = await write_digest(runtime, key, copied)
        return False  # one digest per interval

    policy = RetryPolicy("database", initial_s=min(1.0, interval_s), max_s=interval_s)
    job = BackgroundJob(
        "audit-digest", sign_round, policy, idle_s=interval_s, metrics=runtime.metrics
    )
    await asyncio.sleep(interval_s)
    await job.run_forever()


async def write_digest(runtime: Any, key: bytes, copied_up_to: int = 0) -> int:
    """Sign the unsigned rows, record the digest, then copy every digest after ``copied_up_to``.

    Copies that failed before (S3 down, a crash after the commit) are made on a later round.
    Returns the number of the newest digest copied.
    """
    async with runtime.units() as uow:
        seq, head = await PostgresAuditLog(uow.session).head()  # holds the append lock
        digests = PostgresDigests(uow.session)
        signed = next_digest(key, await digests.latest(), seq, head, datetime.now(UTC).isoformat())
        if signed is not None:
            await digests.append(signed)
            await uow.emit(digest_event(signed))  # the stream's copy, relayed by the outbox
            log.info("audit digest signed", number=signed.number, last_seq=signed.last_seq)
        pending = await digests.after(copied_up_to)
    for digest in pending:
        await copy_to_store(runtime.store, digest)
        copied_up_to = digest.number
    return copied_up_to
