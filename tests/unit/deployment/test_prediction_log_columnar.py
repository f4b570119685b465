"""The Kafka prediction log's formats: a request's record, regrouped by version into Parquet
objects that consumers read back as the same rows, and filter without reading them whole."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from driftline.deployment.models.predictor import Predicted
from driftline.deployment.prediction_log.columnar import (
    encode_record,
    group_records,
    object_key,
    parquet_bytes,
    version_table,
)
from driftline.deployment.serving.served_rows import ServedRows
from driftline.runtime.prediction_batches import parquet_rows

T0 = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)


def served(
    n: int, *, versions: list[int] | None = None, errors: list[str | None] | None = None,
    features: list[dict[str, object]] | None = None, start: int = 0,
) -> ServedRows:  # fmt: skip
    return ServedRows(
        model="churn", canary_id=None, created_at=T0,
        request_ids=[f"r{start + i}" for i in range(n)],
        features=features or [{"age": 30 + i, "plan": "gold"} for i in range(n)],
        versions=versions or [2] * n, variants=["champion"] * n,
        predicted=Predicted(
            ["yes"] * n, [{"no": 0.3, "yes": 0.7}] * n, [0.7] * n, errors or [None] * n
        ),
        latencies=[1.5] * n,
    )  # fmt: skip


def test_parquet_object_reads_back_as_the_served_rows() -> None:
    (rows,), skipped = group_records([encode_record(served(3))])
    read = parquet_rows(parquet_bytes(version_table(rows)))
    assert skipped == 0
    assert [(r.request_id, r.features, r.prediction, r.score, r.variant) for r in read] == [
        (f"r{i}", {"age": 30 + i, "plan": "gold"}, "yes", 0.7, "champion") for i in range(3)
    ]
    assert {r.time for r in read} == {T0}


def test_failed_rows_are_not_logged_and_a_request_without_answers_has_no_record() -> None:
    record = encode_record(served(3, errors=[None, "boom", None]))
    (rows,), _ = group_records([record])
    assert rows.request_id == ["r0", "r2"]
    assert encode_record(served(2, errors=["boom", "boom"])) is None


def test_records_are_regrouped_by_model_version_in_log_order() -> None:
    records = [encode_record(served(2, versions=[2, 3])), encode_record(served(1, start=5))]
    groups, _ = group_records(records)
    assert {(g.version, tuple(g.request_id)) for g in groups} == {(2, ("r0", "r5")), (3, ("r1",))}


def test_features_that_disagree_on_a_type_are_kept_as_json_text() -> None:
    mixed = [{"plan": "gold"}, {"plan": 3}]
    (rows,), _ = group_records([encode_record(served(2, features=mixed))])
    table = version_table(rows)
    assert str(table.schema.field("features").type) == "string"
    assert [r.features for r in parquet_rows(parquet_bytes(table))] == mixed


@pytest.mark.parametrize(
    "value", [None, b"", b"not json", b"{}", b'{"model": "m", "request_id": ["a"]}', b"[1, 2]"]
)
def test_foreign_or_damaged_records_are_skipped_not_fatal(value: bytes | None) -> None:
    groups, skipped = group_records([value, encode_record(served(1))])
    assert skipped == 1
    assert [g.request_id for g in groups] == [["r0"]]


def test_columns_of_different_lengths_are_refused() -> None:
    doc = orjson.loads(encode_record(served(2)) or b"")
    doc["score"] = [0.5]
    assert group_records([orjson.dumps(doc)]) == ([], 1)


def test_object_keys_are_hive_partitions_fixed_by_the_offset_range() -> None:
    (rows,), _ = group_records([encode_record(served(1))])
    key = object_key(rows, 4, 100, 180)
    assert key == (
        "prediction-log/model=churn/version=2/date=2026-03-01/p4-000000000100-000000000180.parquet"
    )
    assert object_key(rows, 4, 100, 180) == key


def test_a_version_is_read_from_the_log_by_partition_filter(tmp_path: Path) -> None:
    groups, _ = group_records([encode_record(served(2, versions=[2, 3]))])
    for i, rows in enumerate(groups):
        path = tmp_path / object_key(rows, 0, i, i)
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(version_table(rows), path)
    dataset = ds.dataset(tmp_path / "prediction-log", format="parquet", partitioning="hive")
    table = dataset.to_table(filter=ds.field("version") == 3, columns=["request_id", "score"])
    assert table.to_pydict() == {"request_id": ["r1"], "score": [0.7]}
