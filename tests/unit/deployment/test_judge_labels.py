"""The judge on labelled rows: regression errors, accuracy and Brier, checked against scipy
and published reference values; worse only beyond the tolerance."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from driftline.deployment.rollout.judge.labels import (
    accuracy_check,
    brier_check,
    mae_check,
    rmse_check,
)
from driftline.deployment.rollout.judge.reports import JudgeConfig, Sample
from driftline.deployment.rollout.judge.rule import judge_canary
from driftline.deployment.rollout.judge.stats import (
    bootstrap_delta,
    mean_rows,
    newcombe_delta,
    wilson,
)

REGRESSION = JudgeConfig(prediction_kind="scores")


def _errors(seed: int, sd: float, n: int = 300) -> Sample:
    rng = np.random.default_rng(seed)
    predictions = tuple(rng.normal(10.0, 2.0, n).tolist())
    errors = np.abs(rng.normal(0.0, sd, n))
    return Sample(n, 0, rng.gamma(4.0, 2.5, n), predictions, abs_errors=errors)


def test_newcombe_interval_matches_the_published_example() -> None:
    """Newcombe (1998), method 10: 56/70 vs 48/80 → 0.2000 in (0.0524, 0.3339)."""
    delta, low, high = newcombe_delta(48, 80, 56, 70, alpha=0.05)
    assert (delta, low, high) == pytest.approx((0.2, 0.0524, 0.3339), abs=1e-4)


def test_wilson_interval_matches_scipy() -> None:
    found = stats.binomtest(81, 263).proportion_ci(method="wilson")
    assert wilson(81, 263, 1.959963984540054) == pytest.approx((found.low, found.high))


def test_bootstrap_is_deterministic_and_covers_the_difference() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(1.0, 0.2, 200), rng.normal(1.3, 0.2, 150)
    first = bootstrap_delta(a, b, mean_rows, relative=False, alpha=0.05, rounds=1000, seed=7)
    again = bootstrap_delta(a, b, mean_rows, relative=False, alpha=0.05, rounds=1000, seed=7)
    assert first == again
    delta, low, high = first
    assert delta == pytest.approx(b.mean() - a.mean())
    assert low < 0.3 < high
    half = 1.96 * np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    assert high - low == pytest.approx(2 * half, rel=0.15)


def test_mae_uses_mann_whitney_on_absolute_errors() -> None:
    champion, canary = _errors(1, 1.0), _errors(2, 2.0)
    check = mae_check(champion, canary, REGRESSION)
    found = stats.mannwhitneyu(canary.abs_errors, champion.abs_errors, alternative="greater")
    assert check.p_value == pytest.approx(found.pvalue)
    assert check.effect == pytest.approx(found.statistic / 300**2)
    assert (check.outcome, check.passed, check.critical) == ("high", False, True)
    assert check.delta_low is not None
    assert check.delta_low > REGRESSION.error_tolerance


def test_regression_is_judged_on_errors_not_exact_equality() -> None:
    """The old judge compared 0.0 with 0.0 (no float prediction equals its label) and passed."""
    report = judge_canary(_errors(1, 1.0), _errors(2, 3.0), REGRESSION)
    assert report.verdict == "fail"
    assert {r.code for r in report.reasons()} == {"mae_higher", "rmse_higher"}
    assert report.check("accuracy") is None


def test_a_better_regressor_is_low_and_passes() -> None:
    report = judge_canary(_errors(1, 1.0), _errors(2, 0.6), REGRESSION)
    assert report.verdict == "pass"
    mae, rmse = report.check("mae"), report.check("rmse")
    assert mae is not None
    assert rmse is not None
    assert (mae.outcome, rmse.outcome) == ("low", "low")


def test_worse_within_the_tolerance_passes() -> None:
    """Every error 3% larger, 20,000 rows: significant, yet inside the 5% tolerance."""
    rng = np.random.default_rng(5)
    a = np.abs(rng.normal(0, 1.0, 20000))
    b = rng.permutation(a) * 1.03
    check = mae_check(Sample(1, 0, abs_errors=a), Sample(1, 0, abs_errors=b), REGRESSION)
    assert check.p_value is not None
    assert check.p_value < 0.05
    assert (check.outcome, check.passed) == ("pass", True)


def test_perfect_champion_and_perfect_canary_pass() -> None:
    zeros = np.zeros(50)
    champion, canary = Sample(50, 0, abs_errors=zeros), Sample(50, 0, abs_errors=zeros)
    assert mae_check(champion, canary, REGRESSION).outcome == "pass"
    assert rmse_check(champion, canary, REGRESSION).outcome == "pass"
    worse = Sample(50, 0, abs_errors=np.full(50, 0.5))
    assert rmse_check(champion, worse, REGRESSION).outcome == "high"


def test_too_few_labels_are_nodata() -> None:
    few = Sample(10, 0, abs_errors=np.ones(5))
    for check in (mae_check, rmse_check):
        assert check(_errors(1, 1.0), few, REGRESSION).outcome == "nodata"


def _classified(accuracy: float, n: int, confidence: float | None, seed: int) -> Sample:
    rng = np.random.default_rng(seed)
    correct = rng.random(n) < accuracy
    known = np.full(n, np.nan if confidence is None else confidence)
    return Sample(n, 0, correct=correct, confidence=known)


def test_accuracy_drop_inside_the_tolerance_passes() -> None:
    config = JudgeConfig(accuracy_tolerance=0.05)
    check = accuracy_check(_classified(0.9, 5000, 0.9, 1), _classified(0.88, 5000, 0.88, 2), config)
    assert check.delta_high is not None
    assert check.delta_high < 0
    assert (check.outcome, check.passed) == ("pass", True)


def test_brier_is_the_probability_of_the_predicted_class_scored() -> None:
    champion, canary = _classified(0.9, 400, 0.9, 1), _classified(0.6, 400, 0.95, 2)
    check = brier_check(champion, canary, JudgeConfig())
    expected = np.mean((0.95 - canary.correct) ** 2)
    assert check.canary == pytest.approx(expected)
    assert (check.outcome, check.passed) == ("high", False)


def test_brier_waits_for_probabilities() -> None:
    without = _classified(0.9, 400, None, 2)
    assert brier_check(_classified(0.9, 400, 0.9, 1), without, JudgeConfig()).outcome == "nodata"
    mismatched = Sample(400, 0, correct=np.ones(400, bool), confidence=np.ones(3))
    assert brier_check(mismatched, mismatched, JudgeConfig()).outcome == "nodata"


@settings(max_examples=60, deadline=None)
@given(
    errors=st.lists(st.floats(0, 1e6), min_size=0, max_size=60),
    other=st.lists(st.floats(0, 1e6), min_size=0, max_size=60),
    hits=st.lists(st.booleans(), min_size=0, max_size=60),
    latency=st.lists(st.floats(0, 1e5), min_size=0, max_size=60),
)
def test_any_window_gets_a_verdict(
    errors: list[float], other: list[float], hits: list[bool], latency: list[float]
) -> None:
    """Ties, zeros, empty and tiny windows: always a verdict, never an exception or NaN."""
    for kind in ("scores", "classes"):
        config = JudgeConfig(
            prediction_kind=kind, min_labels=1, min_samples=1, bootstrap_rounds=100
        )
        a = Sample(len(latency), 0, np.array(latency), tuple(errors), np.array(hits, bool),
                   np.full(len(hits), 0.7), np.array(errors))  # fmt: skip
        b = Sample(len(other), 0, np.array(other), tuple(other), np.array(hits[::-1], bool),
                   np.full(len(hits), 0.6), np.array(other))  # fmt: skip
        report = judge_canary(a, b, config)
        assert 0 <= report.score <= 100
        for check in report.checks:
            for value in (check.champion, check.canary, check.delta_low, check.delta_high):
                assert value is None or np.isfinite(value)


def test_a_near_zero_champion_error_still_gives_finite_intervals() -> None:
    """A subnormal champion error (found by hypothesis) once overflowed the relative change to
    inf and its bootstrap interval to NaN; the increase is capped like a zero champion's."""
    config = JudgeConfig(prediction_kind="scores", min_labels=1, min_samples=1,
                         bootstrap_rounds=100)  # fmt: skip
    tiny, one = np.array([2.2250738585e-313]), np.array([1.0])
    a = Sample(0, 0, np.array([]), (2.2250738585e-313,), np.array([], bool), np.full(0, 0.7), tiny)
    b = Sample(1, 0, one, (1.0,), np.array([], bool), np.full(0, 0.6), one)
    for check in judge_canary(a, b, config).checks:
        for value in (check.champion, check.canary, check.delta_low, check.delta_high):
            assert value is None or np.isfinite(value), check.metric
