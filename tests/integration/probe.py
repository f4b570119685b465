"""A throw-away service built on the real runtime, for journey tests of the plumbing."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import Column, MetaData, String, Table, insert, select

from driftline.runtime.consumer import Subscription
from driftline.runtime.service import ServiceDefinition, ServiceRuntime
from driftline.runtime.settings import RetrySettings, RuntimeSettings
from driftline.runtime.uow import UnitOfWork
from driftline_contracts.events.data import DataArrived, DataValidated
from driftline_contracts.values import ArtifactRef, DatasetRef

effects = Table(
    "effects",
    MetaData(),
    Column("event_id", String),
    Column("dataset", String),
    Column("ce_type", String),
    Column("source", String),
    Column("actor", String),
    Column("correlation_id", String),
    Column("subject", String),
)
Behaviour = Callable[[DataArrived], Awaitable[None]]
PROFILE = ArtifactRef(
    uri="s3://driftline/profiles/p.json",
    sha256="0" * 64,
    media_type="application/json",
    size_bytes=2,
)


class Probe:
    """Records every DataArrived it handles; ``behaviour`` may raise to simulate failures."""

    def __init__(
        self, settings: RuntimeSettings, name: str | None = None, *, batch_size: int = 1
    ) -> None:
        self.name = name or "probe_" + uuid.uuid4().hex[:8]
        self.behaviour: Behaviour | None = None
        fast_retry = RetrySettings(max_attempts=3, initial_backoff_s=0.05, max_backoff_s=0.5)
        definition = ServiceDefinition(
            name=self.name,
            subscriptions=lambda _: [
                Subscription(DataArrived, self.on_data_arrived, batch_size=batch_size)
            ],
            migrations=Path(__file__).parent / "probe_migrations",
        )
        self.runtime = ServiceRuntime(definition, settings.model_copy(update={"retry": fast_retry}))

    @classmethod
    def reopen(cls, previous: Probe, settings: RuntimeSettings) -> Probe:
        """The same service (schema, consumer groups) in a new process-like runtime."""
        return cls(settings, name=previous.name)

    async def on_data_arrived(self, event: DataArrived, uow: UnitOfWork) -> DataValidated | None:
        """Apply the effect, then emit DataValidated for datasets named ``emit-*``."""
        if self.behaviour is not None:
            await self.behaviour(event)
        cause = uow.cause
        assert cause is not None
        await uow.session.execute(
            insert(effects).values(
                event_id=cause.id,
                dataset=event.dataset.name,
                ce_type=cause.type,
                source=cause.source,
                actor=cause.actor,
                correlation_id=cause.correlationid,
                subject=cause.subject,
            )
        )
        if not event.dataset.name.startswith("emit-"):
            return None
        accepted = event.dataset.model_copy(update={"version": 1})
        return DataValidated(dataset=accepted, profile=PROFILE, models=[], checks_run=0)

    async def effects_for(self, dataset: str) -> list[dict[str, str]]:
        """Every effect row recorded for ``dataset``."""
        async with self.runtime.units() as uow:
            rows = await uow.session.execute(select(effects).where(effects.c.dataset == dataset))
        return [dict(r._mapping) for r in rows]

    async def wait_for(self, dataset: str, *, count: int = 1, timeout_s: float = 60) -> list[dict]:
        """Poll until ``dataset`` has ``count`` effects (fails the test on timeout)."""
        async with asyncio.timeout(timeout_s):
            while len(rows := await self.effects_for(dataset)) < count:  # noqa: ASYNC110
                await asyncio.sleep(0.2)  # polling PostgreSQL: there is no event to wait on
        return rows


def arrival(name: str, seed: int = 0) -> DataArrived:
    """A valid DataArrived for dataset ``name``."""
    digest = f"{seed:064x}"
    return DataArrived(
        dataset=DatasetRef(
            name=name, uri=f"s3://driftline/datasets/{name}.csv", sha256=digest, format="csv"
        )
    )
