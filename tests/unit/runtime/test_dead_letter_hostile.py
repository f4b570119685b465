"""Nothing is skipped on the bus: oversized dead letters go by reference, failed dead-letter
sends hold the record, and a replayed event id with another payload is dead-lettered."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiokafka.errors import KafkaError, MessageSizeTooLargeError

from driftline.runtime.consumer import EventProcessor, Outcome, Subscription
from driftline.runtime.deadletter import DeadLetterPublisher, RawRecord
from driftline.runtime.metrics import Metrics
from driftline.runtime.settings import RetrySettings
from driftline.runtime.storage.local import LocalArtifactStore
from driftline.runtime.uow import ConflictingReplay
from driftline_contracts.envelope import Envelope
from driftline_contracts.events.data import DataArrived
from tests.unit.runtime.test_event_processor import FakeSender, _event, _record

MIB = 1 << 20


class InboxUnit:
    """A unit of work whose claim keeps payload digests, like the real inbox."""

    def __init__(self, inbox: dict[tuple[str, str], str | None]) -> None:
        self.inbox, self.claimed = inbox, {}
        self.emitted: list[Envelope] = []

    async def claim(self, consumer: str, envelope: Envelope, *where: Any) -> bool:
        digest = where[-1]
        known = self.inbox.get((consumer, envelope.id), "absent")
        if known == "absent":
            self.claimed[(consumer, envelope.id)] = digest
            return True
        if known and digest and known != digest:
            raise ConflictingReplay(envelope.id, known, digest)
        return False


class InboxUnits:
    """Units of work over one in-memory inbox; claims land only on a clean exit."""

    def __init__(self) -> None:
        self.inbox: dict[tuple[str, str], str | None] = {}

    def consuming(self, cause: Envelope) -> AbstractAsyncContextManager[InboxUnit]:
        return self(cause=cause)

    @asynccontextmanager
    async def __call__(self, *, cause: Envelope | None = None) -> AsyncIterator[InboxUnit]:
        uow = InboxUnit(self.inbox)
        yield uow
        self.inbox.update(uow.claimed)


class SizeLimitedSender(FakeSender):
    """A broker that refuses records over ``limit`` bytes, and fails ``outage`` sends first."""

    def __init__(self, limit: int = MIB, outage: int = 0) -> None:
        super().__init__()
        self.limit, self.outage = limit, outage

    async def send(self, topic: str, value: bytes, *, key: bytes | None, headers: Any) -> None:
        if self.outage:
            self.outage -= 1
            raise KafkaError("NOT_ENOUGH_REPLICAS (not transient by type)")
        if len(value) + sum(len(k) + len(v) for k, v in headers) > self.limit:
            raise MessageSizeTooLargeError()
        await super().send(topic, value, key=key, headers=headers)


def processor(
    handler: Any, units: Any, sender: FakeSender, store: Any = None
) -> tuple[EventProcessor, Metrics, list[float]]:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    metrics = Metrics("test")
    built = EventProcessor(
        Subscription(DataArrived, handler),
        service="test",
        units=units,
        dead_letters=DeadLetterPublisher(sender, store),
        retry=RetrySettings(max_attempts=2, initial_backoff_s=0.1, max_backoff_s=1.0, jitter=0),
        metrics=metrics,
        sleep=sleep,
    )
    return built, metrics, sleeps


async def refuse(event: DataArrived, uow: Any) -> None:
    raise ValueError("not a dataset this service can use")


def counted(metrics: Metrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, {"service": "test", **labels}) or 0.0


def five_mb(record: RawRecord) -> RawRecord:
    return RawRecord(record.topic, 3, 41, record.key, record.value + b" " * (5 * MIB),
                     record.headers)  # fmt: skip


async def test_an_oversized_dead_letter_goes_by_reference_to_the_object_store(
    tmp_path: Path,
) -> None:
    sender, store = SizeLimitedSender(), LocalArtifactStore(tmp_path)
    handle, metrics, _ = processor(refuse, InboxUnits(), sender, store)
    record = five_mb(_record(_event()))
    assert await handle.process(record) is Outcome.DEAD_LETTERED
    ((topic, value, headers),) = sender.sent
    assert topic == "driftline.data-arrived.dlq"
    pointer = json.loads(value)
    sha256 = hashlib.sha256(record.value).hexdigest()
    assert pointer["sha256"] == sha256 == headers["dlq-payload-sha256"].decode()
    assert headers["dlq-payload-uri"].decode() == pointer["uri"]
    assert headers["dlq-reason"].startswith(b"payload is")  # the decoder's size limit
    assert (headers["dlq-original-partition"], headers["dlq-original-offset"]) == (b"3", b"41")
    assert await store.get_bytes(pointer["uri"]) == record.value
    assert counted(metrics, "driftline_dead_letters_by_reference_total",
                   topic=record.topic) == 1  # fmt: skip
    assert counted(metrics, "driftline_dead_letters_total", topic=record.topic,
                   reason="undecodable") == 1  # fmt: skip


async def test_without_a_store_an_oversized_dead_letter_is_retried_not_skipped() -> None:
    sender = SizeLimitedSender()
    handle, metrics, sleeps = processor(refuse, InboxUnits(), sender)
    sleeps_cap = 5

    async def give_up_after_a_few(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) > sleeps_cap:
            raise RuntimeError("still holding the record")

    handle._sleep = give_up_after_a_few  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="still holding"):
        await handle.process(five_mb(_record(_event())))
    assert sender.sent == []
    assert counted(metrics, "driftline_dead_letter_send_failures_total",
                   topic="driftline.data-arrived") >= sleeps_cap  # fmt: skip


async def test_a_failed_dead_letter_send_is_retried_until_it_is_acknowledged() -> None:
    sender = SizeLimitedSender(outage=3)
    handle, metrics, sleeps = processor(refuse, InboxUnits(), sender)
    assert await handle.process(_record(_event())) is Outcome.DEAD_LETTERED
    assert len(sender.sent) == 1
    assert len(sleeps) == 1 + 3  # one handler retry, then three failed sends
    assert counted(metrics, "driftline_dead_letter_send_failures_total",
                   topic="driftline.data-arrived") == 3  # fmt: skip


async def test_a_replayed_id_with_another_payload_is_a_conflicting_replay_dead_letter() -> None:
    units, sender, seen = InboxUnits(), SizeLimitedSender(), []

    async def on_data_arrived(event: DataArrived, uow: Any) -> None:
        seen.append(event.dataset.name)

    handle, metrics, sleeps = processor(on_data_arrived, units, sender)
    original = _record(_event("churn"))
    forged_value = original.value.replace(b"a" * 64, b"b" * 64)
    assert forged_value != original.value
    forged = RawRecord(original.topic, 0, 9, original.key, forged_value, original.headers)
    assert await handle.process(original) is Outcome.HANDLED
    assert await handle.process(original) is Outcome.DUPLICATE  # the same bytes: silent
    assert await handle.process(forged) is Outcome.DEAD_LETTERED
    assert seen == ["churn"]
    assert sleeps == []  # not retried: the conflict will not go away
    ((_, value, headers),) = sender.sent
    assert value == forged_value
    assert headers["dlq-reason"].startswith(b"conflicting_replay: event ")
    assert headers["dlq-error-type"] == b"ConflictingReplay"
    assert counted(metrics, "driftline_dead_letters_total", topic=original.topic,
                   reason="conflicting_replay") == 1  # fmt: skip
    assert counted(metrics, "driftline_events_duplicate_total", type="io.driftline.data.arrived.v1"
                   ) == 1  # fmt: skip


async def test_a_dead_letter_the_broker_refuses_as_too_large_falls_back_to_a_reference(
    tmp_path: Path,
) -> None:
    """Under the inline threshold, but over a broker's smaller message limit."""
    sender, store = SizeLimitedSender(limit=50_000), LocalArtifactStore(tmp_path)
    handle, metrics, _ = processor(refuse, InboxUnits(), sender, store)
    plain = _record(_event())
    record = RawRecord(plain.topic, 0, 5, plain.key, plain.value + b" " * 100_000, plain.headers)
    assert await handle.process(record) is Outcome.DEAD_LETTERED
    ((_, value, headers),) = sender.sent
    assert headers["dlq-reason"] == b"not a dataset this service can use"
    assert await store.get_bytes(json.loads(value)["uri"]) == record.value
    assert counted(metrics, "driftline_dead_letters_total", topic=record.topic,
                   reason="handler_failed") == 1  # fmt: skip


