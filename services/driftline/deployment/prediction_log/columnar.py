"""The columnar prediction log's formats: a request's record on Kafka, the Parquet object.

A served request becomes one Kafka record: a JSON document of one array per column (built
with orjson from the request's columns, no object per row), its features one array per
feature name too (``{"age": [...], "plan": [...]}``; records written before held a list of
row objects, still read). Compaction groups the records of an offset range by model version
and writes one Parquet object per version, whose columns are ``PredictionRow``'s
(``request_id``, ``time``, ``variant``, ``prediction``, ``score``, ``latency_ms``) plus
``features``, a struct of the request's feature columns (a JSON text column when rows disagree
on a feature's type or a value does not fit Arrow, such as an integer beyond 64 bits; a
feature a row lacks is null there), and ``flags``, each row's ``RowFlag`` list (null for a row
without any; a record carries the column only when a row has one). Failed rows are not logged
here: a failed row has no prediction to monitor or label.

Feature columns, not row objects, because compaction was the Kafka log's largest cost in the
serving process: a 100-row, 30-feature record took 1.4 ms to regroup and convert as row
objects (orjson building 100 dicts, Arrow inferring a struct row by row).
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from operator import itemgetter
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from driftline.deployment.prediction_log.insert import json_bytes
from driftline.deployment.serving.served_rows import ServedRows

PARQUET = "application/vnd.apache.parquet"
PREFIX = "prediction-log"
"""Object keys: ``prediction-log/model=M/version=V/date=YYYY-MM-DD/p{partition}-{first}-{last}
.parquet`` (hive-style partitions: ``pyarrow.dataset`` and DuckDB filter on them)."""


FLAGS = pa.list_(pa.struct([("feature", pa.string()), ("code", pa.string())]))
"""The Parquet type of the ``flags`` column."""


class LogRecordError(ValueError):
    """A prediction-log record that is not one of ``encode_record``'s documents."""


FeatureColumns = dict[str, list[Any]]
"""Feature values by name, one list per feature, every list one value per row."""


def feature_columns(rows: Sequence[Mapping[str, Any]]) -> FeatureColumns:
    """Rows' features one list per name, names in first-seen order; a row without a name has
    None there. Rows with the same names (every validated request) are taken by ``itemgetter``
    in one pass, not value by value: as many names in all as rows times the first row's, and
    each of those in every row, is the same names in every row."""
    if not rows:
        return {}
    names = list(rows[0])
    if len(names) > 1 and sum(map(len, rows)) == len(names) * len(rows):
        try:
            by_row = list(map(itemgetter(*names), rows))
        except KeyError:
            pass
        else:
            return dict(zip(names, map(list, zip(*by_row, strict=True)), strict=True))
    names = list(dict.fromkeys(chain.from_iterable(rows)))
    return {name: [row.get(name) for row in rows] for name in names}


def encode_record(served: ServedRows) -> bytes | None:
    """The successful rows of one request as one record value; None when none succeeded."""
    ok = [i for i, error in enumerate(served.predicted.errors) if error is None]
    if not ok:
        return None
    p, flags = served.predicted, served.logged_flags()
    rows = served.features if len(ok) == len(served) else [served.features[i] for i in ok]
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
            "features": orjson.Fragment(json_bytes(feature_columns(rows))),
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
    features: FeatureColumns
    flags: list[list[dict[str, str]] | None]

    def __len__(self) -> int:
        return len(self.request_id)


_SAME_LENGTH = ("request_id", "variant", "prediction", "score", "latency_ms")
"""A record's columns of one value per row that ``_decode`` checks by length alone."""
_ROW_COLUMNS = (*_SAME_LENGTH, "flags")
"""A record's columns of one value per row, besides ``version`` and ``features``."""


