"""The serving API: ``/v1/models/{name}/predict`` and ``/v1/models/{name}/feedback``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from typing import Any, TypeVar

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError

from driftline.deployment.deps import DeploymentDeps
from driftline.deployment.errors import (
    FeatureError,
    PredictionNotLoggedError,
    UnknownModelError,
    UnknownRequestIdsError,
)
from driftline.deployment.models.loading import UNLOADABLE
from driftline.deployment.prediction_log.feedback import receive_labels
from driftline.deployment.serving.answer import serve
from driftline.deployment.serving.bodies import predict_body
from driftline.deployment.serving.schemas import (
    FeedbackRequest,
    FeedbackResponse,
    PredictRequest,
    PredictResponse,
)
from driftline.deployment.serving.served_rows import ServedRows
from driftline.runtime.service import ServiceRuntime

ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "The model has no servable version."},
    422: {
        "description": "A row misses or adds a feature, or a value has a type the version was "
        "not trained on; `detail` names each one."
    },
    503: {
        "description": "The serving version's artifact cannot be loaded, or the prediction log "
        "is unavailable (then with Retry-After): no answer is given unlogged."
    },
}

M = TypeVar("M", bound=BaseModel)
PREDICT_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": PredictRequest.model_json_schema()}},
    }
}


def parse_body(model: type[M], body: bytes) -> M:
    """``body`` parsed and validated in one pass (pydantic-core reads the JSON itself, faster
    than decoding to Python first); errors as FastAPI's 422 with ``loc`` starting at body."""
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors, body=body) from exc


def validated_predict_request(body: bytes) -> PredictRequest:
    """``body`` as a ``PredictRequest``, or FastAPI's 422."""
    return parse_body(PredictRequest, body)


class PathParamsRoute(APIRoute):
    """A route documented from its endpoint like any other, but called as
    ``endpoint(request, **path_params)`` without FastAPI's parameter and response machinery
    (about 30 µs a request, a tenth of a one-row predict). For endpoints that take the
    ``Request`` and string path parameters, read the body themselves and return a
    ``Response``; errors still go through the app's exception handlers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint = self.endpoint

        async def handler(request: Request) -> Response:
            response: Response = await endpoint(request=request, **request.path_params)
            return response

        return handler


async def predict(
    runtime: ServiceRuntime,
    name: str,
    instances: Sequence[Mapping[str, Any]],
    routing_key: str | None,
) -> ServedRows:
    """Serve rows, turning domain errors into HTTP answers (shared by /v1 and /v2)."""
    deps: DeploymentDeps = runtime.deps
    if len(instances) > deps.settings.max_instances:
        raise HTTPException(422, f"at most {deps.settings.max_instances} instances per request")
    try:
        served = await serve(runtime.units, deps, name, instances, routing_key)
    except UnknownModelError as exc:
        raise HTTPException(404, str(exc)) from exc
    except FeatureError as exc:
        raise HTTPException(422, exc.problems) from exc
    except UNLOADABLE as exc:
        raise HTTPException(503, f"model {name!r} cannot be loaded: {exc}") from exc
    except PredictionNotLoggedError as exc:
        detail = "the prediction log is unavailable, so no answer is given; retry shortly"
        raise HTTPException(503, detail, headers={"Retry-After": "1"}) from exc
    if served.flags:
        deps.row_flags.count(runtime.metrics.registry, name, served.flags)
    deps.served.count(runtime.metrics.registry, name, len(served))
    return served


def predict_endpoint(runtime: ServiceRuntime) -> Callable[[Request, str], Awaitable[Response]]:
    """``POST /v1/models/{name}/predict``: the body read, rows served, the answer as JSON
    (the documented route and the fast path, ``fast_path.py``, both call it)."""

    async def predict_route(request: Request, name: str) -> Response:
        instances, routing_key = predict_body(await request.body(), validated_predict_request)
        served = await predict(runtime, name, instances, routing_key)
        return Response(served.response_body(), media_type="application/json")

    return predict_route


def v1_router(runtime: ServiceRuntime) -> APIRouter:
    """Routes of the Driftline serving API."""
    router = APIRouter(prefix="/v1/models/{name}", tags=["serving"])
    router.add_api_route(
        "/predict",
        predict_endpoint(runtime),
        methods=["POST"],
        summary="Score one or many rows.",
        responses=ERRORS,
        response_model=PredictResponse,
        openapi_extra=PREDICT_BODY,
        route_class_override=PathParamsRoute,
    )

    @router.post(
        "/feedback",
        summary="True labels for earlier predictions, by request id.",
        responses={422: {"description": "Unknown request ids; `detail` names each one."}},
    )
    async def feedback_route(name: str, body: FeedbackRequest) -> FeedbackResponse:
        try:
            refuse = runtime.deps.settings.log_sink == "postgres"
            event_id = await receive_labels(runtime.units, name, body.labels, refuse_unknown=refuse)
        except UnknownRequestIdsError as exc:
            detail = [
                {
                    "loc": ["body", "labels", rid],
                    "msg": f"unknown request id {rid!r} for model {name!r}",
                    "type": "unknown_request_id",
                }
                for rid in exc.request_ids
            ]
            raise HTTPException(422, detail) from exc
        return FeedbackResponse(model=name, accepted=len(body.labels), event_id=event_id)

    return router
