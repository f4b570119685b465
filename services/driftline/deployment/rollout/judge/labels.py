"""The canary judge on labelled rows: regression errors and classification quality.

Rows are not paired (each request went to one variant), so errors are compared as two
independent samples: Mann-Whitney U on absolute errors, bootstrap percentile intervals for
MAE / RMSE / Brier differences, Newcombe's interval for the accuracy difference. A metric is
worse only when its whole interval lies beyond the tolerance; better when it lies below zero.
"""

from __future__ import annotations

import numpy as np

from driftline.deployment.rollout.judge.reports import JudgeConfig, MetricCheck, Outcome, Sample
from driftline.deployment.rollout.judge.stats import (
    bootstrap_delta,
    mean_rows,
    newcombe_delta,
    root_mean_square_rows,
    superiority,
    two_proportion_z,
)


def _labelled(
    metric: str,
    values: tuple[float | None, float | None],
    samples: int,
    outcome: Outcome,
    *,
    p_value: float | None = None,
    interval: tuple[float, float] | None = None,
    effect: float | None = None,
    bad: Outcome = "high",
) -> MetricCheck:
    return MetricCheck(
        metric=metric,
        champion=values[0],
        canary=values[1],
        p_value=p_value,
        samples=samples,
        outcome=outcome,
        passed=None if outcome == "nodata" else outcome != bad,
        critical=True,
        delta_low=None if interval is None else interval[0],
        delta_high=None if interval is None else interval[1],
        effect=effect,
    )


def _classify(low: float, high: float, tolerance: float, *, worse_is_high: bool) -> Outcome:
    """Worse beyond the tolerance, better (below zero), or neither, from an interval."""
    if not worse_is_high:
        low, high = -high, -low
    if low > tolerance:
        return "high" if worse_is_high else "low"
    if high < 0:
        return "low" if worse_is_high else "high"
    return "pass"


def _nodata(metric: str, samples: int, bad: Outcome = "high") -> MetricCheck:
    return _labelled(metric, (None, None), samples, "nodata", bad=bad)


def mae_check(champion: Sample, canary: Sample, config: JudgeConfig) -> MetricCheck:
    """Mean absolute error: Mann-Whitney U on |error| and the relative MAE change's interval."""
    a, b = champion.abs_errors, canary.abs_errors
    if min(len(a), len(b)) < config.min_labels:
        return _nodata("mae", len(a) + len(b))
    effect, p_worse, p_better = superiority(a, b)
    _, low, high = bootstrap_delta(
        a,
        b,
        mean_rows,
        relative=True,
        alpha=config.alpha,
        rounds=config.bootstrap_rounds,
        seed=config.seed,
    )
    outcome = _classify(low, high, config.error_tolerance, worse_is_high=True)
    # The rank test must agree: a few huge errors move the mean but not every row.
    if (outcome == "high" and p_worse >= config.alpha) or (
        outcome == "low" and p_better >= config.alpha
    ):
        outcome = "pass"
    values = (float(np.mean(a)), float(np.mean(b)))
    p = p_worse if outcome != "low" else p_better
    return _labelled(
        "mae", values, len(a) + len(b), outcome, p_value=p, interval=(low, high), effect=effect
    )


def rmse_check(champion: Sample, canary: Sample, config: JudgeConfig) -> MetricCheck:
    """Root mean squared error: the interval of its relative change."""
    a, b = champion.abs_errors, canary.abs_errors
    if min(len(a), len(b)) < config.min_labels:
        return _nodata("rmse", len(a) + len(b))
    _, low, high = bootstrap_delta(
        a,
        b,
        root_mean_square_rows,
        relative=True,
        alpha=config.alpha,
        rounds=config.bootstrap_rounds,
        seed=config.seed + 1,
    )
    outcome = _classify(low, high, config.error_tolerance, worse_is_high=True)
    values = (float(np.sqrt(np.mean(a**2))), float(np.sqrt(np.mean(b**2))))
    return _labelled("rmse", values, len(a) + len(b), outcome, interval=(low, high))


def accuracy_check(champion: Sample, canary: Sample, config: JudgeConfig) -> MetricCheck:
    """Accuracy: two-proportion z-test and Newcombe's interval of the difference."""
    a, b = champion.correct, canary.correct
    samples = len(a) + len(b)
    if min(len(a), len(b)) < config.min_labels:
        return _nodata("accuracy", samples, bad="low")
    hits = (int(a.sum()), int(b.sum()))
    _, p = two_proportion_z(hits[0], len(a), hits[1], len(b))
    _, low, high = newcombe_delta(hits[0], len(a), hits[1], len(b), config.alpha)
    outcome = _classify(low, high, config.accuracy_tolerance, worse_is_high=False)
    values = (hits[0] / len(a), hits[1] / len(b))
    return _labelled(
        "accuracy", values, samples, outcome, p_value=p, interval=(low, high), bad="low"
    )


def _brier_rows(sample: Sample) -> np.ndarray:
    known = np.isfinite(sample.confidence)
    if len(sample.confidence) != len(sample.correct):
        return np.empty(0)
    return (sample.confidence[known] - sample.correct[known]) ** 2


def brier_check(champion: Sample, canary: Sample, config: JudgeConfig) -> MetricCheck:
    """Brier score of the predicted class's probability: the interval of its difference."""
    a, b = _brier_rows(champion), _brier_rows(canary)
    if min(len(a), len(b)) < config.min_labels:
        return _nodata("brier", len(a) + len(b))
    _, low, high = bootstrap_delta(
        a,
        b,
        mean_rows,
        relative=False,
        alpha=config.alpha,
        rounds=config.bootstrap_rounds,
        seed=config.seed + 2,
    )
    outcome = _classify(low, high, config.brier_tolerance, worse_is_high=True)
    values = (float(np.mean(a)), float(np.mean(b)))
    return _labelled("brier", values, len(a) + len(b), outcome, interval=(low, high))


def label_checks(champion: Sample, canary: Sample, config: JudgeConfig) -> list[MetricCheck]:
    """The labelled-quality checks of the model's kind (regression or classification)."""
    if config.prediction_kind == "scores":
        return [mae_check(champion, canary, config), rmse_check(champion, canary, config)]
    return [accuracy_check(champion, canary, config), brier_check(champion, canary, config)]
