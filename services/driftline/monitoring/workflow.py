"""Monitoring one model: buffer predictions, evaluate each complete window, move episodes."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

import pandas as pd

from driftline.monitoring.adapters.artifacts import StoredReport, store_report
from driftline.monitoring.episodes import EpisodeStore, Evaluated, apply_window
from driftline.monitoring.evaluation import WindowData, WindowResult, evaluate_window
from driftline.monitoring.html import report_html
from driftline.monitoring.records import BufferedRow, MonitoredModel, WindowRecord
from driftline.monitoring.reference import MonitoringDeps, ReferenceStore, Resolved
from driftline.monitoring.reference import resolve_reference as find_reference
from driftline.monitoring.reports import build_report, distributions
from driftline.monitoring.row_flags import RowFlags, count_flags
from driftline.monitoring.window_frame import window_features
from driftline.monitoring.windowing import CountCut, Cut, count_cut, duration_of, time_cut
from driftline.runtime.logging import get_logger
from driftline.runtime.prediction_batches import prediction_rows
from driftline_contracts.events.base import Event
from driftline_contracts.events.monitoring import PredictionRow, PredictionsLogged
from driftline_contracts.values import ArtifactRef, ModelRef, Scalar, TimeWindow

log = get_logger(__name__)


class WindowStore(EpisodeStore, Protocol):
    """The prediction buffer, labels and evaluated windows."""

    async def append(
        self, model: str, version: int, rows: Sequence[PredictionRow],
        source: ArtifactRef | None = None,
    ) -> None: ...  # fmt: skip
    async def pending(self, model: str) -> int: ...
    async def take(self, model: str, size: int) -> list[BufferedRow]: ...
    async def pending_cells(
        self, model: str, duration: timedelta
    ) -> list[tuple[datetime, int]]: ...
    async def take_until(self, model: str, end: datetime) -> list[BufferedRow]: ...
    async def last_end(self, model: str) -> datetime | None: ...
    async def trim_pending(self, model: str, keep: int) -> int: ...
    async def labels(self, model: str, request_ids: Sequence[str]) -> dict[str, Scalar]: ...
    async def next_seq(self, model: str) -> int: ...
    async def save_window(self, record: WindowRecord, row_ids: Sequence[int]) -> None: ...
    async def prune_evaluated(self, model: str, keep_windows: int) -> int: ...


async def log_predictions(
    event: PredictionsLogged, refs: ReferenceStore, windows: WindowStore, deps: MonitoringDeps
) -> list[Event]:
    """Buffer the champion's predictions; evaluate every window that became complete."""
    name = event.model.name
    rows = await prediction_rows(event, deps.store, deps.settings.max_batch_bytes)
    served = [row for row in rows if row.variant == "champion"]  # canaries are the judge's
    # The Kafka prediction log's objects keep the features: buffer the rows by reference.
    source = event.batch if event.log_offsets is not None else None
    await windows.append(name, event.model.version, served, source)
    model = await refs.model(name)
    if model is None:
        await cap_unreferenced(name, "no spec for model yet", windows, deps)
        return []
    emitted: list[Event] = []
    while (cut := await next_cut(model, windows)) is not None:
        version = model.champion or event.model.version
        resolved = await find_reference(model, version, refs, deps)
        if resolved is None:
            await cap_unreferenced(name, "no reference profile yet", windows, deps)
            break
        emitted.extend(await evaluate_next(model, version, resolved, cut, windows, deps))
    return emitted


async def next_cut(model: MonitoredModel, windows: WindowStore) -> Cut | None:
    """The model's next complete window under its policy (count or event-time)."""
    policy = model.policy
    if policy.window_kind == "count":
        return count_cut(await windows.pending(model.model), policy.window_size)
    return time_cut(
        await windows.pending_cells(model.model, duration_of(policy)),
        after=await windows.last_end(model.model),
        duration=duration_of(policy),
        min_rows=policy.window_min_rows,
    )


