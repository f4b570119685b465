"""Monitoring journey on the real local stack: clean traffic, a real shift, then recovery."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer

from driftline.monitoring.adapters.references import PostgresReferences
from driftline.monitoring.adapters.windows import PostgresWindows
from driftline.monitoring.app import definition
from driftline.monitoring.episode_metrics import open_episodes
from driftline.monitoring.records import WindowRecord
from driftline.runtime.http import build_http_app
from driftline.runtime.service import ServiceRuntime
from driftline.stack.info import StackInfo
from driftline.stats.profile import profile_frame
from driftline_contracts import topics
from driftline_contracts.codec import decode
from driftline_contracts.events.data import DataValidated
from driftline_contracts.events.deployment import ModelPromoted
from driftline_contracts.events.monitoring import (
    GroundTruthReceived,
    PredictionRow,
    PredictionsLogged,
)
from driftline_contracts.events.registry import ModelRegistered
from driftline_contracts.events.spec import ModelSpecApplied
from driftline_contracts.examples import example
from driftline_contracts.values import ArtifactRef, DatasetRef, ModelRef, TimeWindow
from tests.integration.kafka_helpers import read_all, read_topic, settings_from
from tests.signing import publish_signed

pytestmark = pytest.mark.integration

UID = uuid.uuid4().hex[:10]
MODEL, DATASET = f"cancer-{UID}", f"biopsies-{UID}"
CHAMPION = ModelRef(name=MODEL, version=1)
WINDOW = 100
START = datetime(2025, 3, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
async def monitoring(local_stack: StackInfo) -> AsyncIterator[ServiceRuntime]:
    """The monitoring service running in-process on the stack."""
    runtime = ServiceRuntime(definition(), settings_from(local_stack.env()))
    await runtime.start()
    yield runtime
    await runtime.stop()


def _population() -> pd.DataFrame:
    return load_breast_cancer(as_frame=True).frame


async def _send(stack: StackInfo, event: object) -> None:
    await publish_signed(stack, event, source="test", actor="user:test")  # type: ignore[arg-type]


async def _until(check: Callable[[], Awaitable[bool]], timeout_s: float = 30) -> None:
    async with asyncio.timeout(timeout_s):
        while True:
            if await check():
                return
            await asyncio.sleep(0.3)


async def _reference(
    stack: StackInfo,
    runtime: ServiceRuntime,
    frame: pd.DataFrame,
    model: str = MODEL,
    dataset_name: str = DATASET,
    drift: dict | None = None,
) -> None:
    """Training data's profile in S3; spec, validation, registration and promotion events."""
    data = frame.to_csv(index=False).encode()
    sha = hashlib.sha256(data).hexdigest()
    stored = await runtime.store.put_bytes(
        f"profiles/{dataset_name}/{sha}.json",
        profile_frame(frame, sha256=sha).model_dump_json().encode(),
        content_type="application/json",
    )
    profile = ArtifactRef(uri=stored.uri, sha256=stored.sha256,
                          media_type="application/json", size_bytes=stored.size_bytes)  # fmt: skip
    dataset = DatasetRef(name=dataset_name, version=1, sha256=sha, format="csv", rows=len(frame),
                         uri=f"s3://{stack.bucket}/datasets/{dataset_name}.csv")  # fmt: skip
    spec = {"dataset": dataset_name, "target": "target", "drift": drift or {"window_size": WINDOW}}
    champion = ModelRef(name=model, version=1)
    await _send(stack, example(ModelSpecApplied).model_copy(update={
        "model": model, "dataset": dataset_name, "task": "classification", "target": "target",
        "spec": spec}))  # fmt: skip
    await _send(stack, example(DataValidated).model_copy(
        update={"dataset": dataset, "profile": profile, "models": [model]}))  # fmt: skip
    await _send(stack, example(ModelRegistered).model_copy(
        update={"model": champion, "dataset": dataset, "metrics": {"accuracy": 0.95}}))  # fmt: skip
    await _send(
        stack, example(ModelPromoted).model_copy(update={"model": champion, "previous": None})
    )

    async def ready() -> bool:
        async with runtime.units() as uow:
            refs = PostgresReferences(uow.session)
            found = await refs.model(model)
            return bool(found and found.champion == 1 and await refs.trained_on(model, 1)
                        and await refs.profile(dataset_name, sha))  # fmt: skip

    await _until(ready)


