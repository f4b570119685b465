"""Ingest HTTP API: the dataset catalog."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, Field

from driftline.ingest.adapters.postgres import PostgresDatasetCatalog
from driftline.runtime.service import ServiceRuntime
from driftline_contracts.values import SLUG_PATTERN


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


DatasetName = Path(pattern=SLUG_PATTERN, description="Dataset name (slug).")


def routers(runtime: ServiceRuntime) -> list[APIRouter]:
    """The catalog's read endpoints."""
    router = APIRouter(prefix="/v1/datasets", tags=["datasets"])

    @router.get("", summary="List datasets.")
    async def list_datasets() -> list[DatasetSummary]:
        async with runtime.units() as uow:
            rows = await PostgresDatasetCatalog(uow.session).names()
        return [DatasetSummary(name=n, versions=c, latest_version=v) for n, c, v in rows]

    @router.get(
        "/{name}/versions",
        summary="List the versions of a dataset.",
        responses={404: {"description": "No such dataset."}},
    )
    async def list_versions(name: str = DatasetName) -> list[DatasetVersionOut]:
        async with runtime.units() as uow:
            versions = await PostgresDatasetCatalog(uow.session).versions(name)
        if not versions:
            raise HTTPException(404, f"dataset {name!r} not found")
        return [DatasetVersionOut.model_validate(v, from_attributes=True) for v in versions]

    return [router]
