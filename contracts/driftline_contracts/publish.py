"""Publish events from Python: ``publish`` (async), ``Publisher`` (many events), ``publish_sync``.

Needs the ``kafka`` extra (``pip install driftline-contracts[kafka]``); aiokafka is imported
only when a producer has to be built, so the events work with pydantic alone.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any, Protocol

from driftline_contracts.codec import KafkaRecord, encode
from driftline_contracts.envelope import Envelope, new_envelope
from driftline_contracts.events import Event


class Producer(Protocol):
    """The part of ``aiokafka.AIOKafkaProducer`` the publisher uses."""

    async def send_and_wait(
        self, topic: str, value: bytes | None = None, key: bytes | None = None, **kwargs: Any
    ) -> Any:
        """Send one record and wait for the broker's acknowledgement."""


def build_producer(
    bootstrap_servers: str, *, enable_idempotence: bool = False, **producer_config: Any
) -> Any:
    """An unstarted AIOKafkaProducer with ``acks="all"``; extra kwargs (security) pass through."""
    try:
        from aiokafka import AIOKafkaProducer
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise ImportError(
            "publishing needs aiokafka: pip install 'driftline-contracts[kafka]'"
        ) from exc
    producer_config.setdefault("acks", "all")
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        enable_idempotence=enable_idempotence,
        **producer_config,
    )


async def send(producer: Producer, record: KafkaRecord) -> None:
    """Send an encoded record and wait until the broker acknowledged it."""
    await producer.send_and_wait(
        record.topic, record.value, key=record.key, headers=list(record.headers)
    )


class Publisher:
    """Async context manager publishing many events over one producer."""

    def __init__(
        self,
        bootstrap_servers: str | None = None,
        *,
        source: str,
        actor: str,
        producer: Producer | None = None,
        enable_idempotence: bool = False,
        **producer_config: Any,
    ) -> None:
        if producer is None and not bootstrap_servers:
            raise ValueError("give bootstrap_servers or a producer")
        self.source, self.actor = source, actor
        self._producer = producer
        self._owned = producer is None
        self._build = {
            "bootstrap_servers": bootstrap_servers,
            "enable_idempotence": enable_idempotence,
            **producer_config,
        }

    async def __aenter__(self) -> Publisher:
        if self._owned:
            producer = build_producer(**self._build)
            try:
                await producer.start()
            except BaseException:
                await producer.stop()
                raise
            self._producer = producer
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._owned and self._producer is not None:
            producer, self._producer = self._producer, None
            await producer.stop()  # type: ignore[attr-defined]  # an owned AIOKafkaProducer

    async def publish(
        self,
        event: Event,
        *,
        correlation_id: str | None = None,
        cause: Envelope | None = None,
        actor: str | None = None,
    ) -> Envelope:
        """Publish one event; returns its envelope once the broker acknowledged it."""
        env = new_envelope(
            event,
            source=self.source,
            actor=actor or self.actor,
            cause=cause,
            correlation_id=correlation_id,
        )
        await self.send(event, env)
        return env

    async def send(self, event: Event, env: Envelope) -> None:
        """Publish ``event`` under an envelope built by the caller."""
        if self._producer is None:
            raise RuntimeError("use 'async with Publisher(...)' before publishing")
        await send(self._producer, encode(event, env))


async def publish(
    event: Event,
    *,
    bootstrap_servers: str | None = None,
    source: str,
    actor: str,
    correlation_id: str | None = None,
    cause: Envelope | None = None,
    producer: Producer | None = None,
    enable_idempotence: bool = False,
    **producer_config: Any,
) -> Envelope:
    """Publish one event (own short-lived producer unless ``producer`` is given)."""
    async with Publisher(
        bootstrap_servers,
        source=source,
        actor=actor,
        producer=producer,
        enable_idempotence=enable_idempotence,
        **producer_config,
    ) as publisher:
        return await publisher.publish(event, correlation_id=correlation_id, cause=cause)


def publish_sync(
    event: Event,
    *,
    bootstrap_servers: str | None = None,
    source: str,
    actor: str,
    correlation_id: str | None = None,
    cause: Envelope | None = None,
    enable_idempotence: bool = False,
    **producer_config: Any,
) -> Envelope:
    """Blocking ``publish`` for synchronous pipelines; not for use inside an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise RuntimeError("publish_sync called inside an event loop; await publish() instead")
    return asyncio.run(
        publish(
            event,
            bootstrap_servers=bootstrap_servers,
            source=source,
            actor=actor,
            correlation_id=correlation_id,
            cause=cause,
            enable_idempotence=enable_idempotence,
            **producer_config,
        )
    )
