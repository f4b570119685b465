"""What tracing costs a request and an event: the HTTP app of a service called in-process
(ASGI, no sockets) with tracing off and on, and the per-emit and per-log-line hooks.

Run ``.venv/bin/python -m bench.tracing_overhead``. "On" uses the SDK with a batch processor
and an exporter that drops what it gets, so span creation and hand-off are counted, the
network is not. Rounds are interleaved; medians are reported.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

from driftline.runtime.http import build_http_app
from driftline.runtime.logging import add_trace_ids
from driftline.runtime.service import ServiceDefinition, ServiceRuntime
from driftline.runtime.settings import RuntimeSettings
from driftline.runtime.tracing import outgoing_context

PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


class Dropped(SpanExporter):
    """Accepts every span and keeps none."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def _routes(_: ServiceRuntime) -> list[APIRouter]:
    router = APIRouter()

    async def predict(name: str) -> dict[str, str]:
        return {"model": name}

    router.add_api_route("/v1/models/{name}/predict", predict, methods=["POST"])
    return [router]


def _app(provider: TracerProvider | None) -> Any:
    settings = RuntimeSettings.model_validate({"auth": {"tokens": "tok user:app publisher"}})
    runtime = ServiceRuntime(
        ServiceDefinition(name="bench", routers=_routes), settings, tracer_provider=provider
    )
    return build_http_app(runtime)


async def _requests(app: Any, count: int, traceparent: bool) -> float:
    headers = [(b"authorization", b"Bearer tok"), (b"content-length", b"2")]
    if traceparent:
        headers.append((b"traceparent", PARENT.encode()))
    scope = {
        "type": "http", "method": "POST", "path": "/v1/models/m/predict", "raw_path": b"",
        "root_path": "", "query_string": b"", "headers": headers, "http_version": "1.1",
        "scheme": "http", "server": ("t", 80), "client": ("c", 1), "app": app,
    }  # fmt: skip

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    started = time.perf_counter()
    for _ in range(count):
        await app(dict(scope), receive, send)
    return (time.perf_counter() - started) / count * 1e6


def _per_call(fn: Any, count: int = 200_000) -> float:
    started = time.perf_counter()
    for _ in range(count):
        fn()
    return (time.perf_counter() - started) / count * 1e9


async def main(count: int = 4000, rounds: int = 5) -> None:
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(Dropped(), max_queue_size=100_000))
    sampled = TracerProvider(sampler=ParentBased(TraceIdRatioBased(0.01)))
    sampled.add_span_processor(BatchSpanProcessor(Dropped(), max_queue_size=100_000))
    apps = {"off": _app(None), "on": _app(provider), "sampled": _app(sampled)}
    for app in apps.values():
        await _requests(app, 200, False)  # warm up
    found: dict[str, list[float]] = {
        "off": [], "on": [], "on, caller's traceparent": [], "on, 1% sampled": []
    }  # fmt: skip
    for _ in range(rounds):
        found["off"].append(await _requests(apps["off"], count, True))
        found["on"].append(await _requests(apps["on"], count, False))
        found["on, caller's traceparent"].append(await _requests(apps["on"], count, True))
        found["on, 1% sampled"].append(await _requests(apps["sampled"], count, False))
    print("HTTP request through build_http_app (auth, body limit), µs per request (median):")
    for name, values in found.items():
        print(f"  tracing {name:26} {statistics.median(values):7.1f}")
    print("Hooks that run whether tracing is on or off, ns per call:")
    hooks = {
        "emit: outgoing_context": lambda: outgoing_context(None),
        "log line: add_trace_ids": lambda: add_trace_ids(None, "", {}),
    }
    for name, hook in hooks.items():
        print(f"  {name + ', no span':38} {_per_call(hook):7.0f}")
    with provider.get_tracer("bench").start_as_current_span("s"):
        for name, hook in hooks.items():
            print(f"  {name + ', in a span':38} {_per_call(hook):7.0f}")
    provider.shutdown()
    sampled.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
