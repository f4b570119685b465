"""The Kafka prediction log's formats: a request's record, regrouped by version into Parquet
objects that consumers read back as the same rows, and filter without reading them whole."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from driftline.deployment.models.predictor import Predicted
from driftline.deployment.prediction_log import compaction
from driftline.deployment.prediction_log.columnar import (
    VersionRows,
    encode_record,
    feature_columns,
    group_records,
    object_key,
    parquet_bytes,
    version_table,
)
from driftline.deployment.serving.served_rows import ServedRows
from driftline.runtime.prediction_batches import parquet_rows
from driftline.runtime.storage.local import LocalArtifactStore

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


def test_a_record_carries_features_as_one_array_per_name() -> None:
    doc = orjson.loads(encode_record(served(2, errors=["boom", None])) or b"")
    assert doc["features"] == {"age": [31], "plan": ["gold"]}


def test_records_written_with_row_objects_are_still_read() -> None:
    """Records on the topic from before feature columns hold one object per row."""
    doc = orjson.loads(encode_record(served(2)) or b"")
    doc["features"] = [{"age": 30, "plan": "gold"}, {"age": 31}]
    (rows,), skipped = group_records([orjson.dumps(doc), encode_record(served(1, start=7))])
    assert skipped == 0
    read = parquet_rows(parquet_bytes(version_table(rows)))
    assert [r.features for r in read] == [
        {"age": 30, "plan": "gold"}, {"age": 31, "plan": None}, {"age": 30, "plan": "gold"},
    ]  # fmt: skip


def test_versions_of_one_request_keep_their_own_rows_features() -> None:
    features = [{"age": 30 + i, "plan": f"p{i}"} for i in range(4)]
    groups, _ = group_records([encode_record(served(4, versions=[2, 3, 2, 3], features=features))])
    by_version = {g.version: g.features for g in groups}
    assert by_version == {
        2: {"age": [30, 32], "plan": ["p0", "p2"]}, 3: {"age": [31, 33], "plan": ["p1", "p3"]},
    }  # fmt: skip


def test_a_feature_only_some_records_have_is_null_in_the_others_rows() -> None:
    first = encode_record(served(1, features=[{"age": 30}]))
    second = encode_record(served(2, start=1, features=[{"plan": "gold"}, {"plan": "free"}]))
    (rows,), _ = group_records([first, second])
    assert rows.features == {"age": [30, None, None], "plan": [None, "gold", "free"]}


@pytest.mark.parametrize(
    "rows",
    [
        [{"a": 1, "b": 0.5}, {"a": 2.5, "b": 1}],  # int and float: double
        [{"a": 1, "b": "x"}, {"a": 2}],  # a missing name: null
        [{"b": 1}, {"a": 2, "b": 3}],  # field order: as first seen
        [{"a": None}, {"a": None}],  # all null: the null type
        [{"a": True, "b": False}, {"a": None, "b": True}],
        [{}, {}],  # a model without features
        [{"a": 2**63 - 1}, {"a": -(2**63)}],
        [{"a": 1, "b": 2}, {"a": 3, "c": 4}],  # as many names, not the same ones
    ],
)
def test_feature_columns_become_the_struct_arrow_infers_from_the_rows(
    rows: list[dict[str, object]],
) -> None:
    (logged,), _ = group_records([encode_record(served(len(rows), features=rows))])
    struct = version_table(logged).column("features").combine_chunks()
    assert struct.type == pa.array(rows).type
    assert struct.to_pylist() == pa.array(rows).to_pylist()


def test_an_integer_beyond_64_bits_reads_back_as_the_float_the_model_saw() -> None:
    """Bodies keep integers of any size; the record's JSON reader (orjson) reads one as a float,
    as the model's float matrix held it, so the range compacts like any other."""
    rows = [{"age": 2**70, "plan": "gold"}, {"age": 3, "plan": "free"}]
    (logged,), skipped = group_records([encode_record(served(2, features=rows))])
    table = version_table(logged)
    assert (skipped, str(table.schema.field("features").type.field("age").type)) == (0, "double")
    ages = [r.features["age"] for r in parquet_rows(parquet_bytes(table))]
    assert ages == [pytest.approx(2.0**70, rel=1e-9), 3.0]


def test_a_column_arrow_cannot_hold_is_kept_as_json_text() -> None:
    """An integer beyond 64 bits in rows built in process: OverflowError from Arrow, which the
    text fallback did not catch (the object was never written)."""
    rows = [{"age": 2**70, "plan": "gold"}, {"age": 3, "plan": "free"}]
    logged = VersionRows(
        model="churn", version=2, request_id=["a", "b"], time=[T0, T0],
        variant=["champion"] * 2, prediction=["yes", 2**70], score=[0.5, None],
        latency_ms=[1.0, 1.0], features=feature_columns(rows), flags=[None, None],
    )  # fmt: skip
    table = version_table(logged)
    assert str(table.schema.field("features").type) == "string"
    assert str(table.schema.field("prediction").type) == "string"
    assert [r.features for r in parquet_rows(parquet_bytes(table))] == rows


@pytest.mark.parametrize(
    "features",
    [
        {"age": [1]},  # a column shorter than the rows
        {"age": 1},  # a column that is not a list
        [{"age": 1}, 7],  # a row that is not an object
        [{"age": 1}],  # fewer rows than the record's
        "age",
    ],
)
def test_damaged_features_skip_the_record(features: object) -> None:
    doc = orjson.loads(encode_record(served(2)) or b"")
    doc["features"] = features
    assert group_records([orjson.dumps(doc)]) == ([], 1)


async def test_objects_are_built_off_the_event_loop(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A range of 20,000 rows takes tens of ms of CPU to build: never on the serving loop."""
    loop_thread, built_on = threading.get_ident(), []
    real = compaction.parquet_objects

    def watched(values: Sequence[bytes | None]) -> Any:
        built_on.append(threading.get_ident())
        return real(values)

    monkeypatch.setattr(compaction, "parquet_objects", watched)
    store = LocalArtifactStore(tmp_path)
    events, skipped = await compaction.compact(store, 0, [5, 6], [encode_record(served(2)), None])
    assert (len(events), skipped, events[0].count) == (1, 1, 2)
    assert built_on
    assert built_on[0] != loop_thread
    key = "prediction-log/model=churn/version=2/date=2026-03-01/p0-000000000005-000000000006"
    assert events[0].batch.uri.endswith(f"{key}.parquet")
