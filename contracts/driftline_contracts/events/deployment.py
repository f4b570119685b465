"""Deployment events: canary rollout steps, promotion and rollback."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from driftline_contracts import topics
from driftline_contracts.events.base import Event
from driftline_contracts.values import (
    ArtifactRef,
    CanaryStep,
    FiniteFloat,
    Identifier,
    MetricResult,
    ModelRef,
    Reason,
    TimeWindow,
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
    consumers = ("monitoring",)

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


class ModelPromoted(Event):
    """A version became the production model (after its canary, or directly if first)."""

    ce_type = "io.driftline.deployment.promoted.v1"
    topic = topics.MODEL_PROMOTED
    key_path = "model.name"
    producer = "deployment"
    consumers = ("monitoring", "training")

    model: ModelRef = Field(description="New production version.")
    previous: ModelRef | None = Field(None, description="Version it replaced; null if first.")
    via: Literal["canary", "direct", "manual"] = Field(
        description="canary: passed every step; direct: first model; manual: an operator."
    )
    canary_id: Identifier | None = Field(None, description="Rollout id, when via canary.")
    artifact: ArtifactRef = Field(description="Serialized model now serving.")
    results: Results = Field(default_factory=list, description="Final step's comparison.")


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
