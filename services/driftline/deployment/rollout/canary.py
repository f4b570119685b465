"""The canary job: judge each active rollout's live step, then advance, promote or roll back."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from driftline.deployment.prediction_log.postgres import LoggedRow, PostgresPredictionLog
from driftline.deployment.records import Canary
from driftline.deployment.rollout import events
from driftline.deployment.rollout.core import decide_step, step_ready
from driftline.deployment.rollout.judge.rule import JudgeReport, judge_canary
from driftline.deployment.rollout.judge.window import is_drift_retrain, judge_config, sample
from driftline.deployment.rollout.postgres import PostgresRolloutRepository
from driftline.deployment.settings import DeploymentSection
from driftline.deployment.shadow.compare import Agreement, agreement, judge_shadow
from driftline.deployment.shadow.postgres import PostgresShadowLog
from driftline.runtime.logging import get_logger
from driftline.runtime.uow import UnitOfWork, UnitOfWorkFactory
from driftline_contracts.envelope import Envelope
from driftline_contracts.modelspec import CanaryPolicy
from driftline_contracts.values import Reason

log = get_logger(__name__)


def judge_rows(
    rows: Sequence[LoggedRow],
    section: DeploymentSection,
    policy: CanaryPolicy | None = None,
    drift_retrain: bool = False,
) -> JudgeReport:
    """Judge the canary's rows against the champion's from the same window."""
    config = judge_config(rows, section, policy, drift_retrain)
    kind = config.prediction_kind
    return judge_canary(sample(rows, "champion", kind), sample(rows, "canary", kind), config)


def shadow_agreement(pairs: Sequence[tuple[LoggedRow, LoggedRow]], kind: str) -> Agreement:
    """Agreement over the pairs both variants answered without error."""
    both = [(c, s) for c, s in pairs if c.error is None and s.error is None]
    return agreement(
        [c.prediction for c, _ in both],
        [s.prediction for _, s in both],
        "classes" if kind == "classes" else "scores",
    )


def judge_pairs(
    pairs: Sequence[tuple[LoggedRow, LoggedRow]],
    section: DeploymentSection,
    min_agreement: float | None,
    policy: CanaryPolicy | None = None,
    drift_retrain: bool = False,
) -> tuple[JudgeReport, Agreement]:
    """Judge the shadow's answers against the champion's on exactly the mirrored requests."""
    rows = [row for pair in pairs for row in pair]
    config = judge_config(rows, section, policy, drift_retrain)
    kind = config.prediction_kind
    found = shadow_agreement(pairs, kind)
    champion, shadow = sample(rows, "champion", kind), sample(rows, "shadow", kind)
    return judge_shadow(champion, shadow, found, config, min_agreement), found


async def _judge_shadow_step(
    uow: UnitOfWork, canary: Canary, section: DeploymentSection, now: datetime
) -> JudgeReport | None:
    """The shadow step's report once enough mirrored requests were answered (else None)."""
    shadows = PostgresShadowLog(uow.session)
    if not step_ready(canary, await shadows.count(canary.canary_id, canary.step_started_at), now):
        return None
    policy = await PostgresRolloutRepository(uow.session).policy(canary.challenger.model.name)
    pairs = await shadows.pairs(canary.canary_id, canary.step_started_at)
    report, found = judge_pairs(
        pairs, section, policy.shadow_min_agreement, policy, is_drift_retrain(uow.cause)
    )
    summary = {"agreement": found.model_dump(mode="json"), "report": _dump(report)}
    await PostgresRolloutRepository(uow.session).update_canary(
        canary.canary_id, shadow_report={**summary, "judged_at": now.isoformat()}
    )
    return report


async def judge_rollout(uow: UnitOfWork, canary_id: str, section: DeploymentSection) -> str | None:
    """Judge one rollout if its step is ready; what was done (None: not ready or busy)."""
    rollouts, logs = PostgresRolloutRepository(uow.session), PostgresPredictionLog(uow.session)
    canary = await rollouts.lock_canary(canary_id)
    now = datetime.now(UTC)
    if canary is None:
        return None
    if canary.current.shadow:
        report = await _judge_shadow_step(uow, canary, section, now)
        if report is None:
            return None
    else:
        if not step_ready(
            canary, await logs.canary_requests(canary_id, canary.step_started_at), now
        ):
            return None
        if canary.current.traffic_percent >= 100.0:  # nothing left to compare against
            await _promote(uow, rollouts, canary, None, now)
            return "promote"
        report = judge_rows(
            await logs.window(canary_id, canary.step_started_at),
            section,
            await rollouts.policy(canary.challenger.model.name),
            is_drift_retrain(uow.cause),
        )
    action = decide_step(canary, report.verdict, now, section.canary_step_timeout_s)
    if action == "advance":
        await rollouts.update_canary(
            canary_id, step=canary.step + 1, step_started_at=now, last_report=_dump(report)
        )
        await uow.emit(events.step_advanced(canary, report, now))
    elif action == "promote":
        await _promote(uow, rollouts, canary, report, now)
    elif action == "roll_back":
        await _roll_back(uow, rollouts, canary, report, now)
    else:
        await rollouts.update_canary(canary_id, last_report=_dump(report))
    log.info("canary judged", canary_id=canary_id, verdict=report.verdict, action=action)
    return action


def _dump(report: JudgeReport) -> dict[str, Any]:
    return report.model_dump(mode="json")


async def _promote(
    uow: UnitOfWork,
    rollouts: PostgresRolloutRepository,
    canary: Canary,
    report: JudgeReport | None,
    now: datetime,
) -> None:
    await rollouts.set_champion(canary.challenger.model)
    last = _dump(report) if report is not None else None
    await rollouts.update_canary(
        canary.canary_id, status="promoted", ended_at=now, last_report=last
    )
    await uow.emit(events.promoted_after_canary(canary, report))


async def _roll_back(
    uow: UnitOfWork,
    rollouts: PostgresRolloutRepository,
    canary: Canary,
    report: JudgeReport,
    now: datetime,
) -> None:
    reasons = report.reasons() or [
        Reason(code="inconclusive", message=f"still marginal (score {report.score:.0f}) at timeout")
    ]
    await rollouts.update_canary(
        canary.canary_id, status="rolled_back", ended_at=now, last_report=_dump(report)
    )
    await uow.emit(events.rolled_back(canary, report, reasons, now))


async def judge_canaries_forever(units: UnitOfWorkFactory, section: DeploymentSection) -> None:
    """Judge every active rollout each interval until cancelled; failures retry next round."""
    while True:
        try:
            async with units() as uow:
                active = await PostgresRolloutRepository(uow.session).active_canaries()
            for canary_id, cause in active:
                # The approval that started the rollout causes its steps, promotion or rollback.
                envelope = Envelope.model_validate_json(cause) if cause else None
                async with units(cause=envelope) as uow:
                    await judge_rollout(uow, canary_id, section)
        except Exception as exc:  # an outage must not end the job; it retries next round
            log.warning("canary judging failed, retrying", error=repr(exc))
        await asyncio.sleep(section.judge_interval_s)
