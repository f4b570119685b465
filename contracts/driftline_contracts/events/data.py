"""Data events: a dataset version arrived, and validation accepted or rejected it."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, Field

from driftline_contracts import topics
from driftline_contracts.events.base import Event
from driftline_contracts.values import ArtifactRef, DatasetRef, Identifier, Reason, Slug

Models = Annotated[list[Slug], Field(max_length=1000)]


class DataArrived(Event):
    """A pipeline wrote a new dataset object; validation should look at it."""

    ce_type = "io.driftline.data.arrived.v1"
    topic = topics.DATA_ARRIVED
    key_path = "dataset.name"
    producer = "ingest (uploads); data pipelines (driftline publish, contracts, raw Kafka)"
    consumers = ("ingest", "validation", "audit")

    dataset: DatasetRef = Field(description="The new data; version is assigned on validation.")
    pipeline_run: Identifier | None = Field(
        None, description="The producing pipeline's run id, for lineage back to it."
    )
    produced_at: AwareDatetime | None = Field(
        None, description="When the pipeline finished writing the object."
    )


class DataValidated(Event):
    """The dataset passed schema, quality and distribution checks and got a version."""

    ce_type = "io.driftline.data.validated.v1"
    topic = topics.DATA_VALIDATED
    key_path = "dataset.name"
    producer = "validation"
    consumers = ("training", "monitoring", "ingest")

    dataset: DatasetRef = Field(description="The accepted data, with its new version and rows.")
    profile: ArtifactRef = Field(description="Column profile (JSON) computed during validation.")
    baseline_version: int | None = Field(
        None, ge=1, description="Previously accepted version compared against; null if first."
    )
    models: Models = Field(description="Models whose spec expectations the data satisfies.")
    checks_run: int = Field(ge=0, description="Number of checks run.")
    warnings: Annotated[list[Reason], Field(max_length=1000)] = Field(
        default_factory=list, description="Non-blocking findings."
    )
    report: ArtifactRef | None = Field(
        None, description="Readable validation report (HTML) listing every check."
    )


class DataRejected(Event):
    """The dataset failed validation; nothing trains on it."""

    ce_type = "io.driftline.data.rejected.v1"
    topic = topics.DATA_REJECTED
    key_path = "dataset.name"
    producer = "validation"
    consumers = ("ingest",)

    dataset: DatasetRef = Field(description="The rejected data (version stays null).")
    reasons: Annotated[list[Reason], Field(min_length=1, max_length=1000)] = Field(
        description="Every blocking failure, with codes such as missing_column or null_rate."
    )
    profile: ArtifactRef | None = Field(None, description="Column profile, if it was computed.")
    baseline_version: int | None = Field(
        None, ge=1, description="Accepted version compared against, if any."
    )
    models: Models = Field(description="Models whose spec expectations were checked.")
    report: ArtifactRef | None = Field(
        None, description="Readable validation report (HTML) listing every check."
    )
