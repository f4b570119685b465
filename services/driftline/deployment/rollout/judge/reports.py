"""What the canary judge reads and writes: samples in, per-metric checks and a verdict out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from driftline_contracts.values import MetricResult, Reason

Outcome = Literal["pass", "high", "low", "nodata", "info"]
"""``info``: reported, not judged (passed is None), like ``nodata``."""


def _empty() -> np.ndarray:
    return np.empty(0)


@dataclass(frozen=True)
class Sample:
    """One variant's traffic in the window: errors, latencies, predictions, labelled outcomes.

    Labelled rows: ``correct`` and ``confidence`` (probability of the predicted class, NaN
    when the model gives none) for classifiers; ``abs_errors`` (|prediction - label|) for
    regressors. Rows of the two variants are not paired: each request went to one of them.
    """

    requests: int
    errors: int
    latencies_ms: np.ndarray = field(default_factory=_empty)
    predictions: tuple[Any, ...] = ()
    correct: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=bool))
    confidence: np.ndarray = field(default_factory=_empty)
    abs_errors: np.ndarray = field(default_factory=_empty)


class JudgeConfig(BaseModel):
    """Thresholds of the judge (service settings and the model's canary policy)."""

    model_config = ConfigDict(frozen=True)

    alpha: float = Field(0.05, gt=0, lt=1, description="Significance level of every test.")
    latency_allowed_increase: float = Field(
        0.2, ge=0, description="Relative p95 increase tolerated (0.2: +20%)."
    )
    latency_budget_ms: float = Field(
        250.0, ge=0, description="A canary p95 within this budget never fails on latency."
    )
    latency_min_effect: float = Field(
        0.71, ge=0.5, le=1, description="P(canary slower than champion) needed to fail."
    )
    min_labels: int = Field(20, ge=1, description="Labelled rows per variant to judge on labels.")
    min_samples: int = Field(5, ge=1, description="Rows per variant to judge the other metrics.")
    error_tolerance: float = Field(
        0.05, ge=0, description="Regression: relative MAE/RMSE increase tolerated."
    )
    accuracy_tolerance: float = Field(
        0.02, ge=0, le=1, description="Classification: accuracy drop tolerated (absolute)."
    )
    brier_tolerance: float = Field(
        0.01, ge=0, le=1, description="Classification: Brier score increase tolerated."
    )
    shift_min_effect: float = Field(
        0.2, ge=0, le=1, description="Prediction shift (TV distance / KS D) that can decide."
    )
    drift_retrain: bool = Field(
        False, description="The candidate answers a drift: its predictions are meant to move."
    )
    bootstrap_rounds: int = Field(1000, ge=100, description="Resamples per bootstrap interval.")
    seed: int = Field(0, ge=0, description="Bootstrap seed: the same window, the same verdict.")
    pass_score: float = Field(90.0, ge=0, le=100, description="Score at or above: pass.")
    marginal_score: float = Field(60.0, ge=0, le=100, description="Score at or above: marginal.")
    prediction_kind: Literal["classes", "scores"] = Field(
        "classes", description="classes: classifier; scores: regressor (numeric predictions)."
    )


class MetricCheck(BaseModel):
    """One metric's comparison and classification."""

    model_config = ConfigDict(frozen=True)

    metric: str
    champion: float | None
    canary: float | None
    p_value: float | None
    samples: int
    outcome: Outcome
    passed: bool | None = Field(description="None: too little data (nodata) or not judged.")
    critical: bool
    delta_low: float | None = Field(None, description="Interval of the difference: low end.")
    delta_high: float | None = Field(None, description="Interval of the difference: high end.")
    effect: float | None = Field(None, description="Effect size behind the decision.")
    note: str | None = Field(None, description="Why it was reported and not judged, if so.")

    def to_result(self) -> MetricResult:
        """The contract's MetricResult."""
        return MetricResult(
            metric=self.metric,
            champion=self.champion,
            canary=self.canary,
            p_value=self.p_value,
            samples=self.samples,
            passed=self.passed,
            delta_low=self.delta_low,
            delta_high=self.delta_high,
            effect=self.effect,
            informational=self.outcome == "info",
        )


class JudgeReport(BaseModel):
    """Every metric's check, the 0-100 score and the verdict."""

    model_config = ConfigDict(frozen=True)

    checks: list[MetricCheck]
    score: float = Field(ge=0, le=100)
    verdict: Literal["pass", "marginal", "fail"]
    drift_retrain: bool = Field(False, description="Judged as a drift retrain.")

    def check(self, metric: str) -> MetricCheck | None:
        """The check of ``metric``, if it was made."""
        return next((c for c in self.checks if c.metric == metric), None)

    def results(self) -> list[MetricResult]:
        """Per-metric results for the deployment events."""
        return [check.to_result() for check in self.checks]

    def reasons(self) -> list[Reason]:
        """Why the canary failed: one reason per failed metric."""
        return [
            Reason(
                code=f"{c.metric}_{'higher' if c.outcome == 'high' else 'lower'}",
                message=f"{c.metric}: canary {_fmt(c.canary)} vs champion {_fmt(c.champion)}"
                f"{_interval(c)} (p={_fmt(c.p_value)}, n={c.samples})",
                field=c.metric,
            )
            for c in self.checks
            if c.passed is False
        ]


def _interval(check: MetricCheck) -> str:
    if check.delta_low is None or check.delta_high is None:
        return ""
    return f", difference in [{check.delta_low:.4g}, {check.delta_high:.4g}]"


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"
