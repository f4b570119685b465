"""Applying a window's verdict to the model's drift episode, and the events that follow."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from driftline.monitoring.evaluation import WindowResult
from driftline.monitoring.hysteresis import EpisodeStep, advance
from driftline.monitoring.outcomes import drift_detected, drift_resolved
from driftline.monitoring.records import Episode
from driftline_contracts.events.monitoring import DriftDetected, DriftResolved
from driftline_contracts.values import ArtifactRef, DatasetRef, ModelRef, TimeWindow


class EpisodeStore(Protocol):
    """Where open drift episodes are kept."""

    async def open_episode(self, model: str) -> Episode | None: ...
    async def open(self, model: str, episode: Episode) -> None: ...
    async def update(
        self,
        drift_id: str,
        clean_streak: int,
        *,
        resolution: str | None = None,
        performance: bool | None = None,
    ) -> None: ...


@dataclass(frozen=True)
class Evaluated:
    """One evaluated window, ready to move the episode on."""

    model: ModelRef
    window_id: str
    window: TimeWindow
    result: WindowResult
    reference: DatasetRef | None
    report: ArtifactRef
    seq: int = 0


def drift_id_for(model: str, window_id: str) -> str:
    """A stable episode id: the same window always opens the same episode id."""
    return f"drift-{uuid.uuid5(uuid.NAMESPACE_URL, f'driftline:{model}/{window_id}').hex}"


async def apply_window(
    store: EpisodeStore, evaluated: Evaluated, resolve_after: int
) -> tuple[EpisodeStep, str | None, DriftDetected | DriftResolved | None]:
    """Advance the episode; DriftDetected once when it opens, DriftResolved when it closes."""
    name, result = evaluated.model.name, evaluated.result
    episode = await store.open_episode(name)
    step = advance(
        is_open=episode is not None,
        clean_streak=episode.clean_streak if episode else 0,
        drifted=_evidence(episode, result),
        resolve_after=resolve_after,
    )
    if step.transition == "quiet":
        return step, None, None
    if episode is None:
        drift_id = drift_id_for(name, evaluated.window_id)
        by_performance = "performance_drop" in result.reasons
        opened = Episode(
            drift_id, evaluated.model.version, datetime.now(UTC), 0, by_performance, evaluated.seq
        )
        await store.open(name, opened)
        event = drift_detected(
            evaluated.model, drift_id, evaluated.window, evaluated.result,
            reference=evaluated.reference, report=evaluated.report,
        )  # fmt: skip
        return step, drift_id, event
    resolution = "data_recovered" if step.transition == "resolved" else None
    await store.update(
        episode.drift_id, step.clean_streak, resolution=resolution,
        performance=True if "performance_drop" in result.reasons else None,
    )  # fmt: skip
    if resolution is None:
        return step, episode.drift_id, None
    resolved = drift_resolved(
        evaluated.model, episode.drift_id, evaluated.window, evaluated.result,
        detected_at=episode.detected_at, resolution="data_recovered",
    )  # fmt: skip
    return step, episode.drift_id, resolved


def _evidence(episode: Episode | None, result: WindowResult) -> bool | None:
    """A window without judged labels says nothing about a performance episode's recovery."""
    if episode is not None and episode.performance and not result.drifted:
        return False if result.performance.judged else None
    return result.drifted


async def replace_model(
    store: EpisodeStore, model: ModelRef, window: TimeWindow
) -> DriftResolved | None:
    """A new champion ends an open episode of an older version (``model_replaced``)."""
    episode = await store.open_episode(model.name)
    if episode is None or episode.version == model.version:
        return None
    await store.update(episode.drift_id, episode.clean_streak, resolution="model_replaced")
    return drift_resolved(
        model, episode.drift_id, window, None,
        detected_at=episode.detected_at, resolution="model_replaced",
    )  # fmt: skip
