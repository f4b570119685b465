"""Raw Kafka producer used by the outbox relay and the dead-letter path (acks=all)."""

from __future__ import annotations

from collections.abc import Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.structs import RecordMetadata

from driftline.runtime.kafka_config import aiokafka_kwargs
from driftline.runtime.settings import KafkaSettings

Headers = Sequence[tuple[str, bytes]]


def batching(batch_bytes: int | None) -> dict[str, int]:
    """Producer options for batches of up to ``batch_bytes`` (aiokafka's 16 KiB default when
    None): concurrent sends of one partition share a batch, hence one produce request, only
    while they fit in it, so records larger than the batch each cost a broker round trip."""
    if batch_bytes is None:
        return {}
    return {"max_batch_size": batch_bytes, "max_request_size": max(batch_bytes, 1_048_576)}


class KafkaPublisher:
    """Publishes pre-encoded records; waits for every broker acknowledgement."""

    def __init__(
        self, kafka: KafkaSettings, client_id: str, *, batch_bytes: int | None = None,
        request_timeout_s: float = 15.0,
    ) -> None:  # fmt: skip
        self._kafka = kafka
        self._client_id = client_id
        self._batch_bytes = batch_bytes
        self._request_timeout_ms = round(request_timeout_s * 1000)
        self._producer: AIOKafkaProducer | None = None

    @property
    def started(self) -> bool:
        """Whether the producer is connected."""
        return self._producer is not None

    async def start(self) -> None:
        """Connect to the cluster (raises if the broker does not answer)."""
        producer = AIOKafkaProducer(
            client_id=self._client_id,
            acks="all",
            enable_idempotence=self._kafka.idempotent_producer,
            request_timeout_ms=self._request_timeout_ms,
            **batching(self._batch_bytes),
            **aiokafka_kwargs(self._kafka),
        )
        try:
            await producer.start()
        except BaseException:
            await producer.stop()
            raise
        self._producer = producer

    async def stop(self) -> None:
        """Flush and disconnect."""
        if self._producer is not None:
            producer, self._producer = self._producer, None
            await producer.stop()

    async def send(
        self, topic: str, value: bytes, *, key: bytes | None, headers: Headers
    ) -> RecordMetadata:
        """Send one record and wait until the broker has acknowledged it."""
        (metadata,) = await self.send_batch([(topic, value, key, headers)])
        return metadata

    async def send_batch(
        self, records: Sequence[tuple[str, bytes, bytes | None, Headers]]
    ) -> list[RecordMetadata]:
        """Enqueue records in order, then wait for all acknowledgements."""
        if self._producer is None:
            raise ConnectionError("Kafka producer is not connected")
        futures = [
            await self._producer.send(topic, value, key=key, headers=list(headers))
            for topic, value, key, headers in records
        ]
        return [await future for future in futures]

    async def ping(self) -> None:
        """Raise unless the cluster answers a metadata request."""
        if self._producer is None:
            raise ConnectionError("Kafka producer is not connected")
        await self._producer.client.fetch_all_metadata()
