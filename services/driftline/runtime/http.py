"""HTTP surface every service shares: ``/healthz``, ``/readyz`` and ``/metrics``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import structlog
from fastapi import FastAPI
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind, StatusCode, Tracer
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import driftline
from driftline.runtime.auth import auth_layer
from driftline.runtime.errors import is_invalid_input
from driftline.runtime.http_metrics import CountedRequests
from driftline.runtime.json_numbers import printable
from driftline.runtime.limits import BodyLimit
from driftline.runtime.service import ServiceRuntime
from driftline.runtime.stop_watch import cancel_and_wait
from driftline.runtime.tracing import name_request_span, parent_of

if TYPE_CHECKING:  # FastAPI 0.165+ (the pinned one); older versions take the argument as extra
    from fastapi.telemetry import TelemetryConfig

log = structlog.get_logger(__name__)


FASTAPI_TELEMETRY_OFF: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}
"""FastAPI's own OpenTelemetry spans, metrics and logs, off: the runtime makes the server spans
(``TracedRequests``, on its own provider) and the request metrics. Left on, FastAPI would add a
second span per request as soon as a process-wide provider is set (auto-instrumentation, say),
and asks the global providers whether one is, about 2.4 µs on every request."""


def build_http_app(runtime: ServiceRuntime) -> FastAPI:
    """The service's ASGI app; its lifespan starts and stops the runtime."""

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Start in the background so /healthz and /readyz answer while dependencies come up.
        starting = asyncio.create_task(runtime.start(), name=f"{runtime.name}-start")
        yield
        if not starting.done():
            await cancel_and_wait(starting)
        await runtime.stop()

    app = FastAPI(
        title=f"Driftline {runtime.name}",
        version=driftline.__version__,
        lifespan=lifespan,
        telemetry=FASTAPI_TELEMETRY_OFF,
    )
    app.state.runtime = runtime

    @app.get("/healthz", tags=["operations"], summary="Liveness: the process is up.")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": runtime.name}

    @app.get(
        "/readyz",
        tags=["operations"],
        summary="Readiness: Kafka, PostgreSQL and S3 answer and the service has started.",
        responses={503: {"description": "A dependency is down; `failing` names it."}},
    )
    async def readyz() -> JSONResponse:
        checks = await runtime.readiness()
        failing = [name for name, error in checks.items() if error is not None]
        if not runtime.started.is_set():
            failing.append("startup")
            checks["startup"] = runtime.startup_error or "starting"
        runtime.metrics.ready.set(0 if failing else 1)
        body = {
            "service": runtime.name,
            "status": "unavailable" if failing else "ready",
            "failing": failing,
            "checks": {k: v or "ok" for k, v in checks.items()},
        }
        return JSONResponse(body, status_code=503 if failing else 200)

    @app.get(
        "/metrics",
        tags=["operations"],
        summary="Prometheus metrics.",
        response_class=PlainTextResponse,
    )
    async def metrics() -> Response:
        return Response(runtime.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    for router in runtime.definition.routers(runtime):
        app.include_router(router)
    add_error_handlers(app)
    _document_plain_422(app)
    tracer = runtime.tracer.server_span_tracer()
    if tracer is not None:
        app.add_middleware(NamedByRoute)
    for middleware in runtime.definition.middleware(runtime):  # added before auth: inside it
        app.add_middleware(middleware.cls, *middleware.args, **middleware.kwargs)
    app.add_middleware(CountedRequests, metrics=runtime.metrics)  # inside auth: sees the route
    app.add_middleware(  # outside the service's own middleware (the predict fast path)
        BodyLimit,
        limit=runtime.section.max_body_bytes,
        streamed=runtime.definition.streamed_bodies(runtime),
    )
    _add_auth(app, runtime)
    if tracer is not None:  # outermost, so a span covers auth too; absent when tracing is off
        app.add_middleware(TracedRequests, tracer=tracer, service=runtime.name)
    return app


def add_error_handlers(app: FastAPI) -> None:
    """Errors as 4xx bodies that can always be written (a NaN echoed back, a database refusal)."""
    app.add_exception_handler(DBAPIError, _invalid_input)
    app.add_exception_handler(RequestValidationError, _printable_validation_error)
    app.add_exception_handler(HTTPException, _printable_http_error)


class TracedRequests:
    """A SERVER span per HTTP request, continuing the caller's ``traceparent`` header."""

    def __init__(self, app: ASGIApp, *, tracer: Tracer, service: str) -> None:
        self.app = app
        self._tracer = tracer
        self._service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        with self._tracer.start_as_current_span(
            method,
            context=_caller_context(scope["headers"]),
            kind=SpanKind.SERVER,
            attributes={
                "http.request.method": method,
                "url.path": scope["path"],
                "driftline.service": self._service,
            },
        ) as span:

            async def send_traced(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status = message["status"]
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        span.set_status(StatusCode.ERROR)
                await send(message)

            await self.app(scope, receive, send_traced)


class NamedByRoute:
    """Innermost: names the request's span after the route template that answered (the
    router notes it in the scope it got; the auth layer hands the router a copy, so the
    outer middleware never sees it). Few span names, whatever the paths."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
        path = getattr(scope.get("route"), "path", None)
        if path is not None and scope["type"] == "http":
            name_request_span(scope["method"], path)


def _caller_context(headers: list[tuple[bytes, bytes]]) -> Context | None:
    """The trace context the caller sent (``traceparent``/``tracestate``), if any."""
    traceparent = tracestate = None
    for name, value in headers:
        if name == b"traceparent":
            traceparent = value.decode("latin-1")
        elif name == b"tracestate":
            tracestate = value.decode("latin-1")
    return parent_of(traceparent, tracestate)


_UNSAFE_MODES = {
    "gateway": "identity headers are trusted as sent: only an authenticating gateway may "
    "reach this service",
    "anonymous": "authentication is disabled: every caller is anonymous and writes are open",
}


def _add_auth(app: FastAPI, runtime: ServiceRuntime) -> None:
    """Wrap the app in the configured authentication; warn when it is a weaker mode."""
    layer = auth_layer(runtime.settings.auth)
    if layer.middleware is not None:
        app.add_middleware(layer.middleware, **layer.options)  # type: ignore[arg-type]  # ASGI class
    if layer.mode in _UNSAFE_MODES:
        log.warning("auth.unsafe_mode", mode=layer.mode, why=_UNSAFE_MODES[layer.mode],
                    service=runtime.name)  # fmt: skip


async def _invalid_input(_: Request, exc: Exception) -> JSONResponse:
    """A value PostgreSQL cannot take (a number out of range, NUL in text) is the client's 422."""
    if not is_invalid_input(exc):
        raise exc
    return JSONResponse(
        {"detail": "a value is out of range or not valid text (e.g. it holds a NUL character)"},
        status_code=422,
    )


async def _printable_validation_error(_: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422, with non-finite inputs it echoes spelled as text (never a 500)."""
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": printable(jsonable_encoder(exc.errors()))}, status_code=422)


async def _printable_http_error(_: Request, exc: Exception) -> Response:
    """Starlette's HTTP error answer, with non-finite numbers in ``detail`` spelled as text."""
    assert isinstance(exc, HTTPException)
    headers = getattr(exc, "headers", None)
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=headers)
    return JSONResponse({"detail": printable(exc.detail)}, exc.status_code, headers=headers)


def _document_plain_422(app: FastAPI) -> None:
    """Say in the OpenAPI document that a 422 ``detail`` may also be one sentence.

    Endpoints refuse semantically invalid input with ``HTTPException(422, "why")``; FastAPI
    documents only its own list form, so generated clients would reject the sentence.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            error = schema.get("components", {}).get("schemas", {}).get("HTTPValidationError")
            if error is not None:
                listed = error["properties"]["detail"]
                error["properties"]["detail"] = {
                    "anyOf": [listed, {"type": "string"}],
                    "title": "Detail",
                }
        return app.openapi_schema or build()

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override