async def test_one_poll_holding_an_event_id_twice_with_other_bytes_is_a_conflict() -> None:
    """Before the inbox is asked: the batch rolls back and each record goes alone."""
    from driftline.runtime.uow import Delivery, SharedTransaction

    record = _record(_event())
    envelope = record_envelope(record)
    batch = SharedTransaction(session=None, make=lambda *_: None)  # type: ignore[arg-type]
    deliveries = [Delivery(envelope, record.topic, 0, 1, "a" * 64),
                  Delivery(envelope, record.topic, 0, 2, "b" * 64)]  # fmt: skip
    with pytest.raises(ConflictingReplay, match="conflicting_replay"):
        await batch.claim_all("test.on_data_arrived", deliveries)


def record_envelope(record: RawRecord) -> Envelope:
    from driftline_contracts.codec import decode

    envelope, _ = decode(record.headers, record.value)
    return envelope


async def test_large_headers_and_key_are_stored_too_never_dropped(tmp_path: Path) -> None:
    import base64

    from driftline.runtime.deadletter import MAX_INLINE_KEY_BYTES

    sender, store = SizeLimitedSender(), LocalArtifactStore(tmp_path)
    plain = _record(_event())
    headers = (*plain.headers, ("x-padding", b"p" * 200_000))
    key = b"k" * (MAX_INLINE_KEY_BYTES + 1)
    record = RawRecord(plain.topic, 1, 2, key, plain.value, headers)
    sent = await DeadLetterPublisher(sender, store).publish(
        record, ValueError("bad"), consumer="test.c", attempts=1
    )
    assert sent.by_reference
    ((_, value, dead_headers),) = sender.sent
    pointer = json.loads(value)
    assert "x-padding" not in dead_headers
    assert dead_headers["dlq-reason"] == b"bad"
    stored = json.loads(await store.get_bytes(pointer["headers_uri"]))
    assert ["x-padding", base64.b64encode(b"p" * 200_000).decode()] in stored
    assert base64.b64decode(pointer["key_base64"]) == key
    assert await store.get_bytes(pointer["uri"]) == record.value
