"""Ingest HTTP API: the dataset catalog and uploads."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi import Path as PathParam

from driftline.ingest.adapters.postgres import PostgresDatasetCatalog
from driftline.ingest.models import DatasetVersion
from driftline.ingest.schemas import DatasetName, DatasetSummary, DatasetVersionOut
from driftline.ingest.upload_api import upload_router
from driftline.runtime.service import ServiceRuntime

VersionNumber = PathParam(ge=1, description="Accepted version number, from 1.")
UploadNumber = PathParam(ge=1, description="Upload number, from 1.")


def catalog_router(runtime: ServiceRuntime) -> APIRouter:
    """The catalog's read endpoints."""
    router = APIRouter(prefix="/v1/datasets", tags=["datasets"])

    @router.get("", summary="List datasets.")
    async def list_datasets() -> list[DatasetSummary]:
        async with runtime.units() as uow:
            rows = await PostgresDatasetCatalog(uow.session).names()
        return [DatasetSummary.model_validate(r, from_attributes=True) for r in rows]

    @router.get(
        "/{name}/versions",
        summary="List every catalogued upload of a dataset with its accepted version, if any.",
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
        summary="The upload validation accepted as this version, with its outcome.",
        responses={404: {"description": "No such dataset, or no such accepted version."}},
    )
    async def get_version(
        name: str = DatasetName, version: int = VersionNumber
    ) -> DatasetVersionOut:
        async with runtime.units() as uow:
            catalog = PostgresDatasetCatalog(uow.session)
            found = await catalog.get(name, version)
            exists = found is not None or await catalog.exists(name)
            latest = None if found else await catalog.latest_version(name)
        return _found(found, exists, name, f"no version {version} (latest is {latest or '-'})")

    @router.get(
        "/{name}/uploads/{upload}",
        summary="One catalogued upload of a dataset, accepted or not.",
        responses={404: {"description": "No such dataset, or no such upload of it."}},
    )
    async def get_upload(name: str = DatasetName, upload: int = UploadNumber) -> DatasetVersionOut:
        async with runtime.units() as uow:
            catalog = PostgresDatasetCatalog(uow.session)
            found = await catalog.get_upload(name, upload)
            latest = await catalog.latest_upload(name) if found is None else upload
        return _found(found, latest > 0, name, f"no upload {upload} (latest is {latest})")

    return router


def _found(
    found: DatasetVersion | None, exists: bool, name: str, missing: str
) -> DatasetVersionOut:
    if not exists:
        raise HTTPException(404, f"dataset {name!r} not found")
    if found is None:
        raise HTTPException(404, f"dataset {name!r} has {missing}")
    return DatasetVersionOut.model_validate(found, from_attributes=True)


def routers(runtime: ServiceRuntime) -> list[APIRouter]:
    """Every router of the ingest service."""
    return [catalog_router(runtime), upload_router(runtime)]
