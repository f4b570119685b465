"""Ingest HTTP API: the dataset catalog and uploads."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi import Path as PathParam

from driftline.ingest.adapters.postgres import PostgresDatasetCatalog
from driftline.ingest.schemas import DatasetName, DatasetSummary, DatasetVersionOut
from driftline.ingest.upload_api import upload_router
from driftline.runtime.service import ServiceRuntime

VersionNumber = PathParam(ge=1, description="Version number, from 1.")


def catalog_router(runtime: ServiceRuntime) -> APIRouter:
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

    @router.get(
        "/{name}/versions/{version}",
        summary="One version of a dataset, with its validation outcome.",
        responses={404: {"description": "No such dataset, or no such version of it."}},
    )
    async def get_version(
        name: str = DatasetName, version: int = VersionNumber
    ) -> DatasetVersionOut:
        async with runtime.units() as uow:
            catalog = PostgresDatasetCatalog(uow.session)
            found = await catalog.get(name, version)
            latest = await catalog.latest_version(name) if found is None else version
        if found is None and latest == 0:
            raise HTTPException(404, f"dataset {name!r} not found")
        if found is None:
            raise HTTPException(
                404, f"dataset {name!r} has no version {version} (latest is {latest})"
            )
        return DatasetVersionOut.model_validate(found, from_attributes=True)

    return router


def routers(runtime: ServiceRuntime) -> list[APIRouter]:
    """Every router of the ingest service."""
    return [catalog_router(runtime), upload_router(runtime)]
