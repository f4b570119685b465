"""Dead letters: the original record, unchanged, on ``<topic>.dlq`` with why and where from.

A record too large for the broker (or for the producer's request limit) is dead-lettered by
reference: its value (and its headers, when they are what is large) go to the object store,
and the dead letter carries ``dlq-payload-uri``/``dlq-payload-sha256`` and a small JSON body
naming them, with the same reason and origin headers.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from aiokafka.errors import MessageSizeTooLargeError, RecordTooLargeError

from driftline.runtime.storage.ports import ArtifactStore
from driftline_contracts.topics import dlq

MAX_REASON_CHARS = 2000
MAX_INLINE_BYTES = 768 * 1024  # under the 1 MiB a Kafka producer request may hold by default
MAX_INLINE_HEADER_BYTES = 64 * 1024
MAX_INLINE_KEY_BYTES = 1024
TOO_LARGE = (MessageSizeTooLargeError, RecordTooLargeError)


@dataclass(frozen=True)
class SentDeadLetter:
    """How a dead letter went out: inline, or by reference to the stored payload."""

    payload_uri: str | None = None

    @property
    def by_reference(self) -> bool:
        """Whether the payload is in the object store rather than in the dead letter."""
        return self.payload_uri is not None


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


def record_size(record: RawRecord) -> tuple[int, int]:
    """Bytes of the record's value (and key), and of its headers."""
    headers = sum(len(k) + len(v) for k, v in record.headers)
    return len(record.value) + len(record.key or b""), headers


def reference_key(record: RawRecord) -> str:
    """Object key of a dead letter's stored payload: where the record came from."""
    return f"dead-letters/{record.topic}/{record.partition}/{record.offset}"


def _headers_document(headers: Sequence[tuple[str, bytes]]) -> bytes:
    return json.dumps([[k, base64.b64encode(v).decode()] for k, v in headers]).encode()


class DeadLetterPublisher:
    """Publishes failed records to their dead-letter topic (large ones by reference)."""

    def __init__(self, sender: RecordSender, store: ArtifactStore | None = None) -> None:
        self._sender = sender
        self._store = store

    async def publish(
        self, record: RawRecord, exc: Exception, *, consumer: str, attempts: int
    ) -> SentDeadLetter:
        """Send ``record`` to ``<topic>.dlq`` and wait for the acknowledgement."""
        headers = dead_letter_headers(record, exc, consumer=consumer, attempts=attempts)
        value_bytes, header_bytes = record_size(record)
        large = value_bytes > MAX_INLINE_BYTES or header_bytes > MAX_INLINE_HEADER_BYTES
        if self._store is None or not large:
            try:
                await self._sender.send(
                    dlq(record.topic), record.value, key=record.key, headers=headers
                )
                return SentDeadLetter()
            except TOO_LARGE:
                if self._store is None:
                    raise
        return await self._publish_by_reference(record, headers, self._store)

    async def _publish_by_reference(
        self, record: RawRecord, headers: list[tuple[str, bytes]], store: ArtifactStore
    ) -> SentDeadLetter:
        """The value (and large headers) into the store; a pointer onto the DLQ."""
        key = reference_key(record)
        stored = await store.put_bytes(key, record.value)
        pointer: dict[str, object] = {
            "uri": stored.uri,
            "sha256": stored.sha256,
            "size_bytes": stored.size_bytes,
        }
        originals = [(k, v) for k, v in headers if not k.startswith("dlq-")]
        if sum(len(k) + len(v) for k, v in originals) > MAX_INLINE_HEADER_BYTES:
            document = _headers_document(originals)
            at = await store.put_bytes(f"{key}.headers.json", document,
                                       content_type="application/json")  # fmt: skip
            pointer["headers_uri"], originals = at.uri, []
        kafka_key = record.key
        if kafka_key is not None and len(kafka_key) > MAX_INLINE_KEY_BYTES:
            pointer["key_base64"], kafka_key = base64.b64encode(kafka_key).decode(), None
        reference = [
            ("dlq-payload-uri", stored.uri.encode()),
            ("dlq-payload-sha256", stored.sha256.encode()),
            ("dlq-payload-bytes", str(stored.size_bytes).encode()),
        ]
        ours = [(k, v) for k, v in headers if k.startswith("dlq-")]
        await self._sender.send(
            dlq(record.topic),
            json.dumps(pointer).encode(),
            key=kafka_key,
            headers=originals + ours + reference,
        )
        return SentDeadLetter(payload_uri=stored.uri)
