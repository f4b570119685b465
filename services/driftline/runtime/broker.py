"""FastStream Kafka broker factory and the glue from a subscription to a subscriber."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.message import StreamMessage

from driftline.runtime import faults
from driftline.runtime.consumer import EventProcessor
from driftline.runtime.consumer_lag import note_lag
from driftline.runtime.deadletter import RawRecord
from driftline.runtime.kafka_config import build_security
from driftline.runtime.metrics import Metrics
from driftline.runtime.settings import KafkaSettings


class GroupsJoinedAtOnceBroker(KafkaBroker):
    """A ``KafkaBroker`` whose subscribers start together, not one after another.

    Starting a subscriber waits until its consumer group is joined and partitions assigned:
    about 2 s each on the local stack's tansu, so a service with six subscriptions spent
    12 s of its start-up joining. Each subscription has a group of its own, so the joins
    overlap.
    """

    async def start(self) -> None:
        """Connect, start every subscriber at once, then the publishers."""
        await self.connect()
        try:
            async with asyncio.TaskGroup() as joins:  # one failure cancels the others
                for subscriber in self.subscribers:
                    joins.create_task(subscriber.start())
        except ExceptionGroup as failed:  # the start-up step logs and retries the first
            raise failed.exceptions[0] from failed
        for publisher in self.publishers:
            await publisher.start()
        self.running = True


def build_broker(kafka: KafkaSettings, service: str, *, graceful_timeout_s: float) -> KafkaBroker:
    """A broker whose consumers commit manually, after the effect is durable."""
    return GroupsJoinedAtOnceBroker(
        kafka.bootstrap_servers,
        security=build_security(kafka),
        client_id=f"driftline-{service}",
        acks="all",
        enable_idempotence=kafka.idempotent_producer,
        retry_backoff_ms=kafka.retry_backoff_ms,
        graceful_timeout=graceful_timeout_s,
        description=f"Driftline {service} service",
        # A plain logger, rendered as JSON by the root handler (FastStream's default prints
        # coloured text to stdout). Its per-message "Received"/"Processed" lines are DEBUG:
        # the consumer logs each handled event itself.
        logger=logging.getLogger("driftline.broker"),
        log_level=logging.DEBUG,
    )


def group_id(service: str, processor: EventProcessor) -> str:
    """Consumer group of one subscription: every replica of a service shares it."""
    return f"driftline.{processor.consumer}"


async def _keep_raw_body(message: StreamMessage[object]) -> object:
    # Decoding is the processor's job (typed errors, dead letters); FastStream must not
    # parse the JSON first and fail before we can dead-letter the record (a batch's body is
    # the list of its records' bytes).
    return message.body


def _utf8_headers(record: Any) -> Any:
    """A copy of ``record`` whose header values are all UTF-8 text."""
    safe = tuple((k, (v or b"").decode(errors="replace").encode()) for k, v in record.headers)
    return dataclasses.replace(record, headers=safe)


async def _parse_any_headers(
    raw: Any, original: Callable[[Any], Awaitable[StreamMessage[Any]]]
) -> StreamMessage[Any]:
    # FastStream's parser decodes every header as UTF-8 and raises on other bytes, before any
    # handler runs: the record would be skipped (and committed past) without a dead letter.
    # Then it parses a copy with UTF-8 headers; the processor gets the record as it came, and
    # its decoder dead-letters it with the reason.
    try:
        return await original(raw)
    except (UnicodeDecodeError, AttributeError):
        safe = tuple(map(_utf8_headers, raw)) if isinstance(raw, tuple) else _utf8_headers(raw)
        message = await original(safe)
        message.raw_message = raw
        return message


def attach(
    broker: KafkaBroker,
    processor: EventProcessor,
    *,
    service: str,
    kafka: KafkaSettings | None = None,
    metrics: Metrics | None = None,
) -> None:
    """Subscribe ``processor`` to its event's topic; ack only after the outcome is durable.

    A subscription with ``batch_size`` > 1 gets the records of one poll (up to that many) as
    a batch, handled in one transaction and acknowledged with one offset commit; otherwise
    records come one at a time. Given ``metrics``, each acknowledged record sets
    ``driftline_consumer_lag`` of its partition.
    """
    subscription = processor.subscription
    batched = subscription.batch_size > 1

    async def consume(message: KafkaMessage) -> None:
        await processor.process(RawRecord.from_consumer_record(message.raw_message))
        faults.point("consumer.before_ack")
        await message.ack()
        if metrics is not None:
            note_lag(metrics, service, message.consumer, [message.raw_message])

    async def consume_batch(message: KafkaMessage) -> None:
        records = message.raw_message
        await processor.process_batch([RawRecord.from_consumer_record(r) for r in records])
        faults.point("consumer.before_ack")
        await message.ack()
        if metrics is not None:
            note_lag(metrics, service, message.consumer, records)

    # FastStream sleeps batch_timeout_ms more after an empty poll: keep it short, or a record
    # arriving at an idle subscription waits up to twice the timeout.
    batching: dict[str, object] = (
        {"batch": True, "max_records": subscription.batch_size, "batch_timeout_ms": 100}
        if batched
        else {}
    )
    broker.subscriber(  # type: ignore[call-overload]  # batch keywords picked at run time
        subscription.source_topic,
        group_id=group_id(service, processor),
        ack_policy=AckPolicy.MANUAL,
        parser=_parse_any_headers,
        decoder=_keep_raw_body,
        **batching,
        auto_offset_reset="earliest",
        session_timeout_ms=(kafka or KafkaSettings()).session_timeout_ms,
        heartbeat_interval_ms=(kafka or KafkaSettings()).heartbeat_interval_ms,
        title=f"{processor.consumer}:{subscription.source_topic}",
        description=f"{subscription.name} handles "
        f"{getattr(subscription.event_type, 'ce_type', 'every catalogued event')}.",
    )(consume_batch if batched else consume)
