"""The predict fast path answers exactly as the documented route would: same bodies, same
errors through the app's exception handlers, and every other request left to the app."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter, FastAPI, HTTPException, Request, Response
from starlette.middleware import Middleware

from driftline.deployment.serving.fast_path import PredictFastPath, predicted_model
from driftline.deployment.serving.http import PathParamsRoute, validated_predict_request
from driftline.runtime.http import build_http_app
from driftline.runtime.service import ServiceDefinition, ServiceRuntime
from driftline.runtime.settings import RuntimeSettings


async def endpoint(request: Request, name: str) -> Response:
    if name == "ghost":
        raise HTTPException(404, f"model {name!r} has no servable version")
    body = validated_predict_request(await request.body())  # FastAPI's 422 when invalid
    return Response(f'{{"model": "{name}", "rows": {len(body.instances)}}}', media_type="x/y")


def app(fast: bool) -> FastAPI:
    built = FastAPI()
    router = APIRouter(prefix="/v1/models/{name}")
    router.add_api_route(
        "/predict", endpoint, methods=["POST"], route_class_override=PathParamsRoute
    )
    router.add_api_route("/other", lambda: {"other": True}, methods=["GET"])
    built.include_router(router)
    if fast:
        built.add_middleware(PredictFastPath, endpoint=endpoint)
    return built


REQUESTS = [
    ("POST", "/v1/models/iris/predict", b'{"instances": [{"a": 1.0}, {"a": 2.0}]}'),
    ("POST", "/v1/models/ghost/predict", b'{"instances": [{"a": 1.0}]}'),
    ("POST", "/v1/models/iris/predict", b'{"instances": "nope"}'),
    ("POST", "/v1/models/iris/predict", b"not json"),
    ("GET", "/v1/models/iris/predict", b""),
    ("GET", "/v1/models/iris/other", b""),
    ("POST", "/v1/models/a/b/predict", b"{}"),
]


@pytest.mark.parametrize(("method", "path", "body"), REQUESTS)
async def test_answers_are_the_routes_own(method: str, path: str, body: bytes) -> None:
    answers = []
    for fast in (False, True):
        transport = httpx.ASGITransport(app=app(fast))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            answer = await client.request(method, path, content=body)
        answers.append((answer.status_code, answer.headers.get("content-type"), answer.text))
    assert answers[0] == answers[1]


def test_only_predict_posts_to_one_model_take_the_fast_path() -> None:
    def scope(method: str, path: str) -> dict[str, object]:
        return {"type": "http", "method": method, "path": path, "root_path": ""}

    assert predicted_model(scope("POST", "/v1/models/iris/predict")) == "iris"
    assert predicted_model(scope("GET", "/v1/models/iris/predict")) is None
    assert predicted_model(scope("POST", "/v1/models//predict")) is None
    assert predicted_model(scope("POST", "/v1/models/a/b/predict")) is None
    assert predicted_model(scope("POST", "/v2/models/iris/infer")) is None


async def test_predict_requests_never_reach_the_router() -> None:
    async def fast(request: Request, name: str) -> Response:
        return Response(f"fast {name}")

    built = app(fast=False)
    built.add_middleware(PredictFastPath, endpoint=fast)
    transport = httpx.ASGITransport(app=built)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        predicted = await client.post("/v1/models/iris/predict", content=b"{}")
        other = await client.get("/v1/models/iris/other")
    assert predicted.text == "fast iris"
    assert other.json() == {"other": True}


async def test_bearer_auth_still_guards_the_fast_path() -> None:
    """The runtime adds the service's middleware before auth, so auth runs first."""

    async def served(request: Request, name: str) -> Response:
        return Response(f"served {name} for {request.headers.get('x-driftline-actor')}")

    definition = ServiceDefinition(
        name="deployment",
        middleware=lambda _: [Middleware(PredictFastPath, endpoint=served)],
    )
    settings = RuntimeSettings.model_validate({"auth": {"tokens": "s3cret user:ann publisher"}})
    transport = httpx.ASGITransport(app=build_http_app(ServiceRuntime(definition, settings)))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        refused = await client.post("/v1/models/iris/predict", content=b"{}")
        allowed = await client.post(
            "/v1/models/iris/predict", content=b"{}", headers={"authorization": "Bearer s3cret"}
        )
    assert refused.status_code == 401
    assert allowed.text == "served iris for user:ann"
