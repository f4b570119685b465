"""Registry records: applied specs, model versions with lineage and gate outcomes, aliases."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from driftline_contracts.values import ArtifactRef, DatasetRef, GateResult, Reason

Status = Literal["pending", "approved", "rejected"]
Approval = Literal["automatic", "manual"]


class Record(BaseModel):
    """Base of the registry's records: frozen, closed."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class SpecRecord(Record):
    """One applied version of a model's spec."""

    model: str = Field(description="Model name.")
    version: int = Field(description="Spec version of this model, from 1.")
    spec_hash: str = Field(description="SHA-256 of the spec's canonical JSON.")
    spec: dict[str, Any] = Field(description="The spec as applied.")
    applied_by: str = Field(description="Who applied it, user:NAME.")
    event_id: str | None = Field(None, description="Id of the ModelSpecApplied event.")
    applied_at: datetime | None = Field(None, description="When it was stored.")


class ModelVersion(Record):
    """A registered model version: lineage, metrics, gate results and approval status."""

    model: str = Field(description="Model name.")
    version: int = Field(description="Registry version, from 1.")
    run_id: str = Field(description="Training run that produced it.")
    status: Status = Field(description="pending, approved or rejected.")
    approval: Approval = Field(description="Approval policy of the spec at registration.")
    dataset: DatasetRef = Field(description="Training dataset version with sha256.")
    artifact: ArtifactRef = Field(description="Serialized model with sha256.")
    spec_hash: str = Field(description="Spec hash the run followed.")
    code_version: str = Field(description="Trainer code version.")
    seed: int = Field(description="Seed of the split and the model.")
    metrics: dict[str, float] = Field(description="Holdout metrics.")
    params: dict[str, Any] = Field(description="Hyper-parameters as trained.")
    trainer: str = Field(description="Actor of the ModelTrained event.")
    trained_by: str = Field(description="Trainer named inside the ModelTrained event.")
    gates: list[GateResult] = Field(default_factory=list, description="Gate results.")
    reasons: list[Reason] = Field(default_factory=list, description="Why it was rejected.")
    notes: list[str] = Field(default_factory=list, description="Remarks on the gates.")
    compared_to: int | None = Field(None, description="Champion version the gates compared to.")
    decided_by: str | None = Field(None, description="Who approved or rejected it.")
    comment: str | None = Field(None, description="Approver's note.")
    event_id: str = Field(description="Id of the ModelTrained event.")
    correlation_id: str | None = Field(
        None,
        description="Correlation id of the ModelTrained event (None: registered before "
        "the registry kept it).",
    )
    created_at: datetime | None = Field(None, description="When it was registered.")
    decided_at: datetime | None = Field(None, description="When it was approved or rejected.")


class Alias(Record):
    """A named pointer to a version: champion (production) or previous."""

    alias: str = Field(description="champion or previous.")
    version: int = Field(description="Version the alias points to.")
    updated_at: datetime | None = Field(None, description="When it last moved.")


class Rollback(Record):
    """A canary of this version that deployment rolled back."""

    version: int = Field(description="Canary version rolled back.")
    canary_id: str = Field(description="Rollout id.")
    step: int = Field(description="Index of the failed step.")
    traffic_percent: float = Field(description="Canary's share when it failed.")
    verdict: str = Field(description="fail or inconclusive.")
    reasons: list[Reason] = Field(description="Why.")
    at: datetime | None = Field(None, description="When it was recorded.")


class RunContext(Record):
    """What registering a run needs to know about its model, read in one query."""

    known_version: int | None = Field(None, description="The version the run already got.")
    latest_version: int = Field(0, description="Highest version number so far (0: none).")
