"""Where a 1-row request's CPU goes beyond the floor's, measured without an HTTP server.

The predict suite's throughput aim for 1-row requests (≥ 90 % of the Starlette floor with the
log on) leaves Driftline, which serves from one process as the floor does, 1/0.9 of the
floor's CPU per request: about 11 % more for everything the floor does not do (bearer auth,
body limits and the non-finite number scan, routing, the signature check, request ids,
metrics, the prediction log). Under ``wrk`` those costs hide among uvicorn's. Here the
floor's app and Driftline's deployment app (log off, log on, built in this process against
the suite's stack, the model approved there) take the same 1-row request on the same
in-memory ASGI transport, ``IN_FLIGHT`` requests at a time as ``wrk`` keeps them, rounds
interleaved; CPU is this process's. The log-on app's write histograms (what each
group-commit write took, requests per write) come from its own registry.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry

from bench.driftline_side import environment
from driftline.stack import StackInfo

ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
IN_FLIGHT = 16
WRITE = "driftline_deployment_prediction_log_write"
FLOOR, LOG_OFF, LOG_ON = "Starlette floor app", "Driftline app, log off", "Driftline app, log on"


class BudgetError(RuntimeError):
    """A request was not answered 200, or the app did not start."""


@dataclass(frozen=True)
class Writes:
    """The log-on app's group-commit writes over its measured requests."""

    count: float
    mean_s: float
    requests_per_write: float
    within: dict[float, float]
    """Share of writes that took at most each bucket bound (seconds)."""


def _scope(path: str, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": raw, "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }  # fmt: skip


async def _request(app: ASGIApp, scope: dict[str, Any], body: bytes) -> None:
    """One request through ``app``; ``BudgetError`` unless it is answered 200."""
    given = False
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client never disconnects
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app(dict(scope, state={}), receive, send)
    if statuses != [200]:
        raise BudgetError(f"{scope['path']} answered {statuses}")


