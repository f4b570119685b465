"""Monitoring's objects: reference profiles and prediction batches in, drift reports out."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass

import pandas as pd

from driftline.runtime.storage import ArtifactStore, StoredObject
from driftline.stats.profile import DatasetProfile
from driftline_contracts.events.monitoring import PredictionRow, PredictionsLogged
from driftline_contracts.values import ArtifactRef

JSON = "application/json"
HTML = "text/html"
_ROW_FIELDS = set(PredictionRow.model_fields) - {"features"}


class BatchTooLargeError(Exception):
    """A prediction batch object is larger than the configured limit."""


@dataclass(frozen=True)
class StoredReport:
    """Where one window's JSON and HTML report went."""

    json: ArtifactRef
    html: ArtifactRef


def artifact_ref(stored: StoredObject, media_type: str) -> ArtifactRef:
    """The event reference of a stored object."""
    return ArtifactRef(
        uri=stored.uri, sha256=stored.sha256, media_type=media_type, size_bytes=stored.size_bytes
    )


async def load_profile(store: ArtifactStore, ref: ArtifactRef) -> DatasetProfile:
    """A reference profile, checked against its sha256."""
    return DatasetProfile.model_validate_json(await store.get_bytes(ref.uri, sha256=ref.sha256))


async def prediction_rows(
    event: PredictionsLogged, store: ArtifactStore, max_bytes: int
) -> list[PredictionRow]:
    """The batch's rows: inline, or read from its JSON-lines (or Parquet) object."""
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
    """Rows of a Parquet file: PredictionRow's fields as columns, every other column a feature."""
    frame = pd.read_parquet(io.BytesIO(data))
    records = json.loads(frame.to_json(orient="records", date_format="iso"))
    return [
        PredictionRow.model_validate(
            {k: v for k, v in r.items() if k in _ROW_FIELDS}
            | {"features": {k: v for k, v in r.items() if k not in _ROW_FIELDS}}
        )
        for r in records
    ]


async def store_report(
    store: ArtifactStore, model: str, window_id: str, report: dict, html: str
) -> StoredReport:
    """Write ``reports/drift/{model}/{window_id}.html`` then ``.json`` (which names the html)."""
    key = f"reports/drift/{model}/{window_id}"
    as_html = await store.put_bytes(
        f"{key}.html", html.encode(), content_type=f"{HTML}; charset=utf-8"
    )
    report = {**report, "html": as_html.uri}
    as_json = await store.put_bytes(
        f"{key}.json", json.dumps(report, indent=1).encode(), content_type=JSON
    )
    return StoredReport(artifact_ref(as_json, JSON), artifact_ref(as_html, HTML))
