"""Driftline's own tracking API (``/v1/tracking``): what the client library calls."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request, Response

from driftline.runtime.service import ServiceRuntime
from driftline.training.tracking.core import TrackingError
from driftline.training.tracking.models import (
    ArtifactEntry,
    ComparedRuns,
    Experiment,
    MetricPoint,
    NewRun,
    RunEnd,
    RunLog,
    TrackedRun,
)
from driftline.training.tracking.service import Tracking

ACTOR_HEADER = "x-driftline-actor"
ANONYMOUS = "user:anonymous"
MAX_COMPARED = 10
STATUS = {"not_found": 404, "already_exists": 409, "invalid": 422}
REFUSALS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such experiment, run or artifact."},
    409: {"description": "An experiment of that name exists."},
    422: {"description": "A name, value or path the platform refuses."},
}


def actor_of(request: Request) -> str:
    """Who calls: the actor the auth layer set from the bearer token, else anonymous."""
    return request.headers.get(ACTOR_HEADER) or ANONYMOUS


@contextmanager
def refusals() -> Iterator[None]:
    """Turn a tracking refusal into its HTTP answer (404, 409 or 422 with the reason)."""
    try:
        yield
    except TrackingError as exc:
        raise HTTPException(STATUS.get(exc.code, 422), exc.message) from exc


def tracking_router(runtime: ServiceRuntime) -> APIRouter:
    """Experiments, runs, logging, metric curves, artifacts and comparisons."""
    router = APIRouter(prefix="/v1/tracking", tags=["tracking"], responses=REFUSALS)
    tracking = Tracking(runtime.units, runtime.store)
    errors: dict[int | str, dict[str, Any]] = {
        404: {"description": "No such run or experiment."}
    }

    @router.get("/experiments", summary="Every experiment.")
    async def experiments() -> list[Experiment]:
        return await tracking.experiments()

    @router.post("/runs", status_code=201, summary="Start a run.", responses=errors)
    async def start(new: NewRun, request: Request) -> TrackedRun:
        with refusals():
            experiment = await tracking.experiment_for(new.experiment, actor_of(request))
            return await tracking.start_run(experiment.experiment_id, actor_of(request), new)

    @router.get("/runs", summary="Tracked runs, newest first.")
    async def runs(
        experiment: str | None = Query(None, max_length=256, description="Only this one's runs."),
        limit: int = Query(100, ge=1, le=1000, description="Most runs returned."),
    ) -> list[TrackedRun]:
        with refusals():
            ids = (
                None
                if experiment is None
                else [(await tracking.experiment(name=experiment)).experiment_id]
            )
        return await tracking.runs(ids, limit)

    @router.get("/compare", summary="Tracked and training runs side by side.", responses=errors)
    async def compare(ids: str = Query(description="Comma-separated run ids.")) -> ComparedRuns:
        wanted = [i.strip() for i in ids.split(",") if i.strip()]
        if not 1 <= len(wanted) <= MAX_COMPARED:
            raise HTTPException(422, f"give between 1 and {MAX_COMPARED} run ids")
        with refusals():
            return await tracking.compare(wanted)

    @router.get("/runs/{run_id}", summary="One tracked run.", responses=errors)
    async def run(run_id: str) -> TrackedRun:
        with refusals():
            return await tracking.run(run_id)

    @router.post("/runs/{run_id}/log", status_code=204, summary="Log params, metrics, tags.")
    async def log(run_id: str, batch: RunLog) -> Response:
        with refusals():
            await tracking.log(run_id, batch)
        return Response(status_code=204)

    @router.post("/runs/{run_id}/end", summary="End a run.", responses=errors)
    async def end(run_id: str, body: RunEnd) -> TrackedRun:
        with refusals():
            return await tracking.update_run(run_id, status=body.status)

    @router.get("/runs/{run_id}/metrics/{key:path}", summary="A metric's curve.", responses=errors)
    async def history(run_id: str, key: str) -> list[MetricPoint]:
        with refusals():
            return await tracking.history(run_id, key)

    @router.put("/runs/{run_id}/artifacts/{path:path}", summary="Upload a file.", responses=errors)
    async def put_artifact(run_id: str, path: str, request: Request) -> ArtifactEntry:
        with refusals():
            return await tracking.put_artifact(run_id, path, await request.body())

    @router.get(
        "/runs/{run_id}/artifacts/{path:path}", summary="Download a file.", responses=errors
    )
    async def get_artifact(run_id: str, path: str) -> Response:
        with refusals():
            data = await tracking.get_artifact(run_id, path)
        return Response(data, media_type="application/octet-stream")

    return router
