"""The subset of MLflow's REST API 2.0 an unmodified ``mlflow`` client needs for tracking:
experiments, runs, params, metrics, tags, log-batch, search and metric history."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from driftline.runtime.service import ServiceRuntime
from driftline.training.tracking import search
from driftline.training.tracking.core import PARENT_TAG, InvalidValueError, TrackingError
from driftline.training.tracking.http import actor_of
from driftline.training.tracking.mlflow_shapes import (
    experiment_json,
    metric_points,
    pairs,
    run_id_of,
    run_info_json,
    run_json,
)
from driftline.training.tracking.models import NewRun, RunLog
from driftline.training.tracking.service import Tracking

PREFIXES = ("/api/2.0/mlflow", "/ajax-api/2.0/mlflow")
ERROR_STATUS = {
    "not_found": (404, "RESOURCE_DOES_NOT_EXIST"),
    "already_exists": (400, "RESOURCE_ALREADY_EXISTS"),
    "invalid": (400, "INVALID_PARAMETER_VALUE"),
}
MLFLOW_REFUSALS: dict[int | str, dict[str, Any]] = {
    400: {"description": "MLflow's INVALID_PARAMETER_VALUE or RESOURCE_ALREADY_EXISTS."},
    404: {"description": "MLflow's RESOURCE_DOES_NOT_EXIST."},
}
MAX_RESULTS = 50_000
SEARCHED = 5_000
Json = dict[str, Any]
JsonBody = Annotated[Json, Body(description="The MLflow request message as JSON.")]


def mlflow_error(exc: TrackingError) -> JSONResponse:
    """A refusal in MLflow's error shape, which its client turns into ``MlflowException``."""
    status, code = ERROR_STATUS.get(exc.code, (400, "INVALID_PARAMETER_VALUE"))
    return JSONResponse({"error_code": code, "message": exc.message}, status_code=status)


def answers(endpoint: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Wrap an endpoint so tracking refusals answer in MLflow's error shape."""

    @functools.wraps(endpoint)
    async def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return await endpoint(*args, **kwargs)
        except TrackingError as exc:
            return mlflow_error(exc)
        except ValidationError as exc:
            message = "invalid value: " + "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:3]
            )
            return mlflow_error(InvalidValueError(message))

    return wrapped


def mlflow_router(runtime: ServiceRuntime, prefix: str) -> APIRouter:
    """MLflow's tracking endpoints under ``prefix`` (``/api/2.0/mlflow`` or the ajax twin)."""
    router = APIRouter(
        prefix=prefix,
        tags=["mlflow"],
        responses=MLFLOW_REFUSALS,
        include_in_schema=prefix == PREFIXES[0],
    )
    tracking = Tracking(runtime.units, runtime.store)
    _experiments(router, tracking)
    _runs(router, tracking)
    _logging(router, tracking)
    return router


def _experiments(router: APIRouter, tracking: Tracking) -> None:
    @router.get("/experiments/get-by-name", summary="MLflow: experiment by name.")
    @answers
    async def by_name(experiment_name: str = Query(max_length=256)) -> Json:
        return {"experiment": experiment_json(await tracking.experiment(name=experiment_name))}

    @router.get("/experiments/get", summary="MLflow: experiment by id.")
    @answers
    async def by_id(experiment_id: str = Query(max_length=32)) -> Json:
        return {
            "experiment": experiment_json(await tracking.experiment(experiment_id=experiment_id))
        }

    @router.post("/experiments/create", summary="MLflow: create an experiment.")
    @answers
    async def create(request: Request, body: JsonBody) -> Json:
        if body.get("artifact_location"):
            raise InvalidValueError(
                "artifact_location is chosen by Driftline (mlflow-artifacts:/ID)"
            )
        made = await tracking.create_experiment(
            str(body.get("name") or ""), actor_of(request), pairs(body.get("tags"))
        )
        return {"experiment_id": made.experiment_id}

    @router.post("/experiments/search", summary="MLflow: every experiment.")
    @answers
    async def search_experiments() -> Json:
        return {"experiments": [experiment_json(e) for e in await tracking.experiments()]}


