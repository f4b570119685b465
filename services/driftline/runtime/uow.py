"""Unit of work: one PostgreSQL transaction holding an effect, its outbox events and inbox mark."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from driftline.runtime.tables import inbox, outbox
from driftline.runtime.tracing import ServiceTracer, outgoing_context
from driftline_contracts.codec import encode
from driftline_contracts.envelope import Envelope, new_envelope

if TYPE_CHECKING:
    from driftline.runtime.deadletter import RawRecord
    from driftline.runtime.event_signing import EventSigner

DepsT = TypeVar("DepsT", covariant=True)

INBOX_COLUMNS = (
    "consumer", "event_id", "event_type", "topic", "partition", "offset", "payload_sha256"
)  # fmt: skip
# Built once: building a statement per call cost more CPU than running it.
CLAIM = (
    insert(inbox)
    .values({c: bindparam(c) for c in INBOX_COLUMNS})
    .on_conflict_do_nothing()
    .returning(inbox.c.event_id)
)
STORED_DIGESTS = select(inbox.c.event_id, inbox.c.payload_sha256).where(
    inbox.c.consumer == bindparam("consumer"),
    inbox.c.event_id.in_(bindparam("event_ids", expanding=True)),
)


class ConflictingReplay(Exception):  # noqa: N818 - reads as what the record is
    """A record reuses the id of an event already handled, with a different payload.

    A true redelivery carries the same bytes (the inbox skips it silently); different bytes
    under a handled id are a forged or corrupted replay, dead-lettered so someone looks.
    """

    reason = "conflicting_replay"

    def __init__(self, event_id: str, stored: str, received: str) -> None:
        super().__init__(
            f"conflicting_replay: event {event_id} was handled with payload sha256 {stored}, "
            f"this record's payload hashes to {received}"
        )
        self.event_id = event_id


@dataclass(frozen=True)
class Correlated:
    """A handler's result event that starts or continues its own lifecycle run.

    Returned instead of the bare event when the caused event belongs to a chain other than its
    cause's, e.g. a drift episode: DriftDetected and DriftResolved carry the episode's id as
    correlation id, so the retrain, canary and promotion they lead to share it.
    """

    event: Any
    correlation_id: str


@dataclass(frozen=True)
class EventRef:
    """A stored event that causes one emitted outside a consumer, e.g. a person's decision on
    what it announced: its id, and its correlation id (None when it was not kept)."""

    id: str
    correlation_id: str | None = None


@dataclass(frozen=True)
class Delivery:
    """One consumed record's inbox key: its event, and where Kafka delivered it."""

    envelope: Envelope
    topic: str
    partition: int
    offset: int
    payload_sha256: str | None = None

    def inbox_row(self, consumer: str) -> dict[str, Any]:
        """The ``inbox`` row marking this delivery handled by ``consumer``."""
        return {
            "consumer": consumer,
            "event_id": self.envelope.id,
            "event_type": self.envelope.type,
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "payload_sha256": self.payload_sha256,
        }


async def check_replays(
    session: AsyncSession, consumer: str, redelivered: list[Delivery]
) -> None:
    """ConflictingReplay when a redelivered event's payload differs from the handled one's
    (rows written before digests were kept have none and count as the same)."""
    if not redelivered:
        return
    params = {"consumer": consumer, "event_ids": [d.envelope.id for d in redelivered]}
    stored = {row[0]: row[1] for row in await session.execute(STORED_DIGESTS, params)}
    for delivery in redelivered:
        known = stored.get(delivery.envelope.id)
        if known and delivery.payload_sha256 and known != delivery.payload_sha256:
            raise ConflictingReplay(delivery.envelope.id, known, delivery.payload_sha256)


