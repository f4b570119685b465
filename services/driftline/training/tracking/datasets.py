"""A dataset version's canonical accepted copy (Parquet), streamed to an authenticated caller
so a notebook reads exactly the frame validation accepted and training trains on."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi import Path as PathParam
from starlette.background import BackgroundTask
from starlette.responses import FileResponse

from driftline.runtime.service import ServiceRuntime
from driftline.training.adapters.datasets import canonical_copy
from driftline.training.tracking.repository import PostgresTrackingRepository

ACTOR_HEADER = "x-driftline-actor"


def datasets_router(runtime: ServiceRuntime) -> APIRouter:
    """``GET /v1/tracking/datasets/{name}/versions/{version}/canonical.parquet``."""
    router = APIRouter(prefix="/v1/tracking/datasets", tags=["tracking"])

    @router.get(
        "/{name}/versions/{version}/canonical.parquet",
        summary="The accepted version's canonical Parquet copy (needs a token).",
        response_class=FileResponse,
        responses={
            401: {"description": "No bearer token: dataset rows are never read anonymously."},
            404: {"description": "Not an accepted version, or it has no canonical copy."},
        },
    )
    async def canonical(
        request: Request,
        name: str = PathParam(max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"),
        version: int = PathParam(ge=1, le=10**9),
    ) -> FileResponse:
        if not request.headers.get(ACTOR_HEADER):
            raise HTTPException(401, "reading a dataset's rows needs Authorization: Bearer <token>")
        async with runtime.units() as uow:
            ref = await PostgresTrackingRepository(uow.session).dataset(name, version)
        copy = await canonical_copy(runtime.store, ref) if ref is not None else None
        if copy is None:
            raise HTTPException(404, f"{name}@{version} has no canonical accepted copy")
        folder = Path(tempfile.mkdtemp(prefix="driftline-canonical-"))
        path = await runtime.store.download(copy.data.uri, folder / "data.parquet",
                                            sha256=copy.data.sha256)  # fmt: skip
        return FileResponse(
            path,
            media_type="application/vnd.apache.parquet",
            filename=f"{name}-{version}.parquet",
            background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
        )

    return router
