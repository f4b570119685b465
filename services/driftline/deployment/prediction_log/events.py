"""``PredictionsLogged`` from rows written once as ``PredictionRow`` JSON lines.

A served row's line is written when its request is logged (its features JSON is the one the
INSERT used), so sending a batch costs a join, not a serializer pass per row. Rows go inline
while they are few and small (at most ``MAX_INLINE_ROWS`` and well under the payload limit),
else the lines are one JSON-lines object in S3 referenced by ``batch``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from pydantic import ValidationError

from driftline.deployment.prediction_log.insert import json_bytes
from driftline.deployment.rollout.events import window
from driftline.deployment.serving.served_rows import ServedRows
from driftline.runtime.storage import ArtifactStore
from driftline_contracts.codec import MAX_PAYLOAD_BYTES
from driftline_contracts.events.monitoring import MAX_INLINE_ROWS, PredictionRow, PredictionsLogged
from driftline_contracts.values import ArtifactRef, ModelRef

JSONL = "application/x-ndjson"
INLINE_BYTES = MAX_PAYLOAD_BYTES * 3 // 4
"""Rows whose JSON lines are larger go to S3 even when few: the event must stay under the
codec's payload limit whatever its envelope adds."""


def row_line(row: dict[str, Any]) -> bytes:
    """A row in ``PredictionRow``'s shape as one JSON line."""
    return json_bytes(row)


def served_lines(served: ServedRows, features: Sequence[bytes]) -> list[tuple[int, bytes]]:
    """``(row index, line)`` per successful row of a request (``features``: each row's JSON
    from ``features_json``); failed rows are logged but never sent."""
    p, flags = served.predicted, served.logged_flags()
    lines = []
    for i, error in enumerate(p.errors):
        if error is not None:
            continue
        row: dict[str, Any] = {
            "request_id": served.request_ids[i],
            "time": served.created_at,
            "variant": served.variants[i],
            "features": orjson.Fragment(features[i]),
            "prediction": p.predictions[i],
            "score": p.scores[i],
            "latency_ms": served.latencies[i],
        }
        if flags[i] is not None:
            row["flags"] = flags[i]
        try:
            lines.append((i, orjson.dumps(row)))
        except TypeError:  # a prediction orjson cannot write: pydantic, features as values
            lines.append((i, row_line({**row, "features": served.features[i]})))
    return lines


def _inline(lines: Sequence[bytes]) -> list[PredictionRow] | None:
    if len(lines) > MAX_INLINE_ROWS or sum(map(len, lines)) > INLINE_BYTES:
        return None
    try:
        return [PredictionRow.model_validate_json(line) for line in lines]
    except ValidationError:  # e.g. a label longer than the contract allows inline: S3
        return None


async def batch_event(
    store: ArtifactStore,
    model: ModelRef,
    batch_id: str,
    lines: Sequence[bytes],
    span: tuple[datetime, datetime],
) -> PredictionsLogged:
    """The event of ``lines`` (one model version, oldest first, served within ``span``)."""
    when = window(*span)
    rows = _inline(lines)
    if rows is not None:
        return PredictionsLogged(
            model=model, batch_id=batch_id, window=when, count=len(lines), rows=rows
        )
    key = f"predictions/{model.name}/v{model.version}/{batch_id}.jsonl"
    stored = await store.put_bytes(key, b"\n".join(lines), content_type=JSONL)
    batch = ArtifactRef(
        uri=stored.uri, sha256=stored.sha256, media_type=JSONL, size_bytes=stored.size_bytes
    )
    return PredictionsLogged(
        model=model, batch_id=batch_id, window=when, count=len(lines), batch=batch
    )
