"""Reading the prediction log's Parquet objects by column: the few columns a consumer keeps
when it buffers rows by reference, and later the features of just the rows it needs.

Shared by monitoring (windows) and training (labelled production rows), so neither keeps a
copy of the features the log already holds.
"""

from __future__ import annotations

import io
import json
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from typing import Any, NamedTuple

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from driftline.runtime.prediction_batches import BatchTooLargeError
from driftline.runtime.storage import ArtifactStore
from driftline_contracts.values import ArtifactRef


class MissingLoggedRowsError(Exception):
    """A prediction log object does not hold rows a consumer says it holds."""


class LogObjectError(ValueError):
    """Bytes that are not a prediction log object (not Parquet, or lacking its columns)."""


class LoggedRow(NamedTuple):
    """What a consumer keeps of a logged row while its features stay in the object."""

    request_id: str
    time: datetime
    variant: str


def logged_rows(data: bytes) -> list[LoggedRow]:
    """Every row of one log object without its features (the ``features`` column is not read)."""
    columns = ["request_id", "time", "variant"]
    try:
        table = pq.read_table(io.BytesIO(data), columns=columns)
    except (pa.ArrowException, KeyError) as exc:
        raise LogObjectError(f"not a prediction log object: {exc}"[:300]) from exc
    values = [table[name].to_pylist() for name in columns]
    return [LoggedRow(*row) for row in zip(*values, strict=True)]


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


def by_object(
    rows: Iterable[tuple[ArtifactRef | None, str]],
) -> dict[str, tuple[ArtifactRef, set[str]]]:
    """``(source, request_id)`` pairs grouped as ``read_features`` takes them (None: skipped)."""
    wanted: dict[str, tuple[ArtifactRef, set[str]]] = {}
    for source, request_id in rows:
        if source is not None:
            wanted.setdefault(source.uri, (source, set()))[1].add(request_id)
    return wanted


async def read_features(
    wanted: Mapping[str, tuple[ArtifactRef, Collection[str]]], store: ArtifactStore, max_bytes: int
) -> dict[tuple[str, str], dict[str, Any]]:
    """Features by (object uri, request id) for each object's wanted ids: one sha256-checked
    read per object; an object lacking a wanted row raises ``MissingLoggedRowsError``."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for uri, (source, request_ids) in wanted.items():
        if source.size_bytes > max_bytes:
            raise BatchTooLargeError(f"log object of {source.size_bytes} bytes > {max_bytes}")
        data = await store.get_bytes(uri, sha256=source.sha256)
        features = features_of(data, request_ids)
        missing = [rid for rid in request_ids if rid not in features]
        if missing:
            raise MissingLoggedRowsError(f"{uri} lacks {len(missing)} rows, e.g. {missing[0]}")
        found.update({(uri, rid): features[rid] for rid in request_ids})
    return found
