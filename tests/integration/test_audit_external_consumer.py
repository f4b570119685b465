"""An outside team reads the audit topic with a plain Kafka client and the JSON Schemas only.

The decoding half of this test imports nothing from Driftline: raw aiokafka, ``json`` and
``jsonschema`` against the files in ``contracts/schemas/``.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import jsonschema
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from tests.integration.kafka_helpers import settings_from
from tests.integration.probe import Probe, arrival

pytestmark = [pytest.mark.integration]
SCHEMAS = Path(__file__).parents[2] / "contracts" / "schemas"
REQUIRED_HEADERS = (
    "ce_specversion",
    "ce_id",
    "ce_source",
    "ce_type",
    "ce_time",
    "ce_subject",
    "ce_correlationid",
    "ce_actor",
)


def _schemas() -> dict[str, dict]:
    found = {}
    for path in SCHEMAS.glob("io.driftline.*.json"):
        found[path.name.removesuffix(".json")] = json.loads(path.read_text())
    return found


async def _read_whole_topic(bootstrap: str, topic: str) -> list:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None
    )
    await consumer.start()
    try:
        await consumer.topics()
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        records, idle = [], 0
        while idle < 3:
            batch = await consumer.getmany(timeout_ms=700)
            idle = 0 if batch else idle + 1
            records += [r for rs in batch.values() for r in rs]
        return records
    finally:
        await consumer.stop()


async def test_every_audit_record_decodes_with_the_published_schemas(local_stack) -> None:
    probe = Probe(settings_from(local_stack.env()))
    await probe.runtime.start()
    try:
        name = f"emit-external-{uuid.uuid4().hex[:6]}"
        from driftline_contracts.publish import publish

        await publish(
            arrival(name, 77),
            bootstrap_servers=local_stack.kafka_bootstrap,
            source="pipeline/external",
            actor="pipeline:external",
        )
        await probe.wait_for(name)
        await probe.runtime.relay.publish_pending()
    finally:
        await probe.runtime.stop()

    schemas = _schemas()
    records = await _read_whole_topic(local_stack.kafka_bootstrap, "driftline.audit")
    assert records, "the audit topic is empty"
    for record in records:
        headers = {k: v.decode() for k, v in record.headers}
        assert all(h in headers for h in REQUIRED_HEADERS), headers
        schema = schemas[headers["ce_type"]]
        document = json.loads(record.value)
        jsonschema.validate(document, schema)
        assert record.key.decode() == headers["ce_subject"]
    datasets = [json.loads(r.value).get("dataset") for r in records]
    assert any(isinstance(d, dict) and d.get("name") == name for d in datasets)
