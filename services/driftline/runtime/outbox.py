"""Outbox relay: publishes committed outbox rows in order, then marks them published.

Only one relay per service schema publishes at a time (a transaction-scoped advisory lock),
so events of one key keep their order even with several replicas. Each row is also copied
to the audit topic. A crash after publishing but before marking re-publishes the batch
(at-least-once); consumers' inboxes make that harmless. A shutdown is not a crash: after
:meth:`OutboxRelay.stop` the relay finishes the batch in hand and drains what is committed.
"""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine
from tenacity import RetryCallState

from driftline.runtime import faults
from driftline.runtime.logging import get_logger
from driftline.runtime.metrics import Metrics
from driftline.runtime.producer import KafkaPublisher
from driftline.runtime.retry import RetryPolicies, failure_kind, failure_of
from driftline.runtime.settings import OutboxSettings, RetrySettings
from driftline.runtime.tables import outbox
from driftline_contracts.topics import AUDIT

log = get_logger(__name__)
_LOCK = text("SELECT pg_try_advisory_xact_lock(hashtext('driftline.outbox.' || current_schema()))")


class OutboxRelay:
    """Moves outbox rows to Kafka; wake it with :meth:`notify` after a commit."""

    def __init__(
        self,
        engine: AsyncEngine,
        publisher: KafkaPublisher,
        *,
        service: str,
        settings: OutboxSettings,
        retry: RetrySettings,
        metrics: Metrics,
    ) -> None:
        self._engine = engine
        self._publisher = publisher
        self._service = service
        self._settings = settings
        self._policy = RetryPolicies.from_settings(retry).kafka
        self._metrics = metrics
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()

    def notify(self) -> None:
        """New rows were committed: publish them now instead of at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        """Ask :meth:`run` to publish what is committed and return (not mid-batch)."""
        self._stop.set()
        self._wake.set()

    async def publish_pending(self) -> int:
        """Publish one batch; returns how many rows were published (0 if none or locked)."""
        async with self._engine.begin() as conn:
            if not await conn.scalar(_LOCK):
                return 0
            rows = (
                await conn.execute(
                    select(outbox)
                    .where(outbox.c.published_at.is_(None))
                    .order_by(outbox.c.seq)
                    .limit(self._settings.batch_size)
                )
            ).all()
            if not rows:
                return 0
            records = []
            for row in rows:
                headers = [(name, value.encode()) for name, value in row.headers]
                records.append((row.topic, row.payload, row.key, headers))
                if self._settings.audit_topic_copy:
                    records.append((AUDIT, row.payload, row.key, headers))
            faults.point("outbox.before_publish")
            await self._publisher.send_batch(records)
            faults.point("outbox.after_publish")
            await conn.execute(
                update(outbox)
                .where(outbox.c.seq.in_([r.seq for r in rows]))
                .values(published_at=func.now())
            )
        for row in rows:
            self._metrics.produced.labels(self._service, row.event_type).inc()
        return len(rows)

    async def backlog(self) -> int:
        """Rows committed but not yet published."""
        async with self._engine.connect() as conn:
            count = await conn.scalar(
                select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
            )
        return int(count or 0)

    async def run(self) -> None:
        """Relay until :meth:`stop`: publish while there is work, otherwise wait for a wake-up
        or poll; once stopped, return as soon as nothing committed is left (or publishing
        fails: the rows stay, and the next start publishes them)."""
        while True:
            try:
                published = await self._policy.call(
                    self._publish_step,
                    retry_on=lambda exc: isinstance(exc, Exception) and not self._stop.is_set(),
                    sleep=self._rest,
                    on_retry=self._failed,
                )
            except Exception as exc:  # stopped while failing
                log.warning("outbox left for the next start", error=repr(exc))
                return
            if published:
                continue
            if self._stop.is_set():
                return
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._settings.poll_interval_s):
                    await self._wake.wait()

    async def _publish_step(self) -> int:
        published = await self.publish_pending()
        if not published and not self._stop.is_set():
            self._metrics.outbox_backlog.set(await self.backlog())
        return published

    async def _rest(self, seconds: float) -> None:
        """Back off, but no longer than until :meth:`stop`."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._stop.wait()

    def _failed(self, state: RetryCallState) -> None:
        exc = failure_of(state)
        kind = failure_kind(exc)
        self._metrics.background_errors.labels(self._service, "outbox", kind).inc()
        if kind == "bug":
            log.error("outbox relay failed: a bug, not an outage", exc_info=exc)
        log.warning("outbox relay retrying", retry_in_s=state.upcoming_sleep, error=repr(exc))
