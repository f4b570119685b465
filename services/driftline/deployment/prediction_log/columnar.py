"""The columnar prediction log's formats: a request's record on Kafka, the Parquet object.

A served request becomes one Kafka record: a JSON document of one array per column (built
with orjson from the request's columns, no object per row). Compaction groups the records of
an offset range by model version and writes one Parquet object per version, whose columns are
``PredictionRow``'s (``request_id``, ``time``, ``variant``, ``prediction``, ``score``,
``latency_ms``) plus ``features``, a struct of the request's feature columns (a JSON text
column when rows disagree on a feature's type), and ``flags``, each row's ``RowFlag`` list
(null for a row without any; a record carries the column only when a row has one). Failed
rows are not logged here: a failed row has no prediction to monitor or label.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from driftline.deployment.prediction_log.insert import features_json, json_bytes
from driftline.deployment.serving.served_rows import ServedRows

PARQUET = "application/vnd.apache.parquet"
PREFIX = "prediction-log"
"""Object keys: ``prediction-log/model=M/version=V/date=YYYY-MM-DD/p{partition}-{first}-{last}
.parquet`` (hive-style partitions: ``pyarrow.dataset`` and DuckDB filter on them)."""


FLAGS = pa.list_(pa.struct([("feature", pa.string()), ("code", pa.string())]))
"""The Parquet type of the ``flags`` column."""


class LogRecordError(ValueError):
    """A prediction-log record that is not one of ``encode_record``'s documents."""


def encode_record(served: ServedRows) -> bytes | None:
    """The successful rows of one request as one record value; None when none succeeded."""
    ok = [i for i, error in enumerate(served.predicted.errors) if error is None]
    if not ok:
        return None
    p, features = served.predicted, features_json(served)
    flags = served.logged_flags()
    flagged = {"flags": [flags[i] for i in ok]} if served.flags else {}
    return orjson.dumps(
        {
            **flagged,
            "model": served.model,
            "time": served.created_at,
            "request_id": [served.request_ids[i] for i in ok],
            "version": [served.versions[i] for i in ok],
            "variant": [served.variants[i] for i in ok],
            "prediction": orjson.Fragment(json_bytes([p.predictions[i] for i in ok])),
            "score": [p.scores[i] for i in ok],
            "latency_ms": [served.latencies[i] for i in ok],
            "features": orjson.Fragment(b"[" + b",".join(features[i] for i in ok) + b"]"),
        }
    )


@dataclass(frozen=True)
class VersionRows:
    """The logged rows of one model version within an offset range, column by column."""

    model: str
    version: int
    request_id: list[str]
    time: list[datetime]
    variant: list[str]
    prediction: list[Any]
    score: list[float | None]
    latency_ms: list[float]
    features: list[dict[str, Any]]
    flags: list[list[dict[str, str]] | None]

    def __len__(self) -> int:
        return len(self.request_id)


_COLUMNS = ("request_id", "variant", "prediction", "score", "latency_ms", "features")


def group_records(values: Iterable[bytes | None]) -> tuple[list[VersionRows], int]:
    """Records (in offset order) regrouped by model version, rows in log order; and how many
    records were skipped as not ``encode_record``'s (tombstones, foreign or damaged values)."""
    groups: dict[tuple[str, int], dict[str, list[Any]]] = defaultdict(
        lambda: {name: [] for name in (*_COLUMNS, "time", "flags")}
    )
    skipped = 0
    for value in values:
        try:
            doc = _decode(value)
            served_at = datetime.fromisoformat(doc["time"])
            versions = [int(v) for v in doc["version"]]
        except (LogRecordError, TypeError, ValueError):
            skipped += 1
            continue
        if len(set(versions)) == 1:  # one version answered the whole request: whole columns
            group = groups[(doc["model"], versions[0])]
            for name in (*_COLUMNS, "flags"):
                group[name].extend(doc[name])
            group["time"].extend([served_at] * len(versions))
            continue
        for i, version in enumerate(versions):
            group = groups[(doc["model"], version)]
            for name in _COLUMNS:
                group[name].append(doc[name][i])
            group["time"].append(served_at)
            group["flags"].append(doc["flags"][i])
    found = [VersionRows(model, version, **cols) for (model, version), cols in groups.items()]
    return found, skipped


def _decode(value: bytes | None) -> dict[str, Any]:
    if value is None:
        raise LogRecordError("a tombstone")
    try:
        doc: dict[str, Any] = orjson.loads(value)
        rows = len(doc["request_id"])
        if not isinstance(doc["model"], str) or any(
            len(doc[name]) != rows for name in (*_COLUMNS, "version")
        ):
            raise LogRecordError("columns of different lengths")
        doc["flags"] = _flags(doc.get("flags"), rows)
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        raise LogRecordError(f"not a prediction-log record: {exc!r}") from exc
    return doc


def _flags(found: Any, rows: int) -> list[list[dict[str, str]] | None]:
    """A record's flags column checked (records written before it existed have none)."""
    if found is None:
        return [None] * rows
    if not isinstance(found, list) or len(found) != rows:
        raise LogRecordError("flags of a different length")
    for row in found:
        if row is not None and not (
            isinstance(row, list)
            and all(
                isinstance(f, dict) and f.keys() == {"feature", "code"}
                and all(isinstance(v, str) for v in f.values())
                for f in row
            )
        ):  # fmt: skip
            raise LogRecordError(f"not a list of flags: {row!r}"[:200])
    return found


def version_table(rows: VersionRows) -> pa.Table:
    """One version's rows as an Arrow table in the Parquet object's schema."""
    columns: dict[str, pa.Array] = {
        "request_id": pa.array(rows.request_id, pa.string()),
        "time": pa.array(rows.time, pa.timestamp("us", tz="UTC")),
        "variant": pa.array(rows.variant, pa.string()),
        "prediction": _loose(rows.prediction),
        "score": pa.array(rows.score, pa.float64()),
        "latency_ms": pa.array(rows.latency_ms, pa.float64()),
        "features": _loose(rows.features),
        "flags": pa.array(rows.flags, FLAGS),
    }
    return pa.table(columns)


def _loose(values: Sequence[Any]) -> pa.Array:
    """Values as Arrow infers them; JSON text when they disagree on a type (mixed labels)."""
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([json_bytes(v).decode() for v in values], pa.string())


def parquet_bytes(table: pa.Table) -> bytes:
    """A table as one Parquet object (zstd, statistics for predicate pushdown)."""
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd", write_statistics=True)
    return sink.getvalue()


def object_key(rows: VersionRows, partition: int, first: int, last: int) -> str:
    """The object of one version's rows from offsets ``first..last`` of ``partition``: the same
    key for the same range, so compacting a range again overwrites, never duplicates."""
    day = min(rows.time).date().isoformat()
    return (
        f"{PREFIX}/model={rows.model}/version={rows.version}/date={day}/"
        f"p{partition}-{first:012d}-{last:012d}.parquet"
    )
