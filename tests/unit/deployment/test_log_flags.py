"""Serving flags travel with the logged rows on every path to monitoring: the in-memory batch
lines, the rows read back from PostgreSQL, the Kafka record and its Parquet object."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from driftline.deployment.models.predictor import Predicted
from driftline.deployment.prediction_log.columnar import (
    encode_record,
    group_records,
    parquet_bytes,
    version_table,
)
from driftline.deployment.prediction_log.events import batch_event, served_lines
from driftline.deployment.prediction_log.insert import append_document
from driftline.deployment.prediction_log.rows import LoggedRow
from driftline.deployment.prediction_log.sender import send_stale_batches
from driftline.deployment.serving.served_rows import ServedRows
from driftline.runtime.prediction_batches import parquet_rows
from driftline.runtime.storage.local import LocalArtifactStore
from driftline_contracts.events.monitoring import RowFlag
from driftline_contracts.values import ModelRef
from tests.unit.deployment.fakes import FakeLoggedPredictions, Outbox

T0 = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
HAIL = {"feature": "weather", "code": "unseen_category", "msg": "unseen category 'hail' …"}
NULL = {"feature": "wind", "code": "null", "msg": "null for 'wind' …"}
WEATHER, WIND = (
    RowFlag(feature="weather", code="unseen_category"),
    RowFlag(feature="wind", code="null"),
)
LOGGED = [None, [WEATHER], None, [WEATHER, WIND]]


def served(errors: list[str | None] | None = None) -> ServedRows:
    """Four rows: the second flagged for its weather, the fourth for weather and wind."""
    n = 4
    return ServedRows(
        model="m", canary_id=None, created_at=T0, request_ids=[f"r{i}" for i in range(n)],
        features=[{"weather": "sun", "wind": 1.0}, {"weather": "hail", "wind": 2.0},
                  {"weather": "rain", "wind": 3.0}, {"weather": "hail", "wind": None}],
        versions=[1] * n, variants=["champion"] * n,
        predicted=Predicted([10.0] * n, [None] * n, [None] * n, errors or [None] * n),
        latencies=[1.0] * n, flags=[[], [HAIL], [], [HAIL, NULL]],
    )  # fmt: skip


def test_the_log_keeps_feature_and_code_and_none_for_unflagged_rows() -> None:
    assert served().logged_flags() == [
        None,
        [{"feature": "weather", "code": "unseen_category"}],
        None,
        [{"feature": "weather", "code": "unseen_category"}, {"feature": "wind", "code": "null"}],
    ]
    unflagged = ServedRows(**{**vars(served()), "flags": None})
    assert unflagged.logged_flags() == [None] * 4


async def test_batch_lines_sent_from_memory_carry_the_flags(tmp_path: Path) -> None:
    rows = served()
    lines = [line for _, line in served_lines(rows, [orjson.dumps(f) for f in rows.features])]
    assert b"flags" not in lines[0]  # an unflagged row's line is as before
    store = LocalArtifactStore(tmp_path)
    event = await batch_event(store, ModelRef(name="m", version=1), "b-1", lines, (T0, T0))
    assert event.rows is not None
    assert [r.flags for r in event.rows] == LOGGED


def test_the_postgres_insert_document_has_one_flags_entry_per_row() -> None:
    rows = served(errors=[None, None, "boom", None])
    document = orjson.loads(append_document([rows], [[b"{}"] * 4]))
    assert len(document["flags"]) == len(document["request_id"]) == 4
    assert document["flags"][1] == [{"feature": "weather", "code": "unseen_category"}]
    assert document["flags"][0] is None


async def test_rows_read_back_from_postgres_are_sent_with_their_flags(tmp_path: Path) -> None:
    logged = [
        LoggedRow(
            id=i,
            request_id=f"r{i}",
            model="m",
            version=1,
            variant="champion",
            features={"weather": "hail"},
            prediction=1.0,
            score=None,
            latency_ms=1.0,
            error=None,
            created_at=T0,
            flags=flags,
        )
        for i, flags in enumerate([None, [{"feature": "weather", "code": "unseen_category"}]])
    ]
    log = FakeLoggedPredictions(logged)
    log.registered = {"batch-a": ("m", 1, T0)}
    log.batch_of = {0: "batch-a", 1: "batch-a"}
    outbox = Outbox()
    assert await send_stale_batches(log, LocalArtifactStore(tmp_path), outbox, datetime.now(UTC))
    [event] = outbox.events
    assert event.rows is not None
    assert [r.flags for r in event.rows] == LOGGED[:2]


def test_the_kafka_record_and_its_parquet_object_carry_the_flags() -> None:
    (rows,), skipped = group_records([encode_record(served(errors=[None, None, "boom", None]))])
    read = parquet_rows(parquet_bytes(version_table(rows)))
    assert skipped == 0
    assert [(r.request_id, r.flags) for r in read] == [
        ("r0", None), ("r1", LOGGED[1]), ("r3", LOGGED[3])
    ]  # fmt: skip


def test_records_without_flags_read_as_unflagged() -> None:
    record = encode_record(ServedRows(**{**vars(served()), "flags": None}))
    assert record is not None
    assert b"flags" not in record  # no column when no row has one
    (rows,), _ = group_records([record])
    assert [r.flags for r in parquet_rows(parquet_bytes(version_table(rows)))] == [None] * 4


@pytest.mark.parametrize(
    "flags",
    [[None], "x", [None, None, None, None, None], [None, [{"feature": 1, "code": "null"}], None,
     None], [None, [{"feature": "w"}], None, None], [None, ["null"], None, None]],
)  # fmt: skip
def test_a_record_with_damaged_flags_is_skipped_not_fatal(flags: object) -> None:
    document = orjson.loads(encode_record(served()) or b"")
    damaged = orjson.dumps({**document, "flags": flags})
    groups, skipped = group_records([damaged, encode_record(served())])
    assert skipped == 1
    assert len(groups[0]) == 4  # the good record is still compacted
