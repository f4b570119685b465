"""Model-spec events: a data scientist applied a model spec (``driftline apply``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, JsonValue

from driftline_contracts import topics
from driftline_contracts.events.base import Event
from driftline_contracts.values import Name, Sha256, Slug


class ModelSpecApplied(Event):
    """A model spec was created or changed; training and validation follow its expectations."""

    ce_type = "io.driftline.spec.applied.v1"
    topic = topics.MODEL_SPEC_APPLIED
    key_path = "model"
    producer = "registry (driftline apply, POST /v1/specs)"
    consumers = ("validation", "training", "registry", "deployment", "monitoring")

    model: Slug = Field(description="Model name (slug) the spec defines.")
    dataset: Slug = Field(description="Dataset the model trains on.")
    task: Literal["classification", "regression"] = Field(description="Learning task.")
    target: Name = Field(description="Target (label) column.")
    trainer: Annotated[str, Field(min_length=1, max_length=256)] = Field(
        description="Estimator import path or user function 'package.module:train'."
    )
    spec_hash: Sha256 = Field(description="SHA-256 of the canonical JSON of the spec.")
    spec: Annotated[dict[str, JsonValue], Field(max_length=100)] = Field(
        description="The full spec document as applied (features, expectations, gates, canary)."
    )
