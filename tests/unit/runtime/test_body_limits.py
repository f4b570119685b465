"""Every service's app refuses oversized bodies without reading them, and non-finite JSON
numbers with a 422 naming the field (``runtime/limits.py``, ``runtime/json_numbers.py``)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.middleware import Middleware

from driftline.deployment.serving.fast_path import PredictFastPath
from driftline.runtime.http import build_http_app
from driftline.runtime.json_numbers import non_finite_number
from driftline.runtime.limits import BodyLimit
from driftline.runtime.service import ServiceDefinition, ServiceRuntime
from driftline.runtime.settings import RuntimeSettings

LIMIT = 64 * 1024
UPLOAD_LIMIT = 256 * 1024
CHUNK = 16 * 1024
GIB = 1 << 30


class Body(BaseModel):
    x: float
    tags: list[str] = []


def routes(_: ServiceRuntime) -> list[APIRouter]:
    router = APIRouter()

    @router.post("/v1/echo")
    async def echo(body: Body) -> dict[str, object]:
        return {"x": body.x, "tags": body.tags}

    @router.post("/v1/uploads/{name}")
    async def upload(request: Request) -> dict[str, int]:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
        return {"size": size}

    @router.post("/v1/raises/{kind}")
    async def raises(kind: str) -> None:
        if kind == "validation":
            raise RequestValidationError([{"loc": ("body", "x"), "input": float("nan")}])
        raise HTTPException(422, [{"loc": ["body", "y"], "input": float("-inf")}])

    return [router]


async def predicted(request: Request, name: str) -> Response:
    return Response(f'{{"rows": {len(await request.body())}}}', media_type="application/json")


def client() -> httpx.AsyncClient:
    definition = ServiceDefinition(
        name="deployment",
        routers=routes,
        middleware=lambda _: [Middleware(PredictFastPath, endpoint=predicted)],
        streamed_bodies=lambda _: {"/v1/uploads/": UPLOAD_LIMIT},
    )
    settings = RuntimeSettings.model_validate(
        {"deployment": {"max_body_bytes": LIMIT}, "auth": {"disabled": True}}
    )
    app = build_http_app(ServiceRuntime(definition, settings))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


class Sent:
    """A request body of ``total`` bytes that counts how many the server pulled."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.pulled = 0

    async def chunks(self) -> AsyncIterator[bytes]:
        while self.pulled < self.total:
            self.pulled += CHUNK
            yield b" " * CHUNK


PATHS = ["/v1/echo", "/v1/models/iris/predict", "/healthz"]


@pytest.mark.parametrize("path", PATHS)
async def test_a_declared_gigabyte_is_refused_before_a_byte_is_read(path: str) -> None:
    sent = Sent(GIB)
    async with client() as http:
        answer = await http.post(
            path, content=sent.chunks(), headers={"content-length": str(GIB)}
        )
    assert answer.status_code == 413
    assert answer.json() == {"detail": f"request body larger than the limit of {LIMIT} bytes"}
    assert sent.pulled == 0


@pytest.mark.parametrize("path", PATHS)
async def test_a_chunked_gigabyte_is_read_only_up_to_the_limit(path: str) -> None:
    sent = Sent(GIB)
    async with client() as http:
        answer = await http.post(path, content=sent.chunks())
    assert answer.status_code == 413
    assert str(LIMIT) in answer.json()["detail"]
    assert sent.pulled <= LIMIT + CHUNK


async def test_streamed_uploads_have_their_own_larger_limit() -> None:
    within, beyond = Sent(UPLOAD_LIMIT), Sent(GIB)
    async with client() as http:
        taken = await http.post("/v1/uploads/d", content=within.chunks())
        refused = await http.post("/v1/uploads/d", content=beyond.chunks())
        declared = await http.post(
            "/v1/uploads/d", content=b"x", headers={"content-length": str(UPLOAD_LIMIT + 1)}
        )
    assert taken.json() == {"size": UPLOAD_LIMIT}
    assert refused.status_code == 413
    assert str(UPLOAD_LIMIT) in refused.json()["detail"]
    assert beyond.pulled <= UPLOAD_LIMIT + CHUNK
    assert declared.status_code == 413


async def test_bodies_within_the_limit_reach_the_routes_whole() -> None:
    async with client() as http:
        echoed = await http.post("/v1/echo", json={"x": 1.5, "tags": ["NaN", "1e999"]})
        served = await http.post("/v1/models/iris/predict", content=b"{" + b" " * 1000 + b"}")
    assert echoed.json() == {"x": 1.5, "tags": ["NaN", "1e999"]}
    assert served.json() == {"rows": 1002}


NON_FINITE = [
    (b'{"x": NaN}', ["body", "x"], "NaN"),
    (b'{"x": 1, "tags": [], "deep": [{"a": [1, -Infinity]}]}', ["body", "deep", 0, "a", 1],
     "-Infinity"),
    (b'{"x": 1e999}', ["body", "x"], "Infinity"),
    (b'{"x": -1E+400}', ["body", "x"], "-Infinity"),
    (b'{"x": ' + b"9" * 400 + b".5}", ["body", "x"], "Infinity"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "loc", "spelled"), NON_FINITE)
@pytest.mark.parametrize("path", ["/v1/echo", "/v1/models/iris/predict"])
async def test_non_finite_numbers_are_a_422_naming_the_field(
    path: str, body: bytes, loc: list[object], spelled: str
) -> None:
    async with client() as http:
        answer = await http.post(path, content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 422
    (error,) = json.loads(answer.text)["detail"]  # valid JSON: no NaN in the answer
    assert error["loc"] == loc
    assert error["type"] == "finite_number"
    assert error["input"] == spelled


@pytest.mark.parametrize("kind", ["validation", "http"])
async def test_error_answers_echoing_non_finite_values_stay_valid_json(kind: str) -> None:
    async with client() as http:
        answer = await http.post(f"/v1/raises/{kind}")
    assert answer.status_code == 422
    assert json.loads(answer.text)["detail"][0]["input"] in ("NaN", "-Infinity")


def test_text_that_only_looks_non_finite_is_left_alone() -> None:
    assert non_finite_number(b'{"name": "NaN", "n": "1e999", "v": 1e308}') is None
    assert non_finite_number(b"NaN is not JSON at all {") is None


async def test_an_uploaded_file_is_not_scanned_for_json_numbers_and_put_streams() -> None:
    """A data file holding ``NaN`` is not a request with a non-finite field; a ``PUT`` prefix
    streams under its own limit while other methods on that path keep the JSON limit."""
    seen: list[bytes] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append((await receive()).get("body", b""))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    limited = BodyLimit(app, limit=8, streamed={"PUT /files/": 64})
    body = b'{"loss": NaN, "pad": "0123456789"}'

    async def call(method: str, content_type: bytes) -> int:
        statuses: list[int] = []
        messages = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive() -> Any:
            return messages.pop() if messages else {"type": "http.disconnect"}

        async def send(message: Any) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        scope = {"type": "http", "method": method, "path": "/files/a.json",
                 "headers": [(b"content-type", content_type)]}  # fmt: skip
        await limited(scope, receive, send)
        return statuses[0]

    assert await call("PUT", b"application/octet-stream") == 200
    assert seen == [body]
    assert await call("POST", b"application/octet-stream") == 413, "POST keeps the JSON limit"
    limited = BodyLimit(app, limit=1024)
    assert await call("POST", b"application/json") == 422
    assert await call("POST", b"text/csv") == 200
