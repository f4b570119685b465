"""Open Inference Protocol (KServe V2) over the same serving path: health, metadata, infer."""

from __future__ import annotations

import math
from itertools import chain, repeat
from operator import itemgetter
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from driftline.deployment.errors import UnknownModelError
from driftline.deployment.models.loading import UNLOADABLE
from driftline.deployment.serving.answer import warm
from driftline.deployment.serving.http import predict
from driftline.deployment.serving.queries import PostgresServingQueries
from driftline.deployment.serving.schemas import PredictionOut
from driftline.deployment.serving.served_rows import ServedRows
from driftline.deployment.serving.v2_metadata import model_metadata
from driftline.runtime.service import ServiceRuntime


class Tensor(BaseModel):
    """A V2 input tensor: one feature's column."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(min_length=1, max_length=128)
    shape: list[int] = Field(min_length=1, max_length=2)
    datatype: str
    data: list[Any]


class InferRequest(BaseModel):
    """A V2 inference request; ``parameters.routing_key`` picks a sticky variant."""

    model_config = ConfigDict(extra="allow")

    id: str | None = None
    inputs: list[Tensor] = Field(min_length=1, max_length=500)
    parameters: dict[str, Any] = Field(default_factory=dict)


def _flat(data: list[Any]) -> list[Any]:
    if list not in set(map(type, data)):  # the usual tensor: already flat
        return data
    return [v for item in data for v in (_flat(item) if isinstance(item, list) else [item])]


def _column(values: list[Any], name: str) -> list[Any]:
    """A tensor's values checked as a whole when they are plainly fine: numbers or booleans
    with a finite sum (``sum`` refuses anything else), or short strings; else one by one."""
    try:
        if math.isfinite(sum(values)):
            return values
    except (TypeError, OverflowError):
        if set(map(type, values)) == {str} and max(map(len, values)) <= 256:
            return values
    return [_scalar(v, name) for v in values]


def _scalar(value: Any, name: str) -> Any:
    finite = not isinstance(value, float) or math.isfinite(value)
    short = not isinstance(value, str) or len(value) <= 256
    if value is None or (isinstance(value, bool | int | float | str) and finite and short):
        return value
    raise ValueError(f"input {name!r} holds a value that is not a finite JSON scalar")


def instances_from_inputs(inputs: list[Tensor]) -> list[dict[str, Any]]:
    """Rows from named columns; ``ValueError`` unless every tensor holds one value per row."""
    rows = inputs[0].shape[0]
    columns = {}
    for tensor in inputs:
        values = _flat(tensor.data)
        if tensor.shape[0] != rows or len(values) != rows:
            raise ValueError(f"input {tensor.name!r} must hold one value per row ({rows} rows)")
        columns[tensor.name] = _column(values, tensor.name)
    names = list(columns)  # rows zipped from the columns in C loops, no step per row
    return list(map(dict, map(zip, repeat(names), zip(*columns.values(), strict=True))))


def _datatype(values: list[Any]) -> str:
    if all(isinstance(v, bool) for v in values):
        return "BOOL"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "INT64"
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return "FP64"
    return "BYTES"


def v2_problems(detail: Any, inputs: list[Tensor]) -> Any:
    """Problems of the shared serving path (located in ``instances[row][feature]``) located in
    the V2 body instead: ``inputs[tensor].data[row]``, or ``inputs`` for a missing input."""
    if not isinstance(detail, list):
        return detail
    tensors = {t.name: i for i, t in enumerate(inputs)}
    located = []
    for problem in detail:
        loc = problem.get("loc") if isinstance(problem, dict) else None
        if not (isinstance(loc, list) and len(loc) == 4 and loc[1] == "instances"):
            located.append(problem)
            continue
        row, name = loc[2], loc[3]
        where: list[str | int]
        if problem.get("type") == "missing_feature" or name not in tensors:
            where, message = ["body", "inputs"], f"missing input tensor {name!r}"
        else:
            where, message = ["body", "inputs", tensors[name], "data", row], problem["msg"]
        if problem.get("type") == "unknown_feature":
            message = f"unknown input tensor {name!r}; the model expects its training features"
        located.append({**problem, "loc": where, "msg": message})
    return located


def infer_response(name: str, request_id: str | None, answers: list[PredictionOut]) -> dict:
    """The V2 response of answers given one per row."""
    return _infer_body(
        name, request_id, [a.request_id for a in answers], [a.prediction for a in answers],
        [a.probabilities for a in answers], [a.model_version for a in answers],
        [a.variant for a in answers], [a.error for a in answers], [a.warnings for a in answers],
    )  # fmt: skip


def served_response(name: str, request_id: str | None, served: ServedRows) -> dict:
    """The V2 response of served rows, built from their columns (no object per row)."""
    p = served.predicted
    return _infer_body(
        name, request_id, served.request_ids, p.predictions, p.probabilities, served.versions,
        list(served.variants), p.errors, served.flags or [None] * len(served),
    )  # fmt: skip


def _probabilities(probabilities: list[dict[str, float] | None], classes: list[str]) -> list[float]:
    """Class probabilities row after row, in ``classes`` order (absent ones 0.0)."""
    rows: list[Any] = probabilities  # every row a dict of the same classes, usually
    try:
        if len(classes) > 1:
            return list(chain.from_iterable(map(itemgetter(*classes), rows)))
        return list(map(itemgetter(classes[0]), rows))
    except (KeyError, TypeError):
        return [(q or {}).get(c, 0.0) for q in probabilities for c in classes]


def _infer_body(
    name: str, request_id: str | None, request_ids: list[str], predictions: list[Any],
    probabilities: list[dict[str, float] | None], versions: list[int], variants: list[str],
    errors: list[str | None], warnings: list[Any],
) -> dict:  # fmt: skip
    """The V2 response: ``predict`` (and ``predict_proba``) tensors, ids and variants."""
    rows = len(request_ids)
    outputs: list[dict[str, Any]] = [
        {"name": "predict", "shape": [rows], "datatype": _datatype(predictions),
         "data": predictions},
    ]  # fmt: skip
    if rows and all(probabilities):
        classes = list(probabilities[0] or {})
        outputs.append(
            {
                "name": "predict_proba",
                "shape": [rows, len(classes)],
                "datatype": "FP64",
                "data": _probabilities(probabilities, classes),
                "parameters": {"classes": classes},
            }
        )
    flagged = {"warnings": [w or [] for w in warnings]} if any(warnings) else {}
    return {
        "model_name": name,
        "model_version": str(versions[0]),
        "id": request_id or request_ids[0],
        "outputs": outputs,
        "parameters": {
            "request_ids": request_ids, "variants": variants, "model_versions": versions,
            "errors": errors, **flagged,
        },
    }  # fmt: skip


def v2_router(runtime: ServiceRuntime) -> APIRouter:
    """Routes of the Open Inference Protocol."""
    router = APIRouter(prefix="/v2", tags=["open inference protocol"])

    @router.get("/health/live", summary="The server is up.")
    async def live() -> dict[str, bool]:
        return {"live": True}

    @router.get("/health/ready", summary="The server can serve (dependencies answer).",
                responses={503: {"description": "Not ready: a dependency is down."}})  # fmt: skip
    async def ready() -> JSONResponse:
        checks = await runtime.readiness()
        ok = runtime.started.is_set() and all(v is None for v in checks.values())
        return JSONResponse({"ready": ok}, status_code=200 if ok else 503)

    @router.get("/models/{name}/ready", summary="The model's serving versions are loaded.",
                responses={404: {"description": "No such model."},
                           503: {"description": "A version cannot be loaded."}})  # fmt: skip
    async def model_ready(name: str) -> JSONResponse:
        try:
            await warm(runtime.units, runtime.deps, name)
        except UnknownModelError as exc:
            return JSONResponse({"error": str(exc)}, status_code=404)
        except UNLOADABLE as exc:
            return JSONResponse({"name": name, "ready": False, "error": str(exc)}, 503)
        return JSONResponse({"name": name, "ready": True})

    async def metadata(name: str, version: int | None) -> JSONResponse:
        try:
            deployment = await warm(runtime.units, runtime.deps, name)
        except UnknownModelError as exc:
            return JSONResponse({"error": str(exc)}, status_code=404)
        except UNLOADABLE as exc:
            return JSONResponse({"error": str(exc)}, status_code=503)
        async with runtime.units() as uow:
            ready = await PostgresServingQueries(uow.session).ready_versions(name)
        assert deployment.champion is not None
        chosen = ready.get(version if version is not None else deployment.champion.model.version)
        if chosen is None:
            return JSONResponse({"error": f"model {name!r} has no version {version}"}, 404)
        try:
            loaded = await runtime.deps.cache.get(chosen.model, chosen.artifact)
        except UNLOADABLE as exc:
            return JSONResponse({"error": str(exc)}, status_code=503)
        return JSONResponse(model_metadata(name, sorted(ready), loaded))

    @router.get("/models/{name}", summary="Model metadata: versions, platform, input tensors.",
                responses={404: {"description": "No such model or version."},
                           503: {"description": "The version cannot be loaded."}})  # fmt: skip
    async def model_metadata_route(name: str) -> JSONResponse:
        return await metadata(name, None)

    @router.get("/models/{name}/versions/{version}", summary="One version's metadata.",
                responses={404: {"description": "No such model or version."},
                           503: {"description": "The version cannot be loaded."}})  # fmt: skip
    async def version_metadata_route(name: str, version: int) -> JSONResponse:
        return await metadata(name, version)

    @router.post("/models/{name}/infer", summary="Inference with named input tensors.",
                 responses={404: {"description": "No such model."},
                            503: {"description": "The model cannot be loaded."}})  # fmt: skip
    async def infer(name: str, body: InferRequest) -> JSONResponse:
        try:
            instances = instances_from_inputs(body.inputs)
            key = body.parameters.get("routing_key")
            served = await predict(runtime, name, instances, str(key) if key else None)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=422)
        except HTTPException as exc:
            detail = v2_problems(exc.detail, body.inputs)
            return JSONResponse({"error": detail}, status_code=exc.status_code)
        return JSONResponse(served_response(name, body.id, served))

    return router
