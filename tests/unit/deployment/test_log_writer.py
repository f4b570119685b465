"""Group commit of the prediction log: requests arriving together share one write, each
waits for its rows to be committed, a failed write fails every request in it, and committed
rows are kept, under the batch id they were written with, for sending from memory."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from prometheus_client import CollectorRegistry

from driftline.deployment.models.predictor import Predicted
from driftline.deployment.prediction_log.insert import append_document, append_sql, features_json
from driftline.deployment.prediction_log.unsent import UnsentRows
from driftline.deployment.prediction_log.write_metrics import write_metrics
from driftline.deployment.prediction_log.writer import PredictionLogWriter, WriterStoppedError
from driftline.deployment.serving.served_rows import ServedRows
from driftline_contracts.events.monitoring import PredictionRow


class Database:
    """Records each write's document; fails while ``broken``, waits while ``paused``, and
    inserts ``short`` fewer rows than it was given (request ids logged before)."""

    def __init__(self) -> None:
        self.writes: list[dict[str, Any]] = []
        self.broken = False
        self.short = 0
        self.open = asyncio.Event()
        self.open.set()

    async def write(self, document: bytes) -> str:
        await self.open.wait()
        if self.broken:
            raise ConnectionError("database down")
        found = orjson.loads(document)
        self.writes.append(found)
        return f"INSERT 0 {len(found['request_id']) - self.short}"

    def request_ids(self) -> list[list[str]]:
        return [w["request_id"] for w in self.writes]


class Raw:
    """The asyncpg connection the job writes on."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def execute(self, statement: str, document: bytes) -> str:
        assert statement == append_sql(named=False)
        return await self.db.write(document)


