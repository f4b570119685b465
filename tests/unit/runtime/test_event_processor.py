"""The consumer's failure policy, with in-memory fakes for the database and the producer."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest

from driftline.runtime.consumer import EventProcessor, Outcome, Subscription
from driftline.runtime.deadletter import DeadLetterPublisher, RawRecord
from driftline.runtime.errors import TransientError
from driftline.runtime.metrics import Metrics
from driftline.runtime.settings import RetrySettings
from driftline_contracts.codec import encode
from driftline_contracts.envelope import Envelope, new_envelope
from driftline_contracts.events.data import DataArrived
from driftline_contracts.values import DatasetRef


class FakeUnitOfWork:
    """Records claims and emitted events; commits only when the block exits cleanly."""

    def __init__(self, store: FakeUnits, cause: Envelope | None) -> None:
        self.store, self.cause, self.claims = store, cause, []
        self.events: list[Any] = []
        self.emitted: list[Envelope] = []

    async def claim(self, consumer: str, envelope: Envelope, *_: Any) -> bool:
        key = (consumer, envelope.id)
        if key in self.store.inbox:
            return False
        self.claims.append(key)
        return True

    async def emit(self, event: Any) -> Envelope:
        envelope = new_envelope(
            event, source="driftline/test", actor="service:test", cause=self.cause
        )
        self.events.append(event)
        self.emitted.append(envelope)
        return envelope


class FakeUnits:
    """A UnitOfWorkFactory over dicts; ``outage`` makes opening a transaction fail."""

    def __init__(self) -> None:
        self.inbox: set[tuple[str, str]] = set()
        self.committed: list[Any] = []
        self.outage = 0
        self.transactions = 0

    def consuming(self, cause: Envelope) -> AbstractAsyncContextManager[FakeUnitOfWork]:
        return self(cause=cause)

    @asynccontextmanager
    async def __call__(self, *, cause: Envelope | None = None) -> AsyncIterator[FakeUnitOfWork]:
        if self.outage:
            self.outage -= 1
            raise ConnectionRefusedError(111, "PostgreSQL is down")
        uow = FakeUnitOfWork(self, cause)
        yield uow
        self.inbox.update(uow.claims)
        self.committed.extend(uow.events)
        self.transactions += 1

    @asynccontextmanager
    async def shared(self) -> AsyncIterator[FakeShared]:
        if self.outage:
            self.outage -= 1
            raise ConnectionRefusedError(111, "PostgreSQL is down")
        batch = FakeShared(self)
        yield batch
        self.inbox.update(batch.claimed)
        self.committed.extend(e for u in batch.units for e in u.events)
        self.transactions += 1


class FakeShared:
    """A shared transaction over FakeUnits: claims and events land only on a clean exit."""

    def __init__(self, store: FakeUnits) -> None:
        self.store = store
        self.units: list[FakeUnitOfWork] = []
        self.claimed: set[tuple[str, str]] = set()

    def unit(self, cause: Envelope) -> FakeUnitOfWork:
        uow = FakeUnitOfWork(self.store, cause)
        self.units.append(uow)
        return uow

    async def claim_all(self, consumer: str, deliveries: list[Any]) -> set[str]:
        fresh = {
            d.envelope.id for d in deliveries if (consumer, d.envelope.id) not in self.store.inbox
        }
        self.claimed |= {(consumer, event_id) for event_id in fresh}
        return fresh


class FakeSender:
    """Collects dead letters."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, dict[str, bytes]]] = []

    async def send(self, topic: str, value: bytes, *, key: bytes | None, headers: Any) -> None:
        self.sent.append((topic, value, dict(headers)))


def _record(event: DataArrived, offset: int = 0) -> RawRecord:
    envelope = new_envelope(event, source="pipeline/test", actor="pipeline:test")
    kafka = encode(event, envelope)
    return RawRecord(
        topic=kafka.topic,
        partition=0,
        offset=offset,
        key=kafka.key,
        value=kafka.value,
        headers=tuple(kafka.headers),
    )


def _event(name: str = "churn") -> DataArrived:
    return DataArrived(
        dataset=DatasetRef(name=name, uri=f"s3://b/{name}.csv", sha256="a" * 64, format="csv")
    )


