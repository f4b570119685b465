"""The events a verdict becomes."""

from __future__ import annotations

from driftline.validation.core import Verdict
from driftline_contracts.events.data import CanonicalCopy, DataRejected, DataValidated
from driftline_contracts.values import ArtifactRef, DatasetRef


def validated_event(
    dataset: DatasetRef,
    verdict: Verdict,
    *,
    version: int,
    profile: ArtifactRef,
    baseline_version: int | None,
    report: ArtifactRef | None = None,
    canonical: CanonicalCopy | None = None,
) -> DataValidated:
    """``DataValidated`` for an accepted version (with its canonical copy, if written)."""
    return DataValidated(
        dataset=dataset.model_copy(update={"version": version, "rows": verdict.rows}),
        profile=profile,
        baseline_version=baseline_version,
        models=list(verdict.models),
        checks_run=len(verdict.checks),
        warnings=list(verdict.warnings),
        report=report,
        canonical=canonical,
    )


def rejected_event(
    dataset: DatasetRef,
    verdict: Verdict,
    *,
    profile: ArtifactRef | None,
    baseline_version: int | None,
    report: ArtifactRef | None = None,
) -> DataRejected:
    """``DataRejected`` listing every blocking reason."""
    return DataRejected(
        dataset=dataset,
        reasons=list(verdict.reasons),
        profile=profile,
        baseline_version=baseline_version,
        models=list(verdict.models),
        report=report,
    )
