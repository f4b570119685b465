"""Rollout events (started, advanced, rolled back), built from records and judge reports.

``ModelPromoted`` is built in ``promotion.py``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from driftline.deployment.records import Canary
from driftline.deployment.rollout.judge.rule import JudgeReport
from driftline_contracts.events.deployment import (
    CanaryRolledBack,
    CanaryStarted,
    CanaryStepAdvanced,
)
from driftline_contracts.values import Reason, TimeWindow


def window(start: datetime, end: datetime) -> TimeWindow:
    """A window from ``start`` to ``end`` (at least a millisecond long)."""
    return TimeWindow(start=start, end=max(end, start + timedelta(milliseconds=1)))


def canary_started(canary: Canary) -> CanaryStarted:
    """A rollout began on its first step."""
    return CanaryStarted(
        model=canary.challenger.model,
        champion=canary.champion.model,
        canary_id=canary.canary_id,
        artifact=canary.challenger.artifact,
        steps=list(canary.steps),
    )


def step_advanced(canary: Canary, report: JudgeReport, now: datetime) -> CanaryStepAdvanced:
    """``canary`` (still at its judged step) passed and moves to the next one."""
    return CanaryStepAdvanced(
        model=canary.challenger.model,
        champion=canary.champion.model,
        canary_id=canary.canary_id,
        step=canary.step + 1,
        traffic_percent=canary.steps[canary.step + 1].traffic_percent,
        previous_traffic_percent=canary.current.traffic_percent,
        verdict="pass",
        results=report.results(),
        window=window(canary.step_started_at, now),
        drift_retrain=report.drift_retrain,
    )


def rolled_back(
    canary: Canary, report: JudgeReport | None, reasons: list[Reason], now: datetime
) -> CanaryRolledBack:
    """The rollout ended without promotion; every request goes to the champion again."""
    failed = report is not None and report.verdict == "fail"
    return CanaryRolledBack(
        model=canary.challenger.model,
        champion=canary.champion.model,
        canary_id=canary.canary_id,
        step=canary.step,
        traffic_percent=canary.current.traffic_percent,
        verdict="fail" if failed else "inconclusive",
        results=report.results() if report is not None else [],
        reasons=reasons,
        window=window(canary.step_started_at, now),
        drift_retrain=report.drift_retrain if report is not None else None,
    )