def _processor(
    handler: Any, units: FakeUnits, sender: FakeSender, batch_size: int = 1
) -> tuple[EventProcessor, list]:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    processor = EventProcessor(
        Subscription(DataArrived, handler, batch_size=batch_size),
        service="test",
        units=units,  # type: ignore[arg-type]
        dead_letters=DeadLetterPublisher(sender),
        retry=RetrySettings(max_attempts=3, initial_backoff_s=0.1, max_backoff_s=1.0, jitter=0),
        metrics=Metrics("test"),
        sleep=sleep,
    )
    return processor, sleeps


async def test_handled_once_then_duplicate() -> None:
    units, sender, seen = FakeUnits(), FakeSender(), []

    async def on_data_arrived(event: DataArrived, uow: Any) -> None:
        seen.append(event.dataset.name)

    processor, _ = _processor(on_data_arrived, units, sender)
    record = _record(_event())
    assert await processor.process(record) is Outcome.HANDLED
    assert await processor.process(record) is Outcome.DUPLICATE
    assert seen == ["churn"]
    assert sender.sent == []


async def test_returned_events_go_to_the_outbox() -> None:
    units, sender = FakeUnits(), FakeSender()

    async def on_data_arrived(event: DataArrived, uow: Any) -> list[DataArrived]:
        return [_event("a"), _event("b")]

    processor, _ = _processor(on_data_arrived, units, sender)
    await processor.process(_record(_event()))
    assert [e.dataset.name for e in units.committed] == ["a", "b"]


async def test_failing_handler_dead_lettered_after_max_attempts_with_backoff() -> None:
    units, sender, calls = FakeUnits(), FakeSender(), []

    async def on_data_arrived(event: DataArrived, uow: Any) -> None:
        calls.append(1)
        raise ValueError("no target column")

    processor, sleeps = _processor(on_data_arrived, units, sender)
    assert await processor.process(_record(_event(), offset=7)) is Outcome.DEAD_LETTERED
    assert len(calls) == 3
    assert sleeps == [0.1, 0.2]
    ((topic, _, headers),) = sender.sent
    assert topic == "driftline.data-arrived.dlq"
    assert headers["dlq-reason"] == b"no target column"
    assert headers["dlq-original-offset"] == b"7"
    assert units.inbox == set()


async def test_a_cancelled_handler_is_not_retried_and_nothing_is_dead_lettered() -> None:
    """Shutdown cancels a handler mid-flight: the cancellation propagates at once (it was
    once retried forever, never counted as an attempt), the record stays for redelivery."""
    units, sender, calls = FakeUnits(), FakeSender(), []

    async def on_data_arrived(event: DataArrived, uow: Any) -> None:
        calls.append(1)
        raise asyncio.CancelledError

    processor, sleeps = _processor(on_data_arrived, units, sender)
    with pytest.raises(asyncio.CancelledError):
        await processor.process(_record(_event()))
    assert (len(calls), sleeps, sender.sent, units.inbox) == (1, [], [], set())


async def test_transient_outage_is_retried_past_max_attempts_and_never_dead_lettered() -> None:
    units, sender, seen = FakeUnits(), FakeSender(), []
    units.outage = 10

    async def on_data_arrived(event: DataArrived, uow: Any) -> None:
        seen.append(event.dataset.name)

    processor, sleeps = _processor(on_data_arrived, units, sender)
    assert await processor.process(_record(_event())) is Outcome.HANDLED
    assert seen == ["churn"]
    assert sender.sent == []
    assert len(sleeps) == 10
    assert max(sleeps) == 1.0


async def test_transient_error_raised_by_handler_is_retried() -> None:
    units, sender, calls = FakeUnits(), FakeSender(), []

    async def on_data_arrived(event: DataArrived, uow: Any) -> None:
        calls.append(1)
        if len(calls) < 5:
            raise TransientError("S3 unreachable")

    processor, _ = _processor(on_data_arrived, units, sender)
    assert await processor.process(_record(_event())) is Outcome.HANDLED
    assert len(calls) == 5
    assert sender.sent == []


@pytest.mark.parametrize(
    ("value", "headers", "reason"),
    [
        (b"{not json", None, "json"),
        (None, (), "missing required header"),
        (b"{}", None, "dataset"),
    ],
)
async def test_malformed_records_dead_lettered_without_calling_the_handler(
    value: bytes | None, headers: Any, reason: str
) -> None:
    units, sender, calls = FakeUnits(), FakeSender(), []

    async def on_data_arrived(event: DataArrived, uow: Any) -> None:
        calls.append(event)

    processor, _ = _processor(on_data_arrived, units, sender)
    good = _record(_event())
    record = RawRecord(
        topic=good.topic,
        partition=0,
        offset=3,
        key=good.key,
        value=good.value if value is None else value,
        headers=good.headers if headers is None else headers,
    )
    assert await processor.process(record) is Outcome.DEAD_LETTERED
    assert calls == []
    ((_, body, dlq_headers),) = sender.sent
    assert body == record.value
    assert reason in dlq_headers["dlq-reason"].decode().lower()


