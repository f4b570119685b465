"""The prediction-log batcher: unsent rows become PredictionsLogged events, per version."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from driftline.deployment.adapters.prediction_log import LoggedRow, PostgresPredictionLog
from driftline.deployment.adapters.shadow_log import PostgresShadowLog
from driftline.deployment.events import window
from driftline.deployment.settings import DeploymentSection
from driftline.runtime.logging import get_logger
from driftline.runtime.storage import ArtifactStore
from driftline.runtime.uow import UnitOfWork, UnitOfWorkFactory
from driftline_contracts.events.monitoring import (
    MAX_INLINE_ROWS,
    PredictionRow,
    PredictionsLogged,
)
from driftline_contracts.values import ArtifactRef, ModelRef

log = get_logger(__name__)
JSONL = "application/x-ndjson"


def prediction_row(row: LoggedRow) -> PredictionRow:
    """The contract's view of one logged row.

    Built without validation: every value was validated when served (request features,
    computed prediction and latency) and checking 30 features again per row was most of the
    prediction log's cost under load.
    """
    return PredictionRow.model_construct(
        request_id=row.request_id,
        time=row.created_at,
        variant=row.variant if row.variant in ("canary", "shadow") else "champion",
        features=row.features,
        prediction=row.prediction,
        score=row.score,
        latency_ms=row.latency_ms,
    )


def due(count: int, oldest: datetime | None, now: datetime, section: DeploymentSection) -> bool:
    """Whether a batch should go now: enough rows, or the oldest waited long enough."""
    if count == 0 or oldest is None:
        return False
    waited = now - oldest >= timedelta(seconds=section.log_flush_interval_s)
    return count >= section.log_batch_rows or waited


async def _event(store: ArtifactStore, model: ModelRef, rows: list[LoggedRow]) -> PredictionsLogged:
    batch_id = f"batch-{uuid.uuid4().hex}"
    contract_rows = [prediction_row(r) for r in rows]
    span = window(rows[0].created_at, rows[-1].created_at)
    if len(contract_rows) <= MAX_INLINE_ROWS:
        return PredictionsLogged(
            model=model, batch_id=batch_id, window=span, count=len(rows), rows=contract_rows
        )
    lines = "\n".join(r.model_dump_json() for r in contract_rows)
    key = f"predictions/{model.name}/v{model.version}/{batch_id}.jsonl"
    stored = await store.put_bytes(key, lines.encode(), content_type=JSONL)
    batch = ArtifactRef(
        uri=stored.uri, sha256=stored.sha256, media_type=JSONL, size_bytes=stored.size_bytes
    )
    return PredictionsLogged(
        model=model, batch_id=batch_id, window=span, count=len(rows), batch=batch
    )


async def send_batch(uow: UnitOfWork, store: ArtifactStore, section: DeploymentSection) -> int:
    """Claim unsent rows (served and shadow); one PredictionsLogged per model version; rows sent."""
    served, shadows = PostgresPredictionLog(uow.session), PostgresShadowLog(uow.session)
    (count, oldest), (shadow_count, shadow_oldest) = (
        await served.unsent_summary(),
        await shadows.unsent_summary(),
    )
    oldest = min((t for t in (oldest, shadow_oldest) if t is not None), default=None)
    if not due(count + shadow_count, oldest, datetime.now(UTC), section):
        return 0
    claimed = await served.claim_unsent(section.log_max_rows_per_event)
    room = section.log_max_rows_per_event - len(claimed)
    claimed += await shadows.claim_unsent(room) if room > 0 else []
    groups: dict[tuple[str, int], list[LoggedRow]] = defaultdict(list)
    for row in claimed:
        groups[(row.model, row.version)].append(row)
    for (name, version), rows in groups.items():
        rows.sort(key=lambda r: r.created_at)
        event = await _event(store, ModelRef(name=name, version=version), rows)
        await uow.emit(event)
        await served.mark_sent([r.id for r in rows if r.variant != "shadow"], event.batch_id)
        await shadows.mark_sent([r.id for r in rows if r.variant == "shadow"], event.batch_id)
    return len(claimed)


async def log_predictions_forever(
    units: UnitOfWorkFactory, store: ArtifactStore, section: DeploymentSection
) -> None:
    """Send prediction batches until cancelled; failures are logged and retried next round."""
    pause = min(1.0, section.log_flush_interval_s)
    while True:
        try:
            async with units() as uow:
                sent = await send_batch(uow, store, section)
        except Exception as exc:  # an outage must not end the job; it retries next round
            log.warning("prediction batch failed, retrying", error=repr(exc))
            sent = 0
        if sent == 0:
            await asyncio.sleep(pause)
