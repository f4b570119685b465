"""On the real broker, PostgreSQL and S3: a 5 MB record on ``driftline.data-arrived`` is
dead-lettered by reference (payload in S3, pointer on the DLQ) instead of skipped, and a
replayed event id with another payload is dead-lettered as ``conflicting_replay`` while the
same bytes again stay a silent duplicate."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaProducer

from driftline.runtime.storage import build_artifact_store
from driftline_contracts import topics
from driftline_contracts.codec import encode
from driftline_contracts.envelope import new_envelope
from tests.integration.kafka_helpers import header, produce_raw, read_topic, settings_from
from tests.integration.probe import Probe, arrival

pytestmark = pytest.mark.integration
MIB = 1 << 20


@pytest.fixture
async def probe(local_stack) -> AsyncIterator[Probe]:
    """A running probe service (real FastStream consumer) on the session stack."""
    probe = Probe(settings_from(local_stack.env()))
    await probe.runtime.start()
    yield probe
    await probe.runtime.stop()


async def produce_large(bootstrap: str, records: list[tuple[bytes, bytes, list]]) -> None:
    """Produce records past the client's default 1 MiB request limit, as an attacker can."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all",
                                max_request_size=16 * MIB)  # fmt: skip
    await producer.start()
    try:
        for key, value, headers in records:
            await producer.send_and_wait(topics.DATA_ARRIVED, value, key=key, headers=headers)
    finally:
        await producer.stop()


async def test_a_5_mb_record_is_dead_lettered_by_reference(probe: Probe, local_stack) -> None:
    bootstrap = local_stack.env()["DRIFTLINE_KAFKA__BOOTSTRAP_SERVERS"]
    key = f"huge-{probe.name}".encode()
    event = arrival(f"{key.decode()}-huge", 1)
    record = encode(event, new_envelope(event, source="pipeline/huge", actor="pipeline:huge"))
    huge = record.value + b" " * (5 * MIB)
    good = arrival(key.decode(), 2)
    behind = encode(good, new_envelope(good, source="pipeline/huge", actor="pipeline:huge"))
    await produce_large(bootstrap, [(key, huge, list(record.headers)),
                                    (key, behind.value, list(behind.headers))])  # fmt: skip
    await probe.wait_for(key.decode(), timeout_s=90)  # the record behind it was handled
    consumer = probe.runtime.processors[0].consumer

    def ours(r) -> bool:  # type: ignore[no-untyped-def]
        return r.key == key and header(r, "dlq-consumer") == consumer

    (dead,) = await read_topic(bootstrap, topics.dlq(topics.DATA_ARRIVED), ours, timeout_s=60)
    pointer = json.loads(dead.value)
    assert pointer["sha256"] == hashlib.sha256(huge).hexdigest()
    assert header(dead, "dlq-payload-uri") == pointer["uri"]
    assert header(dead, "dlq-reason")
    assert header(dead, "dlq-original-topic") == topics.DATA_ARRIVED
    store = build_artifact_store(settings_from(local_stack.env()).storage)
    assert await store.get_bytes(pointer["uri"]) == huge
    assert probe.runtime.metrics.registry.get_sample_value(
        "driftline_dead_letters_by_reference_total",
        {"service": probe.name, "topic": topics.DATA_ARRIVED},
    ) == 1


async def test_a_conflicting_replay_is_dead_lettered_and_a_true_duplicate_is_not(
    probe: Probe, local_stack
) -> None:
    bootstrap = local_stack.env()["DRIFTLINE_KAFKA__BOOTSTRAP_SERVERS"]
    key = f"replay-{probe.name}".encode()
    event = arrival(key.decode(), 3)
    record = encode(event, new_envelope(event, source="pipeline/r", actor="pipeline:r"))
    forged = record.value.replace(f"{3:064x}".encode(), f"{4:064x}".encode())
    assert forged != record.value
    last = arrival(f"{key.decode()}-last", 5)
    after = encode(last, new_envelope(last, source="pipeline/r", actor="pipeline:r"))
    await produce_raw(
        bootstrap,
        topics.DATA_ARRIVED,
        [
            (key, record.value, list(record.headers)),
            (key, record.value, list(record.headers)),  # a redelivery: same bytes
            (key, forged, list(record.headers)),  # the same event id, another payload
            (key, after.value, list(after.headers)),
        ],
    )
    await probe.wait_for(f"{key.decode()}-last", timeout_s=60)
    effects = await probe.effects_for(key.decode())
    assert len(effects) == 1
    consumer = probe.runtime.processors[0].consumer

    def ours(r) -> bool:  # type: ignore[no-untyped-def]
        return r.key == key and header(r, "dlq-consumer") == consumer

    (dead,) = await read_topic(bootstrap, topics.dlq(topics.DATA_ARRIVED), ours, timeout_s=60)
    assert dead.value == forged
    assert (header(dead, "dlq-reason") or "").startswith("conflicting_replay")
    samples = probe.runtime.metrics.registry
    assert samples.get_sample_value(
        "driftline_dead_letters_total",
        {"service": probe.name, "topic": topics.DATA_ARRIVED, "reason": "conflicting_replay"},
    ) == 1
