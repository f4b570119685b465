"""The canary judge: challenger against champion on the same traffic window (Kayenta-style).

Each metric is tested and classified pass / high / low (or nodata); the score is the share
of conclusive metrics that passed, 0-100. A failed critical metric (error rate, accuracy)
fails the canary on its own; otherwise the score decides pass, marginal or fail.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np
from scipy import stats

from driftline.deployment.verdicts import JudgeConfig, JudgeReport, MetricCheck, Outcome, Sample

__all__ = [
    "JudgeConfig",
    "JudgeReport",
    "MetricCheck",
    "Sample",
    "judge_canary",
    "judge_checks",
    "judge_metrics",
]


def _check(
    metric: str,
    values: tuple[float | None, float | None],
    p_value: float | None,
    samples: int,
    outcome: Outcome,
    *,
    critical: bool,
    bad: Outcome,
) -> MetricCheck:
    passed = None if outcome == "nodata" else outcome != bad
    return MetricCheck(
        metric=metric,
        champion=values[0],
        canary=values[1],
        p_value=p_value,
        samples=samples,
        outcome=outcome,
        passed=passed,
        critical=critical,
    )


def two_proportion_z(hits_a: int, n_a: int, hits_b: int, n_b: int) -> tuple[float, float]:
    """(z, two-sided p) of the pooled two-proportion z-test, b against a."""
    pooled = (hits_a + hits_b) / (n_a + n_b)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if se == 0:
        return 0.0, 1.0
    z = (hits_b / n_b - hits_a / n_a) / se
    return z, float(2 * stats.norm.sf(abs(z)))


def _direction(p_value: float, difference: float, alpha: float) -> Outcome:
    if p_value >= alpha or difference == 0:
        return "pass"
    return "high" if difference > 0 else "low"


def error_rate_check(champion: Sample, canary: Sample, config: JudgeConfig) -> MetricCheck:
    """Two-proportion z-test on failed requests; critical, fails when the canary errs more."""
    if min(champion.requests, canary.requests) < config.min_samples:
        return _check(
            "error_rate",
            (None, None),
            None,
            champion.requests + canary.requests,
            "nodata",
            critical=True,
            bad="high",
        )
    rates = (champion.errors / champion.requests, canary.errors / canary.requests)
    _, p = two_proportion_z(champion.errors, champion.requests, canary.errors, canary.requests)
    outcome = _direction(p, rates[1] - rates[0], config.alpha)
    return _check(
        "error_rate",
        rates,
        p,
        champion.requests + canary.requests,
        outcome,
        critical=True,
        bad="high",
    )


def latency_check(champion: Sample, canary: Sample, config: JudgeConfig) -> MetricCheck:
    """Mann-Whitney U of canary latency against the champion's plus the allowed increase."""
    a, b = champion.latencies_ms, canary.latencies_ms
    samples = len(a) + len(b)
    if min(len(a), len(b)) < config.min_samples:
        return _check(
            "latency_p50_ms", (None, None), None, samples, "nodata", critical=False, bad="high"
        )
    medians = (float(np.median(a)), float(np.median(b)))
    allowed = a * (1 + config.latency_allowed_increase)
    slower = float(stats.mannwhitneyu(b, allowed, alternative="greater").pvalue)
    faster = float(stats.mannwhitneyu(b, a, alternative="less").pvalue)
    outcome: Outcome = (
        "high" if slower < config.alpha else ("low" if faster < config.alpha else "pass")
    )
    p_value = slower if outcome != "low" else faster
    return _check("latency_p50_ms", medians, p_value, samples, outcome, critical=False, bad="high")


def prediction_check(champion: Sample, canary: Sample, config: JudgeConfig) -> MetricCheck:
    """Whether the canary predicts a different distribution (chi-square or KS)."""
    a, b = champion.predictions, canary.predictions
    samples = len(a) + len(b)
    if min(len(a), len(b)) < config.min_samples:
        return _check(
            "prediction_distribution",
            (None, None),
            None,
            samples,
            "nodata",
            critical=False,
            bad="high",
        )
    if config.prediction_kind == "scores":
        x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        p = float(stats.ks_2samp(x, y).pvalue)
        values = (float(np.mean(x)), float(np.mean(y)))
    else:
        p, values = _class_test(a, b)
    outcome: Outcome = "high" if p < config.alpha else "pass"
    return _check(
        "prediction_distribution", values, p, samples, outcome, critical=False, bad="high"
    )


def _class_test(a: tuple[Any, ...], b: tuple[Any, ...]) -> tuple[float, tuple[float, float]]:
    """Chi-square p on class counts; values: each variant's share of the champion's top class."""
    counts_a, counts_b = Counter(map(str, a)), Counter(map(str, b))
    top = counts_a.most_common(1)[0][0]
    values = (counts_a[top] / len(a), counts_b[top] / len(b))
    classes = sorted(set(counts_a) | set(counts_b))
    if len(classes) < 2:
        return 1.0, values
    table = [[counts_a[c] for c in classes], [counts_b[c] for c in classes]]
    return float(stats.chi2_contingency(table, correction=False).pvalue), values


def accuracy_check(champion: Sample, canary: Sample, config: JudgeConfig) -> MetricCheck:
    """Two-proportion z-test on labelled rows; critical, fails when the canary is less right."""
    a, b = champion.correct, canary.correct
    samples = len(a) + len(b)
    if min(len(a), len(b)) < config.min_labels:
        return _check("accuracy", (None, None), None, samples, "nodata", critical=True, bad="low")
    values = (float(np.mean(a)), float(np.mean(b)))
    _, p = two_proportion_z(int(a.sum()), len(a), int(b.sum()), len(b))
    outcome = _direction(p, values[1] - values[0], config.alpha)
    return _check("accuracy", values, p, samples, outcome, critical=True, bad="low")


def judge_metrics(champion: Sample, canary: Sample, config: JudgeConfig) -> list[MetricCheck]:
    """Every metric's check of canary against champion."""
    return [
        check(champion, canary, config)
        for check in (error_rate_check, latency_check, prediction_check, accuracy_check)
    ]


def judge_checks(checks: list[MetricCheck], config: JudgeConfig) -> JudgeReport:
    """Score (share of conclusive checks passed) and verdict of a set of checks."""
    conclusive = [c for c in checks if c.passed is not None]
    score = 100.0 * sum(bool(c.passed) for c in conclusive) / len(conclusive) if conclusive else 0.0
    if any(c.critical and c.passed is False for c in checks):
        return JudgeReport(checks=checks, score=0.0, verdict="fail")
    if not conclusive:
        return JudgeReport(checks=checks, score=score, verdict="marginal")
    verdict = (
        "pass"
        if score >= config.pass_score
        else "marginal"
        if score >= config.marginal_score
        else "fail"
    )
    return JudgeReport(checks=checks, score=score, verdict=verdict)


def judge_canary(champion: Sample, canary: Sample, config: JudgeConfig) -> JudgeReport:
    """Compare canary with champion on every metric; score and verdict."""
    return judge_checks(judge_metrics(champion, canary, config), config)
