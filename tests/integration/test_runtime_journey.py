"""Journeys through the shared runtime on the real local stack (tansu, PostgreSQL, rclone S3).

A pipeline publishes; a service built on the runtime consumes, applies its effect exactly
once, emits through the outbox, dead-letters what it cannot handle, and rides out outages.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from driftline.runtime.tables import outbox
from driftline_contracts import topics
from driftline_contracts.codec import encode
from driftline_contracts.envelope import new_envelope
from driftline_contracts.events.data import DataArrived, DataValidated
from driftline_contracts.publish import publish
from tests.integration.kafka_helpers import header, produce_raw, read_topic, settings_from
from tests.integration.probe import PROFILE, Probe, arrival

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def probe(local_stack) -> AsyncIterator[Probe]:
    """A running probe service on the local stack."""
    probe = Probe(settings_from(local_stack.env()))
    await probe.runtime.start()
    yield probe
    await probe.runtime.stop()


@pytest.fixture(scope="module")
def bootstrap(local_stack) -> str:
    """The broker's bootstrap address."""
    return local_stack.env()["DRIFTLINE_KAFKA__BOOTSTRAP_SERVERS"]


def _metric(probe: Probe, name: str) -> float:
    total = 0.0
    for family in probe.runtime.metrics.registry.collect():
        for sample in family.samples:
            if sample.name == name:
                total += sample.value
    return total


async def test_happy_journey_typed_event_with_cloudevents_headers(
    probe: Probe, bootstrap: str
) -> None:
    sent = await publish(
        arrival("emit-happy", 1),
        bootstrap_servers=bootstrap,
        source="pipeline/nightly-etl",
        actor="pipeline:nightly-etl",
    )
    (row,) = await probe.wait_for("emit-happy")
    assert row["event_id"] == sent.id
    assert row["ce_type"] == DataArrived.ce_type
    assert row["source"] == "pipeline/nightly-etl"
    assert row["actor"] == "pipeline:nightly-etl"
    assert row["correlation_id"] == sent.correlationid
    assert row["subject"] == "emit-happy"

    def caused_by_arrival(record) -> bool:
        return header(record, "ce_causationid") == sent.id

    (validated,) = await read_topic(bootstrap, topics.DATA_VALIDATED, caused_by_arrival)
    assert header(validated, "ce_type") == DataValidated.ce_type
    assert header(validated, "ce_correlationid") == sent.correlationid
    assert header(validated, "ce_source") == f"driftline/{probe.name}"
    assert validated.key == b"emit-happy"
    (audited,) = await read_topic(bootstrap, topics.AUDIT, caused_by_arrival)
    assert audited.value == validated.value


async def test_outbox_rolled_back_transaction_publishes_nothing(probe: Probe) -> None:
    event = DataValidated(
        dataset=arrival("rolled-back").dataset.model_copy(update={"version": 1}),
        profile=PROFILE,
        models=[],
        checks_run=0,
    )
    emitted = []

    async def effect_that_fails() -> None:
        async with probe.runtime.units() as uow:
            emitted.append(await uow.emit(event))
            raise RuntimeError("effect failed")

    with pytest.raises(RuntimeError, match="effect failed"):
        await effect_that_fails()
    (emitted,) = emitted
    async with probe.runtime.units() as uow:
        rows = (
            await uow.session.execute(
                select(outbox.c.event_id).where(outbox.c.event_id == emitted.id)
            )
        ).all()
    assert rows == []
    async with probe.runtime.units() as uow:
        kept = await uow.emit(event)
    async with asyncio.timeout(20):
        while True:
            async with probe.runtime.units() as uow:
                published_at = await uow.session.scalar(
                    select(outbox.c.published_at).where(outbox.c.event_id == kept.id)
                )
            if published_at is not None:
                break
            await asyncio.sleep(0.2)


async def test_inbox_same_event_delivered_twice_has_one_effect(
    probe: Probe, bootstrap: str
) -> None:
    event = arrival("twice", 2)
    envelope = new_envelope(event, source="pipeline/retrying", actor="pipeline:retrying")
    record = encode(event, envelope)
    await produce_raw(
        bootstrap, record.topic, [(record.key, record.value, list(record.headers))] * 2
    )
    duplicates_before = _metric(probe, "driftline_events_duplicate_total")
    await publish(
        arrival("after-twice", 3),
        bootstrap_servers=bootstrap,
        source="pipeline/retrying",
        actor="pipeline:retrying",
    )
    await probe.wait_for("after-twice")
    assert len(await probe.effects_for("twice")) == 1
    assert _metric(probe, "driftline_events_duplicate_total") >= duplicates_before


