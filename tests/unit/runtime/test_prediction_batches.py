"""PredictionsLogged batches read the same from JSON lines, a JSON array and Parquet."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pandas as pd
import pytest

from driftline.runtime.prediction_batches import json_rows, parquet_rows

ROWS = [
    {
        "request_id": f"r{i}",
        "time": datetime(2026, 12, 1, 12, 0, i, tzinfo=UTC).isoformat(),
        "variant": "champion",
        "features": {"x": float(i), "y": i * 2.0},
        "prediction": i % 2,
        "latency_ms": 1.5,
    }
    for i in range(3)
]


def _parquet() -> bytes:
    flat = [{k: v for k, v in r.items() if k != "features"} | r["features"] for r in ROWS]
    buffer = io.BytesIO()
    pd.DataFrame(flat).to_parquet(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("read", "data"),
    [
        (json_rows, "\n".join(json.dumps(r) for r in ROWS).encode()),
        (json_rows, json.dumps(ROWS).encode()),
        (parquet_rows, _parquet()),
    ],
    ids=["json-lines", "json-array", "parquet"],
)
def test_every_format_gives_the_same_rows(read, data: bytes) -> None:  # type: ignore[no-untyped-def]
    rows = read(data)
    assert [r.request_id for r in rows] == ["r0", "r1", "r2"]
    assert [r.features for r in rows] == [r["features"] for r in ROWS]
    assert [r.prediction for r in rows] == [0, 1, 0]
