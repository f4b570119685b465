"""One trace across the bus: a dataset uploaded to ingest is validated, trained on, registered,
approved and promoted by five services running in-process on the real local stack (tansu
Kafka, PostgreSQL, S3), and every hop is a span of the trace the upload started.

The services share one tracer provider with an in-memory exporter (one process); everything
between them is real: the outbox rows, the relay, Kafka headers (``ce_traceparent``), the
consumers, the training worker and its stored job.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import select

from driftline.cli.demo_data import breast_cancer_csv
from driftline.runtime.app import load_definition
from driftline.runtime.http import build_http_app
from driftline.runtime.service import ServiceRuntime
from driftline.runtime.tables import inbox
from driftline.stack.info import StackInfo
from driftline_contracts import topics
from driftline_contracts.envelope import from_headers
from driftline_contracts.events.data import DataArrived, DataValidated
from driftline_contracts.events.registry import ModelApproved
from driftline_contracts.events.training import ModelTrained
from tests.integration.deployment_steps import until
from tests.integration.kafka_helpers import environment, header, read_topic
from tests.tokens import stack_headers

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SERVICES = ("ingest", "validation", "training", "registry", "deployment")
UID = uuid.uuid4().hex[:8]
DATASET, MODEL = f"traced-{UID}", f"traced-clf-{UID}"
SPEC = {
    "model": MODEL,
    "dataset": DATASET,
    "target": "target",
    "task": "classification",
    "trainer": {
        "estimator": "sklearn.ensemble.RandomForestClassifier",
        "params": {"n_estimators": 20, "max_depth": 4},
    },
    "gates": [{"metric": "accuracy", "min": 0.8}],
}


class Traced:
    """The running services, their shared span exporter, and HTTP clients for two of them."""

    def __init__(self, runtimes: dict[str, ServiceRuntime], exporter: InMemorySpanExporter):
        self.runtimes = runtimes
        self.exporter = exporter

    def client(self, service: str, headers: dict[str, str]) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=build_http_app(self.runtimes[service]))
        return httpx.AsyncClient(transport=transport, base_url=f"http://{service}", headers=headers)


@pytest.fixture(scope="module")
async def traced(local_stack: StackInfo) -> AsyncIterator[Traced]:
    """Five services in-process, sharing a tracer provider with an in-memory exporter."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with environment({**local_stack.env(), "DRIFTLINE_TRAINING__POLL_INTERVAL_S": "0.2"}):
        runtimes = {}
        for name in SERVICES:
            definition = load_definition(name)
            runtimes[name] = ServiceRuntime(
                definition, definition.settings_cls(), tracer_provider=provider
            )
    await asyncio.gather(*(r.start() for r in runtimes.values()))
    yield Traced(runtimes, exporter)
    await asyncio.gather(*(r.stop() for r in runtimes.values()))
    provider.shutdown()


def _hop(spans: list[ReadableSpan], service: str, name: str) -> ReadableSpan:
    (found,) = [s for s in spans if s.attributes.get("driftline.service") == service
                and s.name == name]  # fmt: skip
    return found


async def _spec_everywhere(traced: Traced, stack: StackInfo) -> None:
    """Wait until every service consuming the spec has handled it (before the data comes)."""

    def of_model(record: Any) -> bool:
        return header(record, "ce_subject") == MODEL

    (record,) = await read_topic(stack.kafka_bootstrap, topics.MODEL_SPEC_APPLIED, of_model)
    event_id = header(record, "ce_id")

    query = select(inbox.c.event_id).where(inbox.c.event_id == event_id)

    async def handled(runtime: ServiceRuntime) -> bool:
        async with runtime.units() as uow:
            return await uow.session.scalar(query) is not None

    for name in ("validation", "training", "registry", "deployment"):
        await until(lambda name=name: handled(traced.runtimes[name]))


async def test_one_upload_is_one_trace_from_ingest_to_the_promotion(
    traced: Traced, local_stack: StackInfo
) -> None:
    publisher = stack_headers(local_stack, "publisher")
    async with traced.client("registry", publisher) as registry:
        applied = await registry.post("/v1/specs", json=SPEC)
        assert applied.status_code == 201, applied.text
    await _spec_everywhere(traced, local_stack)
    async with traced.client("ingest", publisher) as ingest:
        uploaded = await ingest.post(
            f"/v1/datasets/{DATASET}",
            content=breast_cancer_csv(),
            headers={"Content-Type": "text/csv"},
        )
        assert uploaded.status_code == 201, uploaded.text

    def of_model(record: Any) -> bool:
        return header(record, "ce_subject") == MODEL

    (promoted,) = await read_topic(
        local_stack.kafka_bootstrap, topics.MODEL_PROMOTED, of_model, timeout_s=240
    )
    carried = from_headers(promoted.headers).traceparent
    assert carried is not None
    trace_id = int(carried.split("-")[1], 16)

    await asyncio.sleep(0.5)  # the promoting span ends once its transaction commits
    spans = [s for s in traced.exporter.get_finished_spans() if s.context.trace_id == trace_id]
    upload = _hop(spans, "ingest", "POST /v1/datasets/{name}")
    validation = _hop(spans, "validation", f"process {DataArrived.ce_type}")
    training = _hop(spans, "training", f"process {DataValidated.ce_type}")
    registry = _hop(spans, "registry", f"process {ModelTrained.ce_type}")
    # The worker's units of work on the stored job (TrainingStarted, then ModelTrained).
    (trained,) = [s for s in spans if s.context.span_id == registry.parent.span_id]
    deployment = _hop(spans, "deployment", f"process {ModelApproved.ce_type}")

    assert upload.parent is None  # the upload began the trace
    assert upload.kind is SpanKind.SERVER
    assert validation.parent.span_id == upload.context.span_id
    assert training.parent.span_id == validation.context.span_id
    assert trained.attributes["driftline.service"] == "training"
    assert trained.name == f"work on {DataValidated.ce_type}"
    assert trained.parent.span_id == validation.context.span_id  # the job keeps its cause
    assert deployment.parent.span_id == registry.context.span_id
    assert carried.split("-")[2] == f"{deployment.context.span_id:016x}"
    for hop in (validation, training, registry, deployment):
        assert hop.kind is SpanKind.CONSUMER
        assert hop.attributes["driftline.outcome"] == "handled"
    assert deployment.attributes["cloudevents.event_subject"] == MODEL
