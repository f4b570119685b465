"""Labelled production data: prediction batches read in, labelled rows written out as CSV."""

from __future__ import annotations

from typing import Any

from driftline.runtime.storage import ArtifactStore
from driftline.training.adapters.artifacts import model_key
from driftline.training.core import Job
from driftline_contracts.events.monitoring import PredictionRow
from driftline_contracts.values import ArtifactRef

LABELLED_ROWS = "labelled_rows.csv"


def served(rows: list[PredictionRow]) -> list[dict[str, Any]]:
    """What training keeps of answered requests (a shadow row repeats its champion's request)."""
    return [
        {"request_id": r.request_id, "time": r.time, "features": r.features}
        for r in rows
        if r.variant != "shadow"
    ]


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
