"""Response bodies of the ingest HTTP API."""

from __future__ import annotations

from datetime import datetime

from fastapi import Path
from pydantic import BaseModel, Field

from driftline_contracts.values import SLUG_PATTERN

DatasetName = Path(pattern=SLUG_PATTERN, description="Dataset name (slug).")


class DatasetSummary(BaseModel):
    """A dataset and how many versions it has."""

    name: str = Field(description="Dataset name.")
    versions: int = Field(description="Number of catalogued versions.")
    latest_version: int = Field(description="Newest version number.")


class DatasetVersionOut(BaseModel):
    """One catalogued version of a dataset."""

    name: str = Field(description="Dataset name.")
    version: int = Field(description="Version number, from 1.")
    sha256: str = Field(description="SHA-256 of the data's bytes.")
    uri: str = Field(description="Where the data lives.")
    format: str = Field(description="csv or parquet.")
    size_bytes: int | None = Field(description="Size in bytes, when known.")
    rows: int | None = Field(description="Rows, when known.")
    source: str = Field(description="CloudEvents source that announced it.")
    actor: str = Field(description="Who or what announced it.")
    event_id: str = Field(description="Id of the DataArrived event.")
    created_at: datetime | None = Field(description="When it was catalogued.")
    uploaded_by: str | None = Field(None, description="user:NAME for uploads; null otherwise.")
    validation_status: str | None = Field(
        None, description="validated or rejected; null until validation reports."
    )
    profile_uri: str | None = Field(None, description="Column profile, once validated.")
    report_uri: str | None = Field(None, description="Validation report, once validated.")


class UploadOut(DatasetVersionOut):
    """The version an upload landed in."""

    new: bool = Field(description="True when these bytes made a new version (201).")
