"""Composition root of one service process: builds every dependency from settings."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from faststream.kafka import KafkaBroker
from opentelemetry.trace import TracerProvider
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.middleware import Middleware

from driftline.runtime.background import BackgroundJob
from driftline.runtime.broker import attach, build_broker
from driftline.runtime.consumer import EventProcessor, Subscription
from driftline.runtime.db import (
    build_engine,
    build_migration_engine,
    ping_database,
    schema_for,
)
from driftline.runtime.deadletter import DeadLetterPublisher
from driftline.runtime.event_origin import event_origin
from driftline.runtime.logging import get_logger
from driftline.runtime.metrics import Metrics
from driftline.runtime.migrations import migrate
from driftline.runtime.outbox import OutboxRelay
from driftline.runtime.producer import KafkaPublisher
from driftline.runtime.retry import RetryPolicy, is_failure
from driftline.runtime.settings import RuntimeSettings
from driftline.runtime.stop_watch import cancel_until_done, watch_stop
from driftline.runtime.storage import ArtifactStore, build_artifact_store
from driftline.runtime.table_retention import (
    PRUNE_EVERY_S,
    TableRetention,
    inbox_retention,
    outbox_retention,
)
from driftline.runtime.tracing import ServiceTracer, otlp_provider
from driftline.runtime.tracing import shutdown as shutdown_tracing
from driftline.runtime.uow import UnitOfWorkFactory
from driftline_contracts.catalog import EVENTS

log = get_logger(__name__)
STARTUP = RetryPolicy("startup", initial_s=0.5, max_s=5.0)
"""Start-up steps (migrate, bucket, producer, consumers) wait out any failure, briefly."""


async def _awaited(job: Callable[[], Awaitable[None]]) -> None:
    """A background job as a task's coroutine."""
    await job()


def _types_of(subscription: Subscription[Any]) -> list[str]:
    """Event types a subscription may be handed (every catalogued one for ``object``)."""
    if subscription.event_type is object:
        return [cls.ce_type for cls in EVENTS]
    return [str(getattr(subscription.event_type, "ce_type", ""))]


@dataclass(frozen=True)
class ServiceDefinition:
    """What makes one service itself: its name, handlers, HTTP routes and migrations."""

    name: str
    subscriptions: Callable[[ServiceRuntime], Sequence[Subscription[Any]]] = lambda _: ()
    routers: Callable[[ServiceRuntime], Sequence[APIRouter]] = lambda _: ()
    middleware: Callable[[ServiceRuntime], Sequence[Middleware]] = lambda _: ()
    """ASGI middleware in front of the routers, inside the app's error handling and auth."""
    streamed_bodies: Callable[[ServiceRuntime], Mapping[str, int]] = lambda _: {}
    """Path prefixes of POST routes that stream their body (uploads), with their own size
    limit; every other body is read whole, up to the section's ``max_body_bytes``."""
    migrations: Path | None = None
    dependencies: Callable[[ServiceRuntime], Any] = lambda _: None
    settings_cls: type[RuntimeSettings] = RuntimeSettings
    background: Callable[[ServiceRuntime], Sequence[Callable[[], Awaitable[None]]]] = lambda _: ()


