"""Shadow mirroring: the challenger scores copies of served requests after the answer went out.

``serve`` offers each request it answered during a shadow step to a bounded in-process
queue (never waiting: a full queue drops the copy and counts it), and ``mirror_forever``
scores the copies with the challenger and records its answers next to the champion's. So
the challenger's latency never reaches the caller; a restart loses only queued copies.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from driftline.deployment.errors import FeatureError
from driftline.deployment.models.cache import ModelCache
from driftline.deployment.models.predictor import RowResult, predict_rows
from driftline.deployment.records import Served
from driftline.deployment.serving.features import to_frame
from driftline.deployment.shadow.postgres import PostgresShadowLog
from driftline.runtime.background import report_failure
from driftline.runtime.logging import get_logger
from driftline.runtime.metrics import Metrics
from driftline.runtime.uow import UnitOfWorkFactory

log = get_logger(__name__)


@dataclass(frozen=True)
class Mirrored:
    """Copies of rows the champion answered, for the challenger of one rollout."""

    canary_id: str
    challenger: Served
    rows: tuple[Mapping[str, Any], ...]
    request_ids: tuple[str, ...]


class ShadowMirror:
    """A bounded queue of mirrored requests; offering never blocks the serving path."""

    def __init__(self, size: int = 1000) -> None:
        self._queue: asyncio.Queue[Mirrored] = asyncio.Queue(maxsize=size)
        self.offered = 0
        self.dropped = 0

    def offer(self, item: Mirrored) -> bool:
        """Queue ``item`` if there is room; False (and counted) when the queue is full."""
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self.dropped += 1
            return False
        self.offered += 1
        return True

    async def take(self) -> Mirrored:
        """The oldest queued item, waiting for one."""
        return await self._queue.get()

    def pending(self) -> int:
        """Items waiting to be scored."""
        return self._queue.qsize()


def score_copy(model: Any, rows: Sequence[Mapping[str, Any]]) -> tuple[list[RowResult], float]:
    """The challenger's answers (wrong features become per-row errors) and latency in ms."""
    started = time.perf_counter()
    try:
        results = predict_rows(model, to_frame(rows, model.features))
    except FeatureError as exc:
        results = [RowResult(error=f"FeatureError: {exc}"[:500]) for _ in rows]
    return results, (time.perf_counter() - started) * 1000.0


def shadow_rows(item: Mirrored, results: list[RowResult], latency_ms: float) -> list[dict]:
    """Rows of ``shadow_predictions`` for one scored copy."""
    now = datetime.now(UTC)
    return [
        {
            "request_id": request_id,
            "canary_id": item.canary_id,
            "model": item.challenger.model.name,
            "version": item.challenger.model.version,
            "prediction": result.prediction,
            "score": result.score,
            "latency_ms": latency_ms,
            "error": result.error,
            "created_at": now,
        }
        for request_id, result in zip(item.request_ids, results, strict=True)
    ]


async def mirror_once(units: UnitOfWorkFactory, cache: ModelCache, item: Mirrored) -> int:
    """Score one copy with the challenger and record its answers; rows recorded."""
    model = await cache.get(item.challenger.model, item.challenger.artifact)
    results, latency = await asyncio.to_thread(score_copy, model, item.rows)
    rows = shadow_rows(item, results, latency)
    async with units() as uow:
        await PostgresShadowLog(uow.session).append(rows)
    return len(rows)


async def mirror_forever(
    units: UnitOfWorkFactory[Any],
    cache: ModelCache,
    mirror: ShadowMirror,
    metrics: Metrics | None = None,
) -> None:
    """Score mirrored requests until cancelled; a failed copy is logged (outage or bug),
    counted and skipped."""
    while True:
        item = await mirror.take()
        try:
            await mirror_once(units, cache, item)
        except Exception as exc:  # a shadow copy is a sample: losing one must not stop the rest
            report_failure("shadow-mirror", exc, metrics, canary_id=item.canary_id)
