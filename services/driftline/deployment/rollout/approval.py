"""Approvals: load the version safely, then promote it, start its canary, or leave it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from driftline.deployment.deps import DeploymentDeps
from driftline.deployment.models.loading import UNLOADABLE, fetch_model
from driftline.deployment.records import Canary, Served
from driftline.deployment.rollout import events
from driftline.deployment.rollout.core import PromoteDirectly, Skip, StartCanary, plan_rollout
from driftline.deployment.rollout.postgres import PostgresRolloutRepository
from driftline.runtime.logging import get_logger
from driftline_contracts.events.registry import ModelApproved
from driftline_contracts.values import Reason

log = get_logger(__name__)


async def approve_version(
    event: ModelApproved,
    repo: PostgresRolloutRepository,
    deps: DeploymentDeps,
    event_id: str,
    cause: str | None = None,
) -> list[Any]:
    """Load an approved version; the events of what it changed (none if it cannot load)."""
    if await repo.has_version(event.model):
        return []
    try:
        loaded = await fetch_model(deps.store, event.artifact)
    except UNLOADABLE as exc:
        log.warning("model version refused", version=event.model.version, error=str(exc))
        await repo.record_version(event.model, event.artifact, event_id, error=str(exc)[:2000])
        return []
    deps.cache.put(event.model, loaded)
    await repo.record_version(event.model, event.artifact, event_id)
    deployment = await repo.deployment(event.model.name)
    rollout = plan_rollout(deployment, event.model, await repo.policy(event.model.name))
    served = Served(event.model, event.artifact)
    if isinstance(rollout, PromoteDirectly):
        await repo.set_champion(event.model)
        return [events.promoted_directly(served)]
    if isinstance(rollout, Skip):
        log.info("approved version not rolled out", reason=rollout.reason)
        return []
    assert deployment.champion is not None
    return await _start_canary(repo, rollout, served, deployment.champion, cause)


async def _start_canary(
    repo: PostgresRolloutRepository,
    rollout: StartCanary,
    challenger: Served,
    champion: Served,
    cause: str | None = None,
) -> list[Any]:
    now = datetime.now(UTC)
    emitted: list[Any] = []
    if rollout.supersedes is not None:
        old = rollout.supersedes
        await repo.update_canary(old.canary_id, status="superseded", ended_at=now)
        reason = Reason(
            code="superseded",
            message=f"version {challenger.model.version} was approved during the rollout",
        )
        emitted.append(events.rolled_back(old, None, [reason], now))
    canary = Canary(rollout.canary_id, challenger, champion, rollout.steps, 0, now, now)
    await repo.start_canary(
        canary.canary_id, challenger.model, champion.model, canary.steps, now, cause=cause
    )
    emitted.append(events.canary_started(canary))
    return emitted