async def test_dlq_malformed_messages_dead_lettered_next_good_one_processed(
    probe: Probe, bootstrap: str
) -> None:
    good = encode(
        arrival("template"),
        new_envelope(arrival("template"), source="pipeline/x", actor="pipeline:x"),
    )
    headers = list(good.headers)
    hostile = [
        (b"bad-json", b'{"dataset": {"name": "trunc', headers),
        (b"no-headers", good.value, []),
        (b"nan", good.value.replace(b'"format"', b'"rows": NaN, "format"'), headers),
    ]
    await produce_raw(bootstrap, topics.DATA_ARRIVED, hostile)
    await publish(
        arrival("after-hostile", 4),
        bootstrap_servers=bootstrap,
        source="pipeline/x",
        actor="pipeline:x",
    )
    await probe.wait_for("after-hostile")
    consumer = probe.runtime.processors[0].consumer

    def ours(record) -> bool:
        return header(record, "dlq-consumer") == consumer and record.key in {
            k for k, _, _ in hostile
        }

    dead = await read_topic(bootstrap, topics.dlq(topics.DATA_ARRIVED), ours, count=3)
    by_key = {r.key: r for r in dead}
    assert set(by_key) == {b"bad-json", b"no-headers", b"nan"}
    for record in dead:
        assert header(record, "dlq-original-topic") == topics.DATA_ARRIVED
        assert header(record, "dlq-original-offset").isdigit()
        assert header(record, "dlq-reason")
    assert (
        "ce_" in header(by_key[b"no-headers"], "dlq-reason").lower()
        or "header" in header(by_key[b"no-headers"], "dlq-reason").lower()
    )
    assert by_key[b"bad-json"].value == hostile[0][1]


async def test_dlq_handler_that_keeps_failing_is_dead_lettered_after_retries(
    probe: Probe, bootstrap: str
) -> None:
    async def reject_poison(event: DataArrived) -> None:
        if event.dataset.name == "poison":
            raise ValueError("target column 'churn' is missing")

    probe.behaviour = reject_poison
    try:
        poison = await publish(
            arrival("poison", 5),
            bootstrap_servers=bootstrap,
            source="pipeline/x",
            actor="pipeline:x",
        )
        await publish(
            arrival("after-poison", 6),
            bootstrap_servers=bootstrap,
            source="pipeline/x",
            actor="pipeline:x",
        )
        # The two land on different partitions: wait for both outcomes before the probe
        # stops failing, or the last retry of "poison" could succeed.
        await probe.wait_for("after-poison")
        (dead,) = await read_topic(
            bootstrap, topics.dlq(topics.DATA_ARRIVED), lambda r: header(r, "ce_id") == poison.id
        )
    finally:
        probe.behaviour = None
    assert header(dead, "dlq-reason") == "target column 'churn' is missing"
    assert header(dead, "dlq-attempts") == "3"
    assert await probe.effects_for("poison") == []


async def test_pipeline_in_another_language_needs_only_schema_and_headers(
    probe: Probe, bootstrap: str
) -> None:
    """What a Go/Java/Spark pipeline would do: JSON by hand, headers from the docs, raw client."""
    import json
    import uuid
    from pathlib import Path

    import jsonschema

    body = {
        "dataset": {
            "name": "polyglot",
            "uri": "s3://lake/polyglot/2026-11-23.parquet",
            "sha256": "c" * 64,
            "format": "parquet",
            "rows": 10,
        }
    }
    schema = json.loads(
        (
            Path(__file__).parents[2]
            / "contracts"
            / "schemas"
            / "io.driftline.data.arrived.v1.json"
        ).read_text()
    )
    jsonschema.validate(body, schema)
    event_id = str(uuid.uuid4())
    headers = [
        ("ce_specversion", b"1.0"),
        ("ce_id", event_id.encode()),
        ("ce_source", b"pipeline/spark-nightly"),
        ("ce_type", b"io.driftline.data.arrived.v1"),
        ("ce_time", b"2026-11-23T02:00:00Z"),
        ("ce_subject", b"polyglot"),
        ("ce_correlationid", event_id.encode()),
        ("ce_actor", b"pipeline:spark-nightly"),
        ("content-type", b"application/json"),
    ]
    await produce_raw(
        bootstrap, "driftline.data-arrived", [(b"polyglot", json.dumps(body).encode(), headers)]
    )
    (row,) = await probe.wait_for("polyglot")
    assert row["event_id"] == event_id
    assert row["actor"] == "pipeline:spark-nightly"
