"""Consuming one event type: decode, inbox, handler, outbox, retries, dead letters, commit.

The offset is committed only after the effect is durable (or the event is dead-lettered).
Transient outages (PostgreSQL, S3, Kafka down) are retried with capped back-off and never
dead-lettered; any other failure is retried ``max_attempts`` times, then dead-lettered, so a
poison message never blocks its partition. A dead letter that cannot be sent is retried until
it is (never committed past); one too large for the broker goes by reference
(``deadletter.py``). A handled event id replayed with another payload is dead-lettered at once
(``conflicting_replay``); the same bytes again are a silent duplicate. An event of a type
only one service may emit is acted on only with that service's signature; without it, it is
dead-lettered at once (``unverified_origin``, see ``event_signing.py``).
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import inspect
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Generic, TypeVar, overload

import structlog
from opentelemetry import trace
from opentelemetry.trace import Span, StatusCode
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception

from driftline.runtime import faults
from driftline.runtime.deadletter import DeadLetterPublisher, RawRecord
from driftline.runtime.errors import is_transient
from driftline.runtime.event_signing import OriginVerifier, UnverifiedOrigin
from driftline.runtime.logging import get_logger
from driftline.runtime.metrics import Metrics
from driftline.runtime.retry import RetryPolicy, failure_of, is_failure
from driftline.runtime.settings import RetrySettings
from driftline.runtime.tracing import ServiceTracer
from driftline.runtime.uow import (
    ConflictingReplay,
    Correlated,
    Delivery,
    EventUnit,
    UnitOfWorkFactory,
)
from driftline_contracts.codec import decode
from driftline_contracts.envelope import Envelope
from driftline_contracts.errors import ContractError

EventT = TypeVar("EventT")
Handler = Callable[[EventT, EventUnit[Any]], Awaitable[object]]
"""``async def on_x(event: X, uow: EventUnit[Deps]) -> event | [events] | None``."""
log = get_logger(__name__)


class Outcome(enum.Enum):
    """What became of one delivered record."""

    HANDLED = "handled"
    DUPLICATE = "duplicate"
    DEAD_LETTERED = "dead_lettered"


class SubscriptionError(TypeError):
    """A subscription whose event type cannot be read from its handler's annotation."""


def handled_type(handler: Callable[..., Any]) -> type:
    """The event class a handler's first parameter is annotated with (only that annotation
    is evaluated: the others may name types imported for the type checker alone)."""
    name = getattr(handler, "__name__", repr(handler))
    params = list(inspect.signature(handler).parameters.values())
    annotation = params[0].annotation if params else inspect.Parameter.empty
    if isinstance(annotation, str):
        namespace = getattr(inspect.unwrap(handler), "__globals__", {})
        try:
            annotation = eval(annotation, dict(namespace))  # the handler module's own source text
        except NameError as exc:  # imported only under TYPE_CHECKING
            raise SubscriptionError(f"{name}: {exc}; pass the event type") from exc
    if not isinstance(annotation, type) or annotation in (inspect.Parameter.empty, Any):
        raise SubscriptionError(
            f"{name}: its first parameter names no event class; pass the event type"
        )
    return annotation


class Subscription(Generic[EventT]):
    """A handler for one event type, read from the handler's annotation:
    ``Subscription(on_data_arrived)``. ``Subscription(object, handler, topic=AUDIT)`` states
    it instead: with an explicit ``topic`` it subscribes to every catalogued event on that
    topic (the audit sink reads ``driftline.audit`` this way).
    """

    __slots__ = ("batch_size", "event_type", "handler", "topic")

    @overload
    def __init__(
        self, handler: Handler[EventT], /, *, topic: str | None = None, batch_size: int = 1
    ) -> None: ...

    @overload
    def __init__(
        self,
        event_type: type[EventT],
        handler: Handler[EventT],
        /,
        *,
        topic: str | None = None,
        batch_size: int = 1,
    ) -> None: ...

    def __init__(
        self,
        first: type[EventT] | Handler[EventT],
        handler: Handler[EventT] | None = None,
        /,
        *,
        topic: str | None = None,
        batch_size: int = 1,
    ) -> None:
        if handler is None:
            if isinstance(first, type):
                raise SubscriptionError("Subscription(event_type) needs a handler")
            handler, first = first, handled_type(first)
        elif not isinstance(first, type):
            raise SubscriptionError("Subscription(event_type, handler): event_type is a class")
        self.event_type: type[EventT] = first
        self.handler: Handler[EventT] = handler
        self.topic = topic
        self.batch_size = batch_size
        """Up to this many polled records share one transaction (``process_batch``). Only for
        handlers whose whole effect is in PostgreSQL: a failed batch is rolled back and its
        records handled again one at a time, so any effect outside the transaction repeats."""

    def __repr__(self) -> str:
        return f"Subscription({self.event_type.__name__}, {self.name}, topic={self.topic!r})"

    @property
    def name(self) -> str:
        """Consumer name (inbox key and consumer-group suffix): the handler's name."""
        return str(getattr(self.handler, "__name__", type(self.handler).__name__))

    @property
    def source_topic(self) -> str:
        """The topic this subscription reads."""
        if self.topic is not None:
            return self.topic
        topic = getattr(self.event_type, "topic", None)
        if not isinstance(topic, str):
            raise SubscriptionError(f"{self.event_type.__name__} has no topic; pass topic=")
        return topic

    def accepts(self, event: object) -> bool:
        """Whether a decoded event is of the subscribed type."""
        return self.event_type is object or isinstance(event, self.event_type)


