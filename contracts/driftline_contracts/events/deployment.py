"""Deployment events: canary rollout steps, promotion and rollback, batch scoring."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from driftline_contracts import topics
from driftline_contracts.events.base import Event
from driftline_contracts.values import (
    Actor,
    ArtifactRef,
    CanaryStep,
    FiniteFloat,
    Identifier,
    MetricResult,
    ModelRef,
    Name,
    Reason,
    Sha256,
    ShortText,
    Slug,
    TimeWindow,
    Uri,
)

Verdict = Literal["pass", "fail", "inconclusive"]
Results = Annotated[list[MetricResult], Field(max_length=100)]
Percent = Annotated[FiniteFloat, Field(ge=0, le=100)]


class CanaryStarted(Event):
    """An approved version began serving a share of traffic next to the champion."""

    ce_type = "io.driftline.deployment.canary-started.v1"
    topic = topics.CANARY_STARTED
    key_path = "model.name"
    producer = "deployment"
    consumers = ()

    model: ModelRef = Field(description="Canary (challenger) version.")
    champion: ModelRef = Field(description="Production version it is judged against.")
    canary_id: Identifier = Field(description="Id of this rollout.")
    artifact: ArtifactRef = Field(description="Canary's serialized model, sha256-verified.")
    steps: Annotated[list[CanaryStep], Field(min_length=1, max_length=20)] = Field(
        description="Rollout plan; the first step is now live."
    )


class CanaryStepAdvanced(Event):
    """The judge passed the current step; the canary moved to more traffic."""

    ce_type = "io.driftline.deployment.canary-step-advanced.v1"
    topic = topics.CANARY_STEP_ADVANCED
    key_path = "model.name"
    producer = "deployment"
    consumers = ()

    model: ModelRef = Field(description="Canary version.")
    champion: ModelRef = Field(description="Production version.")
    canary_id: Identifier = Field(description="Rollout id.")
    step: int = Field(ge=0, description="Index of the step now live (0-based).")
    traffic_percent: Percent = Field(description="Canary's share of traffic now.")
    previous_traffic_percent: Percent = Field(description="Share during the judged step.")
    verdict: Verdict = Field(description="Judge's verdict on the step just finished.")
    results: Results = Field(description="Per-metric comparison with the champion.")
    window: TimeWindow = Field(description="Traffic window the judge looked at.")
    drift_retrain: bool | None = Field(
        None,
        description="The candidate answers a drift episode (its predictions were expected to "
        "move: on labels, the prediction shift was reported, not judged); null: not recorded.",
    )


class ModelPromoted(Event):
    """A version became the production model: deployment's announcement of the champion."""

    ce_type = "io.driftline.deployment.promoted.v1"
    topic = topics.MODEL_PROMOTED
    key_path = "model.name"
    producer = "deployment"
    consumers = ("monitoring", "registry", "training")

    model: ModelRef = Field(
        description="New production version (after its canary, directly if first, or by an "
        "operator, a roll back to an earlier version included). Deployment owns the champion: "
        "the registry's aliases and training's and monitoring's champions follow this event."
    )
    previous: ModelRef | None = Field(None, description="Version it replaced; null if first.")
    via: Literal["canary", "direct", "manual"] = Field(
        description="canary: passed every step; direct: first model; manual: an operator."
    )
    canary_id: Identifier | None = Field(None, description="Rollout id, when via canary.")
    artifact: ArtifactRef = Field(description="Serialized model now serving.")
    results: Results = Field(default_factory=list, description="Final step's comparison.")
    promoted_by: Actor | None = Field(
        None, description="The user who promoted it, when via manual; null otherwise."
    )
    reason: ShortText | None = Field(
        None,
        description="Why an operator put this version back in production (a roll back to an "
        "earlier version or a re-promotion); null for other promotions.",
    )


