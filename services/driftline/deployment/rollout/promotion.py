"""Manual promotion: an operator makes the running challenger champion at once."""

from __future__ import annotations

from datetime import UTC, datetime

from driftline.deployment.errors import NoChallengerError, UnknownModelError
from driftline.deployment.rollout.judge.rule import JudgeReport
from driftline.deployment.rollout.postgres import PostgresRolloutRepository
from driftline.runtime.uow import UnitOfWork
from driftline_contracts.events.deployment import ModelPromoted


async def promote_challenger(
    uow: UnitOfWork, name: str, actor: str, expected_version: int | None = None
) -> ModelPromoted:
    """End the model's rollout by promoting its challenger; emits ``ModelPromoted(manual)``."""
    rollouts = PostgresRolloutRepository(uow.session)
    canary = await rollouts.lock_active(name)
    if canary is None:
        if (await rollouts.deployment(name)).champion is None:
            raise UnknownModelError(name)
        raise NoChallengerError(f"model {name!r} has no running canary or shadow to promote")
    version = canary.challenger.model.version
    if expected_version is not None and expected_version != version:
        raise NoChallengerError(
            f"the running challenger is version {version}, not {expected_version}"
        )
    last = await rollouts.last_report(canary.canary_id)
    now = datetime.now(UTC)
    await rollouts.set_champion(canary.challenger.model)
    await rollouts.update_canary(canary.canary_id, status="promoted", ended_at=now)
    event = ModelPromoted(
        model=canary.challenger.model,
        previous=canary.champion.model,
        via="manual",
        canary_id=canary.canary_id,
        artifact=canary.challenger.artifact,
        results=JudgeReport.model_validate(last).results() if last else [],
        promoted_by=actor,
    )
    await uow.emit(event, actor=actor)
    return event
