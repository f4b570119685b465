"""The canary judge: challenger against champion on the same traffic window (Kayenta-style).

Each metric is tested and classified pass / high / low (or nodata, or info when reported and
not judged); the score is the share of conclusive metrics that passed, 0-100. A failed
critical metric (error rate, or a labelled-quality metric: MAE, RMSE, accuracy, Brier) fails
the canary on its own; otherwise the score decides pass, marginal or fail. Tests alone never
decide: each failure also needs an effect beyond a tolerance (docs/deployment.md).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
from scipy import stats

from driftline.deployment.rollout.judge.labels import accuracy_check, label_checks
from driftline.deployment.rollout.judge.reports import (
    JudgeConfig,
    JudgeReport,
    MetricCheck,
    Outcome,
    Sample,
)
from driftline.deployment.rollout.judge.stats import superiority, two_proportion_z

__all__ = [
    "JudgeConfig",
    "JudgeReport",
    "MetricCheck",
    "Sample",
    "accuracy_check",
    "error_rate_check",
    "judge_canary",
    "judge_checks",
    "judge_metrics",
    "latency_check",
    "prediction_check",
    "two_proportion_z",
]


def _check(
    metric: str,
    values: tuple[float | None, float | None],
    p_value: float | None,
    samples: int,
    outcome: Outcome,
    *,
    critical: bool,
    bad: Outcome = "high",
    effect: float | None = None,
    note: str | None = None,
) -> MetricCheck:
    passed = None if outcome in ("nodata", "info") else outcome != bad
    return MetricCheck(
        metric=metric,
        champion=values[0],
        canary=values[1],
        p_value=p_value,
        samples=samples,
        outcome=outcome,
        passed=passed,
        critical=critical,
        effect=effect,
        note=note,
    )


def _direction(p_value: float, difference: float, alpha: float) -> Outcome:
    if p_value >= alpha or difference == 0:
        return "pass"
    return "high" if difference > 0 else "low"


def error_rate_check(champion: Sample, canary: Sample, config: JudgeConfig) -> MetricCheck:
    """Two-proportion z-test on failed requests; critical, fails when the canary errs more."""
    samples = champion.requests + canary.requests
    if min(champion.requests, canary.requests) < config.min_samples:
        return _check("error_rate", (None, None), None, samples, "nodata", critical=True)
    rates = (champion.errors / champion.requests, canary.errors / canary.requests)
    _, p = two_proportion_z(champion.errors, champion.requests, canary.errors, canary.requests)
    outcome = _direction(p, rates[1] - rates[0], config.alpha)
    return _check("error_rate", rates, p, samples, outcome, critical=True)


def latency_check(champion: Sample, canary: Sample, config: JudgeConfig) -> MetricCheck:
    """p95 latency: high only over the budget, the allowed increase and a large effect size."""
    a, b = champion.latencies_ms, canary.latencies_ms
    samples = len(a) + len(b)
    if min(len(a), len(b)) < config.min_samples:
        return _check("latency_p95_ms", (None, None), None, samples, "nodata", critical=False)
    p95 = (float(np.percentile(a, 95)), float(np.percentile(b, 95)))
    effect, slower, faster = superiority(a, b)
    increase = p95[1] / p95[0] - 1 if p95[0] > 0 else (0.0 if p95[1] <= 0 else float("inf"))
    outcome: Outcome = "pass"
    if (
        p95[1] > config.latency_budget_ms
        and increase > config.latency_allowed_increase
        and effect >= config.latency_min_effect
        and slower < config.alpha
    ):
        outcome = "high"
    elif faster < config.alpha and effect <= 1 - config.latency_min_effect:
        outcome = "low"
    p_value = faster if outcome == "low" else slower
    return _check("latency_p95_ms", p95, p_value, samples, outcome, critical=False, effect=effect)


def _finite(values: tuple[Any, ...]) -> np.ndarray:
    """Numeric predictions that are finite numbers (a regressor's NaN is logged as null)."""
    numbers = np.array([v if isinstance(v, int | float) else np.nan for v in values], dtype=float)
    return numbers[np.isfinite(numbers)]


def _class_test(a: tuple[Any, ...], b: tuple[Any, ...]) -> tuple[float, float, tuple[float, float]]:
    """(chi-square p, total variation distance of the class shares, each variant's share of
    the champion's top class)."""
    counts_a, counts_b = Counter(map(str, a)), Counter(map(str, b))
    top = counts_a.most_common(1)[0][0]
    values = (counts_a[top] / len(a), counts_b[top] / len(b))
    classes = sorted(set(counts_a) | set(counts_b))
    distance = 0.5 * sum(abs(counts_a[c] / len(a) - counts_b[c] / len(b)) for c in classes)
    if len(classes) < 2:
        return 1.0, distance, values
    table = [[counts_a[c] for c in classes], [counts_b[c] for c in classes]]
    return float(stats.chi2_contingency(table, correction=False).pvalue), distance, values


def prediction_check(
    champion: Sample, canary: Sample, config: JudgeConfig, *, decides: bool = True
) -> MetricCheck:
    """Whether the canary predicts a different distribution (chi-square or KS) by at least
    ``shift_min_effect``; ``decides=False``: reported as info, not judged."""
    a, b = champion.predictions, canary.predictions
    samples = len(a) + len(b)
    name = "prediction_distribution"
    if min(len(a), len(b)) < config.min_samples:
        return _check(name, (None, None), None, samples, "nodata", critical=False)
    if config.prediction_kind == "scores":
        x, y = _finite(a), _finite(b)
        if min(len(x), len(y)) < config.min_samples:
            return _check(name, (None, None), None, samples, "nodata", critical=False)
        found = stats.ks_2samp(x, y)
        p, effect = float(found.pvalue), float(found.statistic)
        values = (float(np.mean(x)), float(np.mean(y)))
    else:
        p, effect, values = _class_test(a, b)
    shifted = p < config.alpha and effect >= config.shift_min_effect
    outcome: Outcome = "high" if shifted else "pass"
    note = None
    if not decides:
        outcome = "info"
        note = "drift retrain judged on labels: a prediction shift is expected, not judged"
    return _check(name, values, p, samples, outcome, critical=False, effect=effect, note=note)


def judge_metrics(champion: Sample, canary: Sample, config: JudgeConfig) -> list[MetricCheck]:
    """Every metric's check of canary against champion.

    The prediction shift decides when no labelled metric is conclusive or the candidate is
    not a drift retrain; a drift retrain judged on labels is meant to predict differently.
    """
    labelled = label_checks(champion, canary, config)
    judged_on_labels = any(c.outcome != "nodata" for c in labelled)
    decides = not (judged_on_labels and config.drift_retrain)
    return [
        error_rate_check(champion, canary, config),
        latency_check(champion, canary, config),
        prediction_check(champion, canary, config, decides=decides),
        *labelled,
    ]


def judge_checks(checks: list[MetricCheck], config: JudgeConfig) -> JudgeReport:
    """Score (share of conclusive checks passed) and verdict of a set of checks."""
    conclusive = [c for c in checks if c.passed is not None]
    score = 100.0 * sum(bool(c.passed) for c in conclusive) / len(conclusive) if conclusive else 0.0
    drift = config.drift_retrain
    if any(c.critical and c.passed is False for c in checks):
        return JudgeReport(checks=checks, score=0.0, verdict="fail", drift_retrain=drift)
    if not conclusive:
        return JudgeReport(checks=checks, score=score, verdict="marginal", drift_retrain=drift)
    verdict = (
        "pass"
        if score >= config.pass_score
        else "marginal"
        if score >= config.marginal_score
        else "fail"
    )
    return JudgeReport(checks=checks, score=score, verdict=verdict, drift_retrain=drift)


def judge_canary(champion: Sample, canary: Sample, config: JudgeConfig) -> JudgeReport:
    """Compare canary with champion on every metric; score and verdict."""
    return judge_checks(judge_metrics(champion, canary, config), config)