async def cpu_per_request(
    app: ASGIApp, path: str, body: bytes, headers: Mapping[str, str], requests: int
) -> float:
    """This process's CPU seconds per request, ``IN_FLIGHT`` requests at a time."""
    scope = _scope(path, body, headers)

    async def client(count: int) -> None:
        for _ in range(count):
            await _request(app, scope, body)

    started = time.process_time()
    await asyncio.gather(*(client(requests // IN_FLIGHT) for _ in range(IN_FLIGHT)))
    return (time.process_time() - started) / (requests // IN_FLIGHT * IN_FLIGHT)


@contextlib.asynccontextmanager
async def running(app: ASGIApp) -> AsyncIterator[None]:
    """``app`` between its lifespan's start-up and shutdown."""
    inbox: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    await inbox.put({"type": "lifespan.startup"})
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    task = asyncio.ensure_future(app(scope, inbox.get, outbox.put))
    message = await outbox.get()
    if message["type"] != "lifespan.startup.complete":
        raise BudgetError(f"the app did not start: {message}")
    try:
        yield
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await task


def deployment_app(info: StackInfo, *, log: bool) -> Any:
    """Deployment's app as ``driftline serve`` builds it, on ``info``'s stack (port unused)."""
    from driftline.runtime.app import build_service_app

    env = {
        **info.env(),
        "DRIFTLINE_LOG_LEVEL": "WARNING",
        "DRIFTLINE_DEPLOYMENT__STREAM_SCORING": "false",
        "DRIFTLINE_DEPLOYMENT__LOG_PREDICTIONS": "true" if log else "false",
    }
    with environment(env):
        return build_service_app("deployment")


def write_figures(before: Mapping[str, float], after: Mapping[str, float]) -> Writes:
    """Writes between two ``samples`` of a log-on app's registry."""
    count = after.get(f"{WRITE}_seconds_count", 0.0) - before.get(f"{WRITE}_seconds_count", 0.0)
    if count <= 0:
        return Writes(0, 0.0, 0.0, {})
    seconds = after[f"{WRITE}_seconds_sum"] - before.get(f"{WRITE}_seconds_sum", 0.0)
    requests = after[f"{WRITE}_requests_sum"] - before.get(f"{WRITE}_requests_sum", 0.0)
    prefix = f"{WRITE}_seconds_bucket le="
    within = {
        float(name[len(prefix) :]): (value - before.get(name, 0.0)) / count
        for name, value in after.items()
        if name.startswith(prefix) and not name.endswith("+Inf")
    }
    return Writes(count, seconds / count, requests / count, within)


def samples(registry: CollectorRegistry) -> dict[str, float]:
    """The write histograms' samples by name (buckets as ``…_bucket le=<bound>``)."""
    found: dict[str, float] = {}
    for metric in registry.collect():
        if metric.name.startswith(WRITE):
            for s in metric.samples:
                key = f"{s.name} le={s.labels['le']}" if "le" in s.labels else s.name
                found[key] = s.value
    return found


async def until_served(
    app: ASGIApp, path: str, body: bytes, headers: Mapping[str, str], timeout_s: float = 90
) -> None:
    """Wait until ``app`` answers the request 200 (started, routing known, model loaded)."""
    scope = _scope(path, body, headers)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            await _request(app, scope, body)
            return
        except BudgetError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


async def measure(
    floor_app: ASGIApp,
    info: StackInfo,
    model: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    rounds: int,
    requests: int,
) -> tuple[dict[str, list[float]], Writes]:
    """CPU per request of each app, rounds interleaved, and the log-on app's writes."""
    predict = f"/v1/models/{model}/predict"
    apps = {LOG_OFF: deployment_app(info, log=False), LOG_ON: deployment_app(info, log=True)}
    found: dict[str, list[float]] = {FLOOR: [], LOG_OFF: [], LOG_ON: []}
    async with running(apps[LOG_OFF]), running(apps[LOG_ON]):
        for app in apps.values():
            await until_served(app, predict, body, headers)
            await cpu_per_request(app, predict, body, headers, requests // 4)  # warm-up
        await cpu_per_request(floor_app, "/predict", body, {}, requests // 4)
        registry = apps[LOG_ON].state.runtime.metrics.registry
        before = samples(registry)
        for _ in range(rounds):
            found[FLOOR].append(await cpu_per_request(floor_app, "/predict", body, {}, requests))
            for name, app in apps.items():
                found[name].append(await cpu_per_request(app, predict, body, headers, requests))
        writes = write_figures(before, samples(registry))
    return found, writes


def budget_lines(
    found: Mapping[str, Sequence[float]], writes: Writes, floor_http_s: float
) -> list[str]:
    """The table and what it says about the aim (``floor_http_s``: the floor's server CPU per
    1-row request under wrk in the same run)."""
    median = {name: statistics.median(values) for name, values in found.items()}
    floor = median[FLOOR]
    lines = [
        "#### Where a 1-row request's CPU goes (in one process, no HTTP server)",
        "",
        "The floor's app and deployment's app (built in the benchmark's process on the suite's "
        "stack, log off and on) take the same 1-row request on an in-memory ASGI transport, "
        f"{IN_FLIGHT} at a time, rounds interleaved; CPU is that process's "
        "(`bench/predict_budget.py`).",
        "",
        "| app | CPU µs/request (median) | range | over the floor app |",
        "|---|---:|---:|---:|",
    ]
    for name, values in found.items():
        lines.append(
            f"| {name} | {1e6 * median[name]:.0f} | {1e6 * min(values):.0f} to "
            f"{1e6 * max(values):.0f} | {1e6 * (median[name] - floor):+.0f} |"
        )
    allowance = floor_http_s / 0.9 - floor_http_s
    over = median[LOG_ON] - floor
    lines += [
        "",
        f"Under wrk the floor took {1e6 * floor_http_s:.0f} µs of server CPU per 1-row "
        f"request, so 90 % of its throughput from one process allows "
        f"{1e6 * allowance:.0f} µs more per request; Driftline's app with the log takes "
        f"{1e6 * over:.0f} µs more than the floor's app here "
        f"({over / allowance:.1f}x the allowance), the log alone "
        f"{1e6 * (median[LOG_ON] - median[LOG_OFF]):.0f} µs.",
    ]
    if writes.count:
        slow = 1 - writes.within.get(0.004, 1.0)
        lines += [
            "",
            f"The log-on app's group-commit writes ({writes.count:,.0f}, "
            f"`driftline_deployment_prediction_log_write_*`): {1e3 * writes.mean_s:.2f} ms "
            f"on average, {writes.requests_per_write:.1f} requests per write, "
            f"{100 * slow:.0f} % over 4 ms. A request waits for the rest of the write in "
            "progress and then its own.",
        ]
    return [*lines, ""]