class CanaryRolledBack(Event):
    """The judge failed the canary; all traffic went back to the champion."""

    ce_type = "io.driftline.deployment.canary-rolled-back.v1"
    topic = topics.CANARY_ROLLED_BACK
    key_path = "model.name"
    producer = "deployment"
    consumers = ("registry",)

    model: ModelRef = Field(description="Canary version rolled back.")
    champion: ModelRef = Field(description="Version serving all traffic again.")
    canary_id: Identifier = Field(description="Rollout id.")
    step: int = Field(ge=0, description="Index of the step that failed.")
    traffic_percent: Percent = Field(description="Canary's share when it failed.")
    verdict: Verdict = Field(description="fail, or inconclusive when time ran out.")
    results: Results = Field(description="Per-metric comparison with the champion.")
    reasons: Annotated[list[Reason], Field(min_length=1, max_length=100)] = Field(
        description="Why, e.g. error_rate_higher, latency_higher, accuracy_lower."
    )
    window: TimeWindow = Field(description="Traffic window the judge looked at.")
    drift_retrain: bool | None = Field(
        None,
        description="The candidate answers a drift episode (its predictions were expected to "
        "move: on labels, the prediction shift was reported, not judged); null: not recorded.",
    )


class BatchScoringRequested(Event):
    """Someone asked for a dataset object (CSV or Parquet) to be scored in one batch."""

    ce_type = "io.driftline.deployment.batch-scoring-requested.v1"
    topic = topics.BATCH_SCORING_REQUESTED
    key_path = "model"
    producer = "a pipeline, or deployment (POST /v1/models/{name}/batch)"
    consumers = ("deployment",)

    model: Slug = Field(description="Model to score with.")
    job_id: Identifier = Field(description="Id of this batch job; names the predictions file.")
    input_uri: Uri = Field(description="Dataset object, inside the platform's bucket.")
    format: Literal["csv", "parquet"] | None = Field(
        None, description="File format; null: from the URI's extension."
    )
    sha256: Sha256 | None = Field(None, description="Verified before scoring when given.")
    variant: Literal["champion", "canary"] = Field(
        "champion", description="champion (default), or the running canary's version."
    )
    id_column: Name | None = Field(
        None, description="Column copied to the predictions file to join rows back."
    )


class BatchScored(Event):
    """A batch job finished: one prediction per input row, in a file in the object store."""

    ce_type = "io.driftline.deployment.batch-scored.v1"
    topic = topics.BATCH_SCORED
    key_path = "model.name"
    producer = "deployment"
    consumers = ()

    model: ModelRef = Field(description="Version that scored every row.")
    job_id: Identifier = Field(description="Id of the batch job.")
    variant: Literal["champion", "canary"] = Field(description="Which deployment scored it.")
    input_uri: Uri = Field(description="Dataset object that was scored.")
    input_sha256: Sha256 = Field(description="SHA-256 of the scored bytes.")
    predictions: ArtifactRef = Field(
        description="Predictions file (same format as the input): row, id column, prediction, "
        "score, error."
    )
    rows: int = Field(ge=0, description="Rows scored.")
    errors: int = Field(ge=0, description="Rows the model failed on (error column set).")
    duration_s: FiniteFloat = Field(ge=0, description="Wall time of the job, seconds.")


class BatchScoringFailed(Event):
    """A batch job could not run: input missing, outside the bucket, unreadable, wrong features."""

    ce_type = "io.driftline.deployment.batch-scoring-failed.v1"
    topic = topics.BATCH_SCORING_FAILED
    key_path = "model"
    producer = "deployment"
    consumers = ()

    model: Slug = Field(description="Model that was asked to score.")
    job_id: Identifier = Field(description="Id of the batch job.")
    input_uri: Uri = Field(description="Dataset object that was to be scored.")
    reasons: Annotated[list[Reason], Field(min_length=1, max_length=100)] = Field(
        description="Why, e.g. object_not_found, uri_not_allowed, missing_feature."
    )
