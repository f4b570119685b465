"""The metrics the operators' dashboards and alerts read: requests by route template and
status, readiness, consumer lag (deploy/prometheus, deploy/grafana)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from aiokafka import TopicPartition
from fastapi import APIRouter, HTTPException, Request, Response
from starlette.middleware import Middleware

from driftline.deployment.serving.fast_path import PredictFastPath
from driftline.runtime.consumer_lag import note_lag
from driftline.runtime.http import build_http_app
from driftline.runtime.metrics import Metrics
from driftline.runtime.service import ServiceDefinition, ServiceRuntime
from driftline.runtime.settings import RuntimeSettings

TOKENS = "tok-pub user:paul publisher"


def _routes(_: ServiceRuntime) -> list[APIRouter]:
    router = APIRouter()

    async def item(name: str) -> dict[str, str]:
        return {"name": name}

    async def broken() -> None:
        raise HTTPException(503, "down")

    async def crashes() -> None:
        raise RuntimeError("a bug")

    router.add_api_route("/v1/items/{name}", item, methods=["GET"])
    router.add_api_route("/v1/broken", broken, methods=["GET"])
    router.add_api_route("/v1/crashes", crashes, methods=["GET"])
    return [router]


async def _served(request: Request, name: str) -> Response:
    return Response(f"served {name}")


@pytest.fixture
async def probe() -> AsyncIterator[tuple[httpx.AsyncClient, ServiceRuntime]]:
    settings = RuntimeSettings.model_validate({"auth": {"tokens": TOKENS}})
    definition = ServiceDefinition(
        name="probe",
        routers=_routes,
        middleware=lambda _: [Middleware(PredictFastPath, endpoint=_served)],
    )
    runtime = ServiceRuntime(definition, settings)
    app = build_http_app(runtime)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    headers = {"Authorization": "Bearer tok-pub"}
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as c:
        yield c, runtime


def requests(runtime: ServiceRuntime, route: str, method: str, status: str) -> float:
    labels = {"service": "probe", "route": route, "method": method, "status": status}
    value = runtime.metrics.registry.get_sample_value("driftline_http_requests_total", labels)
    return value or 0.0


async def test_requests_are_counted_by_route_template_and_status(probe) -> None:
    client, runtime = probe
    for name in ("a", "b", "c"):
        assert (await client.get(f"/v1/items/{name}")).status_code == 200
    assert (await client.get("/v1/broken")).status_code == 503
    assert (await client.get("/v1/crashes")).status_code == 500
    assert (await client.get("/no/such/path/42")).status_code == 404
    assert requests(runtime, "/v1/items/{name}", "GET", "200") == 3
    assert requests(runtime, "/v1/broken", "GET", "503") == 1
    assert requests(runtime, "/v1/crashes", "GET", "500") == 1
    assert requests(runtime, "unmatched", "GET", "404") == 1  # raw paths never become labels
    latency = runtime.metrics.registry.get_sample_value(
        "driftline_http_request_seconds_count",
        {"service": "probe", "route": "/v1/items/{name}", "method": "GET"},
    )
    assert latency == 3


async def test_the_predict_fast_path_is_counted_under_its_route(probe) -> None:
    client, runtime = probe
    answer = await client.post("/v1/models/iris/predict", content=b"{}")
    assert answer.text == "served iris"
    assert requests(runtime, "/v1/models/{name}/predict", "POST", "200") == 1


async def test_metrics_show_readiness_after_each_readyz(probe) -> None:
    client, runtime = probe
    assert (await client.get("/readyz")).status_code == 503  # never started
    assert runtime.metrics.registry.get_sample_value("driftline_ready", {"service": "probe"}) == 0
    text = (await client.get("/metrics")).text
    assert 'driftline_ready{service="probe"} 0.0' in text
    assert 'driftline_http_requests_total{method="GET",route="/readyz"' in text


@dataclass
class Record:
    topic: str
    partition: int
    offset: int


class Consumer:
    def __init__(self, ends: dict[TopicPartition, int | None]) -> None:
        self.ends = ends

    def highwater(self, tp: TopicPartition) -> int | None:
        return self.ends.get(tp)


def lag(metrics: Metrics, topic: str, partition: int) -> float | None:
    labels = {"service": "svc", "topic": topic, "partition": str(partition)}
    return metrics.registry.get_sample_value("driftline_consumer_lag", labels)


def test_consumer_lag_is_the_distance_to_the_partition_end() -> None:
    metrics = Metrics("svc")
    consumer = Consumer({TopicPartition("t", 0): 10, TopicPartition("t", 1): 5})
    batch = [Record("t", 0, 3), Record("t", 0, 6), Record("t", 1, 4)]
    note_lag(metrics, "svc", consumer, batch)
    assert lag(metrics, "t", 0) == 3  # offsets 7, 8, 9 still to come
    assert lag(metrics, "t", 1) == 0  # caught up
    note_lag(metrics, "svc", consumer, [Record("t", 0, 9)])
    assert lag(metrics, "t", 0) == 0


def test_lag_is_left_alone_without_a_watermark() -> None:
    metrics = Metrics("svc")
    note_lag(metrics, "svc", Consumer({}), [Record("t", 0, 3)])
    note_lag(metrics, "svc", object(), [Record("t", 0, 3)])  # a test broker's fake consumer
    assert lag(metrics, "t", 0) is None