async def test_batch_is_handled_in_one_transaction_in_record_order() -> None:
    units, sender, seen = FakeUnits(), FakeSender(), []

    async def on_data_arrived(event: DataArrived, uow: Any) -> DataArrived:
        seen.append(event.dataset.name)
        return _event(f"{event.dataset.name}-validated")

    processor, _ = _processor(on_data_arrived, units, sender, batch_size=10)
    records = [_record(_event(name), offset=i) for i, name in enumerate("abc")]
    assert await processor.process_batch(records) == [Outcome.HANDLED] * 3
    assert seen == ["a", "b", "c"]
    assert [e.dataset.name for e in units.committed] == [
        "a-validated",
        "b-validated",
        "c-validated",
    ]
    assert units.transactions == 1
    assert len(units.inbox) == 3


async def test_batch_skips_redeliveries_and_an_event_polled_twice() -> None:
    units, sender, seen = FakeUnits(), FakeSender(), []

    async def on_data_arrived(event: DataArrived, uow: Any) -> None:
        seen.append(event.dataset.name)

    processor, _ = _processor(on_data_arrived, units, sender, batch_size=10)
    old, new = _record(_event("old"), 0), _record(_event("new"), 1)
    await processor.process(old)
    outcomes = await processor.process_batch([old, new, new])
    assert outcomes == [Outcome.DUPLICATE, Outcome.HANDLED, Outcome.DUPLICATE]
    assert seen == ["old", "new"]


async def test_failing_record_rolls_the_batch_back_then_each_record_goes_alone() -> None:
    units, sender, calls = FakeUnits(), FakeSender(), []

    async def on_data_arrived(event: DataArrived, uow: Any) -> DataArrived:
        calls.append(event.dataset.name)
        if event.dataset.name == "poison":
            raise ValueError("no target column")
        return _event(f"{event.dataset.name}-validated")

    processor, _ = _processor(on_data_arrived, units, sender, batch_size=10)
    records = [_record(_event(name), offset=i) for i, name in enumerate(["a", "poison", "b"])]
    outcomes = await processor.process_batch(records)
    assert outcomes == [Outcome.HANDLED, Outcome.DEAD_LETTERED, Outcome.HANDLED]
    # The batch try saw a and poison; then a, poison x3 and b alone. Effects: once each.
    assert calls == ["a", "poison", "a", "poison", "poison", "poison", "b"]
    assert [e.dataset.name for e in units.committed] == ["a-validated", "b-validated"]
    ((topic, _, headers),) = sender.sent
    assert (topic, headers["dlq-reason"]) == ("driftline.data-arrived.dlq", b"no target column")


async def test_undecodable_record_in_a_batch_is_dead_lettered_and_the_rest_handled() -> None:
    units, sender, seen = FakeUnits(), FakeSender(), []

    async def on_data_arrived(event: DataArrived, uow: Any) -> None:
        seen.append(event.dataset.name)

    processor, _ = _processor(on_data_arrived, units, sender, batch_size=10)
    good = _record(_event("good"), 0)
    broken = dataclasses.replace(_record(_event("broken"), 1), value=b"{not json")
    outcomes = await processor.process_batch([good, broken])
    assert outcomes == [Outcome.HANDLED, Outcome.DEAD_LETTERED]
    assert seen == ["good"]
    assert len(sender.sent) == 1


async def test_outage_during_a_batch_is_waited_out_record_by_record() -> None:
    units, sender, seen = FakeUnits(), FakeSender(), []
    units.outage = 3

    async def on_data_arrived(event: DataArrived, uow: Any) -> None:
        seen.append(event.dataset.name)

    processor, sleeps = _processor(on_data_arrived, units, sender, batch_size=10)
    records = [_record(_event(name), offset=i) for i, name in enumerate("ab")]
    assert await processor.process_batch(records) == [Outcome.HANDLED] * 2
    assert seen == ["a", "b"]
    assert sender.sent == []
    assert len(sleeps) == 2
