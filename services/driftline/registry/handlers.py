"""Registry handlers: thin subscribers that call the registry workflows."""

from __future__ import annotations

from typing import Any

from driftline.registry.adapters.postgres import PostgresModelVersions, PostgresSpecHistory
from driftline.registry.alias_reads import RegistryDeps
from driftline.registry.models import Rollback
from driftline.registry.workflow import record_applied_spec, record_promotion, register_run
from driftline.runtime.consumer import Subscription
from driftline.runtime.logging import get_logger
from driftline.runtime.uow import EventUnit
from driftline_contracts.events.deployment import CanaryRolledBack, ModelPromoted
from driftline_contracts.events.spec import ModelSpecApplied
from driftline_contracts.events.training import ModelTrained

log = get_logger(__name__)


async def on_model_trained(event: ModelTrained, uow: EventUnit[RegistryDeps]) -> list[Any]:
    """Register the run as the next version and emit the gates' verdict."""
    outgoing = await register_run(
        event, uow.cause.actor, uow.cause.id,
        specs=PostgresSpecHistory(uow.session), versions=PostgresModelVersions(uow.session),
        correlation_id=uow.cause.correlationid,
    )  # fmt: skip
    if not outgoing:
        log.info("run already registered", run_id=event.run_id)
    return outgoing


async def on_model_spec_applied(event: ModelSpecApplied, uow: EventUnit[RegistryDeps]) -> None:
    """Keep specs published straight to Kafka; our own announcements are already stored."""
    if await record_applied_spec(event, uow.cause.actor, uow.cause.id,
                                 PostgresSpecHistory(uow.session)):  # fmt: skip
        log.info("spec recorded from the topic", spec_hash=event.spec_hash)


async def on_model_promoted(event: ModelPromoted, uow: EventUnit[RegistryDeps]) -> None:
    """Move the champion alias to the promoted version (previous to the one it replaced)."""
    previous = event.previous.version if event.previous else None
    moved = await record_promotion(
        event.model.name, event.model.version, previous, PostgresModelVersions(uow.session)
    )
    log.info("aliases moved", aliases=moved)


async def on_canary_rolled_back(event: CanaryRolledBack, uow: EventUnit[RegistryDeps]) -> None:
    """Record that a version's canary was rolled back."""
    rollback = Rollback(
        version=event.model.version, canary_id=event.canary_id, step=event.step,
        traffic_percent=event.traffic_percent, verdict=event.verdict, reasons=event.reasons,
    )  # fmt: skip
    await PostgresModelVersions(uow.session).add_rollback(event.model.name, rollback)


BACKLOG_BATCH = 100
"""Records of one poll handled in one transaction: every registry effect is in PostgreSQL."""


def subscriptions(_: object) -> list[Subscription]:
    """What the registry consumes."""
    return [
        Subscription(on_model_trained, batch_size=BACKLOG_BATCH),
        Subscription(on_model_spec_applied, batch_size=BACKLOG_BATCH),
        Subscription(on_model_promoted, batch_size=BACKLOG_BATCH),
        Subscription(on_canary_rolled_back, batch_size=BACKLOG_BATCH),
    ]
