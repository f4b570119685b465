"""HTTP requests as SERVER spans: a caller's ``traceparent`` is continued, the span is named by
route template, and with tracing off the middleware is not there at all."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter, HTTPException
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from starlette.middleware import Middleware

from driftline.runtime.http import NamedByRoute, TracedRequests, build_http_app
from driftline.runtime.service import ServiceDefinition, ServiceRuntime
from driftline.runtime.settings import RuntimeSettings
from driftline.runtime.tracing import current_context, name_request_span
from tests.unit.runtime.tracing_fakes import memory_provider

PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
TOKENS = "tok-pub user:paul publisher"


def _routes(_: ServiceRuntime) -> list[APIRouter]:
    router = APIRouter()

    async def item(name: str) -> dict[str, str | None]:
        context = current_context()  # what an event emitted here would carry
        return {"name": name, "traceparent": context.traceparent if context else None}

    async def broken() -> None:
        raise HTTPException(503, "down")

    router.add_api_route("/v1/items/{name}", item, methods=["GET"])
    router.add_api_route("/v1/broken", broken, methods=["GET"])
    return [router]


def _runtime(provider: object | None) -> ServiceRuntime:
    settings = RuntimeSettings.model_validate({"auth": {"tokens": TOKENS}})
    definition = ServiceDefinition(name="probe", routers=_routes)
    return ServiceRuntime(definition, settings, tracer_provider=provider)  # type: ignore[arg-type]


@pytest.fixture
async def traced() -> AsyncIterator[tuple[httpx.AsyncClient, InMemorySpanExporter]]:
    provider, exporter = memory_provider()
    transport = httpx.ASGITransport(app=build_http_app(_runtime(provider)))
    headers = {"Authorization": "Bearer tok-pub"}
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as c:
        yield c, exporter


async def test_a_request_continues_the_callers_trace_in_a_server_span(traced) -> None:
    client, exporter = traced
    response = await client.get("/v1/items/a1", headers={"traceparent": PARENT})
    assert response.status_code == 200
    (span,) = exporter.get_finished_spans()
    assert span.kind is SpanKind.SERVER
    assert span.name == "GET /v1/items/{name}"  # the template: few names, whatever the path
    assert span.context.trace_id == int(PARENT.split("-")[1], 16)
    assert span.parent.span_id == int(PARENT.split("-")[2], 16)
    assert span.attributes["http.response.status_code"] == 200
    assert span.attributes["http.route"] == "/v1/items/{name}"
    assert span.attributes["driftline.service"] == "probe"
    # Work done in the request (an event emitted, say) carries the server span on.
    carried = response.json()["traceparent"]
    assert carried == f"00-{span.context.trace_id:032x}-{span.context.span_id:016x}-01"


async def test_a_request_without_traceparent_starts_a_trace(traced) -> None:
    client, exporter = traced
    await client.get("/v1/items/a1", headers={"traceparent": "not-a-traceparent"})
    (span,) = exporter.get_finished_spans()
    assert span.parent is None


async def test_server_errors_and_refused_requests_are_spans_too(traced) -> None:
    client, exporter = traced
    assert (await client.get("/v1/broken")).status_code == 503
    assert (await client.get("/v1/items/a1", headers={"Authorization": "Bearer no"})).status_code
    broken, refused = exporter.get_finished_spans()
    assert broken.status.status_code is StatusCode.ERROR
    assert refused.attributes["http.response.status_code"] == 401  # auth sits inside the span
    assert refused.status.status_code is StatusCode.UNSET


def test_with_tracing_off_no_tracing_middleware_is_installed() -> None:
    app = build_http_app(_runtime(None))
    assert all(m.cls not in (TracedRequests, NamedByRoute) for m in app.user_middleware)
    traced_app = build_http_app(_runtime(memory_provider()[0]))
    assert traced_app.user_middleware[0].cls is TracedRequests  # outermost
    assert traced_app.user_middleware[-1].cls is NamedByRoute  # innermost


async def test_an_answer_that_skips_the_router_can_name_its_span() -> None:
    provider, exporter = memory_provider()

    class FastPath:  # like deployment's predict fast path: answers before the router
        def __init__(self, app: object) -> None:
            self.app = app

        async def __call__(self, scope, receive, send) -> None:  # type: ignore[no-untyped-def]
            name_request_span("POST", "/v1/models/{name}/predict")
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"{}"})

    settings = RuntimeSettings.model_validate({"auth": {"tokens": TOKENS}})
    definition = ServiceDefinition(name="probe", middleware=lambda _: [Middleware(FastPath)])
    app = build_http_app(ServiceRuntime(definition, settings, tracer_provider=provider))
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": "Bearer tok-pub"}
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as c:
        assert (await c.post("/v1/models/m1/predict", json={})).status_code == 200
    (span,) = exporter.get_finished_spans()
    assert span.name == "POST /v1/models/{name}/predict"
    assert span.attributes["url.path"] == "/v1/models/m1/predict"


async def test_fastapi_adds_no_span_of_its_own_under_a_process_wide_provider(monkeypatch) -> None:
    """A process-wide OpenTelemetry provider (auto-instrumentation sets one) does not make
    FastAPI trace requests itself: the runtime's span is the only one. A bare FastAPI app
    under the same provider does (so this test sees the difference it guards)."""
    from fastapi import FastAPI
    from opentelemetry import trace

    global_provider, global_spans = memory_provider()
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: global_provider)
    bare = FastAPI()

    @bare.get("/ping")
    async def ping() -> dict[str, str]:
        return {"ok": "yes"}

    async def get(app: FastAPI, path: str) -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert (await client.get(path)).status_code == 200

    await get(build_http_app(_runtime(None)), "/healthz")
    assert global_spans.get_finished_spans() == ()
    await get(bare, "/ping")
    assert "GET /ping" in [span.name for span in global_spans.get_finished_spans()]
