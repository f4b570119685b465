"""Evaluating one window against the reference: features, prediction, quality, performance."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd
from pydantic import Field

from driftline.monitoring.performance import PerformanceResult, measure_performance
from driftline.monitoring.quality import QualityFinding, quality_findings
from driftline.stats.drift import FeatureDriftResult, compare_to_profile
from driftline.stats.evidently_mode import evidently_compare
from driftline.stats.profile import DatasetProfile
from driftline_contracts.modelspec import DriftPolicy
from driftline_contracts.values import FiniteFloat, Scalar, Value

PREDICTION = "prediction"
"""Name the prediction column's result carries."""
Severity = Literal["low", "medium", "high", "critical"]


@dataclass(frozen=True)
class Tolerances:
    """How much worse than the reference quality and performance may get before they count."""

    quality: float = 0.1
    performance: float = 0.05
    min_labels: int = 30


@dataclass(frozen=True)
class Reference:
    """What a model's windows are compared with: the training data's profile and metrics."""

    profile: DatasetProfile
    target: str
    task: str
    metrics: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class WindowData:
    """The rows of one window: input features, predictions, and labels where known."""

    features: pd.DataFrame
    predictions: list[Scalar]
    labelled: list[tuple[Scalar, Scalar]]


class WindowResult(Value):
    """Every verdict on one window, and whether the window as a whole drifted."""

    method: Literal["driftline", "evidently"] = Field(description="Decision rules used.")
    features: list[FeatureDriftResult] = Field(description="Per input feature.")
    prediction: FeatureDriftResult | None = Field(description="Prediction column vs target.")
    quality: list[QualityFinding] = Field(description="Data-quality measures.")
    performance: PerformanceResult = Field(description="Performance on labelled rows.")
    drift_share: FiniteFloat = Field(description="Share of input features that drifted.")
    drifted: bool = Field(description="Whether the window counts as drifted.")
    reasons: list[str] = Field(description="Which rules made it drift.")
    severity: Severity = Field(description="How bad the drift is.")


def evaluate_window(
    reference: Reference, window: WindowData, policy: DriftPolicy, tolerances: Tolerances
) -> WindowResult:
    """Compare one window with the reference under ``policy``; drift is data, never an error."""
    inputs = reference.profile.model_copy(
        update={"columns": [c for c in reference.profile.columns if c.name != reference.target]}
    )
    features = _compare(inputs, window.features, policy)
    prediction = _prediction_drift(reference, window.predictions, policy)
    quality = quality_findings(inputs, window.features, tolerances.quality)
    performance = measure_performance(
        reference.task, window.labelled, reference.metrics,
        min_labels=tolerances.min_labels, tolerance=tolerances.performance,
    )  # fmt: skip
    share = sum(f.drifted for f in features) / len(features) if features else 0.0
    reasons = _reasons(share, policy, prediction, quality, performance)
    return WindowResult(
        method=policy.method,
        features=features,
        prediction=prediction,
        quality=quality,
        performance=performance,
        drift_share=share,
        drifted=bool(reasons),
        reasons=reasons,
        severity=severity_of(share, reasons) if reasons else "low",
    )


def _compare(
    profile: DatasetProfile, current: pd.DataFrame, policy: DriftPolicy
) -> list[FeatureDriftResult]:
    if policy.method == "evidently":
        return evidently_compare(profile, current)
    return compare_to_profile(
        profile, current, alpha=policy.alpha, psi_threshold=policy.psi_threshold
    )


def _prediction_drift(
    reference: Reference, predictions: Sequence[Scalar], policy: DriftPolicy
) -> FeatureDriftResult | None:
    target = reference.profile.column(reference.target)
    if target is None or not predictions:
        return None
    only_target = reference.profile.model_copy(update={"columns": [target]})
    frame = pd.DataFrame({reference.target: list(predictions)})
    found = _compare(only_target, frame, policy)
    return found[0].model_copy(update={"feature": PREDICTION}) if found else None


def _reasons(
    share: float,
    policy: DriftPolicy,
    prediction: FeatureDriftResult | None,
    quality: list[QualityFinding],
    performance: PerformanceResult,
) -> list[str]:
    reasons = []
    if share >= policy.drift_share:
        reasons.append("feature_drift")
    if policy.method == "driftline" and prediction is not None and prediction.drifted:
        reasons.append("prediction_drift")
    if policy.method == "driftline" and any(f.flagged for f in quality):
        reasons.append("data_quality")
    if performance.dropped:
        reasons.append("performance_drop")
    return reasons


def severity_of(share: float, reasons: Sequence[str]) -> Severity:
    """critical: most features or performance plus features; high: half or performance; ..."""
    if share >= 0.75 or ("performance_drop" in reasons and "feature_drift" in reasons):
        return "critical"
    if share >= 0.5 or "performance_drop" in reasons:
        return "high"
    if share >= 0.25 or "prediction_drift" in reasons:
        return "medium"
    return "low"
