"""Late labels: ground truth for windows already evaluated re-judges their performance.

Each label batch re-measures the performance of the champion's evaluated windows holding
those requests (oldest first) and acts only on a *change* of verdict, so every window
counts at most once per direction and a replay gives the same events:

- newly dropped (not dropped before, dropped now): opens an episode with DriftDetected if
  none is open; an open episode stays open, its clean streak is reset and it becomes a
  performance episode. An open episode is never detected twice (hysteresis holds).
- newly judged and fine (too few labels before, enough now, not dropped): one clean window
  for an open performance episode opened by an older window, if the window was not
  drifted when evaluated; ``resolve_after`` of them close it with DriftResolved.
  Feature-drift episodes ignore it: labels say nothing of inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol

from driftline.monitoring.episodes import EpisodeStore, drift_id_for
from driftline.monitoring.hysteresis import advance
from driftline.monitoring.outcomes import drift_resolved, performance_drift_detected
from driftline.monitoring.performance import PerformanceResult, measure_performance
from driftline.monitoring.records import Episode, MonitoredModel, TrainedOn, WindowRecord
from driftline.monitoring.reference import MonitoringDeps, ReferenceStore
from driftline.runtime.logging import get_logger
from driftline_contracts.events.base import Event
from driftline_contracts.events.monitoring import DriftDetected, DriftResolved, GroundTruthReceived
from driftline_contracts.values import ArtifactRef, DatasetRef, ModelRef, Scalar, TimeWindow

log = get_logger(__name__)

LabelVerdict = Literal["dropped", "clean", "unchanged"]


def label_verdict(before: PerformanceResult | None, after: PerformanceResult) -> LabelVerdict:
    """What new labels changed about one window's performance."""
    if after.dropped and not (before is not None and before.dropped):
        return "dropped"
    if after.judged and not after.dropped and not (before is not None and before.judged):
        return "clean"
    return "unchanged"


@dataclass(frozen=True)
class Relabelled:
    """An evaluated window whose performance was measured again with more labels."""

    model: ModelRef
    seq: int
    window_id: str
    window: TimeWindow
    before: PerformanceResult | None
    after: PerformanceResult
    reference: DatasetRef | None
    report: ArtifactRef | None
    drifted: bool = False  # the window's verdict when evaluated


async def apply_labels(
    store: EpisodeStore, window: Relabelled, resolve_after: int
) -> DriftDetected | DriftResolved | None:
    """Move the model's episode on a changed verdict; at most one event."""
    verdict = label_verdict(window.before, window.after)
    if verdict == "unchanged":
        return None
    name = window.model.name
    episode = await store.open_episode(name)
    if verdict == "dropped":
        if episode is not None:
            await store.update(episode.drift_id, 0, performance=True)
            return None
        # the labelled count keeps the id unique if the same window drops again later
        drift_id = drift_id_for(name, f"{window.window_id}/labels/{window.after.labelled}")
        opened = Episode(drift_id, window.model.version, datetime.now(UTC), 0, True, window.seq)
        await store.open(name, opened)
        return performance_drift_detected(
            window.model, drift_id, window.window, window.after,
            reference=window.reference, report=window.report,
        )  # fmt: skip
    if episode is None or not episode.performance or window.drifted:
        return None
    if window.seq <= (episode.opened_seq or 0):
        return None  # an older window being fine says nothing about recovery
    step = advance(
        is_open=True, clean_streak=episode.clean_streak, drifted=False,
        resolve_after=resolve_after,
    )  # fmt: skip
    resolution = "data_recovered" if step.transition == "resolved" else None
    await store.update(episode.drift_id, step.clean_streak, resolution=resolution)
    if resolution is None:
        return None
    return drift_resolved(
        window.model, episode.drift_id, window.window, None,
        detected_at=episode.detected_at, resolution="data_recovered",
    )  # fmt: skip


class LabelStore(EpisodeStore, Protocol):
    """Labels, and the evaluated windows and rows they belong to."""

    async def save_labels(self, model: str, labels: dict[str, Scalar], at: datetime) -> None: ...
    async def labels(self, model: str, request_ids: Sequence[str]) -> dict[str, Scalar]: ...
    async def windows_holding(
        self, model: str, version: int, request_ids: Sequence[str]
    ) -> list[WindowRecord]: ...
    async def window_predictions(self, model: str, seq: int) -> list[tuple[str, Scalar]]: ...
    async def set_performance(self, model: str, seq: int, result: PerformanceResult) -> None: ...


async def receive_labels(
    event: GroundTruthReceived, refs: ReferenceStore, store: LabelStore, deps: MonitoringDeps
) -> list[Event]:
    """Keep the labels; re-judge the champion's evaluated windows they belong to."""
    labels = dict(event.labels)
    await store.save_labels(event.model, labels, event.received_at)
    model = await refs.model(event.model)
    if model is None or model.champion is None:
        return []  # windows evaluated later read the labels
    trained = await refs.trained_on(model.model, model.champion)
    found = await store.windows_holding(model.model, model.champion, list(labels))
    events: list[Event] = []
    for record in sorted(found, key=lambda r: r.seq):
        after = await _measure(model, record.seq, store, trained, deps)
        await store.set_performance(model.model, record.seq, after)
        relabelled = Relabelled(
            ModelRef(name=model.model, version=record.version), record.seq, record.window_id,
            TimeWindow(start=record.start, end=record.end),
            PerformanceResult.model_validate(record.performance) if record.performance else None,
            after, trained.dataset if trained else None, record.report, record.drifted,
        )  # fmt: skip
        event_out = await apply_labels(store, relabelled, deps.settings.resolve_after)
        if event_out is not None:
            log.info("late labels moved the episode", model=model.model,
                     window=record.window_id, type=type(event_out).__name__)  # fmt: skip
            events.append(event_out)
    return events


async def _measure(
    model: MonitoredModel, seq: int, store: LabelStore, trained: TrainedOn | None,
    deps: MonitoringDeps,
) -> PerformanceResult:  # fmt: skip
    predictions = await store.window_predictions(model.model, seq)
    known = await store.labels(model.model, [request for request, _ in predictions])
    pairs = [(p, known[r]) for r, p in predictions if known.get(r) is not None]
    tolerances = deps.settings.tolerances
    return measure_performance(
        model.task, pairs, trained.metrics if trained else {},
        min_labels=tolerances.min_labels, tolerance=tolerances.performance,
    )  # fmt: skip
