"""The canary job: judge each active rollout's live step, then advance, promote or roll back.

``judge_rollout`` is the workflow, over rollout's ports; ``judge_canaries_forever`` runs it
for every active rollout each interval, with the PostgreSQL adapters of one transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from driftline.deployment.prediction_log.postgres import PostgresPredictionLog
from driftline.deployment.records import Canary
from driftline.deployment.rollout import events
from driftline.deployment.rollout.core import StepAction, decide_step, step_ready
from driftline.deployment.rollout.judge.reports import JudgeReport
from driftline.deployment.rollout.judge.window import is_drift_retrain, judge_rows
from driftline.deployment.rollout.ports import CanaryTraffic, Emit, Rollouts, ShadowAnswers
from driftline.deployment.rollout.postgres import PostgresRolloutRepository
from driftline.deployment.rollout.promotion import model_promoted, promote
from driftline.deployment.settings import DeploymentSection
from driftline.deployment.shadow.compare import judge_pairs
from driftline.deployment.shadow.postgres import PostgresShadowLog
from driftline.runtime.background import BackgroundJob
from driftline.runtime.logging import get_logger
from driftline.runtime.metrics import Metrics
from driftline.runtime.retry import RetryPolicy
from driftline.runtime.uow import UnitOfWorkFactory
from driftline_contracts.envelope import Envelope
from driftline_contracts.values import Reason

log = get_logger(__name__)


async def _judge_shadow_step(
    canary: Canary, section: DeploymentSection, now: datetime, drift_retrain: bool,
    rollouts: Rollouts, shadows: ShadowAnswers,
) -> JudgeReport | None:  # fmt: skip
    """The shadow step's report once enough mirrored requests were answered (else None)."""
    if not step_ready(canary, await shadows.count(canary.canary_id, canary.step_started_at), now):
        return None
    policy = await rollouts.policy(canary.challenger.model.name)
    pairs = await shadows.pairs(canary.canary_id, canary.step_started_at)
    report, found = judge_pairs(pairs, section, policy.shadow_min_agreement, policy, drift_retrain)
    summary = {"agreement": found.model_dump(mode="json"), "report": _dump(report)}
    await rollouts.update_canary(
        canary.canary_id, shadow_report={**summary, "judged_at": now.isoformat()}
    )
    return report


async def judge_rollout(
    canary_id: str, section: DeploymentSection, *, rollouts: Rollouts, traffic: CanaryTraffic,
    shadows: ShadowAnswers, emit: Emit, drift_retrain: bool = False,
) -> StepAction | None:  # fmt: skip
    """Judge one rollout if its step is ready; what was done (None: not ready or busy)."""
    canary = await rollouts.lock_canary(canary_id)
    now = datetime.now(UTC)
    if canary is None:
        return None
    if canary.current.shadow:
        report = await _judge_shadow_step(canary, section, now, drift_retrain, rollouts, shadows)
        if report is None:
            return None
    else:
        since = canary.step_started_at
        if not step_ready(canary, await traffic.canary_requests(canary_id, since), now):
            return None
        if canary.current.traffic_percent >= 100.0:  # nothing left to compare against
            await _promote(rollouts, emit, canary, None, now)
            return "promote"
        policy = await rollouts.policy(canary.challenger.model.name)
        report = judge_rows(await traffic.window(canary_id, since), section, policy, drift_retrain)
    action = decide_step(canary, report.verdict, now, section.canary_step_timeout_s)
    if action == "advance":
        await rollouts.update_canary(
            canary_id, step=canary.step + 1, step_started_at=now, last_report=_dump(report)
        )
        await emit(events.step_advanced(canary, report, now))
    elif action == "promote":
        await _promote(rollouts, emit, canary, report, now)
    elif action == "roll_back":
        await _roll_back(rollouts, emit, canary, report, now)
    else:
        await rollouts.update_canary(canary_id, last_report=_dump(report))
    log.info("canary judged", canary_id=canary_id, verdict=report.verdict, action=action)
    return action


def _dump(report: JudgeReport) -> dict[str, Any]:
    return report.model_dump(mode="json")


async def _promote(
    rollouts: Rollouts, emit: Emit, canary: Canary, report: JudgeReport | None, now: datetime
) -> None:
    event = model_promoted(canary.challenger, "canary", canary=canary, report=report)
    last = _dump(report) if report is not None else None
    await promote(rollouts, emit, event, ended_at=now, last_report=last)


async def _roll_back(
    rollouts: Rollouts, emit: Emit, canary: Canary, report: JudgeReport, now: datetime
) -> None:
    reasons = report.reasons() or [
        Reason(code="inconclusive", message=f"still marginal (score {report.score:.0f}) at timeout")
    ]
    await rollouts.update_canary(
        canary.canary_id, status="rolled_back", ended_at=now, last_report=_dump(report)
    )
    await emit(events.rolled_back(canary, report, reasons, now))


async def judge_canaries_forever(
    units: UnitOfWorkFactory[Any], section: DeploymentSection, metrics: Metrics | None = None
) -> None:
    """Judge every active rollout each interval until cancelled; an outage is waited out, a
    bug is logged with its traceback and counted (``BackgroundJob``)."""

    async def judge_round() -> bool:
        async with units() as uow:
            active = await PostgresRolloutRepository(uow.session).active_canaries()
        for canary_id, cause in active:
            # The approval that started the rollout causes its steps, promotion or rollback.
            envelope = Envelope.model_validate_json(cause) if cause else None
            async with units(cause=envelope) as uow:
                await judge_rollout(
                    canary_id, section, rollouts=PostgresRolloutRepository(uow.session),
                    traffic=PostgresPredictionLog(uow.session),
                    shadows=PostgresShadowLog(uow.session), emit=uow.emit,
                    drift_retrain=is_drift_retrain(envelope),
                )  # fmt: skip
        return False  # a round judges every rollout; the next waits out the interval

    policy = RetryPolicy("database", initial_s=1.0, max_s=section.judge_interval_s)
    job = BackgroundJob(
        "canary-judge", judge_round, policy, idle_s=section.judge_interval_s, metrics=metrics
    )
    await job.run_forever()
