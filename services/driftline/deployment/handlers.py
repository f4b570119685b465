"""Deployment handlers: remember canary policies, roll out approved versions, score batches."""

from __future__ import annotations

from pydantic import ValidationError

from driftline.deployment.deps import DeploymentDeps
from driftline.deployment.rollout.approval import approve_version
from driftline.deployment.rollout.postgres import PostgresRolloutRepository
from driftline.deployment.scoring.batch import score_batch
from driftline.runtime.consumer import Subscription
from driftline.runtime.logging import get_logger
from driftline.runtime.uow import EventUnit
from driftline_contracts.events.deployment import (
    BatchScored,
    BatchScoringFailed,
    BatchScoringRequested,
)
from driftline_contracts.events.registry import ModelApproved
from driftline_contracts.events.spec import ModelSpecApplied
from driftline_contracts.modelspec import CanaryPolicy, MicroBatching

log = get_logger(__name__)


async def on_model_spec_applied(event: ModelSpecApplied, uow: EventUnit[DeploymentDeps]) -> None:
    """Keep the model's canary policy (the default one when the spec sets none) and its
    micro-batching option (off unless the spec turns it on)."""
    serving = event.spec.get("serving")
    try:
        policy = CanaryPolicy.model_validate(event.spec.get("canary") or {})
        batching = MicroBatching.model_validate(
            (serving.get("micro_batching") if isinstance(serving, dict) else None) or {}
        )
    except ValidationError as exc:
        log.warning("serving policy ignored, previous one kept", model=event.model, error=str(exc))
        return
    repository = PostgresRolloutRepository(uow.session)
    await repository.save_policy(event.model, policy, batching if batching.enabled else None)


async def on_model_approved(event: ModelApproved, uow: EventUnit[DeploymentDeps]) -> None:
    """Load the approved version; promote it, start its canary, or record why it cannot load."""
    deps = uow.deps
    await approve_version(
        event, uow.cause.id, uow.cause.model_dump_json(),
        rollouts=PostgresRolloutRepository(uow.session), models=deps.cache, emit=uow.emit,
    )  # fmt: skip


async def on_batch_scoring_requested(
    event: BatchScoringRequested, uow: EventUnit[DeploymentDeps]
) -> BatchScored | BatchScoringFailed:
    """Score the dataset object with the routed version; the file's event or why it failed."""
    return await score_batch(event, PostgresRolloutRepository(uow.session), uow.deps)


def subscriptions(_: object) -> list[Subscription]:
    """What the deployment service consumes."""
    return [
        Subscription(on_model_spec_applied),
        Subscription(on_model_approved),
        Subscription(on_batch_scoring_requested),
    ]
