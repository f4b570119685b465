"""The prediction-log batcher: logged rows become PredictionsLogged events, per version.

Rows this process logged are sent from memory: each was inserted under its version's open
batch (``UnsentRows``), and a closed batch is sent from the JSON lines the writer kept,
unregistering the batch in the transaction that emits the event. Everything else is read
back from PostgreSQL by the recovery pass once ``LOG_RECOVER_AFTER_S`` old: batches still
registered (their process died, or sending them failed), rows logged without a batch (while
the writer job was down) and shadow answers (at once). A batch is unregistered, and a row
marked, only by the transaction that sends it, under a row lock, so nothing is sent twice.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from operator import attrgetter
from typing import Any

from driftline.deployment.prediction_log.events import batch_event, row_line
from driftline.deployment.prediction_log.ports import Emit, LoggedPredictions, UnsentShadowAnswers
from driftline.deployment.prediction_log.postgres import PostgresPredictionLog
from driftline.deployment.prediction_log.rows import LoggedRow
from driftline.deployment.prediction_log.unsent import PendingBatch, UnsentRows
from driftline.deployment.settings import DeploymentSection
from driftline.deployment.shadow.postgres import PostgresShadowLog
from driftline.runtime.background import report_failure
from driftline.runtime.logging import get_logger
from driftline.runtime.metrics import Metrics
from driftline.runtime.storage import ArtifactStore
from driftline.runtime.uow import UnitOfWorkFactory
from driftline_contracts.events.monitoring import PredictionRow
from driftline_contracts.values import ModelRef

log = get_logger(__name__)
STALE_BATCHES = 20
"""Registered batches the recovery pass sends per round."""


def event_row(row: LoggedRow) -> dict[str, Any]:
    """A logged row in ``PredictionRow``'s shape (``flags`` only when it has some)."""
    found = {
        "request_id": row.request_id,
        "time": row.created_at,
        "variant": row.variant if row.variant in ("canary", "shadow") else "champion",
        "features": row.features,
        "prediction": row.prediction,
        "score": row.score,
        "latency_ms": row.latency_ms,
    }
    return found if not row.flags else {**found, "flags": row.flags}


def prediction_row(row: LoggedRow) -> PredictionRow:
    """The contract's view of one logged row.

    Built without validation: every value was validated when served (request features,
    computed prediction and latency) and checking 30 features again per row was most of the
    prediction log's cost under load.
    """
    return PredictionRow.model_construct(**event_row(row))


def due(count: int, oldest: datetime | None, now: datetime, section: DeploymentSection) -> bool:
    """Whether a batch should go now: enough rows, or the oldest waited long enough."""
    if count == 0 or oldest is None:
        return False
    waited = now - oldest >= timedelta(seconds=section.log_flush_interval_s)
    return count >= section.log_batch_rows or waited


def recover_before(now: datetime, section: DeploymentSection) -> datetime:
    """Rows and batches older than this are the recovery pass's. Never under three flush
    intervals: a live process closes and sends its batches within one."""
    wait = max(section.log_recover_after_s, 3 * section.log_flush_interval_s)
    return now - timedelta(seconds=wait)


async def send_unsent(
    units: UnitOfWorkFactory, store: ArtifactStore, section: DeploymentSection, unsent: UnsentRows
) -> int:
    """Send this process's closed batches from memory: one PredictionsLogged each; rows sent.

    A failed send leaves its batches registered for the recovery pass.
    """
    sent = 0
    for batch in unsent.ready(datetime.now(UTC)):
        async with units() as uow:
            sent += await send_closed(batch, PostgresPredictionLog(uow.session), store, uow.emit)
    return sent


async def send_closed(
    batch: PendingBatch, served: LoggedPredictions, store: ArtifactStore, emit: Emit
) -> int:
    """Unregister one closed batch and send its kept lines; rows sent (0: sent elsewhere)."""
    if not await served.close_batch(batch.batch_id):
        return 0
    model = ModelRef(name=batch.model, version=batch.version)
    span = (min(batch.served_at), max(batch.served_at))
    await emit(await batch_event(store, model, batch.batch_id, batch.lines, span))
    return len(batch.lines)


