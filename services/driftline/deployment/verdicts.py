"""What the canary judge reads and writes: samples in, per-metric checks and a verdict out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from driftline_contracts.values import MetricResult, Reason

Outcome = Literal["pass", "high", "low", "nodata", "info"]
"""``info``: reported, not judged (passed is None), like ``nodata``."""


@dataclass(frozen=True)
class Sample:
    """One variant's traffic in the window: errors, latencies, predictions, label hits."""

    requests: int
    errors: int
    latencies_ms: np.ndarray = field(default_factory=lambda: np.empty(0))
    predictions: tuple[Any, ...] = ()
    correct: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=bool))


class JudgeConfig(BaseModel):
    """Thresholds of the judge."""

    model_config = ConfigDict(frozen=True)

    alpha: float = Field(0.05, gt=0, lt=1, description="Significance level of every test.")
    latency_allowed_increase: float = Field(0.2, ge=0, description="Tolerated latency increase.")
    min_labels: int = Field(20, ge=1, description="Labelled rows per variant to judge accuracy.")
    min_samples: int = Field(5, ge=1, description="Rows per variant to judge the other metrics.")
    pass_score: float = Field(90.0, ge=0, le=100, description="Score at or above: pass.")
    marginal_score: float = Field(60.0, ge=0, le=100, description="Score at or above: marginal.")
    prediction_kind: Literal["classes", "scores"] = Field(
        "classes", description="classes: chi-square on counts; scores: two-sample KS."
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

    def to_result(self) -> MetricResult:
        """The contract's MetricResult."""
        return MetricResult(
            metric=self.metric,
            champion=self.champion,
            canary=self.canary,
            p_value=self.p_value,
            samples=self.samples,
            passed=self.passed,
        )


class JudgeReport(BaseModel):
    """Every metric's check, the 0-100 score and the verdict."""

    model_config = ConfigDict(frozen=True)

    checks: list[MetricCheck]
    score: float = Field(ge=0, le=100)
    verdict: Literal["pass", "marginal", "fail"]

    def results(self) -> list[MetricResult]:
        """Per-metric results for the deployment events."""
        return [check.to_result() for check in self.checks]

    def reasons(self) -> list[Reason]:
        """Why the canary failed: one reason per failed metric."""
        return [
            Reason(
                code=f"{c.metric}_{'higher' if c.outcome == 'high' else 'lower'}",
                message=f"{c.metric}: canary {_fmt(c.canary)} vs champion {_fmt(c.champion)}"
                f" (p={_fmt(c.p_value)}, n={c.samples})",
                field=c.metric,
            )
            for c in self.checks
            if c.passed is False
        ]


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"
