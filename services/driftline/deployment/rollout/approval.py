"""Approvals: load the version safely, then promote it, start its canary, or leave it."""

from __future__ import annotations

from datetime import UTC, datetime

from driftline.deployment.models.loading import UNLOADABLE
from driftline.deployment.records import Canary, Served
from driftline.deployment.rollout import events
from driftline.deployment.rollout.core import PromoteDirectly, Skip, StartCanary, plan_rollout
from driftline.deployment.rollout.ports import Emit, ModelLoader, Rollouts
from driftline.deployment.rollout.promotion import model_promoted, promote
from driftline.runtime.logging import get_logger
from driftline_contracts.events.registry import ModelApproved
from driftline_contracts.values import Reason

log = get_logger(__name__)


async def approve_version(
    event: ModelApproved, event_id: str, cause: str | None = None, *,
    rollouts: Rollouts, models: ModelLoader, emit: Emit,
) -> None:  # fmt: skip
    """Load an approved version and emit what it changed (nothing if it cannot load)."""
    if await rollouts.has_version(event.model):
        return
    try:
        await models.load(event.model, event.artifact)
    except UNLOADABLE as exc:
        log.warning("model version refused", version=event.model.version, error=str(exc))
        await rollouts.record_version(event.model, event.artifact, event_id, error=str(exc)[:2000])
        return
    await rollouts.record_version(event.model, event.artifact, event_id)
    deployment = await rollouts.deployment(event.model.name)
    rollout = plan_rollout(deployment, event.model, await rollouts.policy(event.model.name))
    served = Served(event.model, event.artifact)
    if isinstance(rollout, PromoteDirectly):
        await promote(rollouts, emit, model_promoted(served, "direct"))
    elif isinstance(rollout, Skip):
        log.info("approved version not rolled out", reason=rollout.reason)
    else:
        assert deployment.champion is not None
        await _start_canary(rollouts, emit, rollout, served, deployment.champion, cause)


async def _start_canary(
    rollouts: Rollouts, emit: Emit, rollout: StartCanary, challenger: Served,
    champion: Served, cause: str | None = None,
) -> None:  # fmt: skip
    now = datetime.now(UTC)
    if rollout.supersedes is not None:
        old = rollout.supersedes
        await rollouts.update_canary(old.canary_id, status="superseded", ended_at=now)
        reason = Reason(
            code="superseded",
            message=f"version {challenger.model.version} was approved during the rollout",
        )
        await emit(events.rolled_back(old, None, [reason], now))
    canary = Canary(rollout.canary_id, challenger, champion, rollout.steps, 0, now, now)
    await rollouts.start_canary(
        canary.canary_id, challenger.model, champion.model, canary.steps, now, cause=cause
    )
    await emit(events.canary_started(canary))
