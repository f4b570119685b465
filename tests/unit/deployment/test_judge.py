"""The canary judge: verdicts on clear cases and statistics matching scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from driftline.deployment.rollout.judge.rule import (
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
    correct = rng.random(n) < accuracy
    return Sample(
        requests=n,
        errors=round(n * error_rate),
        latencies_ms=rng.gamma(4.0, latency / 4.0, n),
        predictions=tuple(int(v) for v in rng.random(n) < positive),
        correct=correct,
        confidence=np.full(n, accuracy),
    )


def test_an_equal_challenger_passes() -> None:
    report = judge_canary(_sample(1), _sample(2), CONFIG)
    assert report.verdict == "pass"
    assert report.score == 100.0
    assert all(check.passed for check in report.checks)
    assert report.reasons() == []


def test_a_clearly_worse_challenger_fails_on_critical_metrics() -> None:
    worse = _sample(2, error_rate=0.1, latency=600.0, positive=0.9, accuracy=0.6)
    report = judge_canary(_sample(1, latency=200.0), worse, CONFIG)
    assert report.verdict == "fail"
    assert report.score == 0.0
    codes = {r.code for r in report.reasons()}
    assert codes == {
        "error_rate_higher",
        "latency_p95_ms_higher",
        "prediction_distribution_higher",
        "accuracy_lower",
        "brier_higher",
    }


def test_a_slower_challenger_over_budget_alone_is_marginal() -> None:
    report = judge_canary(_sample(1, latency=200.0), _sample(2, latency=400.0), CONFIG)
    assert report.verdict == "marginal"
    assert report.score == 80.0
    assert [r.code for r in report.reasons()] == ["latency_p95_ms_higher"]


def test_latency_within_the_allowed_increase_passes() -> None:
    check = latency_check(_sample(1, latency=200.0), _sample(2, latency=260.0), CONFIG)
    assert check.passed is True


def test_twice_as_slow_within_the_budget_passes() -> None:
    """A loaded 2-core machine doubles latency: under the budget that is not a failure."""
    check = latency_check(_sample(1, latency=10.0), _sample(2, latency=20.0), CONFIG)
    assert (check.outcome, check.passed) == ("pass", True)
    assert check.effect is not None
    assert check.effect > 0.71


def test_over_budget_with_a_small_effect_passes() -> None:
    """The p95 over budget and 50% up, but most requests no slower: no large effect size."""
    rng = np.random.default_rng(4)
    champion = rng.gamma(4.0, 50.0, 2000)
    canary = np.concatenate([rng.gamma(4.0, 50.0, 1800), np.full(200, 900.0)])
    check = latency_check(
        Sample(2000, 0, latencies_ms=champion), Sample(2000, 0, latencies_ms=canary), CONFIG
    )
    assert check.canary is not None
    assert check.canary > 1.5 * (check.champion or 0)
    assert (check.outcome, check.passed) == ("pass", True)


def test_a_faster_challenger_is_low_and_passes() -> None:
    check = latency_check(_sample(1), _sample(2, latency=5.0), CONFIG)
    assert (check.outcome, check.passed) == ("low", True)


def test_a_critical_metric_fails_on_its_own() -> None:
    report = judge_canary(_sample(1), _sample(2, accuracy=0.7), CONFIG)
    assert report.verdict == "fail"
    failed = [c.metric for c in report.checks if c.passed is False]
    assert failed == ["accuracy", "brier"]


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


def test_latency_effect_and_p_value_are_mann_whitney() -> None:
    champion, canary = _sample(1), _sample(2, latency=14.0)
    check = latency_check(champion, canary, CONFIG)
    found = stats.mannwhitneyu(canary.latencies_ms, champion.latencies_ms, alternative="greater")
    assert check.p_value == pytest.approx(found.pvalue)
    assert check.effect == pytest.approx(found.statistic / 400**2)
    assert check.champion == pytest.approx(np.percentile(champion.latencies_ms, 95))


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
        "latency_p95_ms",
        "prediction_distribution",
        "accuracy",
        "brier",
    ]
    assert results[3].passed is False
    assert results[3].delta_high is not None
    assert results[3].delta_high < 0


def test_rates_script_prints_every_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.unit.deployment import judge_windows

    judge_windows.main(seeds=2)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 + len(judge_windows.SCENARIOS)
