"""Retention of the prediction log's objects, on the stack's real S3 server: log objects
written before the cutoff go; batch scoring's outputs, other keys and newer objects stay."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from driftline.deployment.prediction_log.object_retention import ObjectRetention
from driftline.runtime.storage.ports import ArtifactStore

OLD_LOG = [
    "prediction-log/model=churn/version=3/date=2026-01-02/p0-000000000000-000000000099.parquet",
    "prediction-log/model=churn/version=4/date=2026-01-03/p3-000000000100-000000000120.parquet",
    "predictions/churn/v3/7f9c2e.jsonl",
]
OLD_OTHERS = [
    "predictions/churn/batch/job-1.csv",  # batch scoring's output: the user's
    "predictions/churn/v3/notes.txt",
    "prediction-log/model=churn/version=3/README.md",
    "datasets/churn.csv",
]
NEW_LOG = (
    "prediction-log/model=churn/version=4/date=2026-01-04/p1-000000000000-000000000009.parquet"
)


async def test_log_objects_written_before_the_cutoff_go_and_nothing_else(
    store: ArtifactStore,
) -> None:
    for key in OLD_LOG + OLD_OTHERS:
        await store.put_bytes(key, b"x")
    await asyncio.sleep(1.5)  # S3 keeps last-modified to the second
    cutoff = datetime.now(UTC)
    await asyncio.sleep(1.5)
    await store.put_bytes(NEW_LOG, b"x")

    retention = ObjectRetention(store, timedelta(days=30), now=lambda: cutoff + timedelta(days=30))
    assert await retention.step() is False  # one pass, then rest

    left = await store.keys("prediction-log") + await store.keys("predictions")
    assert sorted(left) == sorted([*OLD_OTHERS[:3], NEW_LOG])
    assert await store.keys("datasets") == ["datasets/churn.csv"]
    await retention.step()  # a second pass finds nothing to delete and fails on nothing
    assert len(await store.keys("prediction-log") + await store.keys("predictions")) == 4
