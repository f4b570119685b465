"""A window's features read column-wise from the prediction log's objects are the very frame
the row-by-row read builds: same rows, order, columns, dtypes and values."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from driftline.deployment.models.predictor import Predicted
from driftline.deployment.prediction_log.columnar import encode_record
from driftline.deployment.prediction_log.compaction import compact
from driftline.deployment.serving.served_rows import ServedRows
from driftline.monitoring.log_rows import MissingLoggedRowsError, with_features
from driftline.monitoring.records import BufferedRow
from driftline.monitoring.window_frame import window_features
from driftline.runtime.prediction_batches import BatchTooLargeError
from driftline.runtime.storage.local import LocalArtifactStore
from driftline_contracts.values import ArtifactRef

T0 = datetime(2026, 3, 1, tzinfo=UTC)
LIMIT = 10**8


def _served(features: list[dict[str, Any]], tag: str) -> ServedRows:
    n = len(features)
    return ServedRows(
        model="churn", canary_id=None, created_at=T0, request_ids=[f"{tag}-{i}" for i in range(n)],
        features=features, versions=[1] * n, variants=["champion"] * n,
        predicted=Predicted([i % 2 for i in range(n)], [None] * n, [None] * n, [None] * n),
        latencies=[1.0] * n,
    )  # fmt: skip


async def _logged(
    store: LocalArtifactStore, features: list[dict[str, Any]], tag: str, partition: int
) -> list[BufferedRow]:
    """The rows of one log object, as monitoring buffers them (by reference)."""
    (event,), _ = await compact(store, partition, [0], [encode_record(_served(features, tag))])
    return [BufferedRow(i, 1, f"{tag}-{i}", T0, None, i % 2, event.batch)
            for i in range(len(features))]  # fmt: skip


async def _row_by_row(rows: list[BufferedRow], store: LocalArtifactStore) -> pd.DataFrame:
    filled = await with_features(rows, store, LIMIT)
    return pd.DataFrame.from_records([row.features for row in filled])


def _features(n: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = [
        {"age": rng.gauss(40, 10), "visits": rng.randint(0, 9), "plan": rng.choice("abc"),
         "trial": rng.random() < 0.5}
        for _ in range(n)
    ]  # fmt: skip
    del rows[1]["plan"], rows[2]["age"]  # a feature a request did not send: null in the struct
    return rows


async def test_rows_from_several_objects_in_any_order_give_the_row_by_row_frame(
    tmp_path: Path,
) -> None:
    store = LocalArtifactStore(tmp_path)
    rows = [
        *await _logged(store, _features(40, 1), "a", 0),
        *await _logged(store, _features(30, 2), "b", 1),
    ]
    random.Random(3).shuffle(rows)  # objects interleave in the window
    found = await window_features(rows, store, LIMIT)
    pd.testing.assert_frame_equal(found, await _row_by_row(rows, store))
    assert len(found) == 70
    assert found.isna().sum().to_dict() == {"age": 2, "visits": 0, "plan": 2, "trial": 0}


@pytest.mark.parametrize(
    "second",
    [
        [{"zip": "02139", "age": 3.0}],  # objects disagree on zip's type
        [{"zip": 1, "age": 3.0}, {"zip": "x", "age": 4.0}],  # JSON text in one object
        [{"zip": 7, "tags": [1, 2]}],  # a nested value
    ],
)
async def test_objects_the_columns_cannot_hold_fall_back_to_the_row_by_row_frame(
    tmp_path: Path, second: list[dict[str, Any]]
) -> None:
    store = LocalArtifactStore(tmp_path)
    rows = [
        *await _logged(store, [{"zip": 1, "age": 2.5}], "a", 0),
        *await _logged(store, second, "b", 1),
    ]
    found = await window_features(rows, store, LIMIT)
    pd.testing.assert_frame_equal(found, await _row_by_row(rows, store))
    assert len(found) == 1 + len(second)


async def test_inline_rows_with_log_rows_keep_the_window_order(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    logged = await _logged(store, _features(5, 4), "a", 0)
    inline = BufferedRow(99, 1, "inline", T0, {"age": 1.0, "visits": 2, "plan": "z"}, 0)
    rows = [logged[0], inline, *logged[1:]]
    found = await window_features(rows, store, LIMIT)
    pd.testing.assert_frame_equal(found, await _row_by_row(rows, store))
    assert found.loc[1, "plan"] == "z"


async def test_a_row_its_object_lacks_is_an_error_not_a_gap(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    rows = await _logged(store, _features(4, 5), "a", 0)
    ghost = BufferedRow(9, 1, "not-logged", T0, None, 0, rows[0].source)
    with pytest.raises(MissingLoggedRowsError, match=r"lacks 1 rows, e\.g\. not-logged"):
        await window_features([*rows, ghost], store, LIMIT)


async def test_an_object_over_the_limit_is_not_read(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    rows = await _logged(store, _features(4, 6), "a", 0)
    source = rows[0].source
    assert isinstance(source, ArtifactRef)
    with pytest.raises(BatchTooLargeError):
        await window_features(rows, store, source.size_bytes - 1)
