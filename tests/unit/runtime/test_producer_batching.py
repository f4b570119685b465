"""The prediction log's producer groups concurrent records into batches of the configured
size: at aiokafka's 16 KiB default an 80 KB record (a 100-row request) went alone, one broker
round trip per request, which capped the Kafka log at ~30 requests/s on the local broker."""

from __future__ import annotations

from typing import Any

import pytest

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
