"""Group commit of the prediction log: requests arriving together share one write, each
waits for its rows to be committed, and a failed write fails every request in it."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from driftline.deployment.adapters.log_writer import PredictionLogWriter, WriterStoppedError
from driftline.deployment.adapters.prediction_log import append_columns, append_sql


class Database:
    """Records the request ids of each write; fails while ``broken``, waits while ``paused``."""

    def __init__(self) -> None:
        self.writes: list[list[str]] = []
        self.broken = False
        self.open = asyncio.Event()
        self.open.set()

    async def write(self, request_ids: list[str]) -> None:
        await self.open.wait()
        if self.broken:
            raise ConnectionError("database down")
        self.writes.append(list(request_ids))


class Raw:
    """The asyncpg connection the job writes on."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def execute(self, statement: str, *arrays: Any) -> None:
        assert statement == append_sql(named=False)
        await self.db.write(arrays[0])


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


class Session:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def execute(self, statement: Any, columns: dict[str, list[Any]]) -> None:
        await self.db.write(columns["request_id"])


class Units:
    """A unit-of-work factory whose session writes to the same fake database."""

    def __init__(self, db: Database) -> None:
        self.session = Session(db)

    @contextlib.asynccontextmanager
    async def __call__(self) -> AsyncIterator[Any]:
        yield self


def rows(tag: str, n: int = 1) -> list[dict[str, Any]]:
    return [{"request_id": f"{tag}-{i}", "features": {"a": 1.0}} for i in range(n)]


def ids(*batches: list[dict[str, Any]]) -> list[str]:
    return [r["request_id"] for batch in batches for r in batch]


async def started(db: Database) -> tuple[PredictionLogWriter, Units, asyncio.Task[None]]:
    writer, units = PredictionLogWriter(), Units(db)
    job = asyncio.create_task(writer.run(Engine(db)))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    return writer, units, job


def test_columns_travel_as_json_text_where_the_column_is_jsonb() -> None:
    columns = append_columns([{"request_id": "r", "features": {"a": 1.5}, "prediction": 1}])
    assert [json.loads(f) for f in columns["features"]] == [{"a": 1.5}]
    assert columns["prediction"] == ["1"]
    assert columns["error"] == [None]


async def test_without_the_job_each_request_writes_alone() -> None:
    db = Database()
    writer = PredictionLogWriter()
    await writer.append(Units(db), rows("a", 2))  # type: ignore[arg-type]
    assert db.writes == [ids(rows("a", 2))]


async def test_requests_arriving_during_a_write_share_the_next_one() -> None:
    db = Database()
    writer, units, job = await started(db)
    db.open.clear()  # the first write is in progress while three more requests arrive
    first = asyncio.create_task(writer.append(units, rows("a")))  # type: ignore[arg-type]
    await asyncio.sleep(0.01)
    others = [
        asyncio.create_task(writer.append(units, rows(t)))  # type: ignore[arg-type]
        for t in "bcd"
    ]
    await asyncio.sleep(0.01)
    assert not first.done(), "an answer waits for its rows to be committed"
    db.open.set()
    await asyncio.gather(first, *others)
    assert db.writes == [ids(rows("a")), ids(rows("b"), rows("c"), rows("d"))]
    job.cancel()


async def test_a_failed_write_fails_every_request_in_it_and_the_job_goes_on() -> None:
    db = Database()
    writer, units, job = await started(db)
    db.broken = True
    with pytest.raises(ConnectionError):
        await writer.append(units, rows("a"))  # type: ignore[arg-type]
    db.broken = False
    await writer.append(units, rows("b"))  # type: ignore[arg-type]
    await asyncio.sleep(0.6)  # reconnected
    await writer.append(units, rows("c"))  # type: ignore[arg-type]
    assert db.writes == [ids(rows("b")), ids(rows("c"))]
    job.cancel()


async def test_stopping_fails_requests_still_waiting() -> None:
    db = Database()
    writer, units, job = await started(db)
    db.open.clear()
    waiting = asyncio.create_task(writer.append(units, rows("a")))  # type: ignore[arg-type]
    await asyncio.sleep(0.01)
    job.cancel()
    with pytest.raises(WriterStoppedError):
        await waiting
