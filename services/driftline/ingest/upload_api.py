"""``POST /v1/datasets/{name}``: stream an upload to a temp file, store it, catalogue it."""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from pathlib import Path

from fastapi import APIRouter, Header, HTTPException, Query, Request, Response
from sqlalchemy.exc import IntegrityError as RowConflict

from driftline.ingest.adapters.outbox import OutboxUploadAnnouncer
from driftline.ingest.adapters.postgres import PostgresDatasetCatalog
from driftline.ingest.cell_limits import CellLimits, CsvCellMeter, check_parquet_cells
from driftline.ingest.core import catalog_upload
from driftline.ingest.formats import (
    CONTENT_TYPE_OF,
    FormatError,
    UnreadableDataError,
    object_key,
    parquet_rows,
    resolve_format,
)
from driftline.ingest.formats import csv_rows as count_csv_rows
from driftline.ingest.models import DatasetVersion, Upload
from driftline.ingest.schemas import DatasetName, UploadOut
from driftline.ingest.settings import IngestSection, ingest_section
from driftline.ingest.spool import EmptyUpload, Spooled, UploadTooLarge, spool
from driftline.runtime.service import ServiceRuntime
from driftline.runtime.storage import StoreUnavailable

ACTOR_HEADER = "X-Driftline-Actor"
ANONYMOUS = "user:anonymous"
_USER_ACTOR = re.compile(r"user:[A-Za-z0-9@._/-]{1,127}")
CATALOG_ATTEMPTS = 3  # concurrent uploads of one dataset may race for an upload number


def user_actor(header: str | None) -> str:
    """The uploading user from the actor header; ValueError naming the header otherwise."""
    if header is None or header == "":
        return ANONYMOUS
    if not _USER_ACTOR.fullmatch(header):
        raise ValueError(f"{ACTOR_HEADER} must look like user:NAME, not {header[:140]!r}")
    return header


async def count_rows(
    spooled: Spooled, file_format: str, meter: CsvCellMeter, limits: CellLimits
) -> int:
    """Rows of the spooled file (line breaks for CSV, the footer for Parquet), once its cells
    are known to be within ``limits`` (CellTooLarge otherwise)."""
    if file_format == "parquet":
        rows = await asyncio.to_thread(parquet_rows, spooled.path)
        await asyncio.to_thread(check_parquet_cells, spooled.path, limits)
        return rows
    if spooled.nul_bytes:
        raise UnreadableDataError("not a text CSV: the body holds NUL bytes")
    meter.check(limits)
    return count_csv_rows(spooled.newlines, spooled.size_bytes, spooled.ends_with_newline)


def cell_limits(section: IngestSection) -> CellLimits:
    """The cell and row limits of the ingest settings."""
    return CellLimits(section.max_cell_bytes, section.max_row_bytes)


@asynccontextmanager
async def temp_dir(parent: str | None) -> AsyncIterator[Path]:
    """A private temp folder, removed afterwards with whatever it holds."""
    path = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="driftline-upload-", dir=parent))
    try:
        yield path
    finally:
        await asyncio.to_thread(shutil.rmtree, path, True)


async def store_and_catalogue(
    runtime: ServiceRuntime, upload: Upload, path: Path
) -> tuple[DatasetVersion, bool]:
    """Known bytes → their upload; new bytes → stored, catalogued and announced in one unit."""
    async with runtime.units(actor=upload.actor) as uow:
        existing = await PostgresDatasetCatalog(uow.session).find(upload.name, upload.sha256)
    if existing is not None:
        return existing, False
    stored = await runtime.store.put_file(
        object_key(upload.name, upload.sha256, upload.format),
        path,
        content_type=CONTENT_TYPE_OF[upload.format],
    )
    if stored.sha256 != upload.sha256:
        raise RuntimeError(f"{path} changed while it was stored at {stored.uri}")
    for attempt in range(1, CATALOG_ATTEMPTS + 1):
        try:
            async with runtime.units(actor=upload.actor) as uow:
                catalog = PostgresDatasetCatalog(uow.session)
                return await catalog_upload(catalog, OutboxUploadAnnouncer(uow), upload)
        except RowConflict:
            if attempt == CATALOG_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def upload_router(runtime: ServiceRuntime) -> APIRouter:
    """The upload endpoint."""
    router = APIRouter(prefix="/v1/datasets", tags=["datasets"])

    @router.post(
        "/{name}",
        status_code=201,
        summary="Upload a CSV or Parquet file (streamed); validation gives it a version.",
        responses={
            200: {"description": "These bytes were already uploaded to the dataset."},
            413: {"description": "The body is larger than ingest.max_upload_bytes."},
            422: {
                "description": "Empty body, unknown format, unreadable file, a cell or row "
                "over ingest.max_cell_bytes / max_row_bytes (`cell_too_large: ...`) or bad actor."
            },
            503: {"description": "The object store is unavailable; retry later."},
        },
    )
    async def upload_dataset(
        request: Request,
        response: Response,
        name: str = DatasetName,
        file_format: str | None = Query(None, alias="format", description="csv or parquet."),
        actor_header: str | None = Header(None, alias=ACTOR_HEADER, description="user:NAME"),
    ) -> UploadOut:
        section = ingest_section(runtime.section)
        limit = section.max_upload_bytes
        try:
            actor = user_actor(actor_header)
            fmt = resolve_format(request.headers.get("content-type"), file_format)
        except (ValueError, FormatError) as exc:
            raise HTTPException(422, str(exc)) from exc
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise HTTPException(413, f"upload of {declared} bytes exceeds the limit of {limit}")
        async with temp_dir(section.spool_dir) as folder:
            meter = CsvCellMeter()
            measure = meter.feed if fmt == "csv" else None
            try:
                spooled = await spool(
                    request.stream(), folder / f"body.{fmt}", limit=limit, measure=measure
                )
                rows = await count_rows(spooled, fmt, meter, cell_limits(section))
            except UploadTooLarge as exc:
                raise HTTPException(413, str(exc)) from exc
            except (EmptyUpload, UnreadableDataError) as exc:
                raise HTTPException(422, str(exc)) from exc
            upload = Upload(
                name=name,
                sha256=spooled.sha256,
                uri=runtime.store.uri_for(object_key(name, spooled.sha256, fmt)),
                format=fmt,
                size_bytes=spooled.size_bytes,
                rows=rows,
                actor=actor,
            )
            try:
                version, new = await store_and_catalogue(runtime, upload, spooled.path)
            except StoreUnavailable as exc:
                raise HTTPException(503, f"object store unavailable: {exc}") from exc
        response.status_code = 201 if new else 200
        return UploadOut.model_validate({**asdict(version), "new": new})

    return router