def _runs(router: APIRouter, tracking: Tracking) -> None:
    @router.post("/runs/create", summary="MLflow: start a run.")
    @answers
    async def create(request: Request, body: JsonBody) -> Json:
        run_tags = pairs(body.get("tags"))
        experiment = await tracking.experiment(experiment_id=str(body.get("experiment_id", "")))
        new = NewRun(
            experiment=experiment.name,
            name=body.get("run_name") or run_tags.get("mlflow.runName"),
            parent_run_id=run_tags.get(PARENT_TAG),
            tags=run_tags,
        )
        start = _int(body.get("start_time"))
        run = await tracking.start_run(experiment.experiment_id, actor_of(request), new, start)
        return {"run": run_json(run, experiment)}

    @router.post("/runs/update", summary="MLflow: end or rename a run.")
    @answers
    async def update(body: JsonBody) -> Json:
        run = await tracking.update_run(
            run_id_of(body), status=_text(body, "status"), end_time=_int(body.get("end_time")),
            name=_text(body, "run_name"),
        )  # fmt: skip
        return {
            "run_info": run_info_json(
                run, await tracking.experiment(experiment_id=run.experiment_id)
            )
        }

    @router.get("/runs/get", summary="MLflow: one run.")
    @answers
    async def get(
        run_id: str = Query("", max_length=64), run_uuid: str = Query("", max_length=64)
    ) -> Json:
        run = await tracking.run(run_id or run_uuid)
        return {"run": run_json(run, await tracking.experiment(experiment_id=run.experiment_id))}

    @router.post("/runs/search", summary="MLflow: search runs (AND-ed comparisons).")
    @answers
    async def search_runs(body: JsonBody) -> Json:
        clauses = search.parse_filter(_text(body, "filter"))
        ids = _texts(body, "experiment_ids")
        found = [r for r in await tracking.runs(ids, SEARCHED) if search.matches(r, clauses)]
        found = search.ordered(found, _texts(body, "order_by"))
        start = _int(body.get("page_token")) or 0
        size = min(_int(body.get("max_results")) or 1000, MAX_RESULTS)
        page = found[start : start + size]
        known = {e.experiment_id: e for e in await tracking.experiments()}
        answer: Json = {"runs": [run_json(r, known[r.experiment_id]) for r in page]}
        if start + size < len(found):
            answer["next_page_token"] = str(start + size)
        return answer

    @router.get("/metrics/get-history", summary="MLflow: every point of a metric.")
    @answers
    async def history(
        metric_key: str = Query(max_length=250),
        run_id: str = Query("", max_length=64),
        run_uuid: str = Query("", max_length=64),
    ) -> Json:
        points = await tracking.history(run_id or run_uuid, metric_key)
        return {"metrics": [p.model_dump() for p in points]}


def _logging(router: APIRouter, tracking: Tracking) -> None:
    @router.post("/runs/log-parameter", summary="MLflow: log a param.")
    @answers
    async def log_param(body: JsonBody) -> Json:
        await tracking.log(
            run_id_of(body), RunLog(params={str(body.get("key")): str(body.get("value"))})
        )
        return {}

    @router.post("/runs/log-metric", summary="MLflow: log a metric point.")
    @answers
    async def log_metric(body: JsonBody) -> Json:
        await tracking.log(run_id_of(body), RunLog(metrics=metric_points([body])))
        return {}

    @router.post("/runs/set-tag", summary="MLflow: set a tag.")
    @answers
    async def set_tag(body: JsonBody) -> Json:
        await tracking.log(
            run_id_of(body), RunLog(tags={str(body.get("key")): str(body.get("value"))})
        )
        return {}

    @router.post("/runs/log-batch", summary="MLflow: params, metrics and tags at once.")
    @answers
    async def log_batch(body: JsonBody) -> Json:
        batch = RunLog(
            params=pairs(body.get("params")),
            metrics=metric_points(body.get("metrics") or []),
            tags=pairs(body.get("tags")),
        )
        await tracking.log(run_id_of(body), batch)
        return {}


def _text(body: Json, field: str) -> str | None:
    """An optional string field; anything else is refused."""
    value = body.get(field)
    if value is not None and not isinstance(value, str):
        raise InvalidValueError(f"{field} must be a string")
    return value


def _texts(body: Json, field: str) -> list[str]:
    """An optional list of strings (numbers are taken as their text, like MLflow's ids)."""
    value = body.get(field) or []
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise InvalidValueError(f"{field} must be a list of strings")
    return [str(v) for v in value]


def _int(value: Any) -> int | None:
    """An int64 field as MLflow sends it (a number, or a string of digits)."""
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise InvalidValueError(f"expected an integer, got {str(value)[:40]!r}") from exc
