"""Labelled production data: prediction batches read in, labelled rows written out as CSV."""

from __future__ import annotations

from typing import Any

from driftline.runtime.storage import ArtifactStore
from driftline.training.adapters.artifacts import model_key
from driftline.training.core import Job, LabelledRow
from driftline_contracts.events.monitoring import PredictionRow, PredictionsLogged
from driftline_contracts.values import ArtifactRef

LABELLED_ROWS = "labelled_rows.csv"


def served(rows: list[PredictionRow]) -> list[dict[str, Any]]:
    """What training keeps of answered requests (a shadow row repeats its champion's request)."""
    return [
        {"request_id": r.request_id, "time": r.time, "features": r.features}
        for r in rows
        if r.variant != "shadow"
    ]


async def served_of(
    event: PredictionsLogged, store: ArtifactStore, max_bytes: int
) -> tuple[list[dict[str, Any]], ArtifactRef | None]:
    """What training keeps of a batch, and the log object it keeps them by reference to: a
    Kafka prediction log object is read without its features column, which stays there."""
    from driftline.runtime.log_objects import logged_rows  # pyarrow: on first use
    from driftline.runtime.prediction_batches import BatchTooLargeError, prediction_rows

    if event.log_offsets is None or event.batch is None:
        return served(await prediction_rows(event, store, max_bytes)), None
    if event.batch.size_bytes > max_bytes:
        raise BatchTooLargeError(f"batch of {event.batch.size_bytes} bytes > limit {max_bytes}")
    data = await store.get_bytes(event.batch.uri, sha256=event.batch.sha256)
    rows = [
        {"request_id": r.request_id, "time": r.time}
        for r in logged_rows(data)
        if r.variant != "shadow"
    ]
    return rows, event.batch


async def with_features(
    rows: list[LabelledRow], store: ArtifactStore, max_bytes: int
) -> list[tuple[dict[str, Any], Any]]:
    """(features, label) of each row; features kept by reference are read from their log
    objects, one read per object (an object lacking a row fails the run, never a gap)."""
    from driftline.runtime.log_objects import by_object, read_features  # pyarrow: on first use

    wanted = by_object((r.source, r.request_id) for r in rows if r.features is None)
    found = await read_features(wanted, store, max_bytes) if wanted else {}
    return [(_features(row, found), row.label) for row in rows]


def _features(row: LabelledRow, found: dict[tuple[str, str], dict[str, Any]]) -> dict[str, Any]:
    if row.features is not None:
        return row.features
    assert row.source is not None  # the table's check: features or source
    return found[(row.source.uri, row.request_id)]


def labelled_csv(rows: list[tuple[dict[str, Any], Any]], target: str) -> bytes:
    """Labelled rows as CSV: the features as received, the label under the spec's target."""
    import pandas as pd  # on first use: the service's start-up needs none

    frame = pd.DataFrame([{**features, target: label} for features, label in rows])
    return frame.to_csv(index=False).encode()


async def store_labelled(store: ArtifactStore, job: Job, data: bytes) -> ArtifactRef:
    """Keep the labelled rows a run added next to its model, so it can be reproduced."""
    key = model_key(job.model, job.run_id, LABELLED_ROWS)
    stored = await store.put_bytes(key, data, content_type="text/csv")
    return ArtifactRef(
        uri=stored.uri, sha256=stored.sha256, media_type="text/csv", size_bytes=stored.size_bytes
    )
