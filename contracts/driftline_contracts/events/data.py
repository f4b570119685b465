"""Data events: a dataset version arrived, and validation accepted or rejected it."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, Field

from driftline_contracts import topics
from driftline_contracts.events.base import Event
from driftline_contracts.values import (
    ArtifactRef,
    DatasetRef,
    Identifier,
    Reason,
    Sha256,
    Slug,
    Value,
)

Models = Annotated[list[Slug], Field(max_length=1000)]
CANONICAL_PREFIX = "canonical"
"""Key prefix of canonical copies: ``canonical/<dataset>/<sha256 of the upload>.parquet``."""


class SourceDialect(Value):
    """How validation read the uploaded object (training reads the canonical copy instead)."""

    format: Literal["csv", "parquet"] = Field(description="File format of the upload.")
    delimiter: Annotated[str, Field(max_length=1)] | None = Field(
        None, description="CSV field delimiter that was sniffed (',', ';', tab or '|')."
    )
    encoding: Literal["utf-8", "utf-8-sig"] | None = Field(
        None, description="CSV text encoding (utf-8-sig: the file starts with a BOM)."
    )
    compression: Literal["gzip"] | None = Field(None, description="Compression of the CSV.")


class CanonicalCopy(Value):
    """The accepted data as validation parsed and typed it, written once as Parquet."""

    data: ArtifactRef = Field(description="The Parquet object; its sha256 is verified on read.")
    source_sha256: Sha256 = Field(description="SHA-256 of the upload this copy was parsed from.")
    parsed_as: SourceDialect = Field(description="How the upload was read.")

    @staticmethod
    def key(dataset: str, source_sha256: str, suffix: str) -> str:
        """Object key of the copy (``parquet``) or of its manifest (``json``)."""
        return f"{CANONICAL_PREFIX}/{dataset}/{source_sha256}.{suffix}"


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
    canonical: CanonicalCopy | None = Field(
        None,
        description="The accepted data parsed and typed once, as Parquet; training reads it "
        "instead of re-parsing the upload. Null for versions accepted before it existed.",
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