def _as_events(result: object) -> Sequence[object]:
    if result is None:
        return ()
    if isinstance(result, list | tuple):
        return result
    return (result,)


def payload_digest(record: RawRecord) -> str:
    """sha256 of a record's payload: what tells a redelivery from a conflicting replay."""
    return hashlib.sha256(record.value).hexdigest()


def dead_letter_reason(exc: Exception, event_type: str) -> str:
    """The ``reason`` label of a dead letter: why the record could not be handled."""
    if isinstance(exc, ConflictingReplay | UnverifiedOrigin):
        return exc.reason
    return "undecodable" if event_type == "undecodable" else "handler_failed"


def _log_context(envelope: Envelope) -> dict[str, str]:
    context = {
        "event_id": envelope.id,
        "event_type": envelope.type,
        "correlation_id": envelope.correlationid,
    }
    key = "dataset" if envelope.type.startswith("io.driftline.data.") else "model"
    context[key] = envelope.subject
    return context


class EventProcessor:
    """Handles records of one subscription with the failure policy of the module docstring."""

    def __init__(
        self,
        subscription: Subscription[Any],
        *,
        service: str,
        units: UnitOfWorkFactory[Any],
        dead_letters: DeadLetterPublisher,
        retry: RetrySettings,
        metrics: Metrics,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        tracer: ServiceTracer | None = None,
        origin: OriginVerifier | None = None,
    ) -> None:
        self.subscription = subscription
        self._origin = origin
        """Checks who emitted events of signed types; None acts on every event (signing
        disabled, or a test of something else)."""
        self._tracer = tracer or ServiceTracer(service, None)
        self.consumer = f"{service}.{subscription.name}"
        self._units = units
        self._dead_letters = dead_letters
        self._retry = retry
        self._policy = RetryPolicy(
            "handler", retry.initial_backoff_s, retry.max_backoff_s, retry.jitter
        )
        self._metrics = metrics
        self._sleep = sleep
        self._service = service

    async def process(self, record: RawRecord) -> Outcome:
        """Handle one record; returns once its outcome is durable."""
        with self._metrics.in_flight.track_inprogress():
            try:
                return await self._process(record)
            except asyncio.CancelledError:
                # Shutdown outlived its grace period: nothing was committed, not even the
                # offset, so the record is handled again by whoever consumes the partition next.
                log.warning(
                    "event handling cut off",
                    topic=record.topic,
                    partition=record.partition,
                    offset=record.offset,
                )
                raise

    async def process_batch(self, records: Sequence[RawRecord]) -> list[Outcome]:
        """Handle polled records in one transaction (one inbox statement, one outbox
        statement, one commit); returns once every outcome is durable.

        Any failure — an undecodable record, a handler error, an outage — rolls the whole
        batch back, and each record is then handled on its own by ``process`` with the usual
        retries and dead letters. Nothing is lost or applied twice either way: the batch's
        effects commit together or not at all.
        """
        if len(records) <= 1:
            return [await self.process(r) for r in records]
        with self._metrics.in_flight.track_inprogress():
            try:
                return await self._handle_batch_once(records)
            except asyncio.CancelledError:
                log.warning("event batch cut off", records=len(records), topic=records[0].topic)
                raise
            except Exception as exc:
                log.warning(
                    "batch rolled back, handling its records one at a time",
                    records=len(records),
                    error=repr(exc),
                )
        return [await self.process(r) for r in records]

    async def _handle_batch_once(self, records: Sequence[RawRecord]) -> list[Outcome]:
        decoded = [self._decode_accepted(r) for r in records]
        signers = [self._verified_signer(r, envelope) for r, (envelope, _) in zip(
            records, decoded, strict=True)]  # fmt: skip
        deliveries = [
            Delivery(envelope, r.topic, r.partition, r.offset, payload_digest(r))
            for r, (envelope, _) in zip(records, decoded, strict=True)
        ]
        done: list[tuple[Envelope, EventUnit[Any] | None, float]] = []  # None: a duplicate
        async with self._units.shared() as batch:
            fresh = await batch.claim_all(self.consumer, deliveries)
            for record, (envelope, event), signer in zip(records, decoded, signers, strict=True):
                if envelope.id not in fresh:
                    done.append((envelope, None, 0.0))
                    continue
                fresh.discard(envelope.id)  # the same event twice in one poll
                started = time.perf_counter()
                uow = batch.unit(envelope)
                uow.delivery, uow.verified_by = record, signer
                with (
                    self._span(record, envelope),
                    structlog.contextvars.bound_contextvars(**_log_context(envelope)),
                ):
                    await self._emit_results(uow, await self.subscription.handler(event, uow))
                done.append((envelope, uow, time.perf_counter() - started))
            faults.point("inbox.before_commit")
        self._metrics.batch_records.labels(self._service, decoded[0][0].type).observe(len(records))
        for envelope, unit, seconds in done:
            with structlog.contextvars.bound_contextvars(**_log_context(envelope)):
                if unit is None:
                    log.info("duplicate delivery skipped")
                    self._metrics.duplicates.labels(self._service, envelope.type).inc()
                    continue
                log.info("event handled", emitted=[e.type for e in unit.emitted])
                self._metrics.handler_seconds.labels(self._service, envelope.type).observe(seconds)
                self._metrics.consumed.labels(self._service, envelope.type).inc()
        return [Outcome.DUPLICATE if unit is None else Outcome.HANDLED for _, unit, _ in done]

    def _decode_accepted(self, record: RawRecord) -> tuple[Envelope, Any]:
        envelope, event = decode(record.headers, record.value)
        if not self.subscription.accepts(event):
            raise ContractError(
                f"{envelope.type} on {record.topic} is not a "
                f"{self.subscription.event_type.__name__}"
            )
        if self._origin is not None and self._origin.signed_by.get(envelope.type):
            self._origin.verify(envelope.type, record.headers, record.value)
        return envelope, event

    def _verified_signer(self, record: RawRecord, envelope: Envelope) -> str | None:
        """Who signed the record, as far as this consumer can verify (handlers may record it:
        the audit sink does)."""
        if self._origin is None:
            return None
        return self._origin.verify(envelope.type, record.headers, record.value)

    async def _process(self, record: RawRecord) -> Outcome:
        try:
            envelope, event = self._decode_accepted(record)
        except ContractError as exc:
            return await self._dead_letter(record, exc, attempts=0, event_type="undecodable")
        except UnverifiedOrigin as exc:  # never reaches a handler, so never worth a retry
            return await self._dead_letter(record, exc, attempts=0, event_type=exc.event_type)
        with (
            self._span(record, envelope) as span,
            structlog.contextvars.bound_contextvars(**_log_context(envelope)),
        ):
            outcome = await self._handle_with_retries(record, envelope, event)
            if span is not None:
                span.set_attribute("driftline.outcome", outcome.value)
                if outcome is Outcome.DEAD_LETTERED:
                    span.set_status(StatusCode.ERROR, "dead-lettered")
            return outcome

    def _span(self, record: RawRecord, envelope: Envelope) -> AbstractContextManager[Span | None]:
        return self._tracer.consuming(
            envelope,
            topic=record.topic,
            consumer=self.consumer,
            partition=record.partition,
            offset=record.offset,
        )

    async def _handle_with_retries(
        self, record: RawRecord, envelope: Envelope, event: object
    ) -> Outcome:
        failures = {"transient": 0, "error": 0}  # outages never count towards dead-lettering

        async def attempt() -> Outcome:
            started = time.perf_counter()
            try:
                outcome = await self._handle_once(record, envelope, event)
            except ConflictingReplay:
                raise
            except Exception as exc:
                kind = "transient" if is_transient(exc) else "error"
                failures[kind] += 1
                self._metrics.failed.labels(self._service, envelope.type, kind).inc()
                raise
            self._metrics.handler_seconds.labels(self._service, envelope.type).observe(
                time.perf_counter() - started
            )
            return outcome

        def kind_of(state: RetryCallState) -> str:
            return "transient" if is_transient(failure_of(state)) else "error"

        def on_retry(state: RetryCallState) -> None:
            kind, exc, delay = kind_of(state), failure_of(state), state.upcoming_sleep
            log.warning("handler failed, retrying", kind=kind, attempt=failures[kind],
                        retry_in_s=delay, error=repr(exc))  # fmt: skip
            self._metrics.retries.labels(self._service, envelope.type, kind).inc()
            trace.get_current_span().record_exception(
                exc, {"driftline.failure_kind": kind, "driftline.retry_in_s": delay}
            )

        retrying = AsyncRetrying(
            sleep=self._sleep,
            stop=lambda _: failures["error"] >= self._retry.max_attempts,
            wait=lambda state: self._policy.delay(failures[kind_of(state)]),
            # Only failures: cancellation (shutdown) and other BaseExceptions propagate at once
            # (retrying them never counted an attempt, so a cancelled handler looped forever).
            retry=retry_if_exception(
                lambda exc: is_failure(exc) and not isinstance(exc, ConflictingReplay)
            ),
            before_sleep=on_retry,
            reraise=True,
        )
        try:
            outcome: Outcome = await retrying(attempt)
        except ConflictingReplay as exc:
            return await self._dead_letter(record, exc, failures["error"] + 1, envelope.type)
        except Exception as exc:  # max_attempts errors that are not outages
            return await self._dead_letter(record, exc, failures["error"], envelope.type)
        counter = self._metrics.consumed if outcome is Outcome.HANDLED else self._metrics.duplicates
        counter.labels(self._service, envelope.type).inc()
        return outcome

    async def _handle_once(self, record: RawRecord, envelope: Envelope, event: Any) -> Outcome:
        async with self._units.consuming(envelope) as uow:
            uow.delivery, uow.verified_by = record, self._verified_signer(record, envelope)
            if not await uow.claim(
                self.consumer,
                envelope,
                record.topic,
                record.partition,
                record.offset,
                payload_digest(record),
            ):
                log.info("duplicate delivery skipped")
                return Outcome.DUPLICATE
            await self._emit_results(uow, await self.subscription.handler(event, uow))
            faults.point("inbox.before_commit")
        log.info("event handled", emitted=[e.type for e in uow.emitted])
        return Outcome.HANDLED

    @staticmethod
    async def _emit_results(uow: EventUnit[Any], result: object) -> None:
        for outgoing in _as_events(result):
            if isinstance(outgoing, Correlated):
                await uow.emit(outgoing.event, correlation_id=outgoing.correlation_id)
            else:
                await uow.emit(outgoing)

    async def _dead_letter(
        self, record: RawRecord, exc: Exception, attempts: int, event_type: str
    ) -> Outcome:
        reason = dead_letter_reason(exc, event_type)

        def on_retry(state: RetryCallState) -> None:
            publish_error = failure_of(state)
            log.error(
                "dead letter not sent, retrying",
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                transient=is_transient(publish_error),
                retry_in_s=state.upcoming_sleep,
                error=repr(publish_error),
            )
            self._metrics.dead_letter_failures.labels(self._service, record.topic).inc()

        # Never past the record without its dead letter: its offset stays put until it is sent.
        sent = await self._policy.with_(initial_s=self._policy.initial_s * 2).call(
            lambda: self._dead_letters.publish(
                record, exc, consumer=self.consumer, attempts=attempts
            ),
            retry_on=is_failure,
            sleep=self._sleep,
            on_retry=on_retry,
        )
        self._metrics.dead_letters.labels(self._service, record.topic, reason).inc()
        if sent.by_reference:
            self._metrics.dead_letters_by_reference.labels(self._service, record.topic).inc()
        log.error(
            "event dead-lettered",
            dead_letter_reason=reason,
            payload_uri=sent.payload_uri,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            reason=str(exc),
            error_type=type(exc).__name__,
            attempts=attempts,
            event_type=event_type,
        )
        return Outcome.DEAD_LETTERED
