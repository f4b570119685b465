"""Digest copies on the Kafka stream: published once through the outbox, read back to verify.

Each digest is emitted as an ``AuditDigestSigned`` event in the transaction that records it,
so the outbox relays it to ``driftline.audit-digest-signed`` and copies it onto
``driftline.audit``. Producers can only append to a topic: no database role can take a
published digest back.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from driftline.audit.digests import Digest
from driftline.runtime.kafka_config import aiokafka_kwargs
from driftline.runtime.logging import get_logger
from driftline.runtime.settings import KafkaSettings
from driftline_contracts.codec import decode
from driftline_contracts.errors import ContractError
from driftline_contracts.events import AuditDigestSigned

log = get_logger(__name__)
TOPIC = AuditDigestSigned.topic


class StreamUnreadableError(Exception):
    """The digest topic could not be read to its end in time."""


def digest_event(digest: Digest) -> AuditDigestSigned:
    """The event that carries ``digest`` onto the stream."""
    return AuditDigestSigned(
        number=digest.number,
        first_seq=digest.first_seq,
        last_seq=digest.last_seq,
        head_hash=digest.head_hash,
        previous_signature=digest.previous_signature,
        signed_at=digest.signed_at,
        signature=digest.signature,
    )


def digest_from_event(event: AuditDigestSigned) -> Digest:
    """The digest an ``AuditDigestSigned`` event carries."""
    return Digest(
        number=event.number,
        first_seq=event.first_seq,
        last_seq=event.last_seq,
        head_hash=event.head_hash,
        previous_signature=event.previous_signature,
        signed_at=event.signed_at,
        signature=event.signature,
    )


def add_record(copies: dict[int, Digest], headers: Any, value: bytes) -> None:
    """Keep the first copy of each digest number; a later, different one is only logged."""
    try:
        _, event = decode(headers, value)
    except ContractError as exc:
        log.warning("unreadable record on the digest topic", error=str(exc))
        return
    if not isinstance(event, AuditDigestSigned):
        return
    digest = digest_from_event(event)
    held = copies.setdefault(digest.number, digest)
    if held != digest:
        log.warning("a second, different digest on the stream", number=digest.number)


async def read_stream_copies(kafka: KafkaSettings, timeout_s: float = 30.0) -> dict[int, Digest]:
    """Every digest on the digest topic, read from the beginning to the current end."""
    consumer = AIOKafkaConsumer(
        client_id="driftline-audit-verify", enable_auto_commit=False, **aiokafka_kwargs(kafka)
    )
    copies: dict[int, Digest] = {}
    try:  # a consumer whose start was cut off is closed as well
        await consumer.start()
        async with asyncio.timeout(timeout_s):
            await consumer.topics()  # fetches metadata
            partitions = consumer.partitions_for_topic(TOPIC) or set()
            assigned = [TopicPartition(TOPIC, p) for p in sorted(partitions)]
            if not assigned:
                return copies
            consumer.assign(assigned)
            await consumer.seek_to_beginning(*assigned)
            ends = await consumer.end_offsets(assigned)
            # tansu may report an end below records it already serves: read past the
            # reported end until a poll comes back empty.
            while True:
                polled = await consumer.getmany(timeout_ms=500)
                for record in (r for rs in polled.values() for r in rs):
                    add_record(copies, list(record.headers), record.value)
                behind = [tp for tp in assigned if await consumer.position(tp) < ends[tp]]
                if not polled and not behind:
                    break
    except TimeoutError as exc:
        raise StreamUnreadableError(f"{TOPIC} not read to its end in {timeout_s:.0f}s") from exc
    finally:
        await consumer.stop()
    return copies
