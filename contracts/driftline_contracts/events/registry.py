"""Registry events: a trained model got a version, then passed or failed its gates."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from driftline_contracts import topics
from driftline_contracts.events.base import Event
from driftline_contracts.values import (
    Actor,
    ArtifactRef,
    DatasetRef,
    GateResult,
    Identifier,
    Metrics,
    ModelRef,
    Reason,
    Sha256,
    Text,
)

Gates = Annotated[list[GateResult], Field(max_length=200)]
COMPARED_CHAMPION = (
    "Informational: the champion this version was compared with on its holdout (training's "
    "champion_comparison, the version deployment's ModelPromoted last announced when the run "
    "trained); null without a comparison. Not the current champion: deployment owns that fact "
    "and announces it in ModelPromoted."
)


class ModelRegistered(Event):
    """A trained model became version N in the registry, with its lineage."""

    ce_type = "io.driftline.registry.registered.v1"
    topic = topics.MODEL_REGISTERED
    key_path = "model.name"
    producer = "registry"
    consumers = ("monitoring",)

    model: ModelRef = Field(description="The new model version.")
    run_id: Identifier = Field(description="Training run that produced it.")
    artifact: ArtifactRef = Field(description="Serialized model with sha256.")
    dataset: DatasetRef = Field(description="Training dataset version with sha256.")
    spec_hash: Sha256 = Field(description="Model spec hash it was trained under.")
    code_version: Annotated[str, Field(min_length=1, max_length=128)] = Field(
        description="Trainer code version."
    )
    metrics: Metrics = Field(description="Holdout metrics.")
    trainer: Actor = Field(description="Who trained it (an approver must differ).")
    champion: ModelRef | None = Field(None, description=COMPARED_CHAMPION)
    approval: Literal["automatic", "manual"] = Field(
        description="automatic: gates decide; manual: a person approves after gates pass."
    )


class ModelApproved(Event):
    """The version passed its gates (and a person approved, if policy says so)."""

    ce_type = "io.driftline.registry.approved.v1"
    topic = topics.MODEL_APPROVED
    key_path = "model.name"
    producer = "registry"
    consumers = ("deployment",)

    model: ModelRef = Field(description="Approved model version.")
    approver: Actor = Field(description="service:registry for automatic, else user:NAME.")
    gates: Gates = Field(description="Every gate result.")
    champion: ModelRef | None = Field(None, description=COMPARED_CHAMPION)
    artifact: ArtifactRef = Field(description="Serialized model to deploy, with sha256.")
    comment: Text | None = Field(None, description="Approver's note.")


class ModelRejected(Event):
    """The version failed a gate or was turned down; it will not be deployed."""

    ce_type = "io.driftline.registry.rejected.v1"
    topic = topics.MODEL_REJECTED
    key_path = "model.name"
    producer = "registry"
    consumers = ()

    model: ModelRef = Field(description="Rejected model version.")
    rejected_by: Actor = Field(description="service:registry for gates, else user:NAME.")
    gates: Gates = Field(description="Every gate result.")
    reasons: Annotated[list[Reason], Field(min_length=1, max_length=200)] = Field(
        description="Why, e.g. gate.min_accuracy, gate.beat_champion, manual."
    )
    champion: ModelRef | None = Field(None, description=COMPARED_CHAMPION)
