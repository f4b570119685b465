"""Response bodies of the ingest HTTP API."""

from __future__ import annotations

from datetime import datetime

from fastapi import Path
from pydantic import BaseModel, Field

from driftline_contracts.values import SLUG_PATTERN

DatasetName = Path(pattern=SLUG_PATTERN, description="Dataset name (slug).")


class DatasetSummary(BaseModel):
    """A dataset: how many uploads it has and how many of them validation accepted."""

    name: str = Field(description="Dataset name.")
    uploads: int = Field(description="Number of catalogued uploads (distinct bytes), rejected too.")
    latest_upload: int = Field(description="Newest upload number.")
    versions: int = Field(description="Number of accepted versions.")
    latest_version: int | None = Field(
        description="Newest accepted version number; null while none is accepted."
    )


class DatasetVersionOut(BaseModel):
    """One catalogued upload of a dataset, with the version number validation gave it."""

    name: str = Field(description="Dataset name.")
    upload: int = Field(
        description="Upload number, from 1: every distinct upload or arrival gets the next one, "
        "rejected ones too."
    )
    version: int | None = Field(
        description="Accepted version number, the one DataValidated, training and the registry "
        "name; null until validation accepts the upload (and for rejected uploads)."
    )
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
    """The catalogued upload the bytes landed in."""

    new: bool = Field(description="True when these bytes made a new upload (201).")