async def cap_unreferenced(
    model: str, why: str, windows: WindowStore, deps: MonitoringDeps
) -> None:
    """Keep at most ``max_unreferenced_rows`` waiting predictions: an unknown model is bounded."""
    dropped = await windows.trim_pending(model, deps.settings.max_unreferenced_rows)
    if dropped:
        deps.dropped.labels(model=model).inc(dropped)
        log.warning("prediction buffer capped; oldest rows dropped", model=model, reason=why,
                    dropped=dropped, cap=deps.settings.max_unreferenced_rows)  # fmt: skip
    else:
        log.info("predictions buffered until the reference is known", model=model, reason=why)


async def evaluate_next(
    model: MonitoredModel,
    version: int,
    resolved: Resolved,
    cut: Cut,
    windows: WindowStore,
    deps: MonitoringDeps,
) -> list[Event]:
    """Evaluate the next window, store its report and advance the drift episode."""
    if isinstance(cut, CountCut):
        rows = await windows.take(model.model, cut.rows)
        span = time_window(rows)
    else:
        rows = await windows.take_until(model.model, cut.end)
        span = TimeWindow(start=cut.start, end=cut.end)
    features = await window_features(rows, deps.store, deps.settings.max_batch_bytes)
    labels = await windows.labels(model.model, [row.request_id for row in rows])
    data, flags = window_data(rows, labels, features), count_flags(rows)
    tolerances = deps.settings.tolerances
    result = await asyncio.to_thread(
        evaluate_window, resolved.reference, data, model.policy, tolerances
    )
    seq = await windows.next_seq(model.model)
    window_id, ref = f"w{seq:06d}", ModelRef(name=model.model, version=version)
    stored = await _store(model, ref, window_id, span, resolved, data, result, flags, deps)
    evaluated = Evaluated(ref, window_id, span, result, resolved.dataset, stored.json, seq)
    step, drift_id, event = await apply_window(windows, evaluated, deps.settings.resolve_after)
    record = WindowRecord(
        model.model, seq, window_id, version, span.start, span.end, len(rows), result.drifted,
        result.drift_share, result.severity, step.transition, drift_id, stored.json, stored.html,
        result.performance.model_dump(mode="json"),
    )  # fmt: skip
    await windows.save_window(record, [row.id for row in rows])
    await windows.prune_evaluated(model.model, deps.settings.late_label_windows)
    count_window(deps, ref, flags)
    log.info("window evaluated", model=model.model, window=window_id, drifted=result.drifted,
             transition=step.transition)  # fmt: skip
    return [event] if event is not None else []


async def _store(
    model: MonitoredModel,
    ref: ModelRef,
    window_id: str,
    span: TimeWindow,
    resolved: Resolved,
    data: WindowData,
    result: WindowResult,
    flags: RowFlags,
    deps: MonitoringDeps,
) -> StoredReport:
    plotted = distributions(resolved.reference, data, result)
    report = build_report(
        model=model.model, version=ref.version, window_id=window_id, window=span,
        rows=len(data.predictions), policy=model.policy, reference=resolved.dataset, result=result,
        distributions=plotted, row_flags=flags,
    )  # fmt: skip
    html = report_html(report, plotted)
    return await store_report(deps.store, model.model, window_id, report, html)


def count_window(deps: MonitoringDeps, ref: ModelRef, flags: RowFlags) -> None:
    """The window's rows and serving flags on ``/metrics``, by model and version."""
    version = str(ref.version)
    deps.evaluated.labels(model=ref.name, version=version).inc(flags.rows)
    for c in flags.counts:
        deps.flagged.labels(model=ref.name, version=version, feature=c.feature, code=c.code).inc(
            c.rows
        )


def window_data(
    rows: Sequence[BufferedRow], labels: dict[str, Scalar], features: pd.DataFrame
) -> WindowData:
    """The window's features (``window_features``), predictions in order, and (prediction,
    label) where labelled."""
    labelled = [
        (row.prediction, labels[row.request_id])
        for row in rows
        if labels.get(row.request_id) is not None
    ]
    return WindowData(features, [row.prediction for row in rows], labelled)


def time_window(rows: Sequence[BufferedRow]) -> TimeWindow:
    """From the first served prediction to just after the last (the end is exclusive)."""
    times = [row.time for row in rows]
    return TimeWindow(start=min(times), end=max(times) + timedelta(microseconds=1))
