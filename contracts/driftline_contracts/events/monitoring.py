"""Monitoring events: predictions and labels flowing in, drift detected and resolved."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, StringConstraints, model_validator

from driftline_contracts import topics
from driftline_contracts.events.base import Event
from driftline_contracts.values import (
    ArtifactRef,
    Code,
    DatasetRef,
    FeatureDrift,
    FiniteFloat,
    Identifier,
    Metrics,
    ModelRef,
    Name,
    Scalar,
    Slug,
    TimeWindow,
    Value,
)

MAX_INLINE_ROWS = 1000
"""Larger prediction batches travel as an ArtifactRef (JSON lines) instead of inline."""


class RowFlag(Value):
    """A value of a served row that the serving version never saw in training; the row was
    served and its answer carried the same flag as a warning."""

    feature: Name = Field(description="The feature whose value was flagged.")
    code: Code = Field(
        description="What was unseen: unseen_category, case_variant (of a known category), "
        "null (training had none) or not_a_string (a number in a string column, served as text)."
    )


class PredictionRow(Value):
    """One logged prediction."""

    request_id: Identifier = Field(description="Id that ground truth refers back to.")
    time: AwareDatetime = Field(description="When the prediction was served.")
    variant: Literal["champion", "canary", "shadow"] = Field(
        description="Which deployment served it; shadow: the challenger's answer to a mirrored "
        "request, never returned (same request_id as the champion's row)."
    )
    features: Annotated[dict[Name, Scalar], Field(max_length=500)] = Field(
        description="Input features as received."
    )
    prediction: Scalar = Field(description="Predicted label or value.")
    score: FiniteFloat | None = Field(None, description="Probability of the predicted class.")
    latency_ms: FiniteFloat = Field(ge=0, description="Serving latency in milliseconds.")
    flags: Annotated[list[RowFlag], Field(max_length=500)] | None = Field(
        None,
        description="Values of the row its version never saw in training (checked against the "
        "version's input signature at serving); null when none.",
    )


LogOffsets = Annotated[str, StringConstraints(pattern=r"^\d{1,9}:\d{1,19}-\d{1,19}$")]
"""A range of the prediction-log topic: ``partition:first-last`` (offsets, inclusive)."""


class PredictionsLogged(Event):
    """A batch of served predictions, inline (small) or as an object (large)."""

    ce_type = "io.driftline.monitoring.predictions-logged.v1"
    topic = topics.PREDICTIONS_LOGGED
    key_path = "model.name"
    producer = "deployment"
    consumers = ("monitoring", "training")

    model: ModelRef = Field(description="Version that served the batch.")
    batch_id: Identifier = Field(description="Batch id; unique per model.")
    window: TimeWindow = Field(description="Time span the batch covers.")
    count: int = Field(ge=1, description="Number of predictions in the batch.")
    rows: Annotated[list[PredictionRow], Field(max_length=MAX_INLINE_ROWS)] | None = Field(
        None, description="The predictions inline (at most 1000); null when batch is set."
    )
    batch: ArtifactRef | None = Field(
        None, description="JSON-lines object of PredictionRow; null when rows are inline."
    )
    log_offsets: LogOffsets | None = Field(
        None,
        description="Kafka prediction log only: 'partition:first-last', the offsets of "
        "driftline.prediction-log compacted into batch (then a Parquet object with "
        "PredictionRow's columns and a features struct); null for batches from PostgreSQL.",
    )

    @model_validator(mode="after")
    def _one_payload(self) -> PredictionsLogged:
        if (self.rows is None) == (self.batch is None):
            raise ValueError("exactly one of rows and batch must be set")
        if self.rows is not None and len(self.rows) != self.count:
            raise ValueError("count must equal the number of inline rows")
        return self


class GroundTruthReceived(Event):
    """True labels arrived for earlier predictions, keyed by request id."""

    ce_type = "io.driftline.monitoring.ground-truth-received.v1"
    topic = topics.GROUND_TRUTH_RECEIVED
    key_path = "model"
    producer = "deployment (feedback endpoint)"
    consumers = ("monitoring", "training")

    model: Slug = Field(description="Model whose predictions are labelled.")
    labels: Annotated[dict[Identifier, Scalar], Field(min_length=1, max_length=10_000)] = Field(
        description="True label per prediction request id."
    )
    received_at: AwareDatetime = Field(description="When the labels were received.")


class DriftDetected(Event):
    """Features or predictions drifted, or performance dropped, over a window."""

    ce_type = "io.driftline.monitoring.drift-detected.v1"
    topic = topics.DRIFT_DETECTED
    key_path = "model.name"
    producer = "monitoring"
    consumers = ("training",)

    model: ModelRef = Field(description="Production version monitored.")
    drift_id: Identifier = Field(description="Id of this drift episode.")
    window: TimeWindow = Field(description="Current window compared.")
    reference_window: TimeWindow | None = Field(None, description="Reference traffic window.")
    reference_dataset: DatasetRef | None = Field(None, description="Training data as reference.")
    features: Annotated[list[FeatureDrift], Field(max_length=1000)] = Field(
        description="Per-feature (and prediction) test results, drifted or not."
    )
    performance: Metrics = Field(
        default_factory=dict, description="Metrics on labelled predictions in the window."
    )
    severity: Literal["low", "medium", "high", "critical"] = Field(description="Overall severity.")
    report: ArtifactRef | None = Field(None, description="Full drift report (JSON or HTML).")


class DriftResolved(Event):
    """A drift episode ended: the data recovered or a new model replaced the drifted one."""

    ce_type = "io.driftline.monitoring.drift-resolved.v1"
    topic = topics.DRIFT_RESOLVED
    key_path = "model.name"
    producer = "monitoring"
    consumers = ()

    model: ModelRef = Field(description="Production version now monitored.")
    drift_id: Identifier = Field(description="Episode that ended.")
    window: TimeWindow = Field(description="Window in which no drift remained.")
    features: Annotated[list[FeatureDrift], Field(max_length=1000)] = Field(
        description="Per-feature results in that window."
    )
    resolution: Literal["data_recovered", "model_replaced"] = Field(description="How it ended.")
    detected_at: AwareDatetime = Field(description="When the episode was first detected.")
