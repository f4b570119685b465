"""Shadow mode, pure parts: the plan, agreement, the shadow verdict, the mirror queue."""

from __future__ import annotations

import asyncio

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.linear_model import LinearRegression

from driftline.deployment.models.loading import LoadedModel
from driftline.deployment.prediction_log.rows import LoggedRow
from driftline.deployment.prediction_log.sender import prediction_row
from driftline.deployment.records import Canary, Served
from driftline.deployment.rollout.core import canary_steps, decide_step, live_percent
from driftline.deployment.rollout.judge.rule import JudgeConfig, Sample
from driftline.deployment.serving.routing import choose_variant
from driftline.deployment.settings import DeploymentSection
from driftline.deployment.shadow.compare import (
    agreement,
    agreement_check,
    judge_pairs,
    judge_shadow,
)
from driftline.deployment.shadow.mirror import Mirrored, ShadowMirror, score_copy, shadow_rows
from driftline_contracts.modelspec import CanaryPolicy
from driftline_contracts.values import ArtifactRef, ModelRef
from tests.unit.deployment.test_core import T0

ART = ArtifactRef(uri="s3://b/m.skops", sha256="a" * 64, media_type="application/x", size_bytes=1)
CONFIG = JudgeConfig()


def _canary(step: int, policy: CanaryPolicy) -> Canary:
    served = [Served(ModelRef(name="m", version=v), ART) for v in (1, 2)]
    return Canary("canary-1", served[1], served[0], canary_steps(policy), step, T0, T0)


def test_a_shadow_policy_starts_the_plan_with_a_shadow_step_that_serves_no_answer() -> None:
    steps = canary_steps(CanaryPolicy(steps=[10, 50], shadow=True, min_requests=30))
    assert [(s.shadow, s.traffic_percent) for s in steps] == [
        (True, 100.0),
        (False, 10.0),
        (False, 50.0),
        (False, 100.0),
    ]
    assert steps[0].min_requests == 30
    assert live_percent(steps[0]) == 0.0
    assert live_percent(steps[1]) == 10.0
    keys = [f"user-{i}" for i in range(500)]
    assert {choose_variant("canary-1", live_percent(steps[0]), k) for k in keys} == {"champion"}


def test_a_passed_shadow_step_advances_to_the_first_live_step_or_promotes() -> None:
    with_steps = _canary(0, CanaryPolicy(steps=[5, 100], shadow=True))
    assert decide_step(with_steps, "pass", T0, 60) == "advance"
    shadow_only = _canary(0, CanaryPolicy(steps=[100], shadow=True))
    assert decide_step(shadow_only, "pass", T0, 60) == "promote"
    assert decide_step(shadow_only, "fail", T0, 60) == "roll_back"


def test_class_agreement_is_the_share_of_equal_labels() -> None:
    found = agreement([1, 0, 1, 1, "a"], [1, 1, 1, 0, "a"], "classes")
    assert (found.pairs, found.agreement) == (5, pytest.approx(3 / 5))
    assert found.mean_abs_diff is None


def test_score_agreement_is_the_correlation_with_the_mean_absolute_difference() -> None:
    rng = np.random.default_rng(3)
    a = rng.normal(size=200)
    b = a + rng.normal(scale=0.3, size=200)
    found = agreement(list(a), list(b), "scores")
    assert found.correlation == pytest.approx(stats.pearsonr(a, b).statistic)
    assert found.agreement == found.correlation
    assert found.mean_abs_diff == pytest.approx(float(np.mean(np.abs(a - b))))
    same = agreement([2.0, 2.0, 2.0], [2.0, 2.0, 2.0], "scores")
    assert (same.agreement, same.correlation, same.mean_abs_diff) == (1.0, None, 0.0)


def _sample(predictions: list[int], errors: int = 0, latency: float = 5.0) -> Sample:
    rng = np.random.default_rng(len(predictions) + errors)
    n = len(predictions) + errors
    return Sample(
        requests=n,
        errors=errors,
        latencies_ms=rng.gamma(4.0, latency / 4.0, n),
        predictions=tuple(predictions),
    )


