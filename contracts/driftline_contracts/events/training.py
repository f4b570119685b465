"""Training events: a run started, produced a model, failed, or was skipped."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from driftline_contracts import topics
from driftline_contracts.events.base import Event
from driftline_contracts.signature import InputSignature
from driftline_contracts.values import (
    Actor,
    ArtifactRef,
    DatasetRef,
    FiniteFloat,
    Identifier,
    Metrics,
    ModelRef,
    Name,
    Reason,
    Scalar,
    Sha256,
    ShortText,
    Slug,
    Text,
    Value,
)

Trigger = Literal["data_validated", "drift_detected", "spec_applied", "manual"]
CodeVersion = Annotated[str, Field(min_length=1, max_length=128)]


class MetricComparison(Value):
    """One metric of candidate and champion on the same holdout rows, with the interval of
    their difference from a paired bootstrap."""

    metric: Name = Field(description="Metric, e.g. rmse or accuracy.")
    candidate: FiniteFloat = Field(description="Candidate's value on the compared rows.")
    champion: FiniteFloat = Field(description="Champion's value on the same rows.")
    delta: FiniteFloat = Field(description="candidate - champion (raw; lower rmse is better).")
    interval_low: FiniteFloat = Field(description="Low end of the interval of the delta.")
    interval_high: FiniteFloat = Field(description="High end of the interval of the delta.")


class ChampionComparison(Value):
    """The champion scored on the candidate's own holdout rows, or why it was not."""

    status: Literal["compared", "no_champion", "unavailable"] = Field(
        description="compared; no_champion: nothing promoted yet; unavailable: the champion "
        "could not be loaded or scored (message says why)."
    )
    champion: ModelRef | None = Field(None, description="Champion version compared with.")
    message: Text = Field(description="What was compared, or why nothing was.")
    rows: int = Field(0, ge=0, description="Holdout rows both models were scored on.")
    resamples: int = Field(0, ge=0, description="Paired bootstrap resamples.")
    confidence: FiniteFloat = Field(0.95, gt=0, lt=1, description="Interval coverage.")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="Seed of the resamples.")
    metrics: Annotated[list[MetricComparison], Field(max_length=50)] = Field(
        default_factory=list, description="Per metric both models have."
    )


class TrainingStarted(Event):
    """A training run was claimed by a worker and began."""

    ce_type = "io.driftline.training.started.v1"
    topic = topics.TRAINING_STARTED
    key_path = "model"
    producer = "training"
    consumers = ()

    model: Slug = Field(description="Model being trained.")
    run_id: Identifier = Field(description="Training run id; unique per model.")
    dataset: DatasetRef = Field(description="Accepted dataset version the run trains on.")
    spec_hash: Sha256 = Field(description="Hash of the model spec the run follows.")
    trigger: Trigger = Field(description="What caused the run.")
    attempt: int = Field(1, ge=1, description="1 for the first attempt; more after a crash.")


class ModelTrained(Event):
    """A run finished: the artifact, its metrics on the seeded holdout and full lineage."""

    ce_type = "io.driftline.training.model-trained.v1"
    topic = topics.MODEL_TRAINED
    key_path = "model"
    producer = "training"
    consumers = ("registry",)

    model: Slug = Field(description="Model trained.")
    run_id: Identifier = Field(description="Training run id.")
    artifact: ArtifactRef = Field(description="Serialized model (skops or ONNX) with sha256.")
    dataset: DatasetRef = Field(description="Dataset version trained on, with its sha256.")
    spec_hash: Sha256 = Field(description="Hash of the model spec used.")
    code_version: CodeVersion = Field(description="Trainer code version (git sha or package).")
    seed: int = Field(ge=0, le=2**32 - 1, description="Random seed for the split and the model.")
    params: Annotated[dict[Name, Scalar], Field(max_length=200)] = Field(
        description="Hyper-parameters as trained."
    )
    metrics: Metrics = Field(description="Holdout metrics, e.g. accuracy, f1, rmse.")
    packages: Annotated[dict[Name, ShortText], Field(max_length=500)] = Field(
        default_factory=dict, description="Package versions in the training environment."
    )
    train_rows: int = Field(ge=0, description="Rows used for fitting.")
    holdout_rows: int = Field(ge=0, description="Rows in the seeded holdout.")
    duration_s: FiniteFloat = Field(ge=0, description="Wall-clock training time in seconds.")
    trainer: Actor = Field(description="Who trained: service:training or user:NAME.")
    champion_comparison: ChampionComparison | None = Field(
        None,
        description="The champion on this run's holdout rows (the registry's beat_champion "
        "gate reads it); null: the run made no comparison (an older training service).",
    )
    datasets: Annotated[list[DatasetRef], Field(max_length=10_000)] = Field(
        default_factory=list,
        description="Every accepted dataset version the run's training window read, oldest "
        "first (the newest is `dataset`); empty: `dataset` alone (an older training service).",
    )
    labelled_rows: int = Field(
        0, ge=0, description="Labelled production rows added to the window (drift retrains)."
    )
    signature: InputSignature | None = Field(
        None,
        description="Input columns, types and category domains the model was trained on "
        "(deployment checks served rows against it); null: an older training service.",
    )
    submitted_from_run: Identifier | None = Field(
        None,
        description="A model trained elsewhere and submitted (then `trainer` is the submitting "
        "user and `run_id` the platform's scoring run): the tracked run it was submitted "
        "from; null: trained by the service, or submitted without a run.",
    )


class TrainingFailed(Event):
    """A run failed; no model came out of it."""

    ce_type = "io.driftline.training.failed.v1"
    topic = topics.TRAINING_FAILED
    key_path = "model"
    producer = "training"
    consumers = ()

    model: Slug = Field(description="Model whose training failed.")
    run_id: Identifier = Field(description="Training run id.")
    dataset: DatasetRef | None = Field(None, description="Dataset the run tried, if chosen.")
    reason: Reason = Field(description="Why, e.g. trainer_error, target_missing, timeout.")
    attempt: int = Field(ge=1, description="Attempt that failed.")
    retryable: bool = Field(description="Whether a later retry may succeed.")


class RetrainSkipped(Event):
    """A retrain was requested but not done, e.g. no data newer than the current model's."""

    ce_type = "io.driftline.training.retrain-skipped.v1"
    topic = topics.RETRAIN_SKIPPED
    key_path = "model"
    producer = "training"
    consumers = ()

    model: Slug = Field(description="Model not retrained.")
    trigger: Trigger = Field(description="What asked for the retrain.")
    reason: Reason = Field(description="Why, e.g. no_new_data, run_in_progress.")
    latest_dataset: DatasetRef | None = Field(
        None, description="Newest accepted dataset, already used by the current model."
    )
