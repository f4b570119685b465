"""Labelled production rows of the Kafka prediction log: training keeps them by reference and
reads their features from the log's Parquet objects only when a retrain needs them."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pandas as pd
import pyarrow as pa
import pytest

from driftline.deployment.prediction_log.columnar import (
    VersionRows,
    feature_columns,
    parquet_bytes,
    version_table,
)
from driftline.runtime.log_objects import LogObjectError
from driftline.runtime.prediction_batches import BatchTooLargeError
from driftline.runtime.storage.local import LocalArtifactStore
from driftline.training.adapters.production import served_of, with_features
from driftline.training.core import LabelledRow, job_for, spec_record
from driftline_contracts.events.monitoring import PredictionsLogged
from driftline_contracts.events.training import ModelTrained, TrainingFailed
from driftline_contracts.values import ArtifactRef, ModelRef, TimeWindow
from tests.unit.training.builders import cancer, spec
from tests.unit.training.test_worker import CAUSE, _dataset, _setup

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)


def _served(count: int, seed: int = 1) -> tuple[pd.DataFrame, VersionRows]:
    """``count`` cancer rows as the log compacts them: champion rows and one shadow row each."""
    frame = cancer().sample(count, random_state=seed).reset_index(drop=True)
    features = frame.drop(columns="target").to_dict(orient="records")
    ids = [f"req-{seed}-{i}" for i in range(count)]
    doubled = [*ids, *(f"{i}-shadow" for i in ids)]
    rows = VersionRows(
        model="cancer-clf",
        version=1,
        request_id=doubled,
        time=[NOW + timedelta(seconds=i) for i in range(2 * count)],
        variant=["champion"] * count + ["shadow"] * count,
        prediction=[int(t) for t in frame["target"]] * 2,
        score=[0.9] * (2 * count),
        latency_ms=[1.0] * (2 * count),
        features=feature_columns(features * 2),
        flags=[None] * (2 * count),
    )
    return frame.assign(request_id=ids), rows


async def _log_object(store: LocalArtifactStore, rows: VersionRows) -> ArtifactRef:
    data = parquet_bytes(version_table(rows))
    stored = await store.put_bytes("prediction-log/model=cancer-clf/p0-0-9.parquet", data)
    return ArtifactRef(
        uri=stored.uri,
        sha256=stored.sha256,
        media_type="application/vnd.apache.parquet",
        size_bytes=stored.size_bytes,
    )


def _logged(source: ArtifactRef, count: int) -> PredictionsLogged:
    return PredictionsLogged(
        model=ModelRef(name="cancer-clf", version=1),
        batch_id="log-p0-0-9-v1",
        window=TimeWindow(start=NOW, end=NOW + timedelta(minutes=1)),
        count=count,
        batch=source,
        log_offsets="0:0-9",
    )


async def test_a_log_object_is_kept_as_ids_and_times_without_features(tmp_path) -> None:
    store = LocalArtifactStore(tmp_path)
    frame, rows = _served(20)
    source = await _log_object(store, rows)
    kept, by = await served_of(_logged(source, 40), store, 10**8)
    assert by == source
    assert [r["request_id"] for r in kept] == list(frame["request_id"])  # shadow rows left out
    assert all(set(r) == {"request_id", "time"} for r in kept)
    assert kept[0]["time"] == NOW


async def test_features_kept_by_reference_are_read_back_exactly(tmp_path) -> None:
    store = LocalArtifactStore(tmp_path)
    frame, rows = _served(30)
    source = await _log_object(store, rows)
    copied = frame.iloc[0]
    labelled = [
        LabelledRow(rid, int(t), None, source)
        for rid, t in zip(frame["request_id"][1:], frame["target"][1:], strict=True)
    ]
    labelled.insert(0, LabelledRow("inline", 1, {"mean_radius": float(copied["mean_radius"])}))
    pairs = await with_features(labelled, store, 10**8)
    assert pairs[0] == ({"mean_radius": float(copied["mean_radius"])}, 1)
    served = frame.drop(columns=["target", "request_id"]).to_dict(orient="records")
    assert pairs[1:] == [(f, int(t)) for f, t in zip(served[1:], frame["target"][1:], strict=True)]


async def test_a_retrain_adds_rows_whose_features_live_only_in_the_log(tmp_path) -> None:
    store = LocalArtifactStore(tmp_path / "store")
    worker, units, jobs = _setup(store)
    frame, rows = _served(40)
    source = await _log_object(store, rows)
    jobs.labelled = [
        (i + 1, LabelledRow(rid, int(t), None, source))
        for i, (rid, t) in enumerate(zip(frame["request_id"], frame["target"], strict=True))
    ]
    record = spec_record("cancer-clf", "f" * 64, spec().model_dump(mode="json"))
    jobs.add(job_for(record, await _dataset(store), "drift_detected", CAUSE, labelled_until=40))
    assert await worker.run_once()
    (trained,) = units.events(ModelTrained)
    assert trained.train_rows + trained.holdout_rows == len(cancer()) + 40
    ref = jobs.runs[0].artifacts["labelled_rows.csv"]
    stored = pd.read_csv(io.BytesIO(await store.get_bytes(ref.uri, sha256=ref.sha256)))
    expected = frame.drop(columns="request_id")
    pd.testing.assert_frame_equal(stored[expected.columns], expected, check_dtype=False)


async def test_a_log_object_missing_a_labelled_row_fails_the_run_naming_it(tmp_path) -> None:
    store = LocalArtifactStore(tmp_path / "store")
    worker, units, jobs = _setup(store)
    _, rows = _served(10)
    source = await _log_object(store, rows)
    jobs.labelled = [(1, LabelledRow("req-never-logged", 1, None, source))]
    record = spec_record("cancer-clf", "f" * 64, spec().model_dump(mode="json"))
    jobs.add(job_for(record, await _dataset(store), "drift_detected", CAUSE, labelled_until=1))
    assert await worker.run_once()
    assert not units.events(ModelTrained)
    (failed,) = units.events(TrainingFailed)
    assert "lacks 1 rows, e.g. req-never-logged" in failed.reason.message


@pytest.mark.parametrize(
    "data",
    [b"not parquet at all", b"PAR1" + b"\x00" * 64, b""],
    ids=["text", "truncated-parquet", "empty"],
)
async def test_a_log_object_that_is_not_one_is_a_clear_error_not_a_silent_skip(
    tmp_path, data: bytes
) -> None:
    store = LocalArtifactStore(tmp_path)
    stored = await store.put_bytes("prediction-log/model=cancer-clf/bad.parquet", data)
    source = ArtifactRef(uri=stored.uri, sha256=stored.sha256,
                         media_type="application/vnd.apache.parquet",
                         size_bytes=max(stored.size_bytes, 1))  # fmt: skip
    with pytest.raises(LogObjectError, match="not a prediction log object"):
        await served_of(_logged(source, 1), store, 10**8)


async def test_a_parquet_object_without_the_log_columns_is_refused(tmp_path) -> None:
    store = LocalArtifactStore(tmp_path)
    other = parquet_bytes(pa.table({"request_id": ["r1"], "x": [1.0]}))
    stored = await store.put_bytes("prediction-log/model=cancer-clf/other.parquet", other)
    source = ArtifactRef(uri=stored.uri, sha256=stored.sha256,
                         media_type="application/vnd.apache.parquet",
                         size_bytes=stored.size_bytes)  # fmt: skip
    with pytest.raises(LogObjectError):
        await served_of(_logged(source, 1), store, 10**8)


async def test_a_log_object_over_the_size_limit_is_not_read(tmp_path) -> None:
    store = LocalArtifactStore(tmp_path)
    _, rows = _served(5)
    source = await _log_object(store, rows)
    with pytest.raises(BatchTooLargeError):
        await served_of(_logged(source, 10), store, source.size_bytes - 1)
