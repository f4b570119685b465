"""Reading topics from the beginning and producing raw records, for journey tests."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from driftline.runtime.settings import RuntimeSettings


@contextmanager
def environment(env: Mapping[str, str]) -> Iterator[None]:
    """Temporarily set environment variables."""
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def settings_from(env: Mapping[str, str]) -> RuntimeSettings:
    """Runtime settings as a service started with ``env`` would read them."""
    with environment(env):
        return RuntimeSettings()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    await consumer.topics()  # loads cluster metadata
    return [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or {0})]


async def read_topic(
    bootstrap: str,
    topic: str,
    match: Callable[[ConsumerRecord], bool],
    *,
    count: int = 1,
    timeout_s: float = 30,
) -> list[ConsumerRecord]:
    """Read ``topic`` from the start until ``count`` records match (no consumer group)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    found: list[ConsumerRecord] = []
    try:
        partitions = await _partitions(consumer, topic)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        async with asyncio.timeout(timeout_s):
            while len(found) < count:
                batches = await consumer.getmany(timeout_ms=500)
                found.extend(r for records in batches.values() for r in records if match(r))
    finally:
        await consumer.stop()
    return found


async def produce_raw(
    bootstrap: str,
    topic: str,
    records: list[tuple[bytes | None, bytes, list[tuple[str, bytes]]]],
    *,
    together: bool = False,
) -> None:
    """Produce raw (key, value, headers) records and wait for acknowledgements; ``together``
    queues them all before waiting (one produce request, a backlog for the consumer)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        if together:
            sent = [await producer.send(topic, v, key=k, headers=h) for k, v, h in records]
            await asyncio.gather(*sent)
            return
        for key, value, headers in records:
            await producer.send_and_wait(topic, value, key=key, headers=headers)
    finally:
        await producer.stop()


def header(record: ConsumerRecord, name: str) -> str | None:
    """A header's value as text (first occurrence)."""
    for key, value in record.headers or ():
        if key == name:
            return value.decode(errors="replace")
    return None


async def read_all(
    bootstrap: str, topic: str, match: Callable[[ConsumerRecord], bool], *, timeout_s: float = 30
) -> list[ConsumerRecord]:
    """Every record of ``topic`` up to its current end that matches."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    found: list[ConsumerRecord] = []
    try:
        partitions = await _partitions(consumer, topic)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        async with asyncio.timeout(timeout_s):
            while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
                batches = await consumer.getmany(timeout_ms=500)
                found.extend(r for records in batches.values() for r in records if match(r))
    finally:
        await consumer.stop()
    return found


async def end_offsets(bootstrap: str, topic: str) -> dict[TopicPartition, int]:
    """The next offset of every partition of ``topic``."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        ends: dict[TopicPartition, int] = await consumer.end_offsets(
            await _partitions(consumer, topic)
        )
        return ends
    finally:
        await consumer.stop()


async def until_published(
    bootstrap: str, topic: str, before: dict[TopicPartition, int]
) -> dict[TopicPartition, int]:
    """Wait until ``topic`` holds a record beyond ``before``; its end offsets then."""
    while True:
        ends = await end_offsets(bootstrap, topic)
        if ends != before:
            return ends
        await asyncio.sleep(0.2)


async def committed_offsets(
    bootstrap: str, group: str, partitions: list[TopicPartition]
) -> dict[TopicPartition, int]:
    """What consumer group ``group`` has committed on ``partitions`` (-1: nothing yet); read
    without joining the group (manual assignment), so its members are not rebalanced."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(partitions)
        return {tp: await consumer.committed(tp) or -1 for tp in partitions}
    finally:
        await consumer.stop()


async def until_consumed(
    bootstrap: str, groups: list[str], ends: dict[TopicPartition, int]
) -> None:
    """Wait until every group has committed each partition up to ``ends`` (so its handler
    has finished with every record before them: services commit after the effect)."""
    for group in groups:
        while True:
            committed = await committed_offsets(bootstrap, group, list(ends))
            if all(committed.get(tp, -1) >= end for tp, end in ends.items() if end):
                break
            await asyncio.sleep(0.5)
