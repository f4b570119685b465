"""The FastStream subscriber glue on TestKafkaBroker: headers in, typed event to the handler."""

from __future__ import annotations

from typing import Any

from faststream.kafka import TestKafkaBroker

from driftline.runtime.broker import attach, build_broker, group_id
from driftline.runtime.settings import KafkaSettings
from driftline_contracts.codec import encode
from driftline_contracts.envelope import new_envelope
from driftline_contracts.events.data import DataArrived
from tests.unit.runtime.test_event_processor import FakeSender, FakeUnits, _event, _processor


async def test_subscriber_passes_the_typed_event_and_envelope_to_the_handler() -> None:
    units, sender, seen = FakeUnits(), FakeSender(), []

    async def on_data_arrived(event: DataArrived, uow: Any) -> None:
        seen.append((event, uow.cause))

    processor, _ = _processor(on_data_arrived, units, sender)
    broker = build_broker(KafkaSettings(), "test", graceful_timeout_s=1)
    attach(broker, processor, service="test")
    event = _event("churn")
    envelope = new_envelope(event, source="pipeline/nightly", actor="pipeline:nightly")
    record = encode(event, envelope)
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(
            record.value,
            record.topic,
            key=record.key,
            headers={k: v.decode() for k, v in record.headers},
        )
        await test_broker.publish(
            b"{oops",
            record.topic,
            key=record.key,
            headers={k: v.decode() for k, v in record.headers},
        )
    ((got, cause),) = seen
    assert got == event
    assert cause.id == envelope.id
    assert cause.actor == "pipeline:nightly"
    ((dlq_topic, body, _),) = sender.sent
    assert (dlq_topic, body) == ("driftline.data-arrived.dlq", b"{oops")


def test_consumer_group_is_shared_by_replicas_of_one_service() -> None:
    units, sender = FakeUnits(), FakeSender()

    async def on_data_arrived(event: DataArrived, uow: Any) -> None:
        return None

    processor, _ = _processor(on_data_arrived, units, sender)
    assert group_id("test", processor) == "driftline.test.on_data_arrived"