class UnitOfWork(Generic[DepsT]):
    """What a handler gets: the session for its effect, ``emit`` for the events it causes and
    the service's dependencies, typed: ``uow: UnitOfWork[TrainingDeps]`` reads ``uow.deps``
    as ``TrainingDeps`` without re-declaring it."""

    def __init__(
        self,
        session: AsyncSession,
        *,
        source: str,
        actor: str,
        cause: Envelope | None,
        deps: DepsT,
        signer: EventSigner | None = None,
    ) -> None:
        self.session = session
        self.signer = signer
        self.source = source
        self.actor = actor
        self.cause = cause
        self._deps = deps
        self.emitted: list[Envelope] = []
        self.delivery: RawRecord | None = None  # the consumed record, when handling an event
        self.verified_by: str | None = None
        """The service whose signature on the consumed event was verified (None: unsigned,
        not verifiable, or signing disabled); set by the consumer before the handler runs."""
        self._outbox_rows: list[dict[str, Any]] = []

    @property
    def deps(self) -> DepsT:
        """The service's dependencies (``ServiceDefinition.dependencies``)."""
        return self._deps

    async def emit(
        self,
        event: Any,
        *,
        actor: str | None = None,
        correlation_id: str | None = None,
        caused_by: EventRef | None = None,
    ) -> Envelope:
        """Queue ``event`` in the outbox; it is published only if this transaction commits.

        Its causation id is the event being handled, else ``caused_by``'s id (only for a unit of
        work with no consumed event, e.g. an HTTP request acting on a stored event: naming one
        beside a consumed event is a ValueError); its correlation id is ``correlation_id`` if
        given, else the cause's, else ``caused_by``'s, else a new one; its trace context is the
        active span's (else the cause's). The rows are written by ``flush``, all in one
        statement, just before the commit.
        """
        if caused_by is not None and self.cause is not None:
            raise ValueError("caused_by names a cause; this unit of work already has one")
        trace = outgoing_context(self.cause)
        envelope = new_envelope(
            event,
            source=self.source,
            actor=actor or self.actor,
            cause=self.cause,
            correlation_id=correlation_id or (caused_by.correlation_id if caused_by else None),
            traceparent=trace.traceparent if trace else None,
            tracestate=trace.tracestate if trace else None,
        )
        if caused_by is not None:
            envelope = envelope.model_copy(update={"causationid": caused_by.id})
        record = encode(event, envelope)
        headers = list(record.headers)
        if self.signer is not None:
            headers += self.signer.signature(record.headers, record.value)
        self._outbox_rows.append(
            {
                "event_id": envelope.id,
                "event_type": envelope.type,
                "topic": record.topic,
                "key": record.key,
                "headers": [[name, value.decode()] for name, value in headers],
                "payload": record.value,
            }
        )
        self.emitted.append(envelope)
        return envelope

    def take_outbox_rows(self) -> list[dict[str, Any]]:
        """The queued outbox rows, handed over for writing (the queue is left empty)."""
        rows, self._outbox_rows = self._outbox_rows, []
        return rows

    async def flush(self) -> None:
        """Write the queued outbox rows in one statement, in the order they were emitted."""
        await write_outbox(self.session, self.take_outbox_rows())

    async def claim(
        self,
        consumer: str,
        envelope: Envelope,
        topic: str,
        partition: int,
        offset: int,
        payload_sha256: str | None = None,
    ) -> bool:
        """Mark ``envelope`` handled by ``consumer``; False if it already was (a redelivery),
        ConflictingReplay if it was, with another payload."""
        delivery = Delivery(envelope, topic, partition, offset, payload_sha256)
        if (await self.session.execute(CLAIM, delivery.inbox_row(consumer))).first():
            return True
        await check_replays(self.session, consumer, [delivery])
        return False


class EventUnit(UnitOfWork[DepsT]):
    """The unit of work of a consumed event: its ``cause`` is that event, never None, and
    ``delivery`` the record that carried it (set by the consumer before the handler runs)."""

    cause: Envelope
    delivery: RawRecord

    def __init__(
        self,
        session: AsyncSession,
        *,
        source: str,
        actor: str,
        cause: Envelope,
        deps: DepsT,
        signer: EventSigner | None = None,
    ) -> None:
        super().__init__(
            session, source=source, actor=actor, cause=cause, deps=deps, signer=signer
        )


