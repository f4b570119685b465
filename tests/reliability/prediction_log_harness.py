"""Scenario 12's bench: an in-memory Kafka prediction log, the real compactor's resume and flush
driven over it, and crash points in the object store and the progress transaction.

A "life" is one compactor process: a fresh consumer and fresh buffers, resumed from the
progress in PostgreSQL exactly as ``compactor._Resume`` does on assignment; an injected crash
ends it and the next life starts over. ``account`` then reads what a user would: the outbox's
``PredictionsLogged`` events, the Parquet objects they name, and every object in the bucket.
"""

from __future__ import annotations

import random
import zlib
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
from aiokafka import TopicPartition
from sqlalchemy import select

from driftline.deployment.prediction_log.compaction import PartitionBuffer
from driftline.deployment.prediction_log.compactor import _Resume, _rows, flush
from driftline.runtime.prediction_batches import prediction_rows
from driftline.runtime.storage import ArtifactStore, StoredObject
from driftline.runtime.tables import outbox
from driftline.runtime.uow import UnitOfWorkFactory
from driftline_contracts.events.monitoring import PredictionsLogged
from driftline_contracts.topics import PREDICTION_LOG
from tests.reliability.crashes import FaultPlan


@dataclass(frozen=True)
class Record:
    """One record of the log, as aiokafka hands it to the compactor."""

    offset: int
    value: bytes
    headers: tuple[tuple[str, bytes], ...]


@dataclass
class MemoryLog:
    """Acknowledged records per partition of ``driftline.prediction-log``."""

    partitions: int
    records: dict[int, list[Record]] = field(default_factory=lambda: defaultdict(list))

    def append(self, key: bytes, value: bytes, rows: int) -> None:
        """Acknowledge one record (its partition from the key, as Kafka's partitioner)."""
        log = self.records[zlib.crc32(key) % self.partitions]
        log.append(Record(len(log), value, (("rows", str(rows).encode()),)))

    def end(self, partition: int) -> int:
        return len(self.records[partition])


class MemoryConsumer:
    """What the compactor asks of its consumer: seek, and records from its positions."""

    def __init__(self, log: MemoryLog) -> None:
        self._log, self.position = log, dict.fromkeys(range(log.partitions), 0)

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.position[tp.partition] = offset

    async def seek_to_beginning(self, tp: TopicPartition) -> None:
        self.position[tp.partition] = 0

    def getmany(self, max_records: int) -> dict[int, list[Record]]:
        polled = {}
        for partition, at in self.position.items():
            polled[partition] = self._log.records[partition][at : at + max_records]
            self.position[partition] = at + len(polled[partition])
        return polled


class CrashingStore:
    """An object store that can die before a begun range's first object is written, and
    between its objects (one version's object written, the next not)."""

    def __init__(self, store: ArtifactStore, plan: FaultPlan) -> None:
        self._store, self._plan = store, plan
        self.in_range = 0
        self.written: dict[str, set[str]] = defaultdict(set)
        """Every sha256 each key was written with."""
        self.puts: Counter[str] = Counter()

    async def put_bytes(self, key: str, data: bytes, *, content_type: str) -> StoredObject:
        self._plan("objects.between_versions" if self.in_range else "range.begun")
        stored = await self._store.put_bytes(key, data, content_type=content_type)
        self.written[key].add(stored.sha256)
        self.puts[key] += 1
        self.in_range += 1
        return stored


def crashing_units(units: UnitOfWorkFactory, store: CrashingStore, plan: FaultPlan) -> Any:
    """The flush's units of work; the one after a range's objects were written (the one that
    announces it) crashes before, inside and after its commit."""

    @asynccontextmanager
    async def unit() -> AsyncIterator[Any]:
        announcing, store.in_range = store.in_range > 0, 0
        if announcing:
            plan("objects.before_progress")
        async with units() as uow:
            yield uow
            if announcing:
                plan("progress.before_commit")  # the real unit of work rolls back
        if announcing:
            plan("progress.after_commit")  # announced and advanced; the buffer not yet cleared

    return unit


