"""Training HTTP API: runs, one run, runs side by side, reproducing a run."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query

from driftline.runtime.service import ServiceRuntime
from driftline.training.adapters.postgres import PostgresTrainingRepository
from driftline.training.deps import TrainingDeps
from driftline.training.records import RunComparison, RunRecord, compare
from driftline.training.reproduce import Reproduction, ReproductionError, reproduce_run

MAX_COMPARED = 10
REPRODUCTION_STATUS = {
    "not_reproducible": 409,
    "spec_changed": 409,
    "dataset_changed": 409,
    "data_unavailable": 409,
    "training_failed": 422,
}


def runs_router(runtime: ServiceRuntime) -> APIRouter:
    """The read endpoints over recorded runs."""
    router = APIRouter(prefix="/v1/runs", tags=["runs"])

    @router.get("", summary="List runs, newest first.")
    async def list_runs(
        model: str | None = Query(None, max_length=128, description="Only this model's runs."),
        limit: int = Query(100, ge=1, le=1000, description="Most runs returned."),
    ) -> list[RunRecord]:
        async with runtime.units() as uow:
            return await PostgresTrainingRepository(uow.session).runs(model, limit)

    @router.get(
        "/compare",
        summary="Metrics and parameters of runs side by side.",
        responses={404: {"description": "A run id is unknown."}},
    )
    async def compare_runs(
        ids: str = Query(description="Comma-separated run ids, e.g. run-a,run-b."),
    ) -> RunComparison:
        wanted = [i.strip() for i in ids.split(",") if i.strip()]
        if not 1 <= len(wanted) <= MAX_COMPARED:
            raise HTTPException(422, f"give between 1 and {MAX_COMPARED} run ids")
        async with runtime.units() as uow:
            repo = PostgresTrainingRepository(uow.session)
            found = [await repo.run(run_id) for run_id in wanted]
        missing = [w for w, r in zip(wanted, found, strict=True) if r is None]
        if missing:
            raise HTTPException(404, f"unknown runs: {', '.join(missing)}")
        return compare([r for r in found if r is not None])

    @router.get(
        "/{run_id}",
        summary="One run: params, metrics, dataset, lineage and artifacts.",
        responses={404: {"description": "No such run."}},
    )
    async def get_run(run_id: str) -> RunRecord:
        async with runtime.units() as uow:
            record = await PostgresTrainingRepository(uow.session).run(run_id)
        if record is None:
            raise HTTPException(404, f"run {run_id!r} not found")
        return record

    @router.post(
        "/{run_id}/reproduce",
        summary="Retrain a run from its lineage and compare the metrics exactly.",
        responses={
            404: {"description": "No such run."},
            409: {"description": "The run cannot be reproduced (data or spec changed, …)."},
            422: {"description": "The retraining failed."},
        },
    )
    async def reproduce(run_id: str) -> Reproduction:
        async with runtime.units() as uow:
            repo = PostgresTrainingRepository(uow.session)
            record, spec = await repo.run(run_id), await repo.run_spec(run_id)
        if record is None:
            raise HTTPException(404, f"run {run_id!r} not found")
        deps: TrainingDeps = runtime.deps
        try:
            return await reproduce_run(
                record, spec, store=runtime.store, pool=deps.pool, settings=deps.settings
            )
        except ReproductionError as exc:
            detail = {"code": exc.code, "message": exc.message}
            raise HTTPException(REPRODUCTION_STATUS.get(exc.code, 409), detail) from exc

    return router


def routers(runtime: ServiceRuntime) -> list[APIRouter]:
    """Every router of the training service."""
    return [runs_router(runtime)]