class Engine:
    """``engine.connect()`` → a connection whose raw driver connection is ``Raw``."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.driver_connection = Raw(db)

    @contextlib.asynccontextmanager
    async def connect(self) -> AsyncIterator[Any]:
        yield self

    async def get_raw_connection(self) -> Any:
        return self


class Result:
    rowcount = 0


class Session:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def execute(self, statement: Any, params: dict[str, bytes]) -> Result:
        await self.db.write(params["document"])
        return Result()


class Units:
    """A unit-of-work factory whose session writes to the same fake database."""

    def __init__(self, db: Database) -> None:
        self.session = Session(db)

    @contextlib.asynccontextmanager
    async def __call__(self) -> AsyncIterator[Any]:
        yield self


def served(tag: str, n: int = 1, errors: list[str | None] | None = None) -> ServedRows:
    errors = errors or [None] * n
    return ServedRows(
        model="m",
        canary_id=None,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        request_ids=[f"{tag}-{i}" for i in range(n)],
        features=[{"a": float(i), "b": "x"} for i in range(n)],
        versions=[1] * n,
        variants=["champion"] * n,
        predicted=Predicted(
            [None if e else i % 2 for i, e in enumerate(errors)],
            [None if e else {"0": 0.25, "1": 0.75} for e in errors],
            [None if e else 0.75 for e in errors],
            errors,
        ),
        latencies=[1.5] * n,
    )


def later() -> datetime:
    """A moment by which every batch opened now is due (read at use: the suite may run this
    module minutes after importing it)."""
    return datetime.now(UTC) + timedelta(minutes=1)


def ids(*requests: ServedRows) -> list[str]:
    return [r for s in requests for r in s.request_ids]


async def started(db: Database) -> tuple[PredictionLogWriter, Units, asyncio.Task[None]]:
    writer, units = PredictionLogWriter(UnsentRows(rows=100)), Units(db)
    job = asyncio.create_task(writer.run(Engine(db)))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    return writer, units, job


def test_the_document_holds_one_value_per_row_and_column() -> None:
    rows = served("r", 2, errors=[None, "ValueError: bad row"])
    document = orjson.loads(append_document([rows], [features_json(rows)], [["b-1", None]]))
    assert document["features"] == [{"a": 0.0, "b": "x"}, {"a": 1.0, "b": "x"}]
    assert document["prediction"] == [0, None]
    assert document["error"] == [None, "ValueError: bad row"]
    assert document["batch_id"] == ["b-1", None]
    assert document["created_at"] == ["2026-01-01T00:00:00+00:00"] * 2
    assert all(len(column) == 2 for name, column in document.items() if name != "batches")


async def test_without_the_job_each_request_writes_alone() -> None:
    db = Database()
    writer = PredictionLogWriter()
    await writer.append(Units(db), served("a", 2))  # type: ignore[arg-type]
    assert db.request_ids() == [ids(served("a", 2))]
    assert db.writes[0]["batch_id"] == [None, None], "sent later by the recovery pass"


async def test_requests_arriving_during_a_write_share_the_next_one() -> None:
    db = Database()
    writer, units, job = await started(db)
    db.open.clear()  # the first write is in progress while three more requests arrive
    first = asyncio.create_task(writer.append(units, served("a")))  # type: ignore[arg-type]
    await asyncio.sleep(0.01)
    others = [
        asyncio.create_task(writer.append(units, served(t)))  # type: ignore[arg-type]
        for t in "bcd"
    ]
    await asyncio.sleep(0.01)
    assert not first.done(), "an answer waits for its rows to be committed"
    db.open.set()
    await asyncio.gather(first, *others)
    assert db.request_ids() == [ids(served("a")), ids(served("b"), served("c"), served("d"))]
    job.cancel()


async def test_committed_rows_wait_in_their_batch_as_event_lines() -> None:
    db = Database()
    writer, units, job = await started(db)
    await writer.append(units, served("a", 3, errors=[None, "boom", None]))  # type: ignore[arg-type]
    (write,) = db.writes
    batch_id = write["batch_id"][0]
    assert write["batch_id"] == [batch_id, None, batch_id], "failed rows are never sent"
    assert [b[:3] for b in write["batches"]] == [[batch_id, "m", 1]], "registered with the rows"
    (batch,) = writer.unsent.ready(later())
    assert (batch.batch_id, batch.request_ids) == (batch_id, ["a-0", "a-2"])
    rows = [PredictionRow.model_validate_json(line) for line in batch.lines]
    assert [(r.request_id, r.features, r.prediction, r.score) for r in rows] == [
        ("a-0", {"a": 0.0, "b": "x"}, 0, 0.75),
        ("a-2", {"a": 2.0, "b": "x"}, 0, 0.75),
    ]
    job.cancel()


async def test_a_write_that_inserted_fewer_rows_leaves_its_batch_to_recovery() -> None:
    db = Database()
    writer, units, job = await started(db)
    db.short = 1  # one request id had been logged before
    await writer.append(units, served("a", 2))  # type: ignore[arg-type]
    (write,) = db.writes
    assert None not in write["batch_id"], "written by the job, under an open batch"
    assert writer.unsent.ready(later()) == []
    job.cancel()


async def test_a_failed_write_fails_every_request_in_it_and_the_job_goes_on() -> None:
    db = Database()
    writer, units, job = await started(db)
    db.broken = True
    with pytest.raises(ConnectionError):
        await writer.append(units, served("a"))  # type: ignore[arg-type]
    db.broken = False
    await writer.append(units, served("b"))  # type: ignore[arg-type]
    await asyncio.sleep(0.6)  # reconnected
    await writer.append(units, served("c"))  # type: ignore[arg-type]
    assert db.request_ids() == [ids(served("b")), ids(served("c"))]
    job.cancel()


async def test_each_committed_write_reports_how_long_it_took_and_its_requests() -> None:
    """On /metrics: a write held for 50 ms shows at least that long; three requests that
    arrived meanwhile share the next write; a failed write is not counted."""
    registry = CollectorRegistry()
    db = Database()
    writer = PredictionLogWriter(UnsentRows(rows=100), write_metrics(registry))
    units = Units(db)
    job = asyncio.create_task(writer.run(Engine(db)))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    db.open.clear()
    first = asyncio.create_task(writer.append(units, served("a")))  # type: ignore[arg-type]
    await asyncio.sleep(0.01)
    others = [asyncio.create_task(writer.append(units, served(t))) for t in "bcd"]  # type: ignore[arg-type]
    await asyncio.sleep(0.05)
    db.open.set()
    await asyncio.gather(first, *others)

    def value(name: str) -> float | None:
        return registry.get_sample_value(f"driftline_deployment_prediction_log_write_{name}")

    assert (value("requests_count"), value("requests_sum")) == (2, 4)
    assert value("seconds_count") == 2
    assert (value("seconds_sum") or 0) >= 0.05, "the first write waited for the database"
    db.broken = True
    with pytest.raises(ConnectionError):
        await writer.append(units, served("e"))  # type: ignore[arg-type]
    assert value("seconds_count") == 2
    job.cancel()


async def test_stopping_fails_requests_still_waiting() -> None:
    db = Database()
    writer, units, job = await started(db)
    db.open.clear()
    waiting = asyncio.create_task(writer.append(units, served("a")))  # type: ignore[arg-type]
    await asyncio.sleep(0.01)
    job.cancel()
    with pytest.raises(WriterStoppedError):
        await waiting
