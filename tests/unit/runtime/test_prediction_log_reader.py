"""A model's served rows between two instants come back as one frame from the prediction
log's Parquet objects, written here by deployment's own compaction code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from driftline.deployment.prediction_log.columnar import (
    VersionRows,
    feature_columns,
    object_key,
    parquet_bytes,
    version_table,
)
from driftline.runtime.prediction_log_reader import days, read_predictions
from driftline.runtime.storage.local import LocalArtifactStore

NIGHT = datetime(2026, 3, 1, 23, 50, tzinfo=UTC)


def _rows(model: str, version: int, first: datetime, count: int, tag: str) -> VersionRows:
    times = [first + timedelta(minutes=i) for i in range(count)]
    return VersionRows(
        model=model, version=version, request_id=[f"{tag}-{i}" for i in range(count)],
        time=times, variant=["champion"] * count, prediction=[i % 2 for i in range(count)],
        score=[0.5 + i / 100 for i in range(count)], latency_ms=[1.0] * count,
        features=feature_columns([{"age": 30 + i, "plan": "gold"} for i in range(count)]),
        flags=[None] * count,
    )  # fmt: skip


async def _write(store: LocalArtifactStore, rows: VersionRows, partition: int = 0) -> None:
    key = object_key(rows, partition, 0, len(rows) - 1)
    await store.put_bytes(key, parquet_bytes(version_table(rows)))


@pytest.fixture
async def store(tmp_path: Path) -> LocalArtifactStore:
    store = LocalArtifactStore(tmp_path)
    await _write(store, _rows("churn", 1, NIGHT, 20, "a"))  # 23:50 to 00:09: two dates
    await _write(store, _rows("churn", 2, NIGHT + timedelta(minutes=5), 3, "b"), partition=1)
    await _write(store, _rows("other", 1, NIGHT, 5, "c"))
    return store


async def test_a_span_reads_only_its_rows_with_one_column_per_feature(store) -> None:
    start, end = NIGHT + timedelta(minutes=8), NIGHT + timedelta(minutes=12)
    frame = await read_predictions(store, "churn", start, end)
    assert list(frame["request_id"]) == ["a-8", "a-9", "a-10", "a-11"]
    assert list(frame["version"]) == [1, 1, 1, 1]
    assert list(frame["features.age"]) == [38, 39, 40, 41]
    assert set(frame["features.plan"]) == {"gold"}
    assert frame["time"].is_monotonic_increasing


async def test_a_day_spans_both_versions_oldest_first_and_no_other_model(store) -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    frame = await read_predictions(store, "churn", start, start + timedelta(days=1))
    assert len(frame) == 10 + 3  # a-0..a-9 before midnight, b-0..b-2
    assert set(frame["request_id"].str[0]) == {"a", "b"}
    only_two = await read_predictions(store, "churn", start, start + timedelta(days=2), version=2)
    assert list(only_two["request_id"]) == ["b-0", "b-1", "b-2"]


async def test_nothing_logged_is_an_empty_frame_and_bad_spans_are_refused(store) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    empty = await read_predictions(store, "churn", start, start + timedelta(hours=1))
    assert empty.empty
    assert "request_id" in empty.columns
    with pytest.raises(ValueError, match="timezone-aware"):
        await read_predictions(store, "churn", datetime(2026, 3, 1), datetime(2026, 3, 2))
    with pytest.raises(ValueError, match="after start"):
        await read_predictions(store, "churn", start, start)


async def test_rows_after_midnight_are_found_in_the_object_dated_the_day_before(store) -> None:
    after = datetime(2026, 3, 2, 0, 5, tzinfo=UTC)  # a-15.. live in the object dated 03-01
    frame = await read_predictions(store, "churn", after, after + timedelta(hours=1))
    assert list(frame["request_id"]) == ["a-15", "a-16", "a-17", "a-18", "a-19"]
    missed = await read_predictions(store, "churn", after, after + timedelta(hours=1),
                                    lookback_days=0)  # fmt: skip
    assert missed.empty


def test_a_span_touches_the_dates_it_covers() -> None:
    midnight = datetime(2026, 3, 2, tzinfo=UTC)
    assert days(NIGHT, midnight) == [NIGHT.date()]
    assert len(days(NIGHT, midnight + timedelta(seconds=1))) == 2
