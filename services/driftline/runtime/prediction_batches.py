"""Reading a ``PredictionsLogged`` batch: rows inline in the event, or in an S3 object.

Shared by every service that consumes the prediction stream (monitoring and training), so a
batch written in one of the formats deployment may use reads the same everywhere.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pandas as pd

from driftline.runtime.storage import ArtifactStore
from driftline_contracts.events.monitoring import PredictionRow, PredictionsLogged

_ROW_FIELDS = set(PredictionRow.model_fields) - {"features"}


class BatchTooLargeError(Exception):
    """A prediction batch object is larger than the consumer's configured limit."""


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
        return parquet_rows(data)
    return json_rows(data)


def json_rows(data: bytes) -> list[PredictionRow]:
    """Rows of a JSON-lines object (a JSON array is accepted too)."""
    text = data.decode()
    if text.lstrip().startswith("["):
        return [PredictionRow.model_validate(item) for item in json.loads(text)]
    return [PredictionRow.model_validate_json(line) for line in text.splitlines() if line.strip()]


def parquet_rows(data: bytes) -> list[PredictionRow]:
    """Rows of a Parquet file: PredictionRow's fields as columns; the features in a
    ``features`` column (a struct, or JSON text) or, without one, every other column."""
    frame = pd.read_parquet(io.BytesIO(data))
    records = json.loads(frame.to_json(orient="records", date_format="iso"))
    return [PredictionRow.model_validate(_row_of(r)) for r in records]


def _row_of(record: dict[str, Any]) -> dict[str, Any]:
    row = {k: v for k, v in record.items() if k in _ROW_FIELDS}
    if "features" not in record:
        return row | {"features": {k: v for k, v in record.items() if k not in _ROW_FIELDS}}
    features = record["features"]
    if isinstance(features, str):  # rows disagreed on a feature's type: JSON text per row
        features = json.loads(features)
    return row | {"features": features}
