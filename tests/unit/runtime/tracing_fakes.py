"""Fakes for the tracing tests: a real UnitOfWork on a session that only records statements,
and a span exporter kept in memory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from driftline.runtime.deadletter import RawRecord
from driftline.runtime.tracing import ServiceTracer
from driftline.runtime.uow import SharedTransaction, UnitOfWork
from driftline_contracts.envelope import Envelope


def memory_provider() -> tuple[TracerProvider, InMemorySpanExporter]:
    """A provider whose finished spans land in the returned exporter."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


class _Rows:
    def __init__(self, params: Any) -> None:
        self._params = params

    def first(self) -> tuple[str]:
        return ("claimed",)

    def scalars(self) -> list[str]:
        return [row["event_id"] for row in self._params]


class RecordingSession:
    """Enough of an AsyncSession for claim and flush: every claim is fresh."""

    def __init__(self) -> None:
        self.statements: list[Any] = []

    async def execute(self, statement: Any, params: Any = None) -> _Rows:
        self.statements.append((statement, params))
        return _Rows(params)


class MemoryUnits:
    """A UnitOfWorkFactory whose units are real (real ``emit``) and whose outbox is a list."""

    def __init__(self, service: str, tracer: ServiceTracer | None = None) -> None:
        self.service = service
        self.tracer = tracer or ServiceTracer(service, None)
        self.outbox: list[dict[str, Any]] = []

    @asynccontextmanager
    async def __call__(self, *, cause: Envelope | None = None) -> AsyncIterator[UnitOfWork[None]]:
        with self.tracer.continuing(cause, f"work on {cause.type}" if cause else "work"):
            uow = self._unit(RecordingSession(), cause)
            yield uow
            self.outbox.extend(uow.take_outbox_rows())

    def consuming(self, cause: Envelope) -> AbstractAsyncContextManager[UnitOfWork[None]]:
        return self(cause=cause)

    @asynccontextmanager
    async def shared(self) -> AsyncIterator[SharedTransaction]:
        batch = SharedTransaction(RecordingSession(), self._unit)  # type: ignore[arg-type]  # fake
        yield batch
        self.outbox.extend(row for u in batch.units for row in u.take_outbox_rows())

    def _unit(self, session: Any, cause: Envelope | None) -> UnitOfWork[None]:
        return UnitOfWork(
            session,
            source=f"driftline/{self.service}",
            actor=f"service:{self.service}",
            cause=cause,
            deps=None,
        )

    def records(self) -> list[RawRecord]:
        """The outbox rows as the relay would send them, as the next consumer reads them."""
        return [
            RawRecord(
                topic=row["topic"],
                partition=0,
                offset=n,
                key=row["key"],
                value=row["payload"],
                headers=tuple((name, value.encode()) for name, value in row["headers"]),
            )
            for n, row in enumerate(self.outbox)
        ]


def by_name(spans: tuple[ReadableSpan, ...] | list[ReadableSpan]) -> dict[str, ReadableSpan]:
    """Finished spans by name (names are unique in these tests)."""
    return {span.name: span for span in spans}
