"""Compacting an offset range of the Kafka prediction log: one Parquet object and one event per
model version, the same on every retry of the range; when a partition is due; where rows go."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path

import pytest
from aiokafka.errors import NodeNotReadyError

from driftline.deployment.errors import PredictionNotLoggedError
from driftline.deployment.prediction_log.columnar import encode_record
from driftline.deployment.prediction_log.compaction import PartitionBuffer, compact
from driftline.deployment.prediction_log.kafka_sink import KafkaLogSink, log_served
from driftline.deployment.prediction_log.writer import PredictionLogWriter
from driftline.deployment.serving.served_rows import ServedRows
from driftline.runtime.errors import is_transient
from driftline.runtime.prediction_batches import prediction_rows
from driftline.runtime.storage.local import LocalArtifactStore
from tests.unit.deployment.test_prediction_log_columnar import served


async def test_a_range_becomes_one_object_and_event_per_version(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    values = [encode_record(served(2, versions=[2, 3])), encode_record(served(3, start=2))]
    events, skipped = await compact(store, 1, [40, 41], values)
    assert skipped == 0
    by_version = {e.model.version: e for e in events}
    assert sorted(by_version) == [2, 3]
    assert (by_version[2].count, by_version[3].count) == (4, 1)
    assert by_version[2].log_offsets == "1:40-41"
    assert by_version[2].batch is not None
    assert by_version[2].batch.uri.endswith(".parquet")
    rows = await prediction_rows(by_version[2], store, max_bytes=10_000_000)
    assert [r.request_id for r in rows] == ["r0", "r2", "r3", "r4"]


async def test_compacting_a_range_again_gives_the_same_objects_and_batch_ids(
    tmp_path: Path,
) -> None:
    store = LocalArtifactStore(tmp_path)
    values = [encode_record(served(5))]
    first, _ = await compact(store, 0, [7], values)
    again, _ = await compact(store, 0, [7], values)
    assert [(e.batch_id, e.batch) for e in first] == [(e.batch_id, e.batch) for e in again]
    objects = {e.batch.uri for e in [*first, *again] if e.batch is not None}
    assert len(objects) == 1


def test_a_partition_is_due_at_enough_rows_or_when_its_oldest_record_waited() -> None:
    buffer = PartitionBuffer(0)
    assert not buffer.due(100.0, max_rows=10, max_age_s=5)
    buffer.add(0, b"x", rows=4, now=100.0)
    assert not buffer.due(104.0, max_rows=10, max_age_s=5)
    assert buffer.due(105.0, max_rows=10, max_age_s=5)
    buffer.add(1, b"y", rows=6, now=104.0)
    assert buffer.due(101.0, max_rows=10, max_age_s=5)
    buffer.clear(start=2)
    assert (buffer.offsets, buffer.rows, buffer.start) == ([], 0, 2)
    assert not buffer.due(1000.0, max_rows=10, max_age_s=5)


def test_a_range_begun_before_a_crash_is_cut_exactly_where_it_was_begun() -> None:
    buffer = PartitionBuffer(0)
    buffer.clear(start=10, until=13)  # a compactor died after beginning 10..13
    for offset in (10, 11, 12):
        buffer.add(offset, b"x", rows=1000, now=100.0)
    # more rows than max_rows, older than max_age: still not due before 13 is read
    assert not buffer.due(1000.0, max_rows=10, max_age_s=5)
    buffer.add(13, b"y", rows=1, now=101.0)
    buffer.add(14, b"z", rows=1, now=101.0)  # read in the same poll, past the range
    assert buffer.due(101.0, max_rows=10**6, max_age_s=10**6)
    assert buffer.cut() == ([10, 11, 12, 13], [b"x", b"x", b"x", b"y"], 13)
    buffer.clear(start=14)
    assert buffer.until is None
    buffer.add(14, b"z", rows=1, now=200.0)
    assert buffer.cut() == ([14], [b"z"], 14)


def test_a_begun_range_whose_records_expired_is_due_with_nothing_to_compact() -> None:
    buffer = PartitionBuffer(0, start=10, until=13)
    buffer.add(20, b"x", rows=1, now=0.0)  # retention dropped 10..13: reading starts later
    assert buffer.due(0.0, max_rows=10, max_age_s=5)
    assert buffer.cut() == ([], [], 13)


class FakeWriter(PredictionLogWriter):
    def __init__(self) -> None:
        super().__init__()
        self.written: list[ServedRows] = []

    async def append(self, units: object, served: ServedRows) -> None:  # type: ignore[override]
        self.written.append(served)


class FakeSink(KafkaLogSink):
    def __init__(self, ready: bool) -> None:
        super().__init__()
        self._ready = ready
        self.sent: list[ServedRows] = []

    @property
    def ready(self) -> bool:
        return self._ready

    async def append(self, served: ServedRows) -> None:
        self.sent.append(served)


@pytest.mark.parametrize(
    ("ready", "canary", "streamed", "to_kafka"),
    [
        (True, None, False, True),
        (False, None, False, False),  # producer not connected yet: PostgreSQL, never lost
        (True, "c-1", False, False),  # the canary judge reads PostgreSQL rows
        (True, None, True, False),  # a redelivered stream request is found by id there
    ],
)
async def test_rows_go_to_kafka_only_when_nothing_reads_them_per_row(
    ready: bool, canary: str | None, streamed: bool, to_kafka: bool
) -> None:
    rows = served(1)
    rows = ServedRows(**{**rows.__dict__, "canary_id": canary})
    writer, sink = FakeWriter(), FakeSink(ready)
    await log_served(None, writer, sink, rows, streamed=streamed)  # type: ignore[arg-type]
    assert (sink.sent, writer.written) == (([rows], []) if to_kafka else ([], [rows]))


class AwayPublisher:
    """A connected producer whose broker is gone (aiokafka times the send out) or back."""

    def __init__(self, away: bool) -> None:
        self.away, self.sent, self.stopped = away, 0, False

    async def send(self, *_: object, **__: object) -> None:
        if self.away:  # what aiokafka raised in scenario 12 with the broker killed
            raise NodeNotReadyError("Attempt to send a request to node which is not ready")
        self.sent += 1

    async def stop(self) -> None:
        self.stopped = True


async def test_a_send_that_finds_the_broker_away_fails_and_later_rows_go_to_postgres() -> None:
    sink, writer = KafkaLogSink(), FakeWriter()
    sink._publisher = AwayPublisher(away=True)  # type: ignore[assignment]  # what run() connects
    first, second = served(2), served(3, start=2)
    with pytest.raises(PredictionNotLoggedError) as refused:  # unknown outcome: no answer
        await log_served(None, writer, sink, first, streamed=False)  # type: ignore[arg-type]
    assert isinstance(refused.value.__cause__, NodeNotReadyError)
    assert is_transient(refused.value)  # a streaming request is retried, not dead-lettered
    assert not sink.ready
    await log_served(None, writer, sink, second, streamed=False)  # type: ignore[arg-type]
    assert writer.written == [second]  # PostgreSQL only for what was not sent to Kafka


async def test_the_sink_reconnects_after_losing_the_broker() -> None:
    sink = KafkaLogSink()
    publishers = [AwayPublisher(away=True), AwayPublisher(away=False)]
    connects = iter(publishers)

    async def connect() -> AwayPublisher:
        return next(connects)

    task = asyncio.create_task(sink.keep_connected(connect))  # type: ignore[arg-type]
    try:
        await _until(lambda: sink.ready)
        with pytest.raises(NodeNotReadyError):
            await sink.append(served(1))
        await _until(lambda: publishers[0].stopped and sink.ready)
        await sink.append(served(1))  # the broker is back: Kafka again
        assert publishers[1].sent == 1
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert publishers[1].stopped


async def _until(check: Callable[[], bool]) -> None:
    """Let the sink's task run until ``check`` holds."""
    for _ in range(1000):
        if check():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("the sink never got there")


class DownWriter(FakeWriter):
    async def append(self, units: object, served: ServedRows) -> None:
        raise ConnectionRefusedError("PostgreSQL is away")


class BrokenWriter(FakeWriter):
    async def append(self, units: object, served: ServedRows) -> None:
        raise ValueError("a bug, not an outage")


async def test_postgresql_away_is_a_typed_transient_refusal_and_a_bug_stays_itself() -> None:
    sink = FakeSink(ready=False)
    with pytest.raises(PredictionNotLoggedError, match="prediction log unavailable"):
        await log_served(None, DownWriter(), sink, served(1), streamed=False)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="a bug"):
        await log_served(None, BrokenWriter(), sink, served(1), streamed=False)  # type: ignore[arg-type]
