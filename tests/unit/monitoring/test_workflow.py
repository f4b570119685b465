"""Buffering and closing windows through the workflow: time windows and the buffer cap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from driftline.monitoring.workflow import log_predictions
from driftline_contracts.events.monitoring import PredictionRow, PredictionsLogged
from driftline_contracts.modelspec import DriftPolicy
from driftline_contracts.values import ModelRef, TimeWindow
from tests.unit.monitoring.fakes import FakeRefs, FakeWindows, deps_for, monitored
from tests.unit.monitoring.helpers import population

T0 = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
TIME = DriftPolicy(window_kind="time", window_duration_s=60, window_min_rows=30)


def batch(frame: pd.DataFrame, start: datetime, step: timedelta, tag: str) -> PredictionsLogged:
    """One batch of champion predictions stamped ``start``, ``start + step``, ..."""
    rows = [
        PredictionRow(
            request_id=f"{tag}-{i}", time=start + i * step, variant="champion",
            features={k: v for k, v in record.items() if k != "label"},
            prediction=int(record["label"]), latency_ms=1.0,
        )
        for i, record in enumerate(frame.to_dict("records"))
    ]  # fmt: skip
    span = TimeWindow(start=rows[0].time, end=rows[-1].time + step)
    return PredictionsLogged(model=ModelRef(name="churn", version=1), batch_id=tag, window=span,
                             count=len(rows), rows=rows)  # fmt: skip


async def test_time_windows_close_by_event_time_and_merge_short_ones(tmp_path: Path) -> None:
    refs, store = FakeRefs(monitored(TIME)), FakeWindows()
    deps = deps_for(population(2000), tmp_path)
    second = timedelta(seconds=1)
    # 10:00 minute: 40 rows; 10:01: 10 rows (too few); 10:02: 40 rows; one row at 10:03
    traffic = [(0, 40), (60, 10), (120, 40), (180, 1)]
    for n, (offset, rows) in enumerate(traffic):
        frame = population(rows, seed=n + 1)
        await log_predictions(
            batch(frame, T0 + offset * second, second, f"b{n}"), refs, store, deps
        )
    spans = [(w.start, w.end, w.rows) for w in store.records.values()]
    minute = timedelta(minutes=1)
    assert spans == [(T0, T0 + minute, 40), (T0 + minute, T0 + 3 * minute, 50)]
    assert await store.pending("churn") == 1  # 10:03 stays open: nothing stamped after it yet
    assert all(w.transition == "quiet" for w in store.records.values())


async def test_same_events_in_any_batching_give_the_same_windows(tmp_path: Path) -> None:
    frame = population(300, seed=4)
    second = timedelta(seconds=1)
    results = []
    for size in (300, 7):
        refs, store = FakeRefs(monitored(TIME)), FakeWindows()
        deps = deps_for(population(2000), tmp_path / str(size))
        for start in range(0, 300, size):
            part = frame.iloc[start : start + size]
            at = T0 + start * second
            await log_predictions(batch(part, at, second, f"r{start}"), refs, store, deps)
        results.append([(w.start, w.end, w.rows) for w in store.records.values()])
    assert results[0] == results[1]
    assert len(results[0]) == 4  # 300 s of traffic: four closed minutes, the fifth open


async def test_unknown_model_buffer_is_capped_oldest_first(tmp_path: Path) -> None:
    refs, store = FakeRefs(None), FakeWindows()
    deps = deps_for(population(2000), tmp_path, max_unreferenced_rows=250)
    second = timedelta(seconds=1)
    for n in range(4):
        frame = population(100, seed=n)
        emitted = await log_predictions(batch(frame, T0, second, f"u{n}"), refs, store, deps)
        assert emitted == []
    kept = [r.row.request_id for r in store.rows]
    assert len(kept) == 250
    assert kept[0] == "u1-50"  # the oldest 150 went
    assert deps.dropped.labels(model="churn")._value.get() == 150


async def test_capped_while_the_reference_is_missing(tmp_path: Path) -> None:
    refs, store = FakeRefs(monitored(DriftPolicy(window_size=50))), FakeWindows()
    deps = deps_for(population(2000), tmp_path, max_unreferenced_rows=120)

    async def no_profile(dataset: str, sha256: str | None = None) -> None:
        return None

    refs.profile = no_profile  # type: ignore[method-assign]
    second = timedelta(seconds=1)
    for n in range(3):
        await log_predictions(batch(population(100, seed=n), T0, second, f"m{n}"), refs, store,
                              deps)  # fmt: skip
    assert await store.pending("churn") == 120
    assert store.records == {}


async def test_only_the_newest_windows_keep_their_predictions(tmp_path: Path) -> None:
    refs, store = FakeRefs(monitored(TIME)), FakeWindows()
    deps = deps_for(population(2000), tmp_path, late_label_windows=2)
    second = timedelta(seconds=1)
    for n in range(5):  # five full minutes and one row after them
        frame = population(40, seed=n)
        await log_predictions(
            batch(frame, T0 + n * 60 * second, second, f"m{n}"), refs, store, deps
        )
    await log_predictions(
        batch(population(1), T0 + 300 * second, second, "tail"), refs, store, deps
    )
    seqs = sorted(store.records)
    assert len(seqs) >= 4  # every evaluated window's record stays
    kept = sorted({r.window_seq for r in store.rows if r.window_seq is not None})
    assert kept == seqs[-2:]