class ServiceRuntime:
    """The running parts of one service: engine, store, broker, publisher, relay, metrics."""

    def __init__(
        self,
        definition: ServiceDefinition,
        settings: RuntimeSettings,
        *,
        store: ArtifactStore | None = None,
        engine: AsyncEngine | None = None,
        tracer_provider: TracerProvider | None = None,
    ) -> None:
        self.definition = definition
        self.name = definition.name
        self.settings = settings
        self.section = settings.section(definition.name)
        self.schema = schema_for(definition.name)
        self.metrics = Metrics(definition.name)
        # Given (tests), or built here from OTEL_EXPORTER_OTLP_* and shut down at stop.
        self._own_tracer_provider = None if tracer_provider else otlp_provider(self.name)
        self.tracer = ServiceTracer(self.name, tracer_provider or self._own_tracer_provider)
        self.engine = engine or build_engine(settings.database, self.schema)
        self.store = store or build_artifact_store(settings.storage)
        self.publisher = KafkaPublisher(settings.kafka, client_id=f"driftline-{self.name}")
        self.relay = OutboxRelay(
            self.engine,
            self.publisher,
            service=self.name,
            settings=settings.outbox,
            retry=settings.retry,
            metrics=self.metrics,
        )
        subscriptions = definition.subscriptions(self)
        # No key, no start (``start`` raises SigningNotConfiguredError), as with the audit
        # sink's digest key; an HTTP app built without starting (tests) may lack them.
        self.origin = event_origin(
            settings.signing, self.name, (t for sub in subscriptions for t in _types_of(sub))
        )
        self.deps = definition.dependencies(self)
        self.units = UnitOfWorkFactory(
            self.engine,
            service=self.name,
            deps=self.deps,
            on_commit=self.relay.notify,
            tracer=self.tracer,
            signer=self.origin.signer,
        )
        self.broker: KafkaBroker = build_broker(
            settings.kafka, self.name, graceful_timeout_s=self.section.graceful_timeout_s
        )
        self.processors = [
            EventProcessor(
                sub,
                service=self.name,
                units=self.units,
                dead_letters=DeadLetterPublisher(self.publisher, self.store),
                retry=settings.retry,
                metrics=self.metrics,
                tracer=self.tracer,
                origin=self.origin.verifier,
            )
            for sub in subscriptions
        ]
        for processor in self.processors:
            attach(
                self.broker, processor, service=self.name, kafka=settings.kafka,
                metrics=self.metrics,
            )  # fmt: skip
        self.started = asyncio.Event()
        self.process_jobs: list[Callable[[], Awaitable[None]]] = []
        """Background jobs for a service process of its own (``driftline serve``), not for a
        runtime a test starts in its process: they touch process-wide state."""
        self.startup_error: str | None = None
        self._relay_task: asyncio.Task[None] | None = None
        self._background: list[asyncio.Task[None]] = []
        self._stop_stage = "not stopping"

    async def _until_ok(
        self,
        step: str,
        action: Callable[[], Awaitable[Any]],
        undo: Callable[[], Awaitable[Any]] | None = None,
    ) -> None:
        """Run one start-up step until it succeeds; a try that fails or outlasts
        ``startup_step_timeout_s`` is undone (when it has an undo) and retried with back-off."""
        timeout_s = self.section.startup_step_timeout_s

        async def attempt() -> None:
            try:
                async with asyncio.timeout(timeout_s):
                    await action()
            except Exception as exc:
                failure = (
                    f"no answer within {timeout_s:g} s"
                    if isinstance(exc, TimeoutError)
                    else repr(exc)
                )
                self.startup_error = f"{step}: {failure}"
                log.warning("start-up step failed, retrying", step=step, error=failure)
                if undo is not None:
                    await self._undo(step, undo)
                raise

        await STARTUP.call(attempt, retry_on=is_failure)
        self.startup_error = None

    @staticmethod
    async def _undo(step: str, undo: Callable[[], Awaitable[Any]]) -> None:
        try:
            await undo()
        except Exception as exc:
            log.warning("start-up step not undone", step=step, error=repr(exc))

    async def _migrate(self) -> None:
        """Migrate the schema, as its owner when ``database.migration_url`` names one."""
        owner = build_migration_engine(self.settings.database, self.schema)
        try:
            await migrate(owner or self.engine, self.schema, self.definition.migrations)
        finally:
            if owner is not None:
                await owner.dispose()

    async def start(self) -> None:
        """Migrate, connect, start consumers and the relay; waits out unavailable dependencies.
        Refuses at once without the event-signing keys the service needs."""
        self.origin.require()
        await self._until_ok("migrate", self._migrate)
        await self._until_ok("s3", self.store.ensure_bucket)
        await self._until_ok("kafka-producer", self.publisher.start)  # cleans up after itself
        await self._until_ok("kafka-consumers", self.broker.start, self.broker.stop)
        self._relay_task = asyncio.create_task(self.relay.run(), name=f"{self.name}-outbox")
        jobs = [self.prune_outbox, *self.definition.background(self), *self.process_jobs]
        if self.settings.inbox.retention_days:
            jobs.append(self.prune_inbox)
        self._background = [
            asyncio.create_task(_awaited(job), name=f"{self.name}-{job.__name__}") for job in jobs
        ]
        self.started.set()
        if self.origin.disabled:
            log.warning("event signing disabled (DRIFTLINE_SIGNING__DISABLED): events are "
                        "neither signed nor checked; anyone who can write to a topic can make "
                        "a spec current or approve a model")  # fmt: skip
        log.info("service started", subscriptions=[p.consumer for p in self.processors])

    async def prune_outbox(self) -> None:
        """Delete published outbox rows past their retention, hourly (``table_retention``)."""
        await self._prune(outbox_retention(self.engine, self.settings.outbox.retention_days))

    async def prune_inbox(self) -> None:
        """Delete inbox rows past ``inbox.retention_days``, hourly (only when it is set)."""
        await self._prune(inbox_retention(self.engine, self.settings.inbox.retention_days))

    async def _prune(self, retention: TableRetention) -> None:
        policy = RetryPolicy("database", initial_s=1.0, max_s=60.0)
        job = BackgroundJob(f"{retention.table}-retention", retention.step, policy,
                            idle_s=PRUNE_EVERY_S, metrics=self.metrics)  # fmt: skip
        await job.run_forever()

    async def stop(self) -> None:
        """Within the grace period: finish in-flight events and background work (each job
        decides what finishing means; cancellation is the request), publish what the outbox
        holds; then close everything. A stop outliving the grace period logs what it waits on."""
        log.info("service stopping", events_in_flight=self.metrics.events_in_flight())
        deadline = time.monotonic() + self.section.graceful_timeout_s
        watch = asyncio.create_task(
            watch_stop(lambda: self._stop_stage, deadline), name=f"{self.name}-stop-watch"
        )
        try:
            await self._stop_within(deadline)
        finally:
            watch.cancel()
            await asyncio.wait({watch})  # ended, not just asked to (nothing is left running)
        log.info("service stopped")

    async def _stop_within(self, deadline: float) -> None:
        self._stop_stage = "consumers and background jobs"
        await asyncio.gather(self.broker.stop(), cancel_until_done(self._background, deadline))
        if self._relay_task is not None:
            self._stop_stage = "outbox relay"
            self.relay.stop()
            try:
                async with asyncio.timeout(max(1.0, deadline - time.monotonic())):
                    await self._relay_task
            except TimeoutError:
                log.warning("outbox not drained within the grace period; the next start will")
        self._stop_stage = "kafka producer"
        await self.publisher.stop()
        self._stop_stage = "database connections"
        await self.engine.dispose()
        self._stop_stage = "tracing"
        await asyncio.to_thread(shutdown_tracing, self._own_tracer_provider)  # flushes spans

    async def readiness(self, timeout_s: float = 3.0) -> dict[str, str | None]:
        """Each dependency → None when it answers, else the reason it does not."""
        checks: dict[str, Callable[[], Awaitable[Any]]] = {
            "kafka": self.publisher.ping,
            "postgres": lambda: ping_database(self.engine, timeout_s),
            "s3": self.store.ping,
        }

        async def run(check: Callable[[], Awaitable[Any]]) -> str | None:
            try:
                async with asyncio.timeout(timeout_s):
                    await check()
            except Exception as exc:
                return repr(exc) if str(exc) else type(exc).__name__
            return None

        results = await asyncio.gather(*(run(c) for c in checks.values()))
        return dict(zip(checks, results, strict=True))
