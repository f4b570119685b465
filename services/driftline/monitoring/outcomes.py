"""The events a window's outcome becomes: DriftDetected and DriftResolved."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from driftline.monitoring.evaluation import WindowResult
from driftline.monitoring.performance import PerformanceResult
from driftline.stats.drift import FeatureDriftResult
from driftline_contracts.events.monitoring import DriftDetected, DriftResolved
from driftline_contracts.values import ArtifactRef, DatasetRef, FeatureDrift, ModelRef, TimeWindow


def feature_drifts(result: WindowResult) -> list[FeatureDrift]:
    """Every feature's result and the prediction's, as the events carry them."""
    tested: list[FeatureDriftResult] = [*result.features]
    if result.prediction is not None:
        tested.append(result.prediction)
    return [
        FeatureDrift(
            feature=f.feature, test=f.test, statistic=f.statistic, p_value=f.p_value,
            threshold=f.threshold, drifted=f.drifted,
        )
        for f in tested[:1000]
    ]  # fmt: skip


def drift_detected(
    model: ModelRef,
    drift_id: str,
    window: TimeWindow,
    result: WindowResult,
    *,
    reference: DatasetRef | None,
    report: ArtifactRef,
) -> DriftDetected:
    """The event opening an episode."""
    performance = result.performance
    return DriftDetected(
        model=model,
        drift_id=drift_id,
        window=window,
        reference_dataset=reference,
        features=feature_drifts(result),
        performance={performance.metric: performance.value}
        if performance.value is not None
        else {},
        severity=result.severity,
        report=report,
    )


def drift_resolved(
    model: ModelRef,
    drift_id: str,
    window: TimeWindow,
    result: WindowResult | None,
    *,
    detected_at: datetime,
    resolution: Literal["data_recovered", "model_replaced"],
) -> DriftResolved:
    """The event closing an episode (``result`` is None when a new model replaced the old)."""
    return DriftResolved(
        model=model,
        drift_id=drift_id,
        window=window,
        features=feature_drifts(result) if result is not None else [],
        resolution=resolution,
        detected_at=detected_at,
    )


def performance_drift_detected(
    model: ModelRef,
    drift_id: str,
    window: TimeWindow,
    performance: PerformanceResult,
    *,
    reference: DatasetRef | None,
    report: ArtifactRef | None,
) -> DriftDetected:
    """The event opening an episode when late labels show a window's performance dropped."""
    return DriftDetected(
        model=model,
        drift_id=drift_id,
        window=window,
        reference_dataset=reference,
        features=[],
        performance={performance.metric: performance.value}
        if performance.value is not None
        else {},
        severity="high",
        report=report,
    )