async def send_stale_batches(
    served: LoggedPredictions, store: ArtifactStore, emit: Emit, before: datetime
) -> int:
    """Registered batches opened before ``before``, read back and sent; rows sent."""
    sent = 0
    for batch_id, name, version in await served.stale_batches(before, STALE_BATCHES):
        rows = await served.batch_rows(batch_id)
        if rows:
            lines = [row_line(event_row(r)) for r in rows]
            span = (min(r.created_at for r in rows), max(r.created_at for r in rows))
            model = ModelRef(name=name, version=version)
            await emit(await batch_event(store, model, batch_id, lines, span))
        await served.close_batch(batch_id)
        sent += len(rows)
    return sent


async def send_batch(
    served: LoggedPredictions, shadows: UnsentShadowAnswers, store: ArtifactStore, emit: Emit,
    section: DeploymentSection,
) -> int:  # fmt: skip
    """The recovery pass for rows without a batch: claim unsent rows older than
    ``LOG_RECOVER_AFTER_S`` and unsent shadow answers; one PredictionsLogged per model
    version; rows sent."""
    now = datetime.now(UTC)
    before = recover_before(now, section)
    (count, oldest), (shadow_count, shadow_oldest) = (
        await served.unsent_summary(before),
        await shadows.unsent_summary(),
    )
    oldest = min((t for t in (oldest, shadow_oldest) if t is not None), default=None)
    if not due(count + shadow_count, oldest, now, section):
        return 0
    claimed = await served.claim_unsent(section.log_max_rows_per_event, before)
    room = section.log_max_rows_per_event - len(claimed)
    claimed += await shadows.claim_unsent(room) if room > 0 else []
    groups: dict[tuple[str, int], list[LoggedRow]] = defaultdict(list)
    for row in claimed:
        groups[(row.model, row.version)].append(row)
    for (name, version), rows in groups.items():
        rows.sort(key=attrgetter("created_at"))
        lines = [row_line(event_row(r)) for r in rows]
        span = (rows[0].created_at, rows[-1].created_at)
        model = ModelRef(name=name, version=version)
        event = await batch_event(store, model, f"batch-{uuid.uuid4().hex}", lines, span)
        await emit(event)
        await served.mark_sent([r.id for r in rows if r.variant != "shadow"], event.batch_id)
        await shadows.mark_sent([r.id for r in rows if r.variant == "shadow"], event.batch_id)
    return len(claimed)


async def log_predictions_forever(
    units: UnitOfWorkFactory,
    store: ArtifactStore,
    section: DeploymentSection,
    unsent: UnsentRows,
    metrics: Metrics | None = None,
) -> None:
    """Send prediction batches until cancelled; failures are retried next round, logged and
    counted as outages or bugs (``report_failure``).

    Memory is checked every ``pause`` (and whenever a batch closes); the recovery pass, which
    queries PostgreSQL, runs every ``recovery_every`` while it finds nothing.
    """
    pause = min(1.0, section.log_flush_interval_s)
    recovery_every = min(section.log_flush_interval_s, 5.0)
    recovered_at = -recovery_every
    while True:
        sent = 0
        try:
            sent += await send_unsent(units, store, section, unsent)
        except Exception as exc:  # the batch stays registered: the recovery pass sends it
            report_failure("prediction-batches", exc, metrics, step="memory")
        if time.monotonic() - recovered_at >= recovery_every:
            recovered = 0
            try:
                async with units() as uow:
                    served, shadows = (
                        PostgresPredictionLog(uow.session),
                        PostgresShadowLog(uow.session),
                    )
                    before = recover_before(datetime.now(UTC), section)
                    recovered += await send_stale_batches(served, store, uow.emit, before)
                    recovered += await send_batch(served, shadows, store, uow.emit, section)
            except Exception as exc:  # an outage must not end the job; it retries next round
                report_failure("prediction-batches", exc, metrics, step="recovery")
            recovered_at = -recovery_every if recovered else time.monotonic()
            sent += recovered
        if sent == 0:
            await unsent.wait(pause)
