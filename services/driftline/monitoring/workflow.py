"""Monitoring one model: buffer predictions, evaluate each full count window, move episodes."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from typing import Protocol

import pandas as pd

from driftline.monitoring.adapters.artifacts import StoredReport, prediction_rows, store_report
from driftline.monitoring.episodes import EpisodeStore, Evaluated, apply_window
from driftline.monitoring.evaluation import WindowData, WindowResult, evaluate_window
from driftline.monitoring.html import report_html
from driftline.monitoring.records import BufferedRow, MonitoredModel, WindowRecord
from driftline.monitoring.reference import MonitoringDeps, ReferenceStore, Resolved
from driftline.monitoring.reference import resolve_reference as find_reference
from driftline.monitoring.reports import build_report, distributions
from driftline.runtime.logging import get_logger
from driftline_contracts.events.base import Event
from driftline_contracts.events.monitoring import PredictionRow, PredictionsLogged
from driftline_contracts.values import ModelRef, Scalar, TimeWindow

log = get_logger(__name__)


class WindowStore(EpisodeStore, Protocol):
    """The prediction buffer, labels and evaluated windows."""

    async def append(self, model: str, version: int, rows: Sequence[PredictionRow]) -> None: ...
    async def pending(self, model: str) -> int: ...
    async def take(self, model: str, size: int) -> list[BufferedRow]: ...
    async def labels(self, model: str, request_ids: Sequence[str]) -> dict[str, Scalar]: ...
    async def next_seq(self, model: str) -> int: ...
    async def save_window(self, record: WindowRecord, row_ids: Sequence[int]) -> None: ...


async def log_predictions(
    event: PredictionsLogged, refs: ReferenceStore, windows: WindowStore, deps: MonitoringDeps
) -> list[Event]:
    """Buffer the champion's predictions; evaluate every window that became full."""
    rows = await prediction_rows(event, deps.store, deps.settings.max_batch_bytes)
    served = [row for row in rows if row.variant == "champion"]  # canaries are the judge's
    await windows.append(event.model.name, event.model.version, served)
    model = await refs.model(event.model.name)
    if model is None:
        log.warning("no spec for model yet; predictions buffered", model=event.model.name)
        return []
    emitted: list[Event] = []
    while await windows.pending(model.model) >= model.policy.window_size:
        version = model.champion or event.model.version
        resolved = await find_reference(model, version, refs, deps)
        if resolved is None:
            log.warning("no reference profile yet; window kept open", model=model.model)
            break
        emitted.extend(await evaluate_next(model, version, resolved, windows, deps))
    return emitted


async def evaluate_next(
    model: MonitoredModel,
    version: int,
    resolved: Resolved,
    windows: WindowStore,
    deps: MonitoringDeps,
) -> list[Event]:
    """Evaluate the oldest full window, store its report and advance the drift episode."""
    rows = await windows.take(model.model, model.policy.window_size)
    labels = await windows.labels(model.model, [row.request_id for row in rows])
    data = window_data(rows, labels)
    tolerances = deps.settings.tolerances
    result = await asyncio.to_thread(
        evaluate_window, resolved.reference, data, model.policy, tolerances
    )
    seq = await windows.next_seq(model.model)
    window_id, span, ref = (
        f"w{seq:06d}",
        time_window(rows),
        ModelRef(name=model.model, version=version),
    )
    stored = await _store(model, ref, window_id, span, resolved, data, result, deps)
    evaluated = Evaluated(ref, window_id, span, result, resolved.dataset, stored.json)
    step, drift_id, event = await apply_window(windows, evaluated, deps.settings.resolve_after)
    record = WindowRecord(
        model.model, seq, window_id, version, span.start, span.end, len(rows), result.drifted,
        result.drift_share, result.severity, step.transition, drift_id, stored.json, stored.html,
    )  # fmt: skip
    await windows.save_window(record, [row.id for row in rows])
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
    deps: MonitoringDeps,
) -> StoredReport:
    report = build_report(
        model=model.model, version=ref.version, window_id=window_id, window=span,
        rows=len(data.predictions), policy=model.policy, reference=resolved.dataset, result=result,
    )  # fmt: skip
    html = report_html(report, distributions(resolved.reference, data, result))
    return await store_report(deps.store, model.model, window_id, report, html)


def window_data(rows: Sequence[BufferedRow], labels: dict[str, Scalar]) -> WindowData:
    """Features as a frame, predictions in order, and (prediction, label) where labelled."""
    features = pd.DataFrame.from_records([row.features for row in rows])
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
