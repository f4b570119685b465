"""Publishing through a producer seam: records, envelopes, producer configuration."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from driftline_contracts.codec import decode
from driftline_contracts.events import DataArrived, DataValidated
from driftline_contracts.examples import example
from driftline_contracts.publish import Publisher, build_producer, publish, publish_sync


class FakeProducer:
    """Records what would have been sent."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send_and_wait(
        self, topic: str, value: bytes | None = None, key: bytes | None = None, **kwargs: Any
    ) -> None:
        self.sent.append({"topic": topic, "value": value, "key": key, **kwargs})


async def test_publish_sends_one_decodable_record_and_returns_its_envelope():
    producer = FakeProducer()
    env = await publish(
        example(DataArrived),
        source="pipeline/nightly-etl",
        actor="pipeline:nightly-etl",
        producer=producer,
    )
    [sent] = producer.sent
    assert sent["topic"] == "driftline.data-arrived"
    assert sent["key"] == b"churn"
    decoded_env, event = decode(sent["headers"], sent["value"])
    assert decoded_env == env
    assert event == example(DataArrived)


async def test_publisher_links_events_of_one_run():
    producer = FakeProducer()
    async with Publisher(source="pipeline/p", actor="pipeline:p", producer=producer) as pub:
        first = await pub.publish(example(DataArrived), correlation_id="run-7")
        second = await pub.publish(example(DataValidated), cause=first, actor="user:alice")
    assert (first.correlationid, second.correlationid) == ("run-7", "run-7")
    assert second.causationid == first.id
    assert second.actor == "user:alice"
    assert len(producer.sent) == 2


async def test_publisher_needs_an_open_context():
    pub = Publisher(source="pipeline/p", actor="pipeline:p", producer=FakeProducer())
    with pytest.raises(ValueError, match="bootstrap_servers"):
        Publisher(source="pipeline/p", actor="pipeline:p")
    async with pub:
        pass
    assert pub  # an injected producer is the caller's to close


async def test_build_producer_uses_acks_all_no_idempotence_and_passes_security():
    producer = build_producer(
        "127.0.0.1:9092",
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism="PLAIN",
        sasl_plain_username="u",
        sasl_plain_password="p",
    )
    # aiokafka keeps its settings private; these are the attributes its own tests read.
    assert producer._txn_manager is None  # no idempotent producer (tansu refuses it)
    assert producer._sender._acks == -1  # acks="all"
    assert producer.client._security_protocol == "SASL_PLAINTEXT"
    assert producer.client._sasl_mechanism == "PLAIN"
    await producer.stop()


async def test_publish_sync_refuses_to_run_inside_an_event_loop():
    with pytest.raises(RuntimeError, match="await publish"):
        publish_sync(
            example(DataArrived), bootstrap_servers="x:1", source="pipeline/p", actor="pipeline:p"
        )


def test_importing_the_package_does_not_import_aiokafka():
    code = (
        "import sys, driftline_contracts, driftline_contracts.schema; "
        "from driftline_contracts.publish import publish; "
        "sys.exit('aiokafka' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
