"""The predict suite's CPU budget (``bench/predict_budget.py``): requests through an app on the
in-memory ASGI transport, its lifespan run, a refusal caught, the log's write histograms read
back from a registry, and the table's arithmetic."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bench import predict_budget as budget
from driftline.deployment.prediction_log.write_metrics import write_metrics

BODY = b'{"instances": [{"x": 1.0}]}'


def app(status: int = 200) -> tuple[Starlette, list[str]]:
    events: list[str] = []

    async def predict(request: Request) -> JSONResponse:
        assert request.headers["authorization"] == "Bearer t"
        events.append((await request.body()).decode())
        return JSONResponse({"predictions": [1]}, status_code=status)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        events.append("started")
        yield
        events.append("stopped")

    return Starlette(routes=[Route("/p", predict, methods=["POST"])], lifespan=lifespan), events


async def test_requests_run_between_start_up_and_shutdown_and_cost_cpu() -> None:
    served, events = app()
    async with budget.running(served):
        await budget.until_served(served, "/p", BODY, {"Authorization": "Bearer t"})
        cpu = await budget.cpu_per_request(served, "/p", BODY, {"Authorization": "Bearer t"}, 64)
    assert events[0] == "started"
    assert events[-1] == "stopped"
    assert events.count(BODY.decode()) == 1 + 64, "every request reached the app with its body"
    assert 0 < cpu < 0.05


async def test_a_refused_request_is_an_error_not_a_figure() -> None:
    refused, _ = app(status=401)
    async with budget.running(refused):
        with pytest.raises(budget.BudgetError, match="401"):
            await budget.cpu_per_request(refused, "/p", BODY, {"Authorization": "Bearer t"}, 16)
        with pytest.raises(budget.BudgetError):
            await budget.until_served(refused, "/p", BODY, {"Authorization": "Bearer t"}, 0.3)


def test_writes_are_read_back_from_the_log_writers_histograms() -> None:
    registry = CollectorRegistry()
    metrics = write_metrics(registry)
    metrics.written(0.010, 1)  # before the measurement: not counted
    before = budget.samples(registry)
    for seconds, requests in [(0.001, 4), (0.003, 8), (0.006, 12)]:
        metrics.written(seconds, requests)
    writes = budget.write_figures(before, budget.samples(registry))
    assert writes.count == 3
    assert writes.mean_s == pytest.approx(0.010 / 3)
    assert writes.requests_per_write == pytest.approx(8)
    assert writes.within[0.004] == pytest.approx(2 / 3)
    assert budget.write_figures(before, before).count == 0


def test_the_table_states_the_allowance_and_how_far_over_it_the_app_is() -> None:
    found = {budget.FLOOR: [200e-6, 210e-6], budget.LOG_OFF: [290e-6], budget.LOG_ON: [345e-6]}
    writes = budget.Writes(100, 0.003, 7.5, {0.004: 0.9})
    text = "\n".join(budget.budget_lines(found, writes, floor_http_s=300e-6))
    assert "| Starlette floor app | 205 | 200 to 210 | +0 |" in text
    assert "| Driftline app, log on | 345 | 345 to 345 | +140 |" in text
    assert "allows 33 µs more per request" in text
    assert "140 µs more than the floor's app here (4.2x the allowance), the log alone 55 µs" in text
    assert "3.00 ms on average, 7.5 requests per write, 10 % over 4 ms" in text
