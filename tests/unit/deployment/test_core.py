"""Rollout decisions: first version direct, later ones canaried, steps judged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from driftline.deployment.records import Canary, Deployment, Served
from driftline.deployment.rollout.core import (
    PromoteDirectly,
    Skip,
    StartCanary,
    canary_steps,
    decide_step,
    plan_rollout,
    step_ready,
)
from driftline_contracts.modelspec import CanaryPolicy
from driftline_contracts.values import ArtifactRef, ModelRef

T0 = datetime(2025, 1, 6, tzinfo=UTC)
ART = ArtifactRef(uri="s3://b/m.skops", sha256="a" * 64, media_type="application/x", size_bytes=1)


def _served(version: int) -> Served:
    return Served(ModelRef(name="m", version=version), ART)


def _canary(step: int = 0, percents: tuple[float, ...] = (5, 25, 50, 100)) -> Canary:
    steps = canary_steps(CanaryPolicy(steps=list(percents), min_requests=50, min_duration_s=60))
    return Canary("canary-1", _served(2), _served(1), steps, step, T0, T0)


def test_the_first_version_is_promoted_directly() -> None:
    rollout = plan_rollout(Deployment("m", None), ModelRef(name="m", version=1), CanaryPolicy())
    assert isinstance(rollout, PromoteDirectly)


def test_a_later_version_starts_a_canary_with_the_policy_steps() -> None:
    policy = CanaryPolicy(steps=[10, 50], min_requests=7, min_duration_s=3)
    rollout = plan_rollout(Deployment("m", _served(1)), ModelRef(name="m", version=2), policy)
    assert isinstance(rollout, StartCanary)
    assert [s.traffic_percent for s in rollout.steps] == [10, 50, 100]
    assert {(s.min_requests, s.min_duration_s) for s in rollout.steps} == {(7, 3)}


def test_the_default_plan_is_5_25_50_100() -> None:
    assert [s.traffic_percent for s in canary_steps(CanaryPolicy())] == [5, 25, 50, 100]


def test_an_older_version_changes_nothing() -> None:
    rollout = plan_rollout(
        Deployment("m", _served(3)), ModelRef(name="m", version=2), CanaryPolicy()
    )
    assert isinstance(rollout, Skip)


def test_a_newer_version_supersedes_a_running_canary() -> None:
    running = _canary()
    deployment = Deployment("m", _served(1), running)
    rollout = plan_rollout(deployment, ModelRef(name="m", version=3), CanaryPolicy())
    assert isinstance(rollout, StartCanary)
    assert rollout.supersedes == running


def test_a_step_needs_requests_and_time() -> None:
    canary = _canary()
    assert not step_ready(canary, 49, T0 + timedelta(seconds=120))
    assert not step_ready(canary, 50, T0 + timedelta(seconds=59))
    assert step_ready(canary, 50, T0 + timedelta(seconds=60))


def test_pass_advances_until_the_step_before_100_then_promotes() -> None:
    assert decide_step(_canary(0), "pass", T0, 3600) == "advance"
    assert decide_step(_canary(1), "pass", T0, 3600) == "advance"
    assert decide_step(_canary(2), "pass", T0, 3600) == "promote"


def test_fail_rolls_back_and_marginal_holds_until_the_timeout() -> None:
    assert decide_step(_canary(1), "fail", T0, 3600) == "roll_back"
    assert decide_step(_canary(1), "marginal", T0 + timedelta(seconds=10), 3600) == "hold"
    assert decide_step(_canary(1), "marginal", T0 + timedelta(hours=2), 3600) == "roll_back"
