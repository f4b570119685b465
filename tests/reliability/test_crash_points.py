"""Scenario 6: crashes forced between commit and publish (outbox) and effect and offset (inbox).

The real runtime (EventProcessor, UnitOfWork, OutboxRelay, KafkaPublisher) runs against the
session's broker and PostgreSQL. A crash is an exception no ``except Exception`` catches,
raised at the runtime's fault points; after it the consumer "restarts" from the broker's
committed offsets, the relay from the outbox table — exactly what a new process would see.

Stage A: N DataArrived → effect + DataValidated in the outbox, crashing before the commit
(``inbox.before_commit``) and after it but before the offset commit (``consumer.before_ack``).
Stage B: the relay publishes the outbox, crashing before the send (``outbox.before_publish``)
and after the acknowledged send but before marking the rows (``outbox.after_publish``).
Stage C: a downstream consumer applies the DataValidated events, duplicates included.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.structs import OffsetAndMetadata
from sqlalchemy import func, insert, select

from driftline.runtime import faults
from driftline.runtime.consumer import EventProcessor, Outcome, Subscription
from driftline.runtime.deadletter import RawRecord
from driftline.runtime.migrations import migrate
from driftline.runtime.service import ServiceDefinition, ServiceRuntime
from driftline.runtime.settings import OutboxSettings, RetrySettings
from driftline.runtime.tables import outbox
from driftline.runtime.uow import UnitOfWork
from driftline_contracts import topics
from driftline_contracts.codec import encode
from driftline_contracts.envelope import new_envelope
from driftline_contracts.events.data import DataArrived, DataValidated
from tests.integration.kafka_helpers import produce_raw, settings_from
from tests.integration.probe import PROFILE, arrival, effects
from tests.reliability.crashes import FaultPlan, InjectedCrash
from tests.reliability.figures import Figures
from tests.signing import standing_in_for

EVENTS = 60
CRASHES_PER_POINT = 50  # x 4 points = 200 injected crashes
MIGRATIONS = Path(__file__).parents[1] / "integration" / "probe_migrations"


@dataclass
class Tally:
    """What one consumer saw."""

    deliveries: int = 0
    handled: int = 0
    duplicates: int = 0
    crashes: int = 0
    acked: set[str] = field(default_factory=set)


async def _record_effect(event: DataArrived | DataValidated, uow: UnitOfWork) -> None:
    cause = uow.cause
    assert cause is not None
    await uow.session.execute(
        insert(effects).values(
            event_id=cause.id, dataset=event.dataset.name, ce_type=cause.type,
            source=cause.source, actor=cause.actor, correlation_id=cause.correlationid,
            subject=cause.subject,
        )
    )  # fmt: skip


async def on_data_arrived(event: DataArrived, uow: UnitOfWork) -> DataValidated:
    """Effect, then the event it causes (through the outbox)."""
    await _record_effect(event, uow)
    accepted = event.dataset.model_copy(update={"version": 1})
    return DataValidated(dataset=accepted, profile=PROFILE, models=[], checks_run=0)


async def on_data_validated(event: DataValidated, uow: UnitOfWork) -> None:
    """A downstream effect of the relayed event."""
    await _record_effect(event, uow)


@pytest.fixture
async def crash_service(local_stack) -> AsyncIterator[ServiceRuntime]:
    """A runtime with both consumers, migrated, producer connected, nothing else started."""
    name = "rel6_" + uuid.uuid4().hex[:8]
    definition = ServiceDefinition(
        name=name,
        subscriptions=lambda _: [
            Subscription(DataArrived, on_data_arrived),
            Subscription(DataValidated, on_data_validated),
        ],
        migrations=MIGRATIONS,
    )
    # It stands in for validation (its DataValidated is only believed signed by validation).
    settings = standing_in_for(local_stack, "validation", settings_from(local_stack.env()))
    settings = settings.model_copy(
        update={
            "retry": RetrySettings(max_attempts=3, initial_backoff_s=0.01, max_backoff_s=0.1),
            # One row per batch: every row passes both outbox crash points on its own.
            "outbox": OutboxSettings(batch_size=1, audit_topic_copy=False),
        }
    )
    runtime = ServiceRuntime(definition, settings)
    await migrate(runtime.engine, runtime.schema, MIGRATIONS)
    await runtime.publisher.start()
    yield runtime
    faults.hook = None
    await runtime.publisher.stop()
    await runtime.engine.dispose()


def _event_id(record: ConsumerRecord) -> str:
    return next((v.decode() for k, v in record.headers or () if k == "ce_id"), "")


async def consume_with_crashes(
    bootstrap: str,
    topic: str,
    processor: EventProcessor,
    ours: Callable[[ConsumerRecord], bool],
    expected: int,
    *,
    idle_s: float = 2.0,
    timeout_s: float = 120,
) -> Tally:
    """Consume ``topic`` as the runtime does (process, then commit the offset) until
    ``expected`` of our events are committed and no more of ours arrive for ``idle_s``.

    After a crash, every partition resumes from its committed offset, as a restarted
    member of the consumer group would. (tansu's end offsets lag behind its log, so the
    end is found by idling, not by ``end_offsets``.)
    """
    tally = Tally()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=f"rel6-{uuid.uuid4().hex[:8]}",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        await consumer.topics()
        parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        last_ours = time.monotonic()
        async with asyncio.timeout(timeout_s):
            while len(tally.acked) < expected or time.monotonic() - last_ours < idle_s:
                batches = await consumer.getmany(timeout_ms=300, max_records=20)
                try:
                    for tp, records in batches.items():
                        for record in records:
                            if ours(record):
                                last_ours = time.monotonic()
                                await _deliver(processor, record, tally)
                            await consumer.commit({tp: OffsetAndMetadata(record.offset + 1, "")})
                            if ours(record):
                                tally.acked.add(_event_id(record))
                except InjectedCrash:
                    tally.crashes += 1
                    for tp in parts:
                        committed = await consumer.committed(tp)
                        if committed is None:
                            await consumer.seek_to_beginning(tp)
                        else:
                            consumer.seek(tp, committed)
    finally:
        await consumer.stop()
    return tally


async def _deliver(processor: EventProcessor, record: ConsumerRecord, tally: Tally) -> None:
    tally.deliveries += 1
    outcome = await processor.process(RawRecord.from_consumer_record(record))
    if outcome is Outcome.HANDLED:
        tally.handled += 1
    elif outcome is Outcome.DUPLICATE:
        tally.duplicates += 1
    else:
        raise AssertionError(f"a good event was dead-lettered at offset {record.offset}")
    faults.point("consumer.before_ack")  # the same point as in driftline.runtime.broker


async def _effects(runtime: ServiceRuntime, ce_type: str) -> tuple[int, int]:
    async with runtime.units() as uow:
        rows, distinct = (
            await uow.session.execute(
                select(func.count(), func.count(effects.c.event_id.distinct())).where(
                    effects.c.ce_type == ce_type
                )
            )
        ).one()
    return int(rows), int(distinct)


async def test_crashes_at_every_commit_point_lose_nothing_and_apply_once(
    crash_service: ServiceRuntime, local_stack, figures: Figures
) -> None:
    runtime = crash_service
    bootstrap = local_stack.env()["DRIFTLINE_KAFKA__BOOTSTRAP_SERVERS"]
    prefix = f"emit-{runtime.name}-"
    ours = lambda r: (r.key or b"").startswith(prefix.encode())  # noqa: E731
    arrived, validated = runtime.processors

    # Stage A: arrivals, crashing around the inbox commit and the offset commit.
    sent = [arrival(f"{prefix}{i:03d}", i) for i in range(EVENTS)]
    records = [
        encode(e, new_envelope(e, source="pipeline/rel6", actor="pipeline:rel6")) for e in sent
    ]
    await produce_raw(
        bootstrap, topics.DATA_ARRIVED, [(r.key, r.value, list(r.headers)) for r in records]
    )
    # The inbox point is only reached by a first (non-duplicate) delivery, so with p = 0.5 the
    # 60 arrivals offered about 60 chances for 50 crashes and CI once ran out at 44. At p = 0.8
    # an arrival is expected to crash there 4 times before it passes: the budget always fills.
    inbox_plan = FaultPlan(
        {"inbox.before_commit": CRASHES_PER_POINT, "consumer.before_ack": CRASHES_PER_POINT},
        p=0.8,
    )
    faults.hook = inbox_plan
    stage_a = await consume_with_crashes(bootstrap, topics.DATA_ARRIVED, arrived, ours, EVENTS)
    faults.hook = None
    rows_a, distinct_a = await _effects(runtime, DataArrived.ce_type)

    # Stage B: the relay publishes the outbox, crashing before and after the send.
    relay_plan = FaultPlan(
        {"outbox.before_publish": CRASHES_PER_POINT, "outbox.after_publish": CRASHES_PER_POINT}
    )
    faults.hook = relay_plan
    relay_crashes = 0
    while await runtime.relay.backlog():
        try:
            await runtime.relay.publish_pending()
        except InjectedCrash:
            relay_crashes += 1
    faults.hook = None
    async with runtime.units() as uow:
        outbox_rows = await uow.session.scalar(select(func.count()).select_from(outbox))

    # Stage C: a downstream consumer applies what the relay published, duplicates included.
    stage_c = await consume_with_crashes(bootstrap, topics.DATA_VALIDATED, validated, ours, EVENTS)
    rows_c, distinct_c = await _effects(runtime, DataValidated.ce_type)
    published = stage_c.deliveries

    crashes = inbox_plan.crashes + relay_plan.crashes
    figures.record(
        "6 crash points (outbox + inbox)",
        **{
            "events in": EVENTS,
            "effects": distinct_a + distinct_c,
            "lost": (EVENTS - distinct_a) + (outbox_rows - distinct_c),
            "duplicates applied": (rows_a - distinct_a) + (rows_c - distinct_c),
            "redeliveries": stage_a.deliveries - EVENTS,
            "injected crashes": sum(crashes.values()),
            **{f"crashes {k}": v for k, v in sorted(crashes.items())},
            "outbox rows": outbox_rows,
            "published (distinct)": distinct_c,
            "duplicates delivered": stage_a.duplicates + stage_c.duplicates,
        },
    )
    assert inbox_plan.exhausted, crashes
    assert relay_plan.exhausted, crashes
    assert relay_crashes == sum(relay_plan.crashes.values())
    assert sum(crashes.values()) == 4 * CRASHES_PER_POINT
    # Inbox: every arrival applied exactly once, although many were delivered again.
    assert (rows_a, distinct_a) == (EVENTS, EVENTS)
    assert stage_a.deliveries > EVENTS
    assert stage_a.duplicates > 0
    assert stage_a.handled == EVENTS
    # Outbox: one row per handled arrival, each published, some more than once.
    assert outbox_rows == EVENTS
    assert published == outbox_rows + relay_plan.crashes["outbox.after_publish"]
    assert stage_c.duplicates == published - EVENTS > 0
    # Downstream: the duplicates were delivered but none was applied.
    assert (rows_c, distinct_c) == (EVENTS, EVENTS)