def test_agreement_below_the_policy_minimum_fails_the_shadow_on_its_own() -> None:
    champion = [i % 2 for i in range(200)]
    shadow = [1 - p if i % 8 < 2 else p for i, p in enumerate(champion)]  # 75 %, same mix
    found = agreement(champion, shadow, "classes")
    strict = judge_shadow(_sample(champion), _sample(shadow), found, CONFIG, min_agreement=0.9)
    assert strict.verdict == "fail"
    assert "agreement_lower" in {r.code for r in strict.reasons()}
    lenient = judge_shadow(_sample(champion), _sample(shadow), found, CONFIG, min_agreement=0.7)
    assert lenient.verdict == "pass"
    check = next(c for c in lenient.checks if c.metric == "agreement")
    assert (check.canary, check.champion, check.passed) == (0.75, 0.7, True)


def test_without_a_minimum_agreement_is_reported_but_not_scored() -> None:
    champion = [i % 2 for i in range(200)]
    found = agreement(champion, [0] * 200, "classes")
    check = agreement_check(found, None, CONFIG)
    assert (check.outcome, check.passed, check.canary) == ("info", None, 0.5)
    report = judge_shadow(_sample(champion), _sample(champion), found, CONFIG)
    assert report.score == 100.0


def test_an_erroring_shadow_fails_the_critical_error_rate() -> None:
    champion = [i % 2 for i in range(300)]
    found = agreement(champion, champion, "classes")
    report = judge_shadow(_sample(champion), _sample(champion, errors=60), found, CONFIG)
    assert report.verdict == "fail"
    assert "error_rate_higher" in {r.code for r in report.reasons()}


def _mirrored(n: int = 1) -> Mirrored:
    served = Served(ModelRef(name="m", version=2), ART)
    return Mirrored("canary-1", served, ({"x0": 1.0},) * n, tuple(f"r{i}" for i in range(n)))


async def test_the_mirror_never_waits_and_counts_what_it_drops() -> None:
    mirror = ShadowMirror(size=2)
    assert [mirror.offer(_mirrored()) for _ in range(3)] == [True, True, False]
    assert (mirror.pending(), mirror.dropped, mirror.offered) == (2, 1, 2)
    taken = await asyncio.wait_for(mirror.take(), 1)
    assert taken.request_ids == ("r0",)


def test_a_shadow_copy_is_scored_per_request_and_wrong_features_become_errors() -> None:
    fitted = LinearRegression().fit(pd.DataFrame({"x0": [0.0, 1.0]}), [0.0, 2.0])
    model = LoadedModel(fitted, ("x0",))
    item = _mirrored(3)
    results, latency = score_copy(model, item.rows)
    rows = shadow_rows(item, results, latency)
    assert [r["prediction"] for r in rows] == pytest.approx([2.0] * 3)
    assert [r["request_id"] for r in rows] == ["r0", "r1", "r2"]
    assert {(r["version"], r["canary_id"]) for r in rows} == {(2, "canary-1")}
    other = LoadedModel(model.estimator, ("y",))
    failed, _ = score_copy(other, item.rows)
    assert all(r.error and "FeatureError" in r.error for r in failed)


def _logged(rid: str, variant: str, prediction: int, error: str | None = None) -> LoggedRow:
    return LoggedRow(
        id=1, request_id=rid, model="m", version=2 if variant == "shadow" else 1,
        variant=variant, features={"a": 1.0}, prediction=prediction, score=0.9,
        latency_ms=4.0, error=error, created_at=T0,
    )  # fmt: skip


def test_pairs_are_judged_on_the_same_requests_and_logged_as_shadow_rows() -> None:
    section = DeploymentSection(latency_allowed_increase=10.0)
    pairs = [
        (_logged(f"r{i}", "champion", i % 2), _logged(f"r{i}", "shadow", i % 2)) for i in range(60)
    ]
    report, found = judge_pairs(pairs, section, min_agreement=0.95)
    assert (found.pairs, found.agreement, report.verdict) == (60, 1.0, "pass")
    broken = [(c, _logged(c.request_id, "shadow", 0, error="boom")) for c, _ in pairs]
    failed, none = judge_pairs(broken, section, min_agreement=None)
    assert (failed.verdict, none.pairs) == ("fail", 0)
    row = prediction_row(pairs[0][1])
    assert (row.variant, row.request_id) == ("shadow", "r0")
