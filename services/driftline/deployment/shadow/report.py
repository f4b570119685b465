"""The shadow report of ``GET /v1/models/{name}/shadow``: paired answers, agreement, verdict."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from driftline.deployment.errors import NoShadowError
from driftline.deployment.prediction_log.rows import LoggedRow
from driftline.deployment.serving.queries import PostgresServingQueries
from driftline.deployment.shadow.compare import Agreement, shadow_agreement
from driftline.deployment.shadow.mirror import ShadowMirror
from driftline.deployment.shadow.postgres import PostgresShadowLog
from driftline.runtime.uow import UnitOfWorkFactory


class VariantStats(BaseModel):
    """One side of the pairs."""

    version: int = Field(description="Model version.")
    requests: int = Field(description="Mirrored requests it answered.")
    errors: int = Field(description="Of which failed.")
    latency_p50_ms: float | None = Field(description="Median latency, ms.")


class ShadowReport(BaseModel):
    """The model's latest shadow comparison."""

    model: str
    canary_id: str
    status: str = Field(description="Rollout status: active, promoted, rolled_back, superseded.")
    shadowing: bool = Field(description="Whether the shadow step is still live.")
    champion: VariantStats
    shadow: VariantStats
    agreement: Agreement
    judgement: dict[str, Any] | None = Field(
        None, description="The judge's last shadow report: checks, score, verdict."
    )
    mirror_queued: int = Field(description="Copies waiting in this process's queue.")
    mirror_dropped: int = Field(description="Copies this process dropped (queue full).")


def _stats(rows: Sequence[LoggedRow], version: int) -> VariantStats:
    latencies = [r.latency_ms for r in rows]
    return VariantStats(
        version=version,
        requests=len(rows),
        errors=sum(r.error is not None for r in rows),
        latency_p50_ms=float(np.median(latencies)) if latencies else None,
    )


def summarize(
    pairs: Sequence[tuple[LoggedRow, LoggedRow]], versions: tuple[int, int]
) -> tuple[VariantStats, VariantStats, Agreement]:
    """Both sides' counts and latency, and their agreement."""
    rows = [row for pair in pairs for row in pair]
    classes = any(r.score is not None or isinstance(r.prediction, str | bool) for r in rows)
    champion = _stats([c for c, _ in pairs], versions[0])
    shadow = _stats([s for _, s in pairs], versions[1])
    return champion, shadow, shadow_agreement(pairs, "classes" if classes else "scores")


async def shadow_report(units: UnitOfWorkFactory, name: str, mirror: ShadowMirror) -> ShadowReport:
    """The latest shadow rollout of ``name`` measured now; ``NoShadowError`` if none ran."""
    async with units() as uow:
        rollout = await PostgresServingQueries(uow.session).latest_shadow(name)
        if rollout is None:
            raise NoShadowError(f"model {name!r} never ran a shadow step")
        pairs = await PostgresShadowLog(uow.session).pairs(rollout.canary_id, rollout.started_at)
    versions = (rollout.champion_version, rollout.challenger_version)
    champion, shadow, found = summarize(pairs, versions)
    return ShadowReport(
        model=name,
        canary_id=rollout.canary_id,
        status=rollout.status,
        shadowing=rollout.shadowing,
        champion=champion,
        shadow=shadow,
        agreement=found,
        judgement=(rollout.report or {}).get("report"),
        mirror_queued=mirror.pending(),
        mirror_dropped=mirror.dropped,
    )
