"""Dead letters: the original record, unchanged, on ``<topic>.dlq`` with why and where from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from driftline_contracts.topics import dlq

MAX_REASON_CHARS = 2000


@dataclass(frozen=True)
class RawRecord:
    """A consumed Kafka record as it came off the wire."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: Sequence[tuple[str, bytes]]

    @classmethod
    def from_consumer_record(cls, record: Any) -> RawRecord:
        """Build from an aiokafka ``ConsumerRecord``."""
        return cls(
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key,
            value=record.value or b"",
            headers=tuple(record.headers or ()),
        )


class RecordSender(Protocol):
    """Anything that can send one raw record and wait for the acknowledgement."""

    async def send(
        self, topic: str, value: bytes, *, key: bytes | None, headers: Sequence[tuple[str, bytes]]
    ) -> Any: ...


def dead_letter_headers(
    record: RawRecord, exc: Exception, *, consumer: str, attempts: int
) -> list[tuple[str, bytes]]:
    """Original headers plus ``dlq-*`` headers naming the reason and the origin."""
    reason = str(exc) or type(exc).__name__
    extra = {
        "dlq-reason": reason[:MAX_REASON_CHARS],
        "dlq-error-type": type(exc).__name__,
        "dlq-original-topic": record.topic,
        "dlq-original-partition": str(record.partition),
        "dlq-original-offset": str(record.offset),
        "dlq-consumer": consumer,
        "dlq-attempts": str(attempts),
        "dlq-failed-at": datetime.now(UTC).isoformat(),
    }
    kept = [(k, v) for k, v in record.headers if not k.startswith("dlq-")]
    return kept + [(k, v.encode()) for k, v in extra.items()]


class DeadLetterPublisher:
    """Publishes failed records to their dead-letter topic."""

    def __init__(self, sender: RecordSender) -> None:
        self._sender = sender

    async def publish(
        self, record: RawRecord, exc: Exception, *, consumer: str, attempts: int
    ) -> None:
        """Send ``record`` to ``<topic>.dlq`` and wait for the acknowledgement."""
        headers = dead_letter_headers(record, exc, consumer=consumer, attempts=attempts)
        await self._sender.send(dlq(record.topic), record.value, key=record.key, headers=headers)