def _rows(frame: pd.DataFrame, batch: int) -> list[PredictionRow]:
    features = frame.drop(columns="target")
    return [
        PredictionRow(
            request_id=f"{UID}-{batch}-{i}", time=START + timedelta(minutes=batch, seconds=i),
            variant="champion", features={str(k): float(v) for k, v in features.iloc[i].items()},
            prediction=int(frame["target"].iloc[i]), latency_ms=3.0,
        )
        for i in range(len(frame))
    ]  # fmt: skip


def _batch(rows: list[PredictionRow], batch: int, model: ModelRef = CHAMPION) -> PredictionsLogged:
    span = TimeWindow(start=rows[0].time, end=rows[-1].time + timedelta(seconds=1))
    return PredictionsLogged(model=model, batch_id=f"{UID}-{model.name}-b{batch}", window=span,
                             count=len(rows), rows=rows)  # fmt: skip


async def _labels(stack: StackInfo, runtime: ServiceRuntime, rows: list[PredictionRow]) -> None:
    labels = {row.request_id: row.prediction for row in rows[: WINDOW // 2]}
    await _send(stack, GroundTruthReceived(model=MODEL, labels=labels, received_at=START))

    async def stored() -> bool:
        async with runtime.units() as uow:
            return len(await PostgresWindows(uow.session).labels(MODEL, list(labels))) == len(
                labels
            )

    await _until(stored)


async def test_shift_is_detected_once_and_resolves(
    local_stack: StackInfo, monitoring: ServiceRuntime
) -> None:
    population = _population()
    await _reference(local_stack, monitoring, population)
    rng = np.random.default_rng(0)
    malignant = population[population["target"] == 0]
    plan = ["clean", "clean", "shift", "shift", "clean", "clean"]
    batches = [
        _rows((malignant if kind == "shift" else population).sample(WINDOW, random_state=rng), b)
        for b, kind in enumerate(plan)
    ]
    await _labels(local_stack, monitoring, batches[0])
    for number, rows in enumerate(batches):
        await _send(local_stack, _batch(rows, number))

    by_model = lambda record: record.key == MODEL.encode()  # noqa: E731
    (resolved,) = await read_topic(local_stack.kafka_bootstrap, topics.DRIFT_RESOLVED, by_model,
                                   timeout_s=60)  # fmt: skip
    detected = await read_all(local_stack.kafka_bootstrap, topics.DRIFT_DETECTED, by_model)
    assert len(detected) == 1
    _, drift = decode(detected[0].headers, detected[0].value)
    _, recovered = decode(resolved.headers, resolved.value)
    assert drift.drift_id == recovered.drift_id
    assert recovered.resolution == "data_recovered"
    assert drift.severity in ("high", "critical")
    assert drift.reference_dataset is not None
    assert drift.reference_dataset.name == DATASET
    assert sum(f.drifted for f in drift.features) >= 15
    assert drift.report is not None
    assert drift.report.uri.endswith("/w000003.json")
    await _check_api(monitoring)


async def _check_api(runtime: ServiceRuntime) -> None:
    app = build_http_app(runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        windows = (await c.get(f"/v1/models/{MODEL}/drift/windows")).json()
        assert [w["transition"] for w in reversed(windows)] == [
            "quiet", "quiet", "detected", "continuing", "recovering", "resolved"
        ]  # fmt: skip
        first = (await c.get(f"/v1/models/{MODEL}/drift")).json()
        assert first["window_id"] == "w000006"
        page = await c.get(f"/v1/models/{MODEL}/drift", params={"format": "html"})
        assert page.headers["content-type"].startswith("text/html")
        assert page.text.count("<svg ") == 31  # 30 features and the prediction
        detected = next(w for w in windows if w["transition"] == "detected")
        report = (await c.get(f"/v1/models/{MODEL}/drift/windows/{detected['seq']}")).json()
        assert report["window_id"] == detected["window_id"]
        assert len(report["distributions"]) == 31  # what the console's drift page plots
        assert all(len(d["labels"]) == len(d["current"]) > 1 for d in report["distributions"])
        missing = await c.get(f"/v1/models/{MODEL}/drift/windows/999999")
        assert missing.status_code == 404
        assert (await c.get(f"/v1/models/{MODEL}/drift/windows/0")).status_code == 422


TIMED = ModelRef(name=f"timed-{UID}", version=1)


def _minute(frame: pd.DataFrame, minute: int) -> list[PredictionRow]:
    """30 predictions stamped 2 s apart inside one minute of event time."""
    rows = _rows(frame, minute)
    return [
        row.model_copy(update={"request_id": f"t-{row.request_id}",
                               "time": START + timedelta(minutes=minute, seconds=2 * i)})
        for i, row in enumerate(rows)
    ]  # fmt: skip


async def test_time_windows_and_late_labels(
    local_stack: StackInfo, monitoring: ServiceRuntime
) -> None:
    population = _population()
    drift = {"window_kind": "time", "window_duration_s": 60, "window_min_rows": 20}
    await _reference(local_stack, monitoring, population, TIMED.name, f"{TIMED.name}-data", drift)
    rng = np.random.default_rng(1)
    minutes = [_minute(population.sample(30, random_state=rng), m) for m in range(4)]
    for number, rows in enumerate(minutes):
        await _send(local_stack, _batch(rows, number, TIMED))

    async def windows() -> list:
        async with monitoring.units() as uow:
            return await PostgresWindows(uow.session).windows(TIMED.name)

    await _until(lambda: _count(windows, 3))
    found = sorted(await windows(), key=lambda w: w.seq)
    assert [(w.start, w.end, w.rows) for w in found] == [
        (START + timedelta(minutes=m), START + timedelta(minutes=m + 1), 30) for m in range(3)
    ]  # minute 3 stays open: no prediction stamped after it yet
    assert not any(w.drifted for w in found)
    # labels after the windows were evaluated: minute 1's predictions were half wrong
    wrong = {row.request_id: 1 - row.prediction if i % 2 else row.prediction
             for i, row in enumerate(minutes[1])}  # fmt: skip
    await _send(local_stack, GroundTruthReceived(model=TIMED.name, labels=wrong,
                                                 received_at=START))  # fmt: skip
    by_model = lambda record: record.key == TIMED.name.encode()  # noqa: E731
    (detected,) = await read_topic(local_stack.kafka_bootstrap, topics.DRIFT_DETECTED, by_model,
                                   timeout_s=60)  # fmt: skip
    _, drift_event = decode(detected.headers, detected.value)
    assert drift_event.performance == {"accuracy": 0.5}
    assert drift_event.window.start == START + timedelta(minutes=1)
    # minute 2 is as bad: the open episode holds, no second DriftDetected
    worse = {row.request_id: 1 - row.prediction for row in minutes[2]}
    await _send(local_stack, GroundTruthReceived(model=TIMED.name, labels=worse,
                                                 received_at=START))  # fmt: skip

    async def judged() -> bool:
        last = next(w for w in await windows() if w.seq == found[2].seq)
        return bool(last.performance and last.performance["judged"])

    await _until(judged)
    assert len(await read_all(local_stack.kafka_bootstrap, topics.DRIFT_DETECTED, by_model)) == 1
    # what driftline_drift_episode_open_since_timestamp_seconds is refreshed from
    assert TIMED.name in await open_episodes(monitoring.engine)


async def _count(windows: Callable[[], Awaitable[list]], n: int) -> bool:
    return len(await windows()) >= n


async def test_buffer_of_an_unknown_model_is_capped(monitoring: ServiceRuntime) -> None:
    unknown = f"unknown-{UID}"
    rows = _rows(_population().head(5), 0)
    async with monitoring.units() as uow:
        store = PostgresWindows(uow.session)
        await store.append(unknown, 1, rows)
        assert await store.trim_pending(unknown, keep=2) == 3
        kept = await store.take(unknown, 10)
    assert [row.request_id for row in kept] == [r.request_id for r in rows[3:]]


async def test_old_windows_predictions_and_labels_are_pruned(monitoring: ServiceRuntime) -> None:
    """Evaluated rows are kept for late labels only for the newest windows: the buffer and
    label tables stay bounded, window records stay."""
    model = f"pruned-{UID}"
    rows = _rows(_population().head(6), 0)
    report = ArtifactRef(
        uri="s3://b/r.json", sha256="0" * 64, media_type="application/json", size_bytes=1
    )
    async with monitoring.units() as uow:
        store = PostgresWindows(uow.session)
        await store.append(model, 1, rows)
        await store.save_labels(model, {r.request_id: 1 for r in rows}, START)
        for seq in (1, 2, 3):
            taken = await store.take(model, 2)
            record = WindowRecord(
                model, seq, f"w{seq:06d}", 1, START, START, 2, False, 0.0, "none", "none",
                None, report, report,
            )  # fmt: skip
            await store.save_window(record, [row.id for row in taken])
        assert await store.prune_evaluated(model, keep_windows=2) == 2
        assert await store.prune_evaluated(model, keep_windows=2) == 0
        ids = [r.request_id for r in rows]
        assert sorted(await store.labels(model, ids)) == sorted(ids[2:])
        assert len(await store.windows(model)) == 3
        assert await store.window_predictions(model, 1) == []
        assert len(await store.window_predictions(model, 2)) == 2
