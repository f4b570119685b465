"""A training run, and a submission of a model trained elsewhere, as served over HTTP."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from driftline_contracts.values import ArtifactRef, DatasetRef, Reason


class RunRecord(BaseModel):
    """One training run: inputs, environment, outcome and artifacts."""

    run_id: str = Field(description="Training run id.")
    model: str = Field(description="Model trained.")
    status: Literal["succeeded", "failed"] = Field(description="Outcome of the run.")
    trigger: str = Field(description="What caused the run.")
    attempt: int = Field(description="Claim of the job that finished the run.")
    dataset: DatasetRef = Field(description="Dataset version trained on.")
    spec_hash: str = Field(description="Hash of the model spec followed.")
    seed: int = Field(description="Seed of the split and the estimator.")
    params: dict[str, Any] = Field(default_factory=dict, description="Hyper-parameters.")
    metrics: dict[str, float] = Field(default_factory=dict, description="Holdout metrics.")
    artifacts: dict[str, ArtifactRef] = Field(
        default_factory=dict, description="model.skops, metrics.json, … by file name."
    )
    lineage: dict[str, Any] = Field(
        default_factory=dict, description="code_version, packages, python, host."
    )
    train_rows: int | None = Field(None, description="Rows used for fitting.")
    holdout_rows: int | None = Field(None, description="Rows in the holdout.")
    duration_s: float | None = Field(None, description="Wall-clock training time.")
    failure: Reason | None = Field(None, description="Why the run failed, if it did.")
    created_at: datetime | None = Field(None, description="When the run was recorded.")


class RunComparison(BaseModel):
    """Runs side by side: every metric and parameter name with each run's value."""

    runs: list[str] = Field(description="Run ids, in the order asked.")
    metrics: dict[str, list[float | None]] = Field(description="Metric → value per run.")
    params: dict[str, list[Any]] = Field(description="Parameter → value per run.")


def compare(records: list[RunRecord]) -> RunComparison:
    """Metrics and params of ``records`` aligned by name."""
    metric_names = sorted({k for r in records for k in r.metrics})
    param_names = sorted({k for r in records for k in r.params})
    return RunComparison(
        runs=[r.run_id for r in records],
        metrics={m: [r.metrics.get(m) for r in records] for m in metric_names},
        params={p: [r.params.get(p) for r in records] for p in param_names},
    )


class SubmissionStatus(BaseModel):
    """A submission: its id (the scoring run's id), where it stands and, once done, why."""

    submission_id: str = Field(description="Id of the submission; also its scoring run's id.")
    model: str = Field(description="Model the file was submitted as a candidate for.")
    status: Literal["queued", "running", "succeeded", "failed"] = Field(
        description="queued, running, succeeded or failed."
    )
    dataset: DatasetRef = Field(description="Accepted version whose holdout scores it.")
    sha256: str = Field(description="SHA-256 of the submitted file.")
    submitted_by: str = Field(description="Who submitted it (from the bearer token).")
    submitted_from_run: str | None = Field(None, description="Tracked run it came from.")
    created: bool = Field(True, description="False: the same file was already submitted "
                          "for this model, data and spec; this is that submission.")  # fmt: skip
    failure: Reason | None = Field(None, description="Why it failed (e.g. submission_refused).")

    @property
    def done(self) -> bool:
        """Whether the scoring job has finished (succeeded or failed)."""
        return self.status in ("succeeded", "failed")
