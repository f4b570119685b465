"""All seven services as separate processes on the real local stack: readiness names the
failing dependency, a pipeline's DataArrived reaches the ingest catalog, SIGTERM is clean."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
import urllib.request
from collections.abc import Iterator

import psutil
import pytest

from driftline.runtime.services import SERVICE_NAMES
from driftline.runtime.storage import build_artifact_store
from driftline.stack import LocalStack
from driftline.stack.services import (
    ServiceProcess,
    readiness,
    start_services,
    stop_services,
    wait_until_ready,
)
from driftline_contracts.events.data import DataArrived
from driftline_contracts.publish import publish
from driftline_contracts.values import DatasetRef
from tests.integration.kafka_helpers import settings_from

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
]


@pytest.fixture(scope="module")
def services(own_stack: LocalStack) -> Iterator[list[ServiceProcess]]:
    """Every service running as its own ``driftline serve`` process."""
    stack = own_stack
    processes = start_services(stack, stack.info(), SERVICE_NAMES)
    try:
        wait_until_ready(processes, timeout_s=120)
        yield processes
    finally:
        stop_services(stack, processes)


def _wait_status(processes: list[ServiceProcess], status: int, timeout_s: float = 30) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        answers = {p.name: readiness(p.url) for p in processes}
        if all(code == status for code, _ in answers.values()):
            return {name: body for name, (_, body) in answers.items()}
        if time.monotonic() > deadline:
            pytest.fail(
                f"expected {status} from every /readyz, got "
                f"{ {n: c for n, (c, _) in answers.items()} }"
            )
        time.sleep(0.5)


def test_every_service_is_ready_with_all_dependencies_up(services: list[ServiceProcess]) -> None:
    bodies = _wait_status(services, 200)
    assert set(bodies) == set(SERVICE_NAMES)
    for body in bodies.values():
        assert body["checks"] == {"kafka": "ok", "postgres": "ok", "s3": "ok"}
        assert body["failing"] == []


@pytest.mark.parametrize("dependency", ["s3", "postgres"])
def test_readyz_answers_503_naming_the_dependency_that_is_down(
    services: list[ServiceProcess], own_stack: LocalStack, dependency: str
) -> None:
    stop, start = {
        "s3": (own_stack.stop_s3, own_stack.start_s3),
        "postgres": (own_stack.stop_postgres, own_stack.start_postgres),
    }[dependency]
    stop()
    try:
        bodies = _wait_status(services, 503)
        for body in bodies.values():
            assert body["failing"] == [dependency]
            assert body["checks"][dependency] != "ok"
        for process in services:  # what DriftlineServiceNotReady alerts on
            ready = f'driftline_ready{{service="{process.name}"}} 0.0'
            assert ready in _metrics_once(process.url, ready, timeout_s=0)
    finally:
        start()
    _wait_status(services, 200, timeout_s=60)


def test_pipeline_arrival_reaches_the_ingest_catalog(
    services: list[ServiceProcess], own_stack: LocalStack
) -> None:
    local_stack = own_stack.info()
    ingest = next(p for p in services if p.name == "ingest")
    payload = b"a,b\n1,2\n"
    store = build_artifact_store(settings_from(local_stack.env()).storage)
    stored = asyncio.run(store.put_bytes("pipelines/process-journey.csv", payload))
    event = DataArrived(
        dataset=DatasetRef(
            name="process-journey",
            uri=stored.uri,
            sha256=hashlib.sha256(payload).hexdigest(),
            format="csv",
        )
    )
    sent = asyncio.run(
        publish(
            event,
            bootstrap_servers=local_stack.kafka_bootstrap,
            source="pipeline/test",
            actor="pipeline:test",
        )
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(
                f"{ingest.url}/v1/datasets/process-journey/versions", timeout=5
            ) as resp:
                versions = json.loads(resp.read())
                break
        except urllib.error.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    assert [(v["upload"], v["event_id"], v["actor"]) for v in versions] == [
        (1, sent.id, "pipeline:test")
    ]
    metrics = _metrics_once(ingest.url, 'topic="driftline.data-arrived"')
    assert (
        'driftline_events_consumed_total{service="ingest",type="io.driftline.data.arrived.v1"}'
        in metrics
    )
    # The operators' metrics: the lag from the real consumer's high watermark (the one record
    # is handled: nothing behind), requests by route template, and the last /readyz answer.
    lags = re.findall(
        r'driftline_consumer_lag\{partition="\d+",service="ingest",'
        r'topic="driftline.data-arrived"\} (\S+)',
        metrics,
    )
    assert lags, "no consumer lag for the topic ingest consumed"
    assert {float(v) for v in lags} == {0.0}
    assert (
        'driftline_http_requests_total{method="GET",route="/v1/datasets/{name}/versions",'
        'service="ingest",status="200"}' in metrics
    )
    assert 'driftline_ready{service="ingest"} 1.0' in metrics


def _metrics_once(url: str, wanted: str, timeout_s: float = 15.0) -> str:
    """The service's /metrics once it shows ``wanted`` (gauges are set just after the ack)."""
    deadline = time.monotonic() + timeout_s
    while True:
        with urllib.request.urlopen(f"{url}/metrics", timeout=5) as resp:
            metrics = resp.read().decode()
        if wanted in metrics or time.monotonic() > deadline:
            return metrics
        time.sleep(0.2)


def test_sigterm_stops_every_service_cleanly(own_stack: LocalStack) -> None:
    processes = start_services(own_stack, own_stack.info(), ["validation"])
    wait_until_ready(processes, timeout_s=120)
    proc = psutil.Process(processes[0].ref.pid)
    proc.terminate()
    # uvicorn shuts down gracefully, then re-raises the captured SIGTERM for its exit status.
    assert proc.wait(timeout=30) in (0, -15)
    log = processes[0].log_path.read_text()
    assert '"event": "service stopped"' in log
    assert log.index('"event": "service started"') < log.index('"event": "service stopped"')
    stop_services(own_stack, processes)
