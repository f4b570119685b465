"""Labelled production data: prediction batches read in, labelled rows written out as CSV."""

from __future__ import annotations

import io
import json
from typing import Any

import pandas as pd

from driftline.runtime.storage import ArtifactStore
from driftline.training.adapters.artifacts import model_key
from driftline.training.core import Job
from driftline_contracts.events.monitoring import PredictionRow, PredictionsLogged
from driftline_contracts.values import ArtifactRef

LABELLED_ROWS = "labelled_rows.csv"
_ROW_FIELDS = set(PredictionRow.model_fields) - {"features"}


class BatchTooLargeError(Exception):
    """A prediction batch object is larger than ``max_batch_bytes``."""


async def prediction_rows(
    event: PredictionsLogged, store: ArtifactStore, max_bytes: int
) -> list[PredictionRow]:
    """The batch's rows: inline, or read (sha256 verified) from its JSON-lines/Parquet object."""
    if event.rows is not None:
        return list(event.rows)
    assert event.batch is not None
    if event.batch.size_bytes > max_bytes:
        raise BatchTooLargeError(f"batch of {event.batch.size_bytes} bytes > limit {max_bytes}")
    data = await store.get_bytes(event.batch.uri, sha256=event.batch.sha256)
    if "parquet" in event.batch.media_type or event.batch.uri.endswith(".parquet"):
        frame = pd.read_parquet(io.BytesIO(data))
        records = json.loads(frame.to_json(orient="records", date_format="iso"))
        return [
            PredictionRow.model_validate(
                {k: v for k, v in r.items() if k in _ROW_FIELDS}
                | {"features": {k: v for k, v in r.items() if k not in _ROW_FIELDS}}
            )
            for r in records
        ]
    text = data.decode()
    if text.lstrip().startswith("["):
        return [PredictionRow.model_validate(item) for item in json.loads(text)]
    return [PredictionRow.model_validate_json(line) for line in text.splitlines() if line.strip()]


def served(rows: list[PredictionRow]) -> list[dict[str, Any]]:
    """What training keeps of answered requests (a shadow row repeats its champion's request)."""
    return [
        {"request_id": r.request_id, "time": r.time, "features": r.features}
        for r in rows
        if r.variant != "shadow"
    ]


def labelled_csv(rows: list[tuple[dict[str, Any], Any]], target: str) -> bytes:
    """Labelled rows as CSV: the features as received, the label under the spec's target."""
    frame = pd.DataFrame([{**features, target: label} for features, label in rows])
    return frame.to_csv(index=False).encode()


async def store_labelled(store: ArtifactStore, job: Job, data: bytes) -> ArtifactRef:
    """Keep the labelled rows a run added next to its model, so it can be reproduced."""
    key = model_key(job.model, job.run_id, LABELLED_ROWS)
    stored = await store.put_bytes(key, data, content_type="text/csv")
    return ArtifactRef(
        uri=stored.uri, sha256=stored.sha256, media_type="text/csv", size_bytes=stored.size_bytes
    )
