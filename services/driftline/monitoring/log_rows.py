"""Features of buffered rows read from the prediction log's Parquet objects, when a window
is evaluated: rows of the Kafka prediction log are buffered without them (by reference)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from driftline.monitoring.records import BufferedRow
from driftline.runtime.log_objects import MissingLoggedRowsError, by_object, read_features
from driftline.runtime.storage import ArtifactStore

__all__ = ["MissingLoggedRowsError", "with_features"]


async def with_features(
    rows: Sequence[BufferedRow], store: ArtifactStore, max_bytes: int
) -> list[BufferedRow]:
    """``rows`` with every missing feature map read from its object (one read per object)."""
    wanted = by_object((r.source, r.request_id) for r in rows if r.features is None)
    found = await read_features(wanted, store, max_bytes)
    return [_filled(r, found) for r in rows]


def _filled(row: BufferedRow, found: dict[tuple[str, str], dict[str, Any]]) -> BufferedRow:
    if row.features is not None or row.source is None:
        return row
    return dataclasses.replace(row, features=found[(row.source.uri, row.request_id)])
