"""Reading the Kafka prediction log back as one frame: a model's served rows between two
instants, from its Parquet objects (``prediction-log/model=M/version=V/date=D/…``).

An object's ``date`` is the date of its oldest row, and a compacted range may run past
midnight, so the objects of the dates the span touches and of ``lookback_days`` before it are
read (one day by default: a range holds at most ``LOG_COMPACT_INTERVAL_S`` of rows unless the
compactor was down longer); each object's rows are kept when served at or after ``start`` and
before ``end``; the ``features`` struct becomes one column per feature (JSON-text features,
written when a range disagreed on a type, are parsed).
"""

from __future__ import annotations

import io
import json
import re
from datetime import date, datetime, timedelta

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from driftline.runtime.storage import ArtifactStore
from driftline_contracts.values import SLUG_PATTERN

PREFIX = "prediction-log"
COLUMNS = ("request_id", "time", "version", "variant", "prediction", "score", "latency_ms")


def days(start: datetime, end: datetime) -> list[date]:
    """The UTC dates a half-open span ``[start, end)`` touches."""
    first, last = start.date(), (end - timedelta(microseconds=1)).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _wanted(key: str, model: str, dates: set[str], version: int | None) -> int | None:
    """The object's version when ``key`` is a log object of ``model`` on one of ``dates``."""
    parts = dict(p.split("=", 1) for p in key.split("/")[1:-1] if "=" in p)
    if parts.get("model") != model or parts.get("date") not in dates:
        return None
    found = int(parts.get("version", "0"))
    return found if version is None or found == version else None


def _rows(data: bytes, version: int, start: datetime, end: datetime) -> pd.DataFrame:
    table = pq.read_table(io.BytesIO(data))
    served = pc.field("time")
    table = table.filter((served >= pa.scalar(start)) & (served < pa.scalar(end)))
    frame = table.drop_columns(["features", "flags"]).to_pandas()
    frame.insert(2, "version", version)
    features = table["features"]
    if pa.types.is_struct(features.type):
        wide = pa.Table.from_arrays(features.combine_chunks().flatten(),
                                    names=[f.name for f in features.type]).to_pandas()  # fmt: skip
    else:  # JSON text per row
        wide = pd.DataFrame.from_records([json.loads(v) for v in features.to_pylist()])
    return pd.concat([frame, wide.add_prefix("features.")], axis=1)


async def read_predictions(
    store: ArtifactStore,
    model: str,
    start: datetime,
    end: datetime,
    *,
    version: int | None = None,
    lookback_days: int = 1,
) -> pd.DataFrame:
    """Every logged row of ``model`` (of ``version``, else all) served in ``[start, end)``,
    oldest first: the log's columns, then one ``features.<name>`` column per feature."""
    if not re.fullmatch(SLUG_PATTERN, model):
        raise ValueError(f"{model!r} is not a model name (a slug: {SLUG_PATTERN})")
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware (UTC)")
    if end <= start:
        raise ValueError("end must be after start")
    dates = {d.isoformat() for d in days(start - timedelta(days=lookback_days), end)}
    pieces = []
    for key in await store.keys(f"{PREFIX}/model={model}"):
        found = _wanted(key, model, dates, version)
        if found is not None and key.endswith(".parquet"):
            pieces.append(_rows(await store.get_bytes(store.uri_for(key)), found, start, end))
    if not pieces:
        return pd.DataFrame(columns=list(COLUMNS))
    frame = pd.concat(pieces, ignore_index=True)
    return frame.sort_values(["time", "request_id"], kind="stable", ignore_index=True)
