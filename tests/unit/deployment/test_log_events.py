"""PredictionsLogged from JSON lines: inline while few and small, else one S3 object whose
lines the consumers' reader turns back into the same rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from driftline.deployment.models.predictor import Predicted
from driftline.deployment.prediction_log.events import INLINE_BYTES, batch_event, served_lines
from driftline.deployment.serving.served_rows import ServedRows
from driftline.runtime.prediction_batches import json_rows
from driftline.runtime.storage.local import LocalArtifactStore
from driftline_contracts.values import ModelRef

T0 = datetime(2026, 1, 1, tzinfo=UTC)
MODEL = ModelRef(name="m", version=3)


def served(n: int, features: dict[str, object]) -> ServedRows:
    return ServedRows(
        model="m", canary_id=None, created_at=T0, request_ids=[f"r{i}" for i in range(n)],
        features=[features] * n, versions=[3] * n, variants=["canary"] * n,
        predicted=Predicted(["yes"] * n, [{"no": 0.2, "yes": 0.8}] * n, [0.8] * n, [None] * n),
        latencies=[2.5] * n,
    )  # fmt: skip


def lines_of(rows: ServedRows) -> list[bytes]:
    features = [orjson.dumps(f) for f in rows.features]
    return [line for _, line in served_lines(rows, features)]


async def test_a_small_batch_goes_inline(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    event = await batch_event(store, MODEL, "batch-1", lines_of(served(3, {"a": 1.0})), (T0, T0))
    assert event.batch is None
    assert event.count == 3
    assert event.rows is not None
    assert [(r.request_id, r.variant, r.features, r.prediction, r.score) for r in event.rows] == [
        (f"r{i}", "canary", {"a": 1.0}, "yes", 0.8) for i in range(3)
    ]


async def test_a_batch_too_large_to_go_inline_is_an_object_of_the_same_rows(
    tmp_path: Path,
) -> None:
    store = LocalArtifactStore(tmp_path)
    wide = {f"feature_{i}": float(i) for i in range(400)}  # 8 kB a row: 100 rows exceed inline
    lines = lines_of(served(100, wide))
    assert sum(map(len, lines)) > INLINE_BYTES
    later = T0 + timedelta(seconds=2)
    event = await batch_event(store, MODEL, "batch-2", lines, (T0, later))
    assert event.rows is None
    assert event.batch is not None
    assert (event.window.start, event.window.end, event.count) == (T0, later, 100)
    data = await store.get_bytes(event.batch.uri, sha256=event.batch.sha256)
    rows = json_rows(data)
    assert [r.request_id for r in rows] == [f"r{i}" for i in range(100)]
    assert rows[0].features == wide
    assert rows[0].time == T0
