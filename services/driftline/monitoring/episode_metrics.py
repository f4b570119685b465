"""Open drift episodes on ``/metrics``, refreshed from PostgreSQL by a background job.

Every replica reads the same table, so each reports every open episode (aggregate with
``max by (model)``); an episode resolved on another replica disappears at the next refresh.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from prometheus_client import CollectorRegistry, Gauge
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from driftline.monitoring.adapters.tables import drift_episodes
from driftline.runtime.background import BackgroundJob
from driftline.runtime.retry import RetryPolicy
from driftline.runtime.rows import typed_rows
from driftline.runtime.service import ServiceRuntime

REFRESH_S = 30.0


def open_since_gauge(registry: CollectorRegistry) -> Gauge:
    """``driftline_drift_episode_open_since_timestamp_seconds{model}``."""
    return Gauge(
        "driftline_drift_episode_open_since_timestamp_seconds",
        "When each model's open drift episode was detected (Unix time); no series when the "
        "model has none.",
        ["model"],
        registry=registry,
    )


def show_open_episodes(gauge: Gauge, opened: Mapping[str, datetime]) -> None:
    """Make ``gauge`` hold exactly the open episodes in ``opened`` (model → detected at)."""
    for (model,) in [labels for labels in _series(gauge) if labels[0] not in opened]:
        gauge.remove(model)
    for model, detected_at in opened.items():
        gauge.labels(model=model).set(detected_at.timestamp())


def _series(gauge: Gauge) -> list[tuple[str, ...]]:
    return [tuple(s.labels.values()) for metric in gauge.collect() for s in metric.samples]


async def open_episodes(engine: AsyncEngine) -> dict[str, datetime]:
    """Model → when its open drift episode was detected."""
    query = select(drift_episodes.c.model, drift_episodes.c.detected_at).where(
        drift_episodes.c.resolved_at.is_(None)
    )
    async with engine.connect() as conn:
        rows = list(typed_rows(await conn.execute(query)))
    return {str(model): detected for model, detected in rows}


async def refresh_forever(
    runtime: ServiceRuntime, gauge: Gauge, interval_s: float = REFRESH_S
) -> None:
    """Every ``interval_s``, re-read the open episodes into ``gauge``: an outage is waited
    out, a bug logged and counted (``BackgroundJob``)."""

    async def refresh() -> bool:
        show_open_episodes(gauge, await open_episodes(runtime.engine))
        return False

    policy = RetryPolicy("database", initial_s=1.0, max_s=interval_s)
    job = BackgroundJob(
        "drift-episode-gauge", refresh, policy, idle_s=interval_s, metrics=runtime.metrics
    )
    await job.run_forever()
