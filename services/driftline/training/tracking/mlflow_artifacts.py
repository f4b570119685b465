"""MLflow's artifact proxy (``/api/2.0/mlflow-artifacts``): the client uploads a run's files
through Driftline to the artifact store, under ``EXPERIMENT/RUN/artifacts/PATH``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, Response

from driftline.training.tracking.core import NotFoundError, artifact_path
from driftline.training.tracking.mlflow_api import MLFLOW_REFUSALS, answers
from driftline.training.tracking.service import Tracking

PREFIX = "/api/2.0/mlflow-artifacts/artifacts"


async def locate(tracking: Tracking, path: str) -> tuple[str, str]:
    """``EXPERIMENT/RUN/artifacts/REST`` → (run id, REST), once the run is known to be in
    that experiment; ``NotFoundError`` otherwise."""
    experiment_id, _, rest = path.strip("/").partition("/")
    run_id, _, rest = rest.partition("/")
    folder, _, inner = rest.partition("/")
    if folder != "artifacts":
        raise NotFoundError(f"not a run's artifact path: {path[:120]!r}")
    run = await tracking.run(run_id)
    if run.experiment_id != experiment_id:
        raise NotFoundError(f"run {run_id} is not in experiment {experiment_id[:20]!r}")
    return run_id, inner


def children(paths: list[tuple[str, int]], under: str) -> list[dict[str, Any]]:
    """MLflow's listing of one folder: its files and sub-folders, named relative to it."""
    prefix = f"{under}/" if under else ""
    seen: dict[str, dict[str, Any]] = {}
    for path, size in paths:
        if not path.startswith(prefix):
            continue
        head, slash, _ = path[len(prefix) :].partition("/")
        entry: dict[str, Any] = {"path": head, "is_dir": bool(slash)}
        if not slash:
            entry["file_size"] = size
        seen.setdefault(head, entry)
    return sorted(seen.values(), key=lambda e: e["path"])


def mlflow_artifacts_router(tracking: Tracking) -> APIRouter:
    """Upload, download and list a run's files the way MLflow's artifact client does."""
    router = APIRouter(prefix=PREFIX, tags=["mlflow"], responses=MLFLOW_REFUSALS)

    @router.put("/{path:path}", summary="MLflow: upload a run's file.")
    @answers
    async def upload(path: str, request: Request) -> dict[str, Any]:
        run_id, inner = await locate(tracking, path)
        await tracking.put_artifact(run_id, artifact_path(inner), await request.body())
        return {}

    @router.get("/{path:path}", summary="MLflow: download a run's file.")
    @answers
    async def download(path: str) -> Response:
        run_id, inner = await locate(tracking, path)
        data = await tracking.get_artifact(run_id, inner)
        return Response(data, media_type="application/octet-stream")

    @router.get("", summary="MLflow: list a run's files.")
    @answers
    async def listing(path: str = Query("", max_length=2048)) -> dict[str, Any]:
        run_id, inner = await locate(tracking, path)
        run = await tracking.run(run_id)
        found = [(a.path, a.size_bytes) for a in run.artifacts]
        return {"files": children(found, inner.strip("/"))}

    return router
