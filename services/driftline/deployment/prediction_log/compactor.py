"""The compaction job: the Kafka prediction log into Parquet objects and PredictionsLogged.

Partitions are shared among deployment replicas by a consumer group; on assignment each is
read from the progress recorded in PostgreSQL (``offsets``), not from Kafka's committed
offsets. A range is first recorded as begun (its last offset), then its objects are written,
then one transaction emits its events through the outbox and advances the progress, refused
when the progress moved (another replica, or an earlier attempt): a crash anywhere repeats
exactly the begun range, overwriting the same objects, and announces it once. Acknowledged rows
wait in Kafka (its retention is the bound) until then.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition

from driftline.deployment.prediction_log.compaction import PartitionBuffer, compact
from driftline.deployment.prediction_log.offsets import PostgresLogOffsets
from driftline.deployment.settings import DeploymentSection
from driftline.runtime.kafka_config import aiokafka_kwargs
from driftline.runtime.logging import get_logger
from driftline.runtime.settings import KafkaSettings
from driftline.runtime.storage import ArtifactStore
from driftline.runtime.uow import UnitOfWorkFactory
from driftline_contracts.events.monitoring import PredictionsLogged
from driftline_contracts.topics import PREDICTION_LOG

log = get_logger(__name__)
GROUP = "driftline-deployment-prediction-log"


class _Resume(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka ships no types
    """Reads each assigned partition from its recorded progress; forgets revoked ones."""

    def __init__(
        self, consumer: AIOKafkaConsumer, units: UnitOfWorkFactory, buffers: dict[int, Any]
    ) -> None:
        self._consumer, self._units, self._buffers = consumer, units, buffers

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        for tp in revoked:
            self._buffers.pop(tp.partition, None)

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        for tp in assigned:
            self._buffers[tp.partition] = PartitionBuffer(tp.partition)
        await resume(self._consumer, self._units, [self._buffers[tp.partition] for tp in assigned])


async def resume(
    consumer: AIOKafkaConsumer, units: UnitOfWorkFactory, buffers: list[PartitionBuffer]
) -> None:
    """Read each buffer's partition again from its recorded progress, up to a begun range."""
    async with units() as uow:
        stored = await PostgresLogOffsets(uow.session).positions()
    for buffer in buffers:
        position = stored.get(buffer.partition)
        if position is None:
            buffer.clear(None)
        else:
            buffer.clear(position.next_offset, position.pending_last)
        await seek(consumer, TopicPartition(PREDICTION_LOG, buffer.partition), buffer.start)


async def seek(consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int | None) -> None:
    """Read ``tp`` from ``offset`` (None: from the oldest record Kafka still holds)."""
    if offset is None:
        await consumer.seek_to_beginning(tp)
    else:
        consumer.seek(tp, offset)


async def compact_forever(
    units: UnitOfWorkFactory,
    store: ArtifactStore,
    kafka: KafkaSettings,
    section: DeploymentSection,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Read the log and compact each partition when it is due, until cancelled."""
    consumer = AIOKafkaConsumer(
        group_id=GROUP, client_id="driftline-deployment-compactor", enable_auto_commit=False,
        auto_offset_reset="earliest", **aiokafka_kwargs(kafka),
    )  # fmt: skip
    buffers: dict[int, PartitionBuffer] = {}
    try:  # a consumer whose start was cut off is closed as well
        await consumer.start()
        consumer.subscribe([PREDICTION_LOG], listener=_Resume(consumer, units, buffers))
        while True:
            polled = await consumer.getmany(timeout_ms=500, max_records=10_000)
            now = clock()
            for tp, records in polled.items():
                buffer = buffers.get(tp.partition)
                if buffer is None:
                    continue  # records of a partition no longer assigned here
                for r in records:
                    buffer.add(r.offset, r.value, _rows(r.headers), now)
            for buffer in list(buffers.values()):
                if buffer.due(now, section.log_compact_rows, section.log_compact_interval_s):
                    await flush(consumer, units, store, buffer)
    finally:
        await consumer.stop()


async def flush(
    consumer: AIOKafkaConsumer, units: UnitOfWorkFactory, store: ArtifactStore,
    buffer: PartitionBuffer,
) -> bool:  # fmt: skip
    """Compact the next range and announce it, once; False when another did."""
    partition, (offsets, values, last) = buffer.partition, buffer.cut()
    start = buffer.start if buffer.start is not None else offsets[0]
    async with units() as uow:
        begun = await PostgresLogOffsets(uow.session).begin(partition, start, last)
    advanced, events = False, list[PredictionsLogged]()
    if begun:
        events, skipped = await compact(store, partition, offsets, values) if offsets else ([], 0)
        async with units() as uow:
            advanced = await PostgresLogOffsets(uow.session).advance(partition, start, last)
            if advanced:
                for event in events:
                    await uow.emit(event)
        if skipped:
            log.warning("prediction log records skipped", partition=partition, skipped=skipped)
    if advanced and len(offsets) == len(buffer.offsets):
        log.info("prediction log compacted", partition=partition, first=start, last=last,
                 objects=len(events))  # fmt: skip
        buffer.clear(last + 1)
    else:  # someone else compacted or began a range, or records past the range were read
        await resume(consumer, units, [buffer])
    return advanced


def _rows(headers: Any) -> int:
    """Rows a record carries (its ``rows`` header; 1 when absent)."""
    for key, value in headers or ():
        if key == "rows":
            return int(value)
    return 1
