"""Promotion, in one place: how ``ModelPromoted`` is built and the one path that sends it.

Four ways lead here: the first servable version (``direct``), a canary that passed its last
step (``canary``), an operator's ``POST /v1/models/{name}/promote`` of the running challenger
and ``POST /v1/models/{name}/versions/{version}/promote`` of any version that loaded before —
a roll back to an earlier champion or a re-promotion, with a reason (both ``manual``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from driftline.deployment.errors import NoChallengerError, UnknownModelError, UnknownVersionError
from driftline.deployment.records import Canary, Served
from driftline.deployment.rollout.judge.reports import JudgeReport
from driftline.deployment.rollout.ports import Emit, Rollouts
from driftline_contracts.events.deployment import ModelPromoted
from driftline_contracts.values import ModelRef

Via = Literal["direct", "canary", "manual"]


def model_promoted(
    new: Served, via: Via, *, canary: Canary | None = None,
    report: JudgeReport | None = None, promoted_by: str | None = None,
    previous: ModelRef | None = None, reason: str | None = None,
) -> ModelPromoted:  # fmt: skip
    """The event: the new champion, the one it replaced and the judge's last results, if any."""
    return ModelPromoted(
        model=new.model,
        previous=canary.champion.model if canary is not None else previous,
        via=via,
        canary_id=canary.canary_id if canary is not None else None,
        artifact=new.artifact,
        results=report.results() if report is not None else [],
        promoted_by=promoted_by,
        reason=reason,
    )


async def promote(rollouts: Rollouts, emit: Emit, event: ModelPromoted, **ended: Any) -> None:
    """Make the event's model champion, end its rollout (``ended``: the rollout's final
    columns) and send the event: every promotion goes this way."""
    await rollouts.set_champion(event.model)
    if event.canary_id is not None:
        await rollouts.update_canary(event.canary_id, status="promoted", **ended)
    await emit(event)


async def promote_challenger(
    name: str, actor: str, expected_version: int | None = None, *, rollouts: Rollouts, emit: Emit
) -> ModelPromoted:
    """An operator ends the model's rollout by promoting its challenger at once (``manual``)."""
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
    report = JudgeReport.model_validate(last) if last else None
    event = model_promoted(canary.challenger, "manual", canary=canary, report=report,
                           promoted_by=actor)  # fmt: skip
    await promote(rollouts, emit, event, ended_at=datetime.now(UTC))
    return event


async def promote_version(
    model: ModelRef, actor: str, reason: str, *, rollouts: Rollouts, emit: Emit
) -> ModelPromoted:
    """An operator puts a version that loaded before back in production at once (``manual``,
    with a reason): a roll back to an earlier champion or a re-promotion. Refused while a
    rollout runs (promote or let the canary finish first) and for the serving version."""
    if await rollouts.lock_active(model.name) is not None:
        raise NoChallengerError(
            f"model {model.name!r} has a rollout running: promote its challenger or let the "
            "canary finish before promoting another version"
        )
    champion = (await rollouts.deployment(model.name)).champion
    if champion is None:
        raise UnknownModelError(model.name)
    if champion.model.version == model.version:
        raise NoChallengerError(f"version {model.version} of {model.name!r} is already serving")
    served = await rollouts.servable(model)
    if served is None:
        raise UnknownVersionError(
            f"version {model.version} of {model.name!r} never loaded here (not approved, or "
            "refused by the safe loader)"
        )
    event = model_promoted(served, "manual", promoted_by=actor, previous=champion.model,
                           reason=reason)  # fmt: skip
    await promote(rollouts, emit, event)
    return event
