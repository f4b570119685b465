"""Rollout decisions: promote the first version, canary the next, advance or roll back steps.

Pure functions of records and verdicts; the workflow stores what they decide.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from driftline.deployment.records import Canary, Deployment
from driftline_contracts.modelspec import CanaryPolicy
from driftline_contracts.values import CanaryStep, ModelRef


@dataclass(frozen=True)
class PromoteDirectly:
    """No champion yet: the approved version serves all traffic at once."""


@dataclass(frozen=True)
class StartCanary:
    """A champion serves: the approved version starts on the first step of the plan."""

    canary_id: str
    steps: tuple[CanaryStep, ...]
    supersedes: Canary | None


@dataclass(frozen=True)
class Skip:
    """The version is not newer than what already serves; nothing changes."""

    reason: str


Rollout = PromoteDirectly | StartCanary | Skip
StepAction = Literal["advance", "promote", "roll_back", "hold"]


def canary_steps(policy: CanaryPolicy) -> tuple[CanaryStep, ...]:
    """The plan: a shadow step first if the policy asks, then increasing shares up to 100."""
    percents = sorted({min(max(p, 0.01), 100.0) for p in policy.steps})
    if percents[-1] < 100.0:
        percents.append(100.0)
    shadow = [(100.0, True)] if policy.shadow else []
    return tuple(
        CanaryStep(
            traffic_percent=p,
            min_duration_s=policy.min_duration_s,
            min_requests=policy.min_requests,
            shadow=mirrored,
        )
        for p, mirrored in [*shadow, *((p, False) for p in percents)]
    )


def live_percent(step: CanaryStep) -> float:
    """Share of answers the canary serves on ``step``: none on a shadow step."""
    return 0.0 if step.shadow else step.traffic_percent


def plan_rollout(deployment: Deployment, candidate: ModelRef, policy: CanaryPolicy) -> Rollout:
    """What an approved version does: become champion, start a canary, or nothing."""
    if deployment.champion is None:
        return PromoteDirectly()
    if candidate.version <= deployment.champion.model.version:
        return Skip(f"version {candidate.version} is not newer than the champion")
    canary = deployment.canary
    if canary is not None and candidate.version <= canary.challenger.model.version:
        return Skip(f"version {candidate.version} is not newer than the running canary")
    return StartCanary(
        canary_id=f"canary-{uuid.uuid4().hex[:16]}",
        steps=canary_steps(policy),
        supersedes=canary,
    )


def step_ready(canary: Canary, canary_requests: int, now: datetime) -> bool:
    """Whether the live step has seen enough canary requests and time to be judged."""
    step = canary.current
    elapsed = (now - canary.step_started_at).total_seconds()
    return canary_requests >= step.min_requests and elapsed >= step.min_duration_s


def decide_step(
    canary: Canary,
    verdict: Literal["pass", "marginal", "fail"],
    now: datetime,
    timeout_s: float,
) -> StepAction:
    """After judging the live step: advance, promote at the last step, roll back or hold."""
    if verdict == "fail":
        return "roll_back"
    if verdict == "marginal":
        elapsed = (now - canary.step_started_at).total_seconds()
        return "roll_back" if elapsed >= timeout_s else "hold"
    following = canary.step + 1
    if following >= len(canary.steps) or live_percent(canary.steps[following]) >= 100.0:
        return "promote"
    return "advance"