def group_records(values: Iterable[bytes | None]) -> tuple[list[VersionRows], int]:
    """Records (in offset order) regrouped by model version, rows in log order; and how many
    records were skipped as not ``encode_record``'s (tombstones, foreign or damaged values)."""
    groups: dict[tuple[str, int], dict[str, Any]] = defaultdict(
        lambda: {name: [] for name in (*_ROW_COLUMNS, "time")} | {"features": {}}
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
            _append(groups[(doc["model"], versions[0])], doc, served_at, len(versions))
            continue
        rows_of: dict[int, list[int]] = defaultdict(list)
        for i, version in enumerate(versions):
            rows_of[version].append(i)
        for version, rows in rows_of.items():
            part: dict[str, Any] = {name: [doc[name][i] for i in rows] for name in _ROW_COLUMNS}
            part["features"] = {n: [col[i] for i in rows] for n, col in doc["features"].items()}
            _append(groups[(doc["model"], version)], part, served_at, len(rows))
    found = [VersionRows(model, version, **cols) for (model, version), cols in groups.items()]
    return found, skipped


def _append(group: dict[str, Any], part: Mapping[str, Any], served_at: datetime, n: int) -> None:
    """``n`` rows of one version after the group's; a feature only one side has is None on
    the other's rows."""
    before, features = len(group["request_id"]), group["features"]
    for name in _ROW_COLUMNS:
        group[name].extend(part[name])
    group["time"].extend([served_at] * n)
    for name, column in part["features"].items():
        if name in features:
            features[name].extend(column)
        else:
            features[name] = [None] * before + list(column)
    for name, column in features.items():
        if name not in part["features"]:
            column.extend([None] * n)


def _decode(value: bytes | None) -> dict[str, Any]:
    if value is None:
        raise LogRecordError("a tombstone")
    try:
        doc: dict[str, Any] = orjson.loads(value)
        rows = len(doc["request_id"])
        if not isinstance(doc["model"], str) or any(
            len(doc[name]) != rows for name in (*_SAME_LENGTH, "version")
        ):
            raise LogRecordError("columns of different lengths")
        doc["flags"] = _flags(doc.get("flags"), rows)
        doc["features"] = _features(doc["features"], rows)
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        raise LogRecordError(f"not a prediction-log record: {exc!r}") from exc
    return doc


def _features(found: Any, rows: int) -> FeatureColumns:
    """A record's features as columns: one list per name, or (records written before) one
    object per row."""
    if isinstance(found, dict):
        if any(not isinstance(column, list) or len(column) != rows for column in found.values()):
            raise LogRecordError("feature columns of a different length")
        return found
    if not isinstance(found, list) or len(found) != rows:
        raise LogRecordError("features of a different length")
    if not all(isinstance(row, dict) for row in found):
        raise LogRecordError("a row's features are not an object")
    return feature_columns(found)


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
        "features": _struct(rows.features, len(rows)),
        "flags": pa.array(rows.flags, FLAGS),
    }
    return pa.table(columns)


_UNFIT = (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError)
"""What Arrow raises for values that disagree on a type, or an integer beyond 64 bits."""


def _loose(values: Sequence[Any]) -> pa.Array:
    """Values as Arrow infers them; JSON text when they do not fit one type (mixed labels)."""
    try:
        return pa.array(values)
    except _UNFIT:
        return pa.array([json_bytes(v).decode() for v in values], pa.string())


def _struct(columns: FeatureColumns, count: int) -> pa.Array:
    """Feature columns as one struct column, each field's type inferred as Arrow infers it from
    row objects (the same types, the same field order); JSON text per row when a column does
    not fit one type."""
    if not columns:
        return pa.array([{}] * count, pa.struct([]))
    try:
        return pa.StructArray.from_arrays(list(map(pa.array, columns.values())), list(columns))
    except _UNFIT:
        by_row = zip(*columns.values(), strict=True)
        rows = [dict(zip(columns, values, strict=True)) for values in by_row]
        return pa.array([json_bytes(row).decode() for row in rows], pa.string())


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