async def write_outbox(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Insert outbox rows in one statement (nothing when there are none)."""
    if rows:
        await session.execute(insert(outbox), rows)


class SharedTransaction:
    """One transaction for a batch of consumed records: each record gets its own unit of work
    (its cause, its emitted events) on the shared session; the outbox rows of all of them are
    written in one statement, in record order, before the single commit."""

    def __init__(
        self, session: AsyncSession, make: Callable[[AsyncSession, Envelope], EventUnit[Any]]
    ) -> None:
        self.session = session
        self._make = make
        self.units: list[EventUnit[Any]] = []

    def unit(self, cause: Envelope) -> EventUnit[Any]:
        """A unit of work for one record of the batch."""
        uow = self._make(self.session, cause)
        self.units.append(uow)
        return uow

    async def claim_all(self, consumer: str, deliveries: list[Delivery]) -> set[str]:
        """Mark every delivery handled by ``consumer`` in one statement; the event ids that
        were not handled before (the others are redeliveries)."""
        first: dict[str, Delivery] = {}
        for delivery in deliveries:  # the same id twice in one poll, with other bytes
            seen = first.setdefault(delivery.envelope.id, delivery)
            received = delivery.payload_sha256
            if seen.payload_sha256 and received is not None and received != seen.payload_sha256:
                raise ConflictingReplay(delivery.envelope.id, seen.payload_sha256, received)
        rows = [d.inbox_row(consumer) for d in deliveries]
        fresh = set((await self.session.execute(CLAIM, rows)).scalars())
        await check_replays(
            self.session, consumer, [d for d in deliveries if d.envelope.id not in fresh]
        )
        return fresh

    async def flush(self) -> None:
        """Write every unit's outbox rows, in the order the records came."""
        await write_outbox(self.session, [row for u in self.units for row in u.take_outbox_rows()])


class UnitOfWorkFactory(Generic[DepsT]):
    """Opens units of work for one service; tells the outbox relay when events were committed."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        service: str,
        deps: DepsT,
        on_commit: Callable[[], None] | None = None,
        tracer: ServiceTracer | None = None,
        signer: EventSigner | None = None,
    ) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._signer = signer  # signs every event emitted (None: they go unsigned)
        self._tracer = tracer or ServiceTracer(service, None)
        self._source = f"driftline/{service}"
        self._actor = f"service:{service}"
        self._deps = deps
        self._on_commit = on_commit

    @asynccontextmanager
    async def __call__(
        self, *, cause: Envelope | None = None, actor: str | None = None
    ) -> AsyncIterator[UnitOfWork[DepsT]]:
        """A transaction that commits when the block exits cleanly and rolls back otherwise.

        Opened on a ``cause`` outside a consumer (a background job), it is a span continuing
        the cause's trace when tracing is on.
        """
        span = self._tracer.continuing(cause, f"work on {cause.type}" if cause else "work")
        with span:
            async with self._sessions() as session, session.begin():
                uow = UnitOfWork(
                    session,
                    source=self._source,
                    actor=actor or self._actor,
                    cause=cause,
                    deps=self._deps,
                    signer=self._signer,
                )
                yield uow
                await uow.flush()
        if uow.emitted and self._on_commit is not None:
            self._on_commit()

    @asynccontextmanager
    async def consuming(self, cause: Envelope) -> AsyncIterator[EventUnit[DepsT]]:
        """The transaction of one consumed event (its span is the consumer's own)."""
        async with self._sessions() as session, session.begin():
            uow = self._unit(session, cause)
            yield uow
            await uow.flush()
        if uow.emitted and self._on_commit is not None:
            self._on_commit()

    @asynccontextmanager
    async def shared(self) -> AsyncIterator[SharedTransaction]:
        """One transaction for a batch of records (see ``SharedTransaction``); commits when
        the block exits cleanly and rolls everything back otherwise."""
        async with self._sessions() as session, session.begin():
            batch = SharedTransaction(session, self._unit)
            yield batch
            await batch.flush()
        if any(u.emitted for u in batch.units) and self._on_commit is not None:
            self._on_commit()

    def _unit(self, session: AsyncSession, cause: Envelope) -> EventUnit[DepsT]:
        return EventUnit(
            session,
            source=self._source,
            actor=self._actor,
            cause=cause,
            deps=self._deps,
            signer=self._signer,
        )