@dataclass
class Life:
    """One compactor process over the log until a crash or until it is all compacted."""

    log: MemoryLog
    units: UnitOfWorkFactory
    store: CrashingStore
    plan: FaultPlan
    rng: random.Random
    max_rows: int = 25
    max_age: float = 3.0
    clock: float = 0.0

    async def run(self, produce: Callable[[], bool]) -> None:
        """Poll, buffer, flush when due (as ``compact_forever``); return when nothing is left."""
        consumer, buffers = MemoryConsumer(self.log), dict[int, PartitionBuffer]()
        self.store.in_range = 0  # a new process: whatever the last one was writing is gone
        tps = [TopicPartition(PREDICTION_LOG, p) for p in range(self.log.partitions)]
        await _Resume(consumer, self.units, buffers).on_partitions_assigned(tps)
        flushing = crashing_units(self.units, self.store, self.plan)
        while True:
            producing = produce()
            polled = consumer.getmany(max_records=self.rng.randint(1, 6))
            self.clock += 1.0
            for partition, records in polled.items():
                for r in records:
                    buffers[partition].add(r.offset, r.value, _rows(r.headers), self.clock)
            for buffer in buffers.values():
                if buffer.due(self.clock, self.max_rows, self.max_age):
                    await flush(consumer, flushing, self.store, buffer)  # type: ignore[arg-type]
            if not producing and _drained(consumer, buffers, self.log):
                return


def _drained(consumer: MemoryConsumer, buffers: dict[int, PartitionBuffer], log: MemoryLog) -> bool:
    return all(
        consumer.position[p] == log.end(p) and not buffers[p].offsets for p in range(log.partitions)
    )


@dataclass
class Account:
    """What was acknowledged against what was announced and what lies in the bucket."""

    acked: Counter[str]
    announced: Counter[str]
    in_bucket: Counter[str]
    events: int
    batch_ids: Counter[tuple[str, str]]
    """Announcements per (model, batch id): batch ids are unique per model."""
    objects: int
    rewritten_keys: int
    keys_with_two_contents: int

    @property
    def lost(self) -> int:
        return sum(1 for rid in self.acked if rid not in self.announced)

    @property
    def duplicates(self) -> int:
        """Rows announced twice, or lying in more than one object of the bucket."""
        return sum(n - 1 for n in self.announced.values()) + sum(
            n - 1 for n in self.in_bucket.values()
        )


async def account(
    log: MemoryLog, units: UnitOfWorkFactory, store: CrashingStore, base: ArtifactStore,
    root: Path,
) -> Account:  # fmt: skip
    """Count every acknowledged row in the events and in the bucket's objects."""
    acked: Counter[str] = Counter()
    for records in log.records.values():
        for r in records:
            acked.update(_request_ids(r.value))
    async with units() as uow:
        payloads: list[bytes] = list(
            await uow.session.scalars(
                select(outbox.c.payload).where(outbox.c.event_type == PredictionsLogged.ce_type)
            )
        )
        events = [PredictionsLogged.model_validate_json(p) for p in payloads]
    announced: Counter[str] = Counter()
    for event in events:
        announced.update(r.request_id for r in await prediction_rows(event, base, 10**8))
    in_bucket: Counter[str] = Counter()
    objects = sorted((root / "prediction-log").rglob("*.parquet"))
    for path in objects:
        in_bucket.update(pq.read_table(path, columns=["request_id"]).column(0).to_pylist())
    batch_ids = Counter((e.model.name, e.batch_id) for e in events)
    return Account(
        acked, announced, in_bucket, len(events), batch_ids, len(objects),
        sum(1 for n in store.puts.values() if n > 1),
        sum(1 for shas in store.written.values() if len(shas) > 1),
    )  # fmt: skip


def _request_ids(value: bytes) -> list[str]:
    ids: list[str] = orjson.loads(value)["request_id"]
    return ids
