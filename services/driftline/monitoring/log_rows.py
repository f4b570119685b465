"""Features of buffered rows read from the prediction log's Parquet objects, when a window
is evaluated: rows of the Kafka prediction log are buffered without them (by reference)."""

from __future__ import annotations

import dataclasses
import io
import json
from collections import defaultdict
from collections.abc import Collection, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from driftline.monitoring.records import BufferedRow
from driftline.runtime.prediction_batches import BatchTooLargeError
from driftline.runtime.storage import ArtifactStore


class MissingLoggedRowsError(Exception):
    """A prediction log object does not hold rows the buffer says it holds."""


def features_of(data: bytes, request_ids: Collection[str]) -> dict[str, dict[str, Any]]:
    """The features of ``request_ids`` in one prediction log object: only its ``request_id``
    and ``features`` columns are read, and only the matching rows converted."""
    table = pq.read_table(io.BytesIO(data), columns=["request_id", "features"])
    wanted = pc.is_in(table["request_id"], value_set=pa.array(list(request_ids), pa.string()))
    found = table.filter(wanted)
    ids = found["request_id"].to_pylist()
    values = found["features"].to_pylist()
    if pa.types.is_string(found.schema.field("features").type):  # JSON text per row
        values = [json.loads(v) for v in values]
    return dict(zip(ids, values, strict=True))


async def with_features(
    rows: Sequence[BufferedRow], store: ArtifactStore, max_bytes: int
) -> list[BufferedRow]:
    """``rows`` with every missing feature map read from its object (one read per object)."""
    wanted: dict[str, list[BufferedRow]] = defaultdict(list)
    for row in rows:
        if row.features is None and row.source is not None:
            wanted[row.source.uri].append(row)
    filled: dict[int, dict[str, Any]] = {}
    for uri, waiting in wanted.items():
        source = waiting[0].source
        assert source is not None
        if source.size_bytes > max_bytes:
            raise BatchTooLargeError(f"log object of {source.size_bytes} bytes > {max_bytes}")
        data = await store.get_bytes(uri, sha256=source.sha256)
        found = features_of(data, {r.request_id for r in waiting})
        missing = [r.request_id for r in waiting if r.request_id not in found]
        if missing:
            raise MissingLoggedRowsError(f"{uri} lacks {len(missing)} rows, e.g. {missing[0]}")
        filled.update({r.id: found[r.request_id] for r in waiting})
    return [dataclasses.replace(r, features=filled[r.id]) if r.id in filled else r for r in rows]
