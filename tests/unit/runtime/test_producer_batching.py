"""The prediction log's producer groups concurrent records into batches of the configured
size: at aiokafka's 16 KiB default an 80 KB record (a 100-row request) went alone, one broker
round trip per request, which capped the Kafka log at ~30 requests/s on the local broker."""

from __future__ import annotations

from typing import Any

import pytest

from driftline.deployment.prediction_log.kafka_sink import KafkaLogSink
from driftline.deployment.settings import DeploymentSection
from driftline.runtime import producer
from driftline.runtime.producer import KafkaPublisher, batching
from driftline.runtime.settings import KafkaSettings


class _Captured:
    kwargs: dict[str, Any] = {}

    def __init__(self, **kwargs: Any) -> None:
        _Captured.kwargs = kwargs

    async def start(self) -> None:
        return None


def test_no_size_keeps_aiokafkas_defaults() -> None:
    assert batching(None) == {}


def test_a_size_sets_the_batch_and_lets_a_request_hold_it() -> None:
    assert batching(1_000_000) == {"max_batch_size": 1_000_000, "max_request_size": 1_048_576}
    assert batching(4_000_000) == {"max_batch_size": 4_000_000, "max_request_size": 4_000_000}


async def test_the_publisher_builds_its_producer_with_the_batch_size(monkeypatch) -> None:
    monkeypatch.setattr(producer, "AIOKafkaProducer", _Captured)
    await KafkaPublisher(KafkaSettings(), "log", batch_bytes=800_000).start()
    assert _Captured.kwargs["max_batch_size"] == 800_000
    assert _Captured.kwargs["acks"] == "all"
    await KafkaPublisher(KafkaSettings(), "outbox").start()
    assert "max_batch_size" not in _Captured.kwargs


def test_the_default_holds_about_a_dozen_100_row_records_under_kafkas_message_limit() -> None:
    default = DeploymentSection().log_produce_batch_bytes
    assert 10 * 82_000 < default <= 1_048_588
    with pytest.raises(ValueError, match="log_produce_batch_bytes"):
        DeploymentSection(log_produce_batch_bytes=1024)


async def test_the_log_producer_gives_up_on_the_broker_sooner_than_the_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Requests waiting for an acknowledgement when the broker goes are answered 503 after
    ``LOG_PRODUCE_TIMEOUT_S`` (5 s), not the 15 s the outbox's producer keeps."""
    monkeypatch.setattr(producer, "AIOKafkaProducer", _Captured)
    timeout = DeploymentSection().log_produce_timeout_s
    await KafkaPublisher(KafkaSettings(), "log", request_timeout_s=timeout).start()
    assert _Captured.kwargs["request_timeout_ms"] == 5_000
    await KafkaPublisher(KafkaSettings(), "outbox").start()
    assert _Captured.kwargs["request_timeout_ms"] == 15_000
    for refused in (0.1, 120.0):
        with pytest.raises(ValueError, match="log_produce_timeout_s"):
            DeploymentSection(log_produce_timeout_s=refused)


async def test_the_sink_connects_with_the_settings_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[KafkaPublisher] = []

    async def connect_once(connect: Any) -> None:
        built.append(await connect())

    monkeypatch.setattr(producer, "AIOKafkaProducer", _Captured)
    sink = KafkaLogSink()
    monkeypatch.setattr(sink, "keep_connected", connect_once)
    await sink.run(KafkaSettings(), "log", batch_bytes=500_000, timeout_s=2.5)
    assert len(built) == 1
    assert _Captured.kwargs["request_timeout_ms"] == 2_500
    assert _Captured.kwargs["max_batch_size"] == 500_000
