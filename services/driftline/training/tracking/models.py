"""What tracking serves and accepts over HTTP (the client library types with these)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

RunStatus = Literal["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"]
EndStatus = Literal["FINISHED", "FAILED", "KILLED"]
ParamValue = str | int | float | bool
MAX_POINTS = 1000
"""Most metric points, params or tags in one log call (MLflow's log-batch limit)."""


class Experiment(BaseModel):
    """A named group of tracked runs."""

    experiment_id: str = Field(description="Numeric id, as a string (MLflow's convention).")
    name: str = Field(description="Unique name.")
    artifact_location: str = Field(
        description="Where its runs' artifacts go (mlflow-artifacts:/ID)."
    )
    tags: dict[str, str] = Field(default_factory=dict, description="Experiment tags.")
    created_by: str = Field(description="Actor who created it.")
    created_at: datetime | None = Field(None, description="When it was created.")


class MetricPoint(BaseModel):
    """One logged value of a metric."""

    key: str = Field(min_length=1, max_length=250, description="Metric name.")
    value: float = Field(description="Value (finite).")
    step: int = Field(0, ge=0, le=2**62, description="Step (epoch, iteration, …).")
    timestamp: int | None = Field(
        None, ge=0, le=2**62, description="Unix milliseconds; default: when it is received."
    )


class MetricSummary(BaseModel):
    """A metric curve in brief: last value, extremes and how many points."""

    last: float = Field(description="Value at the highest step (latest logged on a tie).")
    min: float = Field(description="Smallest value.")
    max: float = Field(description="Largest value.")
    points: int = Field(description="Points logged.")
    last_step: int = Field(description="Highest step.")
    last_timestamp: int = Field(0, description="When the last value was logged (Unix ms).")


class ArtifactEntry(BaseModel):
    """A file a run logged, in the artifact store."""

    path: str = Field(description="Path under the run's artifacts.")
    uri: str = Field(description="Object URI in the artifact store.")
    sha256: str = Field(description="Digest of the bytes.")
    size_bytes: int = Field(description="Size.")


class TrackedRun(BaseModel):
    """A run logged from outside the training service (a notebook, an MLflow client)."""

    run_id: str = Field(description="Run id (32 hex digits).")
    experiment_id: str = Field(description="Experiment id.")
    experiment: str = Field(description="Experiment name.")
    name: str = Field(description="Run name.")
    status: RunStatus = Field(description="RUNNING until ended.")
    actor: str = Field(description="Who logged it (from the bearer token).")
    parent_run_id: str | None = Field(None, description="Parent run of a nested run.")
    dataset: str | None = Field(None, description="Dataset version it used, as name@version.")
    start_time: int = Field(description="Unix milliseconds.")
    end_time: int | None = Field(None, description="Unix milliseconds, once ended.")
    params: dict[str, str] = Field(default_factory=dict, description="Parameters.")
    tags: dict[str, str] = Field(default_factory=dict, description="Tags.")
    metrics: dict[str, MetricSummary] = Field(default_factory=dict, description="Curves.")
    artifacts: list[ArtifactEntry] = Field(default_factory=list, description="Logged files.")


class NewRun(BaseModel):
    """Start a run in an experiment (created when missing)."""

    experiment: str = Field(min_length=1, max_length=256, description="Experiment name.")
    name: str | None = Field(None, max_length=256, description="Run name (default: generated).")
    dataset: str | None = Field(None, max_length=200, description="Dataset used, name@version.")
    parent_run_id: str | None = Field(None, max_length=64, description="Parent (nested run).")
    tags: dict[str, str] = Field(default_factory=dict, description="Tags to start with.")


class RunLog(BaseModel):
    """Params, metric points and tags logged in one call."""

    params: dict[str, ParamValue] = Field(default_factory=dict, description="Parameters.")
    metrics: list[MetricPoint] = Field(
        default_factory=list, max_length=MAX_POINTS, description="Metric points."
    )
    tags: dict[str, str] = Field(default_factory=dict, description="Tags (overwrite).")


class RunEnd(BaseModel):
    """End a run."""

    status: EndStatus = Field("FINISHED", description="Final status.")


class ComparedRuns(BaseModel):
    """Training runs and tracked runs side by side: metric curves in brief, params."""

    runs: list[str] = Field(description="Run ids, in the order asked.")
    kinds: list[Literal["training", "tracked"]] = Field(description="Kind of each run.")
    metrics: dict[str, list[MetricSummary | None]] = Field(description="Metric → per run.")
    params: dict[str, list[str | None]] = Field(description="Parameter → per run, as text.")
