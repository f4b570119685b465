"""The canary judge: verdicts on clear cases and statistics matching scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from driftline.deployment.judge import (
    JudgeConfig,
    Sample,
    accuracy_check,
    error_rate_check,
    judge_canary,
    latency_check,
    prediction_check,
    two_proportion_z,
)

CONFIG = JudgeConfig()


def _sample(
    seed: int,
    *,
    n: int = 400,
    error_rate: float = 0.01,
    latency: float = 10.0,
    positive: float = 0.4,
    accuracy: float = 0.9,
) -> Sample:
    rng = np.random.default_rng(seed)
    return Sample(
        requests=n,
        errors=round(n * error_rate),
        latencies_ms=rng.gamma(4.0, latency / 4.0, n),
        predictions=tuple(int(v) for v in rng.random(n) < positive),
        correct=rng.random(n) < accuracy,
    )


def test_an_equal_challenger_passes() -> None:
    report = judge_canary(_sample(1), _sample(2), CONFIG)
    assert report.verdict == "pass"
    assert report.score == 100.0
    assert all(check.passed for check in report.checks)


def test_a_clearly_worse_challenger_fails_on_critical_metrics() -> None:
    worse = _sample(2, error_rate=0.1, latency=30.0, positive=0.9, accuracy=0.6)
    report = judge_canary(_sample(1), worse, CONFIG)
    assert report.verdict == "fail"
    assert report.score == 0.0
    codes = {r.code for r in report.reasons()}
    assert codes == {
        "error_rate_higher",
        "latency_p50_ms_higher",
        "prediction_distribution_higher",
        "accuracy_lower",
    }


def test_a_slower_challenger_alone_is_marginal() -> None:
    report = judge_canary(_sample(1), _sample(2, latency=20.0), CONFIG)
    assert report.verdict == "marginal"
    assert report.score == 75.0
    assert [r.code for r in report.reasons()] == ["latency_p50_ms_higher"]


def test_latency_within_the_allowed_increase_passes() -> None:
    check = latency_check(_sample(1), _sample(2, latency=10.8), CONFIG)
    assert check.passed is True


def test_a_faster_challenger_is_low_and_passes() -> None:
    check = latency_check(_sample(1), _sample(2, latency=5.0), CONFIG)
    assert (check.outcome, check.passed) == ("low", True)


def test_a_critical_metric_fails_on_its_own() -> None:
    report = judge_canary(_sample(1), _sample(2, accuracy=0.7), CONFIG)
    assert report.verdict == "fail"
    assert [c.metric for c in report.checks if c.passed is False] == ["accuracy"]


def test_accuracy_waits_for_labels() -> None:
    few = Sample(requests=400, errors=4, latencies_ms=np.full(400, 10.0), correct=np.ones(5, bool))
    check = accuracy_check(_sample(1), few, CONFIG)
    assert (check.outcome, check.passed) == ("nodata", None)


def test_no_conclusive_metric_is_marginal() -> None:
    report = judge_canary(Sample(requests=0, errors=0), Sample(requests=0, errors=0), CONFIG)
    assert report.verdict == "marginal"


def test_two_proportion_z_matches_scipy_chi_square() -> None:
    z, p = two_proportion_z(12, 400, 31, 380)
    table = [[12, 388], [31, 349]]
    result = stats.chi2_contingency(table, correction=False)
    assert z**2 == pytest.approx(result.statistic)
    assert p == pytest.approx(result.pvalue)


def test_error_rate_p_value_matches_scipy() -> None:
    champion = Sample(requests=500, errors=5)
    canary = Sample(requests=500, errors=20)
    check = error_rate_check(champion, canary, CONFIG)
    expected = stats.chi2_contingency([[5, 495], [20, 480]], correction=False).pvalue
    assert check.p_value == pytest.approx(expected)
    assert (check.champion, check.canary, check.outcome) == (0.01, 0.04, "high")


def test_latency_p_value_is_mann_whitney_against_the_allowance() -> None:
    champion, canary = _sample(1), _sample(2, latency=14.0)
    check = latency_check(champion, canary, CONFIG)
    expected = stats.mannwhitneyu(
        canary.latencies_ms, champion.latencies_ms * 1.2, alternative="greater"
    ).pvalue
    assert check.p_value == pytest.approx(expected)


def test_score_distributions_use_kolmogorov_smirnov() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(0.5, 0.1, 300), rng.normal(0.6, 0.1, 300)
    config = JudgeConfig(prediction_kind="scores")
    check = prediction_check(
        Sample(requests=300, errors=0, predictions=tuple(a)),
        Sample(requests=300, errors=0, predictions=tuple(b)),
        config,
    )
    assert check.p_value == pytest.approx(stats.ks_2samp(a, b).pvalue)
    assert check.passed is False


def test_results_fit_the_contract() -> None:
    report = judge_canary(_sample(1), _sample(2, accuracy=0.5), CONFIG)
    results = report.results()
    assert [r.metric for r in results] == [
        "error_rate",
        "latency_p50_ms",
        "prediction_distribution",
        "accuracy",
    ]
    assert results[-1].passed is False
